// Command echo measures the ioco echo server on one loop against package
// net's goroutine-per-connection server, both at GOMAXPROCS=1, under the
// same load, alternated A B A B, and prints messages per second, p50 and
// p99 for each with their ratio. Run it from within the module:
//
//	go run ./internal/bench/echo -d 3s -rounds 9
//	go run ./internal/bench/echo -d 3s -rounds 9 -gevent
//
// It builds examples/echo and the load generator, internal/bench/echoload
// (-echoload names another one, a binary or a directory to build).
//
// -c sets the connections (50 by default; the budget's second figure is
// at 5,000). -also names another checkout of the module whose
// examples/echo is measured as well, beside this one's, for a before and
// after comparison in the same rounds:
//
//	git worktree add /tmp/echo-before HEAD
//	go run ./internal/bench/echo -c 5000 -also /tmp/echo-before
//
// -raw measures a raw-syscall epoll loop (internal/bench/echo/rawepoll):
// one goroutine, edge-triggered epoll_wait, read(2) and write(2), no
// scheduler: the floor of the server's CPU per message.
//
// The server's CPU per message is reported three ways: over the whole
// echoload run (accepting and closing the connections included, as the
// README's figures were), and over the ping-pong alone, between
// echoload's -marks, both user and system time and user time alone.
//
// -gevent measures a third server the same way: gevent's StreamServer, a
// greenlet per connection, in internal/bench/peers/gevent_echo.py. It runs
// on Debian's /usr/bin/python3 and needs Debian's gevent:
//
//	apt-get install -y python3-gevent
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evergo/evergo/internal/bench/proc"
)

func main() {
	log.SetFlags(0)
	loadPath := flag.String("echoload", "", "load generator's binary or directory, instead of internal/bench/echoload")
	conns := flag.Int("c", 50, "connections")
	size := flag.Int("size", 64, "message bytes")
	dur := flag.Duration("d", 5*time.Second, "duration of each run")
	rounds := flag.Int("rounds", 3, "A B rounds")
	gevent := flag.Bool("gevent", false, "measure the gevent peer too (needs Debian's python3-gevent)")
	also := flag.String("also", "", "another checkout of the module: measure its examples/echo too")
	raw := flag.Bool("raw", false, "measure a raw-syscall epoll loop too (internal/bench/echo/rawepoll)")
	flag.Parse()

	root, err := moduleRoot()
	if err != nil {
		log.Fatal(err)
	}
	script := filepath.Join(root, "internal", "bench", "peers", "gevent_echo.py")
	if *gevent {
		if out, err := exec.Command(python, "-c", "import gevent").CombinedOutput(); err != nil {
			log.Fatalf("-gevent needs %s with gevent (apt-get install -y python3-gevent): %v\n%s", python, err, out)
		}
	}

	tmp, err := os.MkdirTemp("", "echobench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	load := *loadPath
	if load == "" {
		load = filepath.Join(root, "internal", "bench", "echoload")
	}
	if load, err = binary(load, tmp, "echoload"); err != nil {
		log.Fatal(err)
	}
	server, err := binary(filepath.Join(root, "examples", "echo"), tmp, "echo")
	if err != nil {
		log.Fatal(err)
	}
	kinds := []struct {
		name string
		cmd  func(addr string) *exec.Cmd
	}{
		{"ioco (one loop)", func(addr string) *exec.Cmd { return exec.Command(server, "server", "-addr", addr) }},
		{"Go net", func(addr string) *exec.Cmd { return exec.Command(server, "netserver", "-addr", addr) }},
	}
	if *also != "" {
		other, err := binary(filepath.Join(*also, "examples", "echo"), tmp, "echo-also")
		if err != nil {
			log.Fatal(err)
		}
		kinds = append(kinds, struct {
			name string
			cmd  func(addr string) *exec.Cmd
		}{"ioco (-also)", func(addr string) *exec.Cmd { return exec.Command(other, "server", "-addr", addr) }})
	}
	if *raw {
		rawBin, err := binary(filepath.Join(root, "internal", "bench", "echo", "rawepoll"), tmp, "rawepoll")
		if err != nil {
			log.Fatal(err)
		}
		kinds = append(kinds, struct {
			name string
			cmd  func(addr string) *exec.Cmd
		}{"raw epoll loop", func(addr string) *exec.Cmd { return exec.Command(rawBin, "-addr", addr) }})
	}
	if *gevent {
		kinds = append(kinds, struct {
			name string
			cmd  func(addr string) *exec.Cmd
		}{"gevent", func(addr string) *exec.Cmd {
			_, port, _ := net.SplitHostPort(addr)
			return exec.Command(python, script, port)
		}})
	}
	// results[i][r] is kind i in round r; kinds[1] is the baseline.
	results := make([][]result, len(kinds))
	for r := range *rounds {
		for i, k := range kinds {
			res, err := measure(k.cmd, load, *conns, *size, *dur)
			if err != nil {
				log.Fatalf("%s, round %d: %v", k.name, r+1, err)
			}
			results[i] = append(results[i], res)
		}
		for i, k := range kinds {
			res := results[i][r]
			fmt.Printf("round %d  %-16s %8.0f msgs/s  p50 %-9v p99 %-9v CPU/msg server %-8v ping-pong %-8v user %-8v load %-8v %.2fx Go net\n",
				r+1, k.name, res.rate, res.p50.Round(time.Microsecond), res.p99.Round(time.Microsecond),
				res.srvCPU.Round(10*time.Nanosecond), res.ppCPU.Round(10*time.Nanosecond), res.ppUser.Round(10*time.Nanosecond),
				res.loadCPU.Round(10*time.Nanosecond), res.rate/results[1][r].rate)
		}
	}
	fmt.Printf("\nmedians of %d rounds (%d conns, %d B, %v each, servers at GOMAXPROCS=1):\n", *rounds, *conns, *size, *dur)
	fmt.Printf("  %-16s %8s %-7s %-9s %-9s %-40s %s\n", "server", "msgs/s", "", "p50", "p99", "CPU/msg server: run, ping-pong, user; load", "msgs/s vs Go net: ratio of medians, median of round ratios")
	base := median(results[1])
	for i, k := range kinds {
		m := median(results[i])
		ratios := make([]float64, len(results[i]))
		for r := range ratios {
			ratios[r] = results[i][r].rate / results[1][r].rate
		}
		r10 := func(d time.Duration) string { return d.Round(10 * time.Nanosecond).String() }
		fmt.Printf("  %-16s %8.0f msgs/s  %-9v %-9v %-40s %.2fx, %.2fx\n",
			k.name, m.rate, m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond),
			r10(m.srvCPU)+", "+r10(m.ppCPU)+", "+r10(m.ppUser)+"; "+r10(m.loadCPU),
			m.rate/base.rate, proc.Median(ratios))
	}
}

// python is Debian's interpreter, the one that sees Debian's python3-gevent.
const python = "/usr/bin/python3"

// moduleRoot returns the directory of the go.mod of the working directory's
// module, evergo's.
func moduleRoot() (string, error) {
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %v", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", fmt.Errorf("run from within evergo's module: go env GOMOD says %q", mod)
	}
	return filepath.Dir(mod), nil
}

// binary returns the binary path, or builds the package in directory path
// into tmp/name and returns that.
func binary(path, tmp, name string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !fi.IsDir() {
		return path, nil
	}
	out := filepath.Join(tmp, name)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = path
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", path, err, b)
	}
	return out, nil
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	// CPU time per message of the server and of the load generator
	// (user and system, all threads), over the whole echoload run.
	srvCPU, loadCPU time.Duration
	// The server's CPU time per message over the ping-pong alone (between
	// echoload's marks): user and system, and user alone.
	ppCPU, ppUser time.Duration
}

// measure starts a server, waits until it accepts, runs the load against
// it, and stops it.
func measure(server func(addr string) *exec.Cmd, load string, conns, size int, d time.Duration) (result, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return result{}, err
	}
	srv := server(addr)
	srv.Env = append(os.Environ(), "GOMAXPROCS=1")
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		srv.Process.Signal(syscall.SIGTERM) // Python's SIGINT would print a traceback
		done := make(chan struct{})
		go func() { srv.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			srv.Process.Kill()
			<-done
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if ctx.Err() != nil {
			return result{}, fmt.Errorf("server did not start on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	// The server's CPU is taken around the whole echoload run, its start
	// and its end included, so it is a little high (at thousands of
	// connections, more than a little); and between echoload's marks,
	// around the ping-pong alone.
	before, err := proc.Times(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	lg := exec.Command(load, "-addr", addr, "-c", strconv.Itoa(conns), "-size", strconv.Itoa(size), "-d", d.String(), "-marks")
	var stderr strings.Builder
	lg.Stderr = &stderr
	stdout, err := lg.StdoutPipe()
	if err != nil {
		return result{}, err
	}
	if err := lg.Start(); err != nil {
		return result{}, err
	}
	var start, end proc.CPU
	var figures string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		switch line := sc.Text(); line {
		case "start":
			start, err = proc.Times(srv.Process.Pid)
		case "end":
			end, err = proc.Times(srv.Process.Pid)
		default:
			figures += line + "\n"
		}
		if err != nil {
			lg.Process.Kill()
			lg.Wait()
			return result{}, err
		}
	}
	if err := lg.Wait(); err != nil {
		return result{}, fmt.Errorf("echoload: %v: %s%s", err, figures, stderr.String())
	}
	after, err := proc.Times(srv.Process.Pid)
	if err != nil {
		return result{}, err
	}
	r, err := parse(figures)
	if msgs := r.rate * d.Seconds(); err == nil && msgs > 0 {
		per := func(t time.Duration) time.Duration { return time.Duration(float64(t) / msgs) }
		r.srvCPU = per(after.Total() - before.Total())
		r.ppCPU = per(end.Total() - start.Total())
		r.ppUser = per(end.User - start.User)
		r.loadCPU = per(lg.ProcessState.UserTime() + lg.ProcessState.SystemTime())
	}
	return r, err
}

// parse reads echoload's "msgs/s N p50 D p99 D errors N".
func parse(s string) (result, error) {
	f := strings.Fields(s)
	var r result
	var err error
	for i := 0; i+1 < len(f); i += 2 {
		switch f[i] {
		case "msgs/s":
			r.rate, err = strconv.ParseFloat(f[i+1], 64)
		case "p50":
			r.p50, err = time.ParseDuration(f[i+1])
		case "p99":
			r.p99, err = time.ParseDuration(f[i+1])
		}
		if err != nil {
			return r, fmt.Errorf("echoload said %q: %v", s, err)
		}
	}
	return r, nil
}

// median returns the median of each figure on its own.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 { return proc.MedianBy(rs, f) }
	dur := func(f func(result) time.Duration) time.Duration {
		return time.Duration(pick(func(r result) float64 { return float64(f(r)) }))
	}
	return result{
		rate:    pick(func(r result) float64 { return r.rate }),
		p50:     dur(func(r result) time.Duration { return r.p50 }),
		p99:     dur(func(r result) time.Duration { return r.p99 }),
		srvCPU:  dur(func(r result) time.Duration { return r.srvCPU }),
		ppCPU:   dur(func(r result) time.Duration { return r.ppCPU }),
		ppUser:  dur(func(r result) time.Duration { return r.ppUser }),
		loadCPU: dur(func(r result) time.Duration { return r.loadCPU }),
	}
}

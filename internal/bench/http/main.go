// Command http measures httpco's server on one loop against net/http's
// Server and against fasthttp, each at GOMAXPROCS=1 in a process of its
// own, under wrk, and prints requests per second, p50 and p99, the
// server's CPU time and allocations per request, and the ratios of
// httpco's figures to the two others'. Run it from within the module:
//
//	go run ./internal/bench/http -d 5s -rounds 5
//
// It needs wrk; when wrk is missing it installs Debian's package (apt-get
// install -y wrk) if it runs as root, and otherwise says how to. It builds
// internal/bench/http/httpserver (httpco and net/http, the same
// http.Handler) and internal/bench/http/fasthttppeer, a module of its own
// so that evergo's module never requires fasthttp: that one is built with
// go build in its own directory, and the Go toolchain downloads fasthttp
// into the module cache the first time.
//
// The cases are the budget's: "hello" (GET /, 13 bytes) and "16k" (GET
// /16k, 16 KiB), each at 50 and 1,000 connections (-c), keep-alive, wrk
// -t 1 by default. For each round and case, the servers run one after
// the other, A B C A B C, each in a fresh process: a short warm-up run of
// wrk (-warm), then the measured run, with the server's CPU (user and
// system, all threads, from /proc/PID/stat) and its allocation counters
// (GET /stats, runtime.MemStats) read just before and just after it. The
// medians are of each figure on its own; the ratios are the medians of the
// per-round ratios. /proc/loadavg is printed before and after.
//
// What a 2-core machine can show: wrk, the server and the kernel's
// loopback TCP share the two cores, so requests per second and latency
// measure the pair and the machine as much as the server; CPU per request
// (the server's own time divided by the requests it answered) is what
// depends on the server alone, and the figure to judge a budget by.
//
// -profile DIR writes a CPU profile of every server process into DIR
// (SERVER-CASE-cN-rROUND.pprof), warm-up included:
//
//	go run ./internal/bench/http -d 5s -rounds 1 -c 50 -cases hello -profile /tmp/prof
//	go tool pprof -top /tmp/prof/httpco-hello-c50-r1.pprof
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evergo/evergo/internal/bench/proc"
)

// A server is one of the programs measured.
type server struct {
	name string
	cmd  func(addr, profile string) *exec.Cmd
}

// A workload is one of the budget's cases.
type workload struct {
	name, path string
	conns      int
}

func main() {
	log.SetFlags(0)
	dur := flag.Duration("d", 5*time.Second, "duration of each measured wrk run (whole seconds)")
	warm := flag.Duration("warm", time.Second, "duration of the wrk run before each measured one (whole seconds; 0: none)")
	rounds := flag.Int("rounds", 5, "A B C rounds")
	threads := flag.Int("t", 1, "wrk threads")
	connList := flag.String("c", "50,1000", "connection counts, comma-separated")
	caseList := flag.String("cases", "hello,16k", "cases: hello, 16k")
	profile := flag.String("profile", "", "directory to write each server process's CPU profile into")
	flag.Parse()

	wrk, err := ensureWrk()
	if err != nil {
		log.Fatal(err)
	}
	var loads []workload
	for _, c := range strings.Split(*caseList, ",") {
		path, ok := map[string]string{"hello": "/", "16k": "/16k"}[c]
		if !ok {
			log.Fatalf("-cases: unknown case %q (hello, 16k)", c)
		}
		for _, s := range strings.Split(*connList, ",") {
			n, err := strconv.Atoi(s)
			if err != nil || n < 1 {
				log.Fatalf("-c: bad connection count %q", s)
			}
			loads = append(loads, workload{c, path, n})
		}
	}
	if *profile != "" {
		if err := os.MkdirAll(*profile, 0o755); err != nil {
			log.Fatal(err)
		}
	}

	root, err := moduleRoot()
	if err != nil {
		log.Fatal(err)
	}
	tmp, err := os.MkdirTemp("", "httpbench")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	dir := filepath.Join(root, "internal", "bench", "http")
	srvBin, err := build(filepath.Join(dir, "httpserver"), tmp, "httpserver")
	if err != nil {
		log.Fatal(err)
	}
	fastBin, err := build(filepath.Join(dir, "fasthttppeer"), tmp, "fasthttppeer")
	if err != nil {
		log.Fatal(err)
	}
	withProfile := func(args []string, profile string) []string {
		if profile != "" {
			args = append(args, "-cpuprofile", profile)
		}
		return args
	}
	servers := []server{
		{"httpco", func(addr, p string) *exec.Cmd {
			return exec.Command(srvBin, withProfile([]string{"-kind", "httpco", "-addr", addr}, p)...)
		}},
		{"net/http", func(addr, p string) *exec.Cmd {
			return exec.Command(srvBin, withProfile([]string{"-kind", "nethttp", "-addr", addr}, p)...)
		}},
		{"fasthttp", func(addr, p string) *exec.Cmd {
			return exec.Command(fastBin, withProfile([]string{"-addr", addr}, p)...)
		}},
	}

	fmt.Printf("loadavg before: %s\n", proc.LoadAvg())
	fmt.Printf("wrk -t%d -d %v --latency (after a %v warm-up), servers at GOMAXPROCS=1 on 127.0.0.1, %d CPUs\n\n",
		*threads, *dur, *warm, runtime.NumCPU())
	// results[l][s][r] is workload l, server s, round r.
	results := make([][][]result, len(loads))
	for l := range loads {
		results[l] = make([][]result, len(servers))
	}
	for r := range *rounds {
		for l, w := range loads {
			for s, srv := range servers {
				prof := ""
				if *profile != "" {
					prof = filepath.Join(*profile, fmt.Sprintf("%s-%s-c%d-r%d.pprof",
						strings.ReplaceAll(srv.name, "/", ""), w.name, w.conns, r+1))
				}
				res, err := measure(srv, prof, wrk, w, *threads, *warm, *dur)
				if err != nil {
					log.Fatalf("%s, %s at %d conns, round %d: %v", srv.name, w.name, w.conns, r+1, err)
				}
				results[l][s] = append(results[l][s], res)
				fmt.Printf("round %d  %-5s c=%-5d %-9s %s\n", r+1, w.name, w.conns, srv.name, res)
			}
		}
		fmt.Printf("round %d  loadavg %s\n", r+1, proc.LoadAvg())
	}

	fmt.Printf("\nmedians of %d rounds (wrk -t%d, %v each):\n", *rounds, *threads, *dur)
	fmt.Printf("  %-5s %-6s %-9s %9s %9s %9s %10s %8s %9s %8s\n",
		"case", "conns", "server", "req/s", "p50", "p99", "CPU/req", "allocs", "B/req", "wrk CPU")
	for l, w := range loads {
		for s, srv := range servers {
			m := median(results[l][s])
			fmt.Printf("  %-5s %-6d %-9s %9.0f %9v %9v %10v %8.1f %9.0f %8v\n",
				w.name, w.conns, srv.name, m.rate, m.p50.Round(time.Microsecond), m.p99.Round(time.Microsecond),
				m.srvCPU.Round(10*time.Nanosecond), m.allocs, m.bytes, m.wrkCPU.Round(10*time.Nanosecond))
		}
	}
	fmt.Printf("\nhttpco / peer, medians of the per-round ratios [lowest–highest round] (budget vs net/http: req/s ≥ 1.5, CPU/req ≤ 0.6, p99 ≤ 1.0):\n")
	fmt.Printf("  %-5s %-6s %-9s %-22s %-22s %-22s\n", "case", "conns", "peer", "req/s", "CPU/req", "p99")
	for l, w := range loads {
		for s := 1; s < len(servers); s++ {
			cell := func(f func(result) float64) string {
				v := make([]float64, *rounds)
				for r := range v {
					v[r] = f(results[l][0][r]) / f(results[l][s][r])
				}
				m := proc.Median(v)
				return fmt.Sprintf("%.2fx [%.2f–%.2f]", m, v[0], v[len(v)-1])
			}
			fmt.Printf("  %-5s %-6d %-9s %-22s %-22s %-22s\n", w.name, w.conns, servers[s].name,
				cell(func(r result) float64 { return r.rate }),
				cell(func(r result) float64 { return float64(r.srvCPU) }),
				cell(func(r result) float64 { return float64(r.p99) }))
		}
	}
	fmt.Printf("\nloadavg after: %s\n", proc.LoadAvg())
	fmt.Print(`
What this machine can show: wrk, the server under test and the kernel's
loopback TCP share its cores, so req/s, p50 and p99 measure the server,
wrk and the machine together (wrk's own CPU per request is in the table:
when it is near the server's, wrk holds a core as much as the server does,
and req/s is bounded by the pair). The server's CPU per request, its own
user and system time over the measured run divided by the requests wrk
counted, depends on the server alone: it is the figure to judge the CPU
budget by, and the one that predicts req/s on a machine where the load
generator has cores of its own. Allocations per request come from the
server's runtime.MemStats and are exact.
`)
}

// ensureWrk returns wrk's path, installing Debian's package first when wrk
// is missing and the command runs as root.
func ensureWrk() (string, error) {
	if p, err := exec.LookPath("wrk"); err == nil {
		return p, nil
	}
	if os.Geteuid() != 0 {
		return "", errors.New("wrk is missing: install it with `sudo apt-get install -y wrk` (Debian, Ubuntu) and run again")
	}
	log.Print("wrk is missing: apt-get install -y wrk")
	install := func() error {
		cmd := exec.Command("apt-get", "install", "-y", "wrk")
		cmd.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		return cmd.Run()
	}
	if err := install(); err != nil {
		log.Printf("apt-get install failed (%v): apt-get update, then again", err)
		update := exec.Command("apt-get", "update")
		update.Stdout, update.Stderr = os.Stderr, os.Stderr
		if err := update.Run(); err != nil {
			return "", fmt.Errorf("apt-get update: %v", err)
		}
		if err := install(); err != nil {
			return "", fmt.Errorf("apt-get install -y wrk: %v", err)
		}
	}
	return exec.LookPath("wrk")
}

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

// build builds the main package in directory dir, within whatever module
// holds dir (fasthttppeer's own, or evergo's), into tmp/name.
func build(dir, tmp, name string) (string, error) {
	out := filepath.Join(tmp, name)
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOWORK=off")
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building %s: %v\n%s", dir, err, b)
	}
	return out, nil
}

// result is one measured run of one server.
type result struct {
	wrk
	// The server's CPU time (user and system, all threads) and wrk's, per
	// request, over the measured run.
	srvCPU, wrkCPU time.Duration
	// The server's heap allocations and allocated bytes per request.
	allocs, bytes float64
}

func (r result) String() string {
	s := fmt.Sprintf("%8.0f req/s  p50 %-9v p99 %-9v CPU/req %-8v wrk %-8v allocs/req %5.1f B/req %6.0f",
		r.rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond),
		r.srvCPU.Round(10*time.Nanosecond), r.wrkCPU.Round(10*time.Nanosecond), r.allocs, r.bytes)
	if r.errors != "" {
		s += "  (" + r.errors + ")"
	}
	return s
}

// measure starts a server, waits until it answers, warms it up, runs wrk
// against it with its CPU and allocations read around the run, and stops
// it.
func measure(srv server, profile, wrkPath string, w workload, threads int, warm, d time.Duration) (result, error) {
	addr, err := proc.FreeAddr()
	if err != nil {
		return result{}, err
	}
	cmd := srv.cmd(addr, profile)
	cmd.Env = append(os.Environ(), "GOMAXPROCS=1")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return result{}, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM) // writes the profile, if any
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}()
	base := "http://" + addr
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for {
		_, err := serverStats(base)
		if err == nil {
			break
		}
		if ctx.Err() != nil {
			return result{}, fmt.Errorf("server did not start on %s: %v", addr, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	args := func(d time.Duration) []string {
		return []string{"-t", strconv.Itoa(threads), "-c", strconv.Itoa(w.conns), "-d", wrkSeconds(d),
			"--timeout", "10s", "--latency", base + w.path}
	}
	if warm > 0 {
		if out, err := exec.Command(wrkPath, args(warm)...).CombinedOutput(); err != nil {
			return result{}, fmt.Errorf("wrk warm-up: %v\n%s", err, out)
		}
	}
	statsBefore, err := serverStats(base)
	if err != nil {
		return result{}, err
	}
	before, err := proc.Times(cmd.Process.Pid)
	if err != nil {
		return result{}, err
	}
	run := exec.Command(wrkPath, args(d)...)
	var out bytes.Buffer
	run.Stdout, run.Stderr = &out, &out
	err = run.Run()
	after, cpuErr := proc.Times(cmd.Process.Pid)
	if err != nil {
		return result{}, fmt.Errorf("wrk: %v\n%s", err, out.String())
	}
	if cpuErr != nil {
		return result{}, cpuErr
	}
	statsAfter, err := serverStats(base)
	if err != nil {
		return result{}, err
	}
	wr, err := parseWrk(out.String())
	if err != nil {
		return result{}, err
	}
	if wr.requests == 0 {
		return result{}, fmt.Errorf("wrk counted no requests:\n%s", out.String())
	}
	n := float64(wr.requests)
	per := func(t time.Duration) time.Duration { return time.Duration(float64(t) / n) }
	return result{
		wrk:    wr,
		srvCPU: per(after.Total() - before.Total()),
		wrkCPU: per(run.ProcessState.UserTime() + run.ProcessState.SystemTime()),
		// The /stats request between the two reads is one of n+1.
		allocs: float64(statsAfter.mallocs-statsBefore.mallocs) / n,
		bytes:  float64(statsAfter.bytes-statsBefore.bytes) / n,
	}, nil
}

// wrkSeconds formats d for wrk's -d, which takes whole seconds (or
// minutes, hours): d rounded up to a second.
func wrkSeconds(d time.Duration) string {
	return strconv.FormatInt(int64(max(1, (d+time.Second-1)/time.Second)), 10) + "s"
}

// wrk is what parseWrk reads of wrk's report.
type wrk struct {
	rate               float64 // Requests/sec
	requests           int64   // "N requests in D"
	p50, p75, p90, p99 time.Duration
	errors             string // the socket errors and non-2xx/3xx count, if any
}

// parseWrk reads the report of wrk --latency: the latency distribution,
// the request count, Requests/sec, and the lines on errors.
func parseWrk(s string) (wrk, error) {
	var w wrk
	var errs []string
	seen := 0
	for _, line := range strings.Split(s, "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		var err error
		switch {
		case len(f) == 2 && strings.HasSuffix(f[0], "%"):
			var d time.Duration
			if d, err = time.ParseDuration(f[1]); err != nil {
				break
			}
			switch f[0] {
			case "50%":
				w.p50 = d
				seen |= 1
			case "75%":
				w.p75 = d
			case "90%":
				w.p90 = d
			case "99%":
				w.p99 = d
				seen |= 2
			}
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			w.requests, err = strconv.ParseInt(f[0], 10, 64)
			seen |= 4
		case f[0] == "Requests/sec:" && len(f) == 2:
			w.rate, err = strconv.ParseFloat(f[1], 64)
			seen |= 8
		case f[0] == "Socket" && len(f) > 2 && f[1] == "errors:":
			errs = append(errs, "socket errors: "+strings.Join(f[2:], " "))
		case f[0] == "Non-2xx":
			errs = append(errs, strings.Join(f, " "))
		}
		if err != nil {
			return w, fmt.Errorf("wrk said %q: %v", line, err)
		}
	}
	if seen != 15 {
		return w, fmt.Errorf("wrk's report lacks p50, p99, the request count or Requests/sec (run with --latency?):\n%s", s)
	}
	w.errors = strings.Join(errs, "; ")
	return w, nil
}

// memStats is a server's allocation counters, as its /stats answers them.
type memStats struct{ mallocs, bytes, gcs uint64 }

// serverStats gets base/stats, on a connection of its own.
func serverStats(base string) (memStats, error) {
	c := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}
	resp, err := c.Get(base + "/stats")
	if err != nil {
		return memStats{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return memStats{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return memStats{}, fmt.Errorf("GET /stats: %s", resp.Status)
	}
	return parseStats(string(b))
}

// parseStats reads "mallocs N bytes N gcs N".
func parseStats(s string) (memStats, error) {
	var m memStats
	f := strings.Fields(s)
	if len(f) != 6 || f[0] != "mallocs" || f[2] != "bytes" || f[4] != "gcs" {
		return m, fmt.Errorf("/stats said %q", s)
	}
	for i, p := range []*uint64{&m.mallocs, &m.bytes, &m.gcs} {
		n, err := strconv.ParseUint(f[2*i+1], 10, 64)
		if err != nil {
			return m, fmt.Errorf("/stats said %q: %v", s, err)
		}
		*p = n
	}
	return m, nil
}

// median returns the median of each figure on its own.
func median(rs []result) result {
	pick := func(f func(result) float64) float64 { return proc.MedianBy(rs, f) }
	dur := func(f func(result) time.Duration) time.Duration {
		return time.Duration(pick(func(r result) float64 { return float64(f(r)) }))
	}
	var m result
	m.rate = pick(func(r result) float64 { return r.rate })
	m.p50 = dur(func(r result) time.Duration { return r.p50 })
	m.p99 = dur(func(r result) time.Duration { return r.p99 })
	m.srvCPU = dur(func(r result) time.Duration { return r.srvCPU })
	m.wrkCPU = dur(func(r result) time.Duration { return r.wrkCPU })
	m.allocs = pick(func(r result) float64 { return r.allocs })
	m.bytes = pick(func(r result) float64 { return r.bytes })
	return m
}

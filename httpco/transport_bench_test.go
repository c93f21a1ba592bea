package httpco_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/scheduler"
)

// The client pair: N tasks on one loop, each making keep-alive GETs of a
// 1 KiB body with httpco's Transport, beside N goroutines doing the same
// with net/http's, against a net/http server in a process of its own (this
// test binary run again), so that the client's CPU time is its own. Each
// reports requests per second and the client's CPU (user and system) per
// request. Run at one core, as the budget compares:
//
//	go test ./httpco -run '^$' -bench 'ClientGet' -cpu 1 -count 6

const benchServerEnv = "HTTPCO_BENCH_SERVER"

var benchBody1K = strings.Repeat("x", 1024)

// serveBenchPeer serves the 1 KiB body on addr until the process is
// killed, and prints "ready" once it listens.
func serveBenchPeer(addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		fmt.Println("listen:", err)
		os.Exit(1)
	}
	fmt.Println("ready")
	http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1024")
		io.WriteString(w, benchBody1K)
	}))
}

// startBenchPeer starts the server process and returns its URL; it is
// killed when b ends.
func startBenchPeer(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cmd := exec.Command(os.Args[0])
	cmd.Env = append(os.Environ(), benchServerEnv+"="+addr, "GOMAXPROCS=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "ready\n" {
		b.Fatalf("the server process said %q", line)
	}
	return "http://" + addr + "/"
}

// cpuTime is the process's user and system time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// getAll makes one GET of url with client and reads its body whole.
func getAll(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && n != 1024 {
		err = fmt.Errorf("a body of %d bytes", n)
	}
	return err
}

var benchWorkers = []int{1, 100, 1000}

func BenchmarkClientGetHttpco(b *testing.B) {
	url := startBenchPeer(b)
	for _, n := range benchWorkers {
		b.Run("tasks="+strconv.Itoa(n), func(b *testing.B) {
			tr := httpco.NewTransport()
			tr.Proxy = nil
			tr.MaxIdleConnsPerHost = n
			client := &http.Client{Transport: tr}
			var start time.Time
			var cpu0 time.Duration
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				defer tr.CloseIdleConnections()
				var g scheduler.Group
				warm(ctx, &g, n, func(ctx context.Context) error { return getAll(ctx, client, url) })
				if err := g.Wait(ctx); err != nil {
					return err
				}
				b.ResetTimer()
				start, cpu0 = time.Now(), cpuTime()
				for w := range n {
					g.Go(ctx, func(ctx context.Context) error {
						for i := w; i < b.N; i += n {
							if err := getAll(ctx, client, url); err != nil {
								return err
							}
						}
						return nil
					})
				}
				return g.Wait(ctx)
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			report(b, time.Since(start), cpuTime()-cpu0)
		})
	}
}

func BenchmarkClientGetNetHTTP(b *testing.B) {
	url := startBenchPeer(b)
	for _, n := range benchWorkers {
		b.Run("goroutines="+strconv.Itoa(n), func(b *testing.B) {
			tr := &http.Transport{MaxIdleConnsPerHost: n}
			defer tr.CloseIdleConnections()
			client := &http.Client{Transport: tr}
			var wg sync.WaitGroup
			errs := make(chan error, n)
			for range n { // one connection per worker, as the tasks have
				wg.Add(1)
				go func() { defer wg.Done(); errs <- getAll(context.Background(), client, url) }()
			}
			wg.Wait()
			b.ResetTimer()
			start, cpu0 := time.Now(), cpuTime()
			for w := range n {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := w; i < b.N; i += n {
						if err := getAll(context.Background(), client, url); err != nil {
							errs <- err
							return
						}
					}
				}()
			}
			wg.Wait()
			b.StopTimer()
			close(errs)
			for err := range errs {
				if err != nil {
					b.Fatal(err)
				}
			}
			report(b, time.Since(start), cpuTime()-cpu0)
		})
	}
}

// warm opens one connection per worker before the clock starts.
func warm(ctx context.Context, g *scheduler.Group, n int, get func(ctx context.Context) error) {
	for range n {
		g.Go(ctx, get)
	}
}

func report(b *testing.B, wall, cpu time.Duration) {
	b.ReportMetric(float64(b.N)/wall.Seconds(), "req/s")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/req")
}

// Command crawl measures the evergo crawler (examples/crawler/crawl, one
// loop) against a goroutine crawler on net/http written for the comparison
// (package internal/bench/gocrawl), both crawling the same demo site at the
// same concurrency, alternated A B A B, each in a process of its own, and
// prints pages per second and CPU seconds for both, with their ratios.
//
//	go run ./internal/bench/crawl -pages 5000 -latency 5ms -c 100 -rounds 5
//
// The demo site (examples/crawler/demosite) runs in a third process, on
// net/http, for the whole run; its latency is how long each response waits
// before it is sent. Both crawlers must fetch the same set of URLs,
// redirect targets included, or the run stops; a page is one of those
// URLs, and pages/s is their number over the crawl's time. (The results a
// crawl counts, as its summary does, vary with the order pages come in: a
// /go/N fetched after /page/N is a 301 result of its own, before it a
// redirect followed, so they are shown but not compared.) CPU is user and
// system time of the crawler's process, all threads, from its rusage.
package main

import (
	"bufio"
	"context"
	"crypto/sha256"
	"flag"
	"fmt"
	"log"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/internal/bench/gocrawl"
	"github.com/evergo/evergo/internal/bench/proc"
	"github.com/evergo/evergo/scheduler"
)

const userAgent = "evergo-crawler-bench"

func main() {
	log.SetFlags(0)
	role := flag.String("role", "", "internal: serve, evergo or goroutine")
	seed := flag.String("url", "", "internal: the site to crawl")
	pages := flag.Int("pages", 5000, "demo site pages")
	latency := flag.Duration("latency", 5*time.Millisecond, "demo site latency")
	conc := flag.Int("c", 100, "crawlers' concurrency: tasks or goroutines")
	rounds := flag.Int("rounds", 5, "A B rounds")
	timeout := flag.Duration("timeout", 15*time.Second, "crawlers' request timeout")
	maxBody := flag.Int64("max-body", 10<<20, "crawlers' body cap")
	flag.Parse()
	switch *role {
	case "serve":
		serve(*pages, *latency)
		return
	case "evergo", "goroutine":
		crawlOnce(*role, *seed, *conc, *timeout, *maxBody)
		return
	case "":
	default:
		log.Fatalf("unknown -role %q", *role)
	}

	self, err := os.Executable()
	if err != nil {
		log.Fatal(err)
	}
	srv := exec.Command(self, "-role", "serve", "-pages", strconv.Itoa(*pages), "-latency", latency.String())
	srv.Stderr = os.Stderr
	out, err := srv.StdoutPipe()
	if err != nil {
		log.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		log.Fatal(err)
	}
	stopSite := func() {
		srv.Process.Signal(syscall.SIGTERM)
		srv.Wait()
	}
	defer stopSite()
	fatalf := func(format string, args ...any) {
		stopSite() // its stderr is ours: a child left running would hold a pipe open
		log.Fatalf(format, args...)
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		fatalf("demo site: %v", err)
	}
	site := strings.TrimSpace(line)
	fmt.Printf("demo site %s: %d pages, %v latency; concurrency %d; %d rounds\n", site, *pages, *latency, *conc, *rounds)

	kinds := []string{"evergo", "goroutine"}
	results := make([][]result, len(kinds))
	for r := range *rounds {
		for i, k := range kinds {
			args := []string{"-role", k, "-url", site, "-c", strconv.Itoa(*conc),
				"-timeout", timeout.String(), "-max-body", strconv.FormatInt(*maxBody, 10)}
			before, err := proc.CPUTime(srv.Process.Pid)
			if err != nil {
				fatalf("%v", err)
			}
			res, err := measure(self, args)
			if err != nil {
				fatalf("%s, round %d: %v", k, r+1, err)
			}
			after, err := proc.CPUTime(srv.Process.Pid)
			if err != nil {
				fatalf("%v", err)
			}
			results[i] = append(results[i], res)
			fmt.Printf("round %d  %-10s %6d pages (%d results) in %-8v %7.0f pages/s  CPU %6.3fs  (site's CPU %.2fs)\n",
				r+1, k, res.urls, res.results, res.elapsed.Round(time.Millisecond), res.rate(), res.cpu.Seconds(), (after - before).Seconds())
		}
		if a, b := results[0][r], results[1][r]; a.urls != b.urls || a.set != b.set {
			fatalf("round %d: the crawlers fetched different sets of URLs: %d (%s) and %d (%s)", r+1, a.urls, a.set, b.urls, b.set)
		}
	}
	fmt.Printf("\nmedians of %d rounds:\n", *rounds)
	for i, k := range kinds {
		fmt.Printf("  %-10s %7.0f pages/s  CPU %6.3fs\n", k, medianOf(results[i], result.rate), medianOf(results[i], result.cpuSeconds))
	}
	ratios := func(f func(result) float64) (ofMedians, medianOfRatios float64) {
		rs := make([]float64, *rounds)
		for r := range rs {
			rs[r] = f(results[0][r]) / f(results[1][r])
		}
		return medianOf(results[0], f) / medianOf(results[1], f), median(rs)
	}
	rm, rr := ratios(result.rate)
	cm, cr := ratios(result.cpuSeconds)
	fmt.Printf("  evergo / goroutine: pages/s %.2fx, CPU %.2fx (ratio of medians); %.2fx, %.2fx (median of round ratios)\n", rm, cm, rr, cr)
}

type result struct {
	results int           // results, as the summary counts them
	urls    int           // distinct URLs fetched, redirect targets included: the pages
	set     string        // a digest of the sorted URLs
	elapsed time.Duration // of the crawl, measured in the crawler
	cpu     time.Duration // of the crawler's process
}

func (r result) rate() float64       { return float64(r.urls) / r.elapsed.Seconds() }
func (r result) cpuSeconds() float64 { return r.cpu.Seconds() }

func medianOf(rs []result, f func(result) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return median(v)
}

// median returns the median of v, the mean of the middle two for an even
// count; it sorts v.
func median(v []float64) float64 {
	slices.Sort(v)
	n := len(v)
	if n%2 == 0 {
		return (v[n/2-1] + v[n/2]) / 2
	}
	return v[n/2]
}

// measure runs one crawl in a child process and reads what crawlOnce
// prints from it.
func measure(self string, args []string) (result, error) {
	cmd := exec.Command(self, args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		return result{}, err
	}
	var res result
	var elapsed string
	if _, err := fmt.Sscanf(string(out), "results %d urls %d set %s elapsed %s", &res.results, &res.urls, &res.set, &elapsed); err != nil {
		return result{}, fmt.Errorf("crawler said %q: %v", out, err)
	}
	if res.elapsed, err = time.ParseDuration(elapsed); err != nil {
		return result{}, err
	}
	res.cpu = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	return res, nil
}

// serve serves the demo site until SIGTERM, and prints its URL first.
func serve(pages int, latency time.Duration) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("http://%s/\n", ln.Addr())
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	srv := &http.Server{Handler: demosite.New(demosite.Config{Pages: pages, Latency: latency})}
	go srv.Serve(ln)
	<-ctx.Done()
	srv.Close()
}

// crawlOnce crawls site with the crawler kind names and prints what it
// found and how long it took.
func crawlOnce(kind, site string, conc int, timeout time.Duration, maxBody int64) {
	start := time.Now()
	var results int
	var urls []string
	var err error
	if kind == "goroutine" {
		results, urls, err = gocrawl.Crawl(site, conc, timeout, maxBody, userAgent)
	} else {
		fetched := map[string]struct{}{}
		err = scheduler.Run(context.Background(), func(ctx context.Context) error {
			c, err := crawl.New(crawl.Config{
				Seeds: []string{site}, Concurrency: conc, SameHost: true,
				Timeout: timeout, MaxBody: maxBody, UserAgent: userAgent,
				OnResult: func(ctx context.Context, r *crawl.Result) {
					fetched[r.URL] = struct{}{}
				},
			})
			if err != nil {
				return err
			}
			sum, err := c.Run(ctx)
			if sum != nil {
				results = sum.Done
			}
			return err
		})
		urls = slices.Sorted(maps.Keys(fetched))
	}
	elapsed := time.Since(start)
	if err != nil {
		log.Fatal(err)
	}
	digest := sha256.Sum256([]byte(strings.Join(urls, "\n")))
	fmt.Printf("results %d urls %d set %x elapsed %v\n", results, len(urls), digest[:8], elapsed)
}

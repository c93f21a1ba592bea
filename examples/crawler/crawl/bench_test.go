package crawl_test

import (
	"context"
	"net/http/httptest"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/internal/bench/gocrawl"
	"github.com/evergo/evergo/scheduler"
)

// The crawler's budget (DESIGN.md): crawling a local site at the same
// concurrency, at least the pages per second of a goroutine crawler on
// net/http, on at most its CPU. Each op is a whole crawl of a 5,000-page
// demo site with 5 ms latency by 100 fetchers. The site runs in this
// process, so cpu-s/op holds its CPU too, the same for both; the CPU of the
// crawlers alone, each in a process of its own, is what
// internal/bench/crawl measures:
//
//	go test -run '^$' -bench Crawl -benchtime 1x -count 6 ./examples/crawler/crawl | benchstat -
//	go run ./internal/bench/crawl -rounds 5
const (
	benchPages   = 5000
	benchLatency = 5 * time.Millisecond
	benchWorkers = 100
	benchAgent   = "evergo-crawler-bench"
)

func benchSite(b *testing.B) *httptest.Server {
	srv := httptest.NewServer(demosite.New(demosite.Config{Pages: benchPages, Latency: benchLatency}))
	b.Cleanup(func() {
		srv.CloseClientConnections()
		srv.Close()
	})
	return srv
}

// cpuTime returns the CPU time, user and system, the process has used.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// measure runs crawlOnce b.N times and reports pages/s and cpu-s/op. A
// page is a URL fetched, redirect targets included: the set is the same
// for both crawlers (internal/bench/gocrawl's test checks it), where the
// results counted vary with the order pages come in.
func measure(b *testing.B, crawlOnce func() int) {
	pages := 0
	cpu := cpuTime(b)
	start := time.Now()
	for b.Loop() {
		pages += crawlOnce()
	}
	b.ReportMetric(float64(pages)/time.Since(start).Seconds(), "pages/s")
	b.ReportMetric((cpuTime(b)-cpu).Seconds()/float64(b.N), "cpu-s/op")
}

func BenchmarkCrawlEvergo(b *testing.B) {
	srv := benchSite(b)
	measure(b, func() int {
		fetched := map[string]struct{}{}
		err := scheduler.Run(context.Background(), func(ctx context.Context) error {
			c, err := crawl.New(crawl.Config{
				Seeds: []string{srv.URL}, Concurrency: benchWorkers, SameHost: true,
				Timeout: 15 * time.Second, UserAgent: benchAgent,
				OnResult: func(ctx context.Context, r *crawl.Result) {
					fetched[r.URL] = struct{}{}
				},
			})
			if err != nil {
				return err
			}
			_, err = c.Run(ctx)
			return err
		})
		if err != nil {
			b.Fatal(err)
		}
		return len(fetched)
	})
}

// Baseline: the same crawl by goroutines on net/http.
func BenchmarkCrawlGoroutines(b *testing.B) {
	srv := benchSite(b)
	measure(b, func() int {
		_, urls, err := gocrawl.Crawl(srv.URL, benchWorkers, 15*time.Second, 10<<20, benchAgent)
		if err != nil {
			b.Fatal(err)
		}
		return len(urls)
	})
}

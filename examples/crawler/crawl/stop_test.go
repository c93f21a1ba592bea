package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// loopFDs returns how many fds are registered with the loop of ctx: the
// crawler's connections, and not the server's side of them, which the
// server may still accept after the crawler has closed its own.
func loopFDs(ctx context.Context) int { return scheduler.LoopOf(ctx).Stats().FDs }

// openFDs returns how many file descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(fds)
}

// verifyNoLeaks makes t check, once its servers are closed, that no
// goroutine it started is left.
func verifyNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // registered first, so run last
}

func TestCrawlCancelledStopsWithTheSummarySoFarAndLeavesNoFD(t *testing.T) {
	const cancelAt = 20
	fds := openFDs(t)
	site := demosite.New(demosite.Config{Pages: 400, Seed: 9, Latency: time.Millisecond})
	srv := httptest.NewServer(site)
	defer srv.Close()
	all, _ := expect(t, site, srv.URL, 0, 0)

	var results []crawl.Result
	var sum *crawl.Summary
	var runErr error
	var fdsInLoop, fdsAfterRun int
	run(t, func(ctx context.Context) error {
		pool, err := futures.NewThreadPool(1)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		crawlCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		c, err := crawl.New(crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 4,
			OnResult: func(_ context.Context, r *crawl.Result) {
				results = append(results, *r)
				if len(results) == cancelAt {
					cancel() // as Ctrl-C does
				}
			}})
		if err != nil {
			return err
		}
		fdsInLoop = loopFDs(ctx)
		sum, runErr = c.Run(crawlCtx)
		fdsAfterRun = loopFDs(ctx)
		return nil
	})
	if fdsAfterRun != fdsInLoop {
		t.Errorf("%d fds open once Run returned, %d before it ran", fdsAfterRun, fdsInLoop)
	}
	if !errors.Is(runErr, context.Canceled) || sum == nil || !sum.Interrupted {
		t.Fatalf("Run cancelled = %+v, %v; want an interrupted summary and context.Canceled", sum, runErr)
	}
	if len(results) < cancelAt || len(results) >= len(all) {
		t.Errorf("%d results; want at least %d and fewer than the %d of a whole crawl", len(results), cancelAt, len(all))
	}
	// The summary counts what OnResult was given, no more, no less.
	status, kinds := map[int]int{}, map[string]int{}
	var bytes int64
	errs := 0
	for _, r := range results {
		if r.Status != 0 {
			status[r.Status]++
		}
		if r.Error != "" {
			errs++
			kinds[r.Kind]++
		}
		bytes += r.Bytes
	}
	if sum.Done != len(results) || sum.Errors != errs || sum.Bytes != bytes ||
		!maps.Equal(sum.Status, status) || !maps.Equal(sum.ErrorKinds, kinds) {
		t.Errorf("summary: %d done, %d errors, %d bytes, statuses %v, kinds %v;\nthe results: %d, %d, %d, %v, %v",
			sum.Done, sum.Errors, sum.Bytes, sum.Status, sum.ErrorKinds, len(results), errs, bytes, status, kinds)
	}
	if sum.InFlight != 0 || sum.Queued != 0 {
		t.Errorf("summary: %d in flight, %d queued; want none once Run returned", sum.InFlight, sum.Queued)
	}
	if _, ok := kinds["cancelled"]; ok {
		t.Errorf("a fetch that the cancellation ended has a result")
	}
	srv.Close() // the server's side of the connections, and its listener
	if n := openFDs(t); n != fds {
		t.Errorf("%d fds open after the crawl, %d before", n, fds)
	}
}

func TestCrawlKilledWhileFetchingLeavesNoFDOrGoroutine(t *testing.T) {
	verifyNoLeaks(t)
	const workers = 3
	fds := openFDs(t)
	var arrived atomic.Int32
	allIn := make(chan struct{})   // closed once each worker's request is in
	release := make(chan struct{}) // closed once the loop has ended
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", htmlSite(map[string]string{
		"/": anchors("/slow/0", "/slow/1", "/slow/2", "/slow/3", "/slow/4", "/slow/5"),
	}))
	mux.HandleFunc("/slow/", func(w http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == workers {
			close(allIn)
		}
		select {
		case <-release:
		case <-r.Context().Done():
		case <-time.After(guard):
		}
		fmt.Fprint(w, "slow")
	})
	srv := httptest.NewServer(mux)
	var stopOnce sync.Once
	stop := func() {
		stopOnce.Do(func() {
			close(release)
			srv.Close()
		})
	}
	t.Cleanup(stop)

	var c *crawl.Crawler
	var inFlight int
	var joinErr error
	withPool(t, func(ctx context.Context, pool *futures.ThreadPool) error {
		var err error
		c, err = crawl.New(crawl.Config{Seeds: []string{srv.URL}, Concurrency: workers})
		if err != nil {
			return err
		}
		runner, err := scheduler.Spawn(ctx, "run", func(ctx context.Context) error {
			_, err := c.Run(ctx)
			return err
		})
		if err != nil {
			return err
		}
		if err := offLoop(ctx, pool, func() error {
			select {
			case <-allIn:
				return nil
			case <-time.After(guard):
				return fmt.Errorf("%d of %d requests came", arrived.Load(), workers)
			}
		}); err != nil {
			return err
		}
		inFlight = c.Progress().InFlight
		if err := runner.Kill(ctx); err != nil {
			return err
		}
		joinErr = runner.Join(ctx)
		return nil // the loop ends once the workers are gone
	})
	if inFlight != workers {
		t.Errorf("%d fetches in flight when Run's task was killed, want %d", inFlight, workers)
	}
	if !errors.Is(joinErr, scheduler.ErrKilled) {
		t.Errorf("the killed task's Join = %v, want ErrKilled", joinErr)
	}
	if p := c.Progress(); p.InFlight != 0 {
		t.Errorf("%d fetches in flight once the loop ended", p.InFlight)
	}
	if n := arrived.Load(); n != workers {
		t.Errorf("%d requests for slow pages came, want %d: no fetch after the kill", n, workers)
	}
	stop() // the server's side of the connections, and its listener
	if n := openFDs(t); n != fds {
		t.Errorf("%d fds open after the crawl was killed, %d before", n, fds)
	}
}

func TestFetchEndsWhenItsContextIsCancelled(t *testing.T) {
	// The server never answers; the cancellation comes from another task,
	// whenever it comes: before the dial, during it or after the request
	// went, the fetch ends with it and leaves no connection open.
	srv := serveBlocking(t)
	var err error
	var fdsBefore, fdsAfter int
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		fdsBefore = loopFDs(ctx)
		fetchCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		if _, err := scheduler.Spawn(ctx, "cancel", func(ctx context.Context) error {
			scheduler.Sleep(ctx, 10*time.Millisecond)
			cancel()
			return nil
		}); err != nil {
			return err
		}
		_, err = f.Fetch(fetchCtx, parse(t, srv.URL+"/"), nil)
		fdsAfter = loopFDs(ctx)
		return nil
	})
	if !errors.Is(err, context.Canceled) || crawl.Kind(err) != "cancelled" {
		t.Errorf("Fetch cancelled = %v (kind %q); want context.Canceled, of kind \"cancelled\"", err, crawl.Kind(err))
	}
	if fdsAfter != fdsBefore {
		t.Errorf("%d fds on the loop after the cancelled fetch, %d before", fdsAfter, fdsBefore)
	}
}

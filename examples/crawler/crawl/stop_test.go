package crawl_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// htmlSite serves pages, by path: /robots.txt as text, the others as
// HTML; any other path is a 404.
func htmlSite(pages map[string]string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		if r.URL.Path == "/robots.txt" {
			w.Header().Set("Content-Type", "text/plain")
		} else {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
		}
		fmt.Fprint(w, body)
	}
}

// anchors returns an <a> for each of hrefs.
func anchors(hrefs ...string) string {
	var b strings.Builder
	for _, h := range hrefs {
		fmt.Fprintf(&b, "<a href=%q>%s</a>\n", h, h)
	}
	return b.String()
}

// urlsOf returns the results' URLs, in order, without root.
func urlsOf(results []crawl.Result, root string) []string {
	var urls []string
	for _, r := range results {
		urls = append(urls, strings.TrimPrefix(r.URL, root))
	}
	return urls
}

// verifyNoLeaks makes t check, once its servers are closed, that no
// goroutine it started is left.
func verifyNoLeaks(t *testing.T) {
	ignore := goleak.IgnoreCurrent()
	t.Cleanup(func() { goleak.VerifyNone(t, ignore) }) // registered first, so run last
}

func TestCrawlRecordsAPanickingParseAsThePagesErrorAndGoesOn(t *testing.T) {
	srv, rec := serveRecorded(t, htmlSite(map[string]string{
		"/":  anchors("/x", "/y"),
		"/x": anchors("/from-x"),
		"/y": anchors("/z"),
		"/z": "<p>the end</p>",
	}))
	var results []crawl.Result
	var sum *crawl.Summary
	var runErr error
	run(t, func(ctx context.Context) error {
		c, err := crawl.New(crawl.Config{Seeds: []string{srv.URL}, Concurrency: 1,
			OnResult: func(_ context.Context, r *crawl.Result) { results = append(results, *r) }})
		if err != nil {
			return err
		}
		crawl.OnParse(c, func(u *url.URL) {
			if u.Path == "/x" {
				panic("boom")
			}
		})
		sum, runErr = c.Run(ctx)
		return nil
	})
	if runErr != nil {
		t.Fatalf("Run: %v; want nil: a page's panic is the page's error", runErr)
	}
	if got, want := strings.Join(urlsOf(results, srv.URL), " "), "/ /x /y /z"; got != want {
		t.Fatalf("results for %s; want %s", got, want)
	}
	if r := results[1]; r.Kind != "panic" || !strings.Contains(r.Error, "boom") {
		t.Errorf("/x: kind %q, error %q; want kind panic with the panic's text", r.Kind, r.Error)
	}
	for _, r := range []crawl.Result{results[0], results[2], results[3]} {
		if r.Status != 200 || r.Error != "" {
			t.Errorf("%s: %d %q; want a 200", r.URL, r.Status, r.Error)
		}
	}
	if want := map[string]int{"panic": 1}; !maps.Equal(sum.ErrorKinds, want) || sum.Done != 4 || sum.Interrupted {
		t.Errorf("summary: %d done, errors %v, interrupted %v; want 4 done, %v, not interrupted",
			sum.Done, sum.ErrorKinds, sum.Interrupted, want)
	}
	if n := rec.count("/from-x"); n != 0 {
		t.Errorf("/from-x, a link of the page whose parse panicked, was requested %d times", n)
	}
}

func TestCrawlEndsWhenOnResultPanics(t *testing.T) {
	verifyNoLeaks(t)
	const panicAt = 3
	site := demosite.New(demosite.Config{Pages: 200, Seed: 12})
	srv := serve(t, site)
	all, _ := expect(t, site, srv.URL, 0, 0)
	calls := 0
	// crawlAll checks that no fd is left open once Run returned.
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 4,
		OnResult: func(context.Context, *crawl.Result) {
			calls++
			if calls == panicAt {
				panic("stop here")
			}
		}})
	var perr *scheduler.PanicError
	if !errors.As(err, &perr) || perr.Value != "stop here" {
		t.Fatalf("Run with an OnResult that panics = %v; want a *scheduler.PanicError with the panic's value", err)
	}
	if sum == nil || !sum.Interrupted {
		t.Fatalf("summary %+v; want one marked Interrupted", sum)
	}
	if len(results) < panicAt || len(results) >= len(all) || sum.Done != len(results) {
		t.Errorf("%d results, %d done; want at least %d, fewer than a whole crawl's %d, and as many done",
			len(results), sum.Done, panicAt, len(all))
	}
	if sum.InFlight != 0 || sum.Queued != 0 {
		t.Errorf("summary: %d in flight, %d queued; want none once Run returned", sum.InFlight, sum.Queued)
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

func TestCrawlFollowsASeedsRedirectToAnotherHostAndNoFurther(t *testing.T) {
	c, crec := serveRecorded(t, htmlSite(map[string]string{"/": "<p>elsewhere</p>"}))
	b := serve(t, htmlSite(map[string]string{
		"/":   anchors("/p1", "/p2", c.URL+"/x"),
		"/p1": anchors("/p2", "/", c.URL+"/y"),
		"/p2": "<p>the end</p>",
	}))
	a := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			http.Redirect(w, r, b.URL+"/", http.StatusMovedPermanently)
			return
		}
		http.NotFound(w, r)
	}))
	results, sum, err := crawlAll(t, nil, crawl.Config{Seeds: []string{a.URL}, SameHost: true, Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, r := range results {
		got = append(got, fmt.Sprintf("%s %d depth %d", r.URL, r.Status, r.Depth))
	}
	want := []string{
		a.URL + "/ 301 depth 0", // the redirect, handed to the frontier
		b.URL + "/ 200 depth 0",
		b.URL + "/p1 200 depth 1",
		b.URL + "/p2 200 depth 1",
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("results:\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
	}
	if want := map[string]int{crawl.SkipOtherHost: 2}; !maps.Equal(sum.Skipped, want) {
		t.Errorf("skipped %v, want %v: C's /x and /y", sum.Skipped, want)
	}
	if p := crec.Paths(); len(p) != 0 {
		t.Errorf("the third host got requests %v; it is out of scope", p)
	}
}

func TestCrawlCountsURLsFoundAfterThePageLimit(t *testing.T) {
	srv, rec := serveRecorded(t, htmlSite(map[string]string{
		"/":  anchors("/1", "/2", "/3"),
		"/1": anchors("/2", "/4", "/5"),
		"/2": "", "/3": "", "/4": "", "/5": "",
	}))
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true,
		Concurrency: 1, MaxPages: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if got := strings.Join(urlsOf(results, srv.URL), " "); got != "/ /1" {
		t.Errorf("results for %s; want / and /1", got)
	}
	// /2 and /3 were in the frontier when /1 began, the last page; /4
	// and /5 were found on /1, after.
	if want := map[string]int{crawl.SkipLimit: 4}; !maps.Equal(sum.Skipped, want) || sum.Done != 2 {
		t.Errorf("%d done, skipped %v; want 2 done, %v", sum.Done, sum.Skipped, want)
	}
	if got := strings.Join(rec.Paths(), " "); got != "/robots.txt / /1" {
		t.Errorf("requests: %s; want /robots.txt / /1", got)
	}
}

// timed serves h and records when each request came, in order.
type timed struct {
	h     http.Handler
	mu    sync.Mutex
	paths []string
	at    []time.Time
}

func (s *timed) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.paths = append(s.paths, r.URL.Path)
	s.at = append(s.at, time.Now())
	s.mu.Unlock()
	s.h.ServeHTTP(w, r)
}

func TestCrawlSpacesRequestsToAHostByDelay(t *testing.T) {
	// A request's way from the loop to the server varies, most on a
	// busy machine: a gap may look shorter than the crawler made it by
	// as much. Without spacing, the gaps would be near 0.
	const slack = 20 * time.Millisecond
	pages := map[string]string{
		"/":  anchors("/1", "/2", "/3", "/4"),
		"/1": "", "/2": "", "/3": "", "/4": "",
	}
	for _, tc := range []struct {
		name    string
		delay   time.Duration
		robots  string
		spacing time.Duration
	}{
		{"Delay", 60 * time.Millisecond, "User-agent: *\nDisallow: /private/\n", 60 * time.Millisecond},
		{"CrawlDelayLargerThanDelay", 20 * time.Millisecond, "User-agent: *\nCrawl-delay: 0.08\n", 80 * time.Millisecond},
		{"DelayLargerThanCrawlDelay", 70 * time.Millisecond, "User-agent: *\nCrawl-delay: 0.02\n", 70 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := maps.Clone(pages)
			site["/robots.txt"] = tc.robots
			s := &timed{h: htmlSite(site)}
			srv := serve(t, s)
			results, _, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 4, Delay: tc.delay})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if len(results) != 5 || len(s.at) != 6 || s.paths[0] != "/robots.txt" {
				t.Fatalf("%d results, requests %v; want 5 results, robots.txt and 5 pages requested", len(results), s.paths)
			}
			for i := 1; i < len(s.at); i++ {
				if gap := s.at[i].Sub(s.at[i-1]); gap < tc.spacing-slack {
					t.Errorf("%s came %v after %s; want %v or more between two requests",
						s.paths[i], gap, s.paths[i-1], tc.spacing)
				}
			}
		})
	}
}

// A callWriter hands what it is given to w, and records the size of each
// call, made or under way.
type callWriter struct {
	w     io.Writer
	calls []int
}

func (c *callWriter) Write(p []byte) (int, error) {
	c.calls = append(c.calls, len(p))
	return c.w.Write(p)
}

func TestJSONLDrainsInTheBackgroundAndFlushWritesEveryLineOnce(t *testing.T) {
	const lines = 1000 // of about 300 bytes: more than 64 KiB in each half
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A small send buffer: a write of 64 KiB parks until the reader reads.
	if err := syscall.SetsockoptInt(pair[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	wf, rf := os.NewFile(uintptr(pair[0]), "jsonl-out"), os.NewFile(uintptr(pair[1]), "jsonl-in")
	defer rf.Close()
	defer wf.Close()             // closed once the loop is done with it; Close twice is harmless
	start := make(chan struct{}) // the reader reads once closed
	var out bytes.Buffer
	read := make(chan error, 1)
	go func() {
		<-start
		_, err := io.Copy(&out, rf)
		read <- err
	}()
	startReading := sync.OnceFunc(func() { close(start) })
	defer startReading()

	line := func(i int) *crawl.Result {
		return &crawl.Result{URL: fmt.Sprintf("http://example.com/page/%d", i), Depth: i, Status: 200,
			Error: strings.Repeat("x", 200), Duration: time.Duration(i) * time.Microsecond}
	}
	var beforeDrain, whileParked, afterFirstHalf int
	var calls []int
	var flushErr error
	run(t, func(ctx context.Context) error {
		conn, err := ioco.FileConn(ctx, wf)
		if err != nil {
			return err
		}
		defer conn.Close()
		w := &callWriter{w: conn}
		j := crawl.NewJSONL(w)
		for i := range lines / 2 {
			j.Write(ctx, line(i))
		}
		beforeDrain = len(w.calls) // no switch point yet: the drain task has not run
		scheduler.Sleep(ctx, 0)    // it runs, and parks in the writer
		afterFirstHalf = len(w.calls)
		for i := lines / 2; i < lines; i++ {
			j.Write(ctx, line(i))
		}
		whileParked = len(w.calls)
		startReading()
		flushErr = j.Flush(ctx)
		calls = w.calls
		return nil
	})
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}
	wf.Close() // the reader sees the end of what was written
	if err := <-read; err != nil {
		t.Fatalf("reading what the JSONL wrote: %v", err)
	}
	if beforeDrain != 0 || afterFirstHalf != 1 || whileParked != 1 {
		t.Errorf("writer calls: %d after %d Writes, %d once the loop ran others, %d after more Writes;"+
			" want 0, 1 (the drain task's) and still 1", beforeDrain, lines/2, afterFirstHalf, whileParked)
	}
	if len(calls) == 0 || calls[0] < 64<<10 {
		t.Errorf("writer calls of %v bytes; want the first of 64 KiB or more", calls)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != lines {
		t.Fatalf("%d lines written, want %d", len(got), lines)
	}
	for i, l := range got {
		var obj struct {
			URL   string `json:"url"`
			Depth int    `json:"depth"`
		}
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		if obj.URL != line(i).URL || obj.Depth != i {
			t.Fatalf("line %d is for %s, depth %d; want %s, each line once in order", i+1, obj.URL, obj.Depth, line(i).URL)
		}
	}
}

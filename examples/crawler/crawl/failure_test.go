package crawl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/scheduler"
)

func TestCrawlGoesOnWhileAPageIsSlow(t *testing.T) {
	// /slow answers once the crawl has recorded every fast page (or, to
	// fail rather than hang, after guard): a crawl that waited for it
	// would never fetch them.
	const fast = 10
	recorded := 0
	allRecorded := make(chan struct{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<a href="/slow">slow</a>`)
		for i := range fast {
			fmt.Fprintf(w, `<a href="/fast/%d">fast</a>`, i)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-allRecorded:
		case <-time.After(guard):
		}
		fmt.Fprint(w, "slow")
	})
	mux.HandleFunc("/fast/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "fast") })
	srv := serve(t, mux)
	results, _, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2,
		OnResult: func(_ context.Context, r *crawl.Result) {
			if strings.Contains(r.URL, "/fast/") {
				if recorded++; recorded == fast {
					close(allRecorded)
				}
			}
		}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(results) != fast+2 {
		t.Fatalf("%d results, want %d", len(results), fast+2)
	}
	for _, r := range results[:fast+1] {
		if r.Status != 200 || strings.HasSuffix(r.URL, "/slow") {
			t.Errorf("%v came before the slow page; want all of / and /fast/N, with 200s", visitOf(r))
		}
	}
	if r := results[fast+1]; r.URL != srv.URL+"/slow" || r.Status != 200 {
		t.Errorf("the last result is %v, want /slow's 200", visitOf(r))
	}
}

func TestCrawlRecordsATimeoutAndGoesOn(t *testing.T) {
	// A connection a request: robots.txt, / and /after are answered
	// before they are asked for, and /slow never is. Only /slow waits.
	closing := func(resp string) string { return strings.Replace(resp, "\r\n", "\r\nConnection: close\r\n", 1) }
	p := newPeers(t, closing("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"),
		closing(response(anchors("/slow", "/after"))), "", closing(response("after")))
	c, err := crawl.New(crawl.Config{Seeds: []string{"http://peer.test/"}, Concurrency: 1,
		Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	crawl.CrawlDialWith(c, p.dial)
	var sum *crawl.Summary
	run(t, func(ctx context.Context) error {
		sum, err = c.Run(ctx)
		return err
	})
	if sum.ErrorKinds["timeout"] != 1 || sum.Status[200] != 2 || sum.Done != 3 {
		t.Errorf("%d done, statuses %v, errors by kind %v; want /, /slow's timeout and /after",
			sum.Done, sum.Status, sum.ErrorKinds)
	}
}

func TestCrawlRecordsHTTPAndConnectionErrors(t *testing.T) {
	mux := failures(t)
	mux.HandleFunc("/server-error", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "failing on purpose", http.StatusInternalServerError)
	})
	paths := map[string]string{ // the kinds of results
		"/missing":           "http 404",
		"/server-error":      "http 500",
		"/connection-reset":  "connection reset",
		"/bad-response":      "bad response",
		"/connection-closed": "connection closed",
		"/bad-body":          "bad body",
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		for _, p := range slices.Sorted(maps.Keys(paths)) {
			fmt.Fprintf(w, "<a href=%q>%s</a>\n", p, p)
		}
	})
	srv := serve(t, mux)
	results, sum, err := crawlAll(t, nil, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 3})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(results) != len(paths)+1 {
		t.Fatalf("%d results, want %d", len(results), len(paths)+1)
	}
	wantKinds := map[string]int{}
	for _, r := range results {
		p := strings.TrimPrefix(r.URL, srv.URL)
		if p == "/" {
			continue
		}
		want := paths[p]
		wantKinds[want]++
		if r.Kind != want || r.Error == "" {
			t.Errorf("%s: kind %q, error %q; want kind %q", p, r.Kind, r.Error, want)
		}
		if status, ok := strings.CutPrefix(want, "http "); ok && (strconv.Itoa(r.Status) != status ||
			r.Error != status+" "+http.StatusText(r.Status)) {
			t.Errorf("%s: status %d, error %q; want %s and its status line", p, r.Status, r.Error, status)
		}
	}
	if !maps.Equal(sum.ErrorKinds, wantKinds) || sum.Errors != len(paths) {
		t.Errorf("%d errors by kind: %v; want %v", sum.Errors, sum.ErrorKinds, wantKinds)
	}
	if want := map[int]int{200: 1, 404: 1, 500: 1}; !maps.Equal(sum.Status, want) {
		t.Errorf("statuses: %v, want %v", sum.Status, want)
	}
}

// dropKept serves h with a Content-Length and without Connection: close,
// and closes the connection once the response is out: the client believes
// it may keep it, and finds it closed at its next request.
func dropKept(t *testing.T, h http.Handler) http.HandlerFunc {
	return hijack(t, func(c net.Conn, r *http.Request) {
		out := httptest.NewRecorder()
		h.ServeHTTP(out, r)
		var b bytes.Buffer
		fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", out.Code, http.StatusText(out.Code))
		out.Header().Del("Content-Length")
		out.Header().Write(&b)
		fmt.Fprintf(&b, "Content-Length: %d\r\n\r\n", out.Body.Len())
		b.Write(out.Body.Bytes())
		c.Write(b.Bytes())
		c.Close()
	})
}

func TestCrawlRetriesOnAServerThatDropsKeptConnections(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 30, Seed: 4})
	srv, rec := serveRecorded(t, dropKept(t, site))
	visits, _ := expect(t, site, srv.URL, 0, 0)
	results, sum, err := crawlAll(t, nil, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkVisits(t, results, visits)
	// Each request found its kept connection closed, and was made again
	// on a new one.
	if n := len(rec.Paths()); sum.Connections != n || int(rec.conns.Load()) != n {
		t.Errorf("%d requests served, %d connections made, %d seen by the server; want one each",
			n, sum.Connections, rec.conns.Load())
	}
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

package crawl_test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/futures"
)

// A visit is what a crawl records of one URL, the fields of its Result
// that the site decides.
type visit struct {
	URL, FinalURL string
	Depth         int
	Status        int
	Links         int
	Kind          string
}

func (v visit) String() string {
	s := fmt.Sprintf("%s depth %d: %d %q, %d links", v.URL, v.Depth, v.Status, v.Kind, v.Links)
	if v.FinalURL != "" {
		s += " (at " + v.FinalURL + ")"
	}
	return s
}

func visitOf(r crawl.Result) visit {
	return visit{URL: r.URL, FinalURL: r.FinalURL, Depth: r.Depth, Status: r.Status, Links: r.Links, Kind: r.Kind}
}

// expect works out, from what site's pages link to (demosite's Hrefs), what
// a crawl of the site served at root (as httptest's URL gives it) with
// SameHost and Concurrency 1 records, in order, and what it skips. The
// rules are the crawler's: a FIFO frontier from root's "/" at depth 0;
// every URL normalized and fetched once; an HTML page's links resolved
// against its <base href> or itself, without itself and links that are
// not http or https, added at its depth + 1 (not more than maxDepth, if
// not 0); other hosts and robots.txt's /private/ skipped; at most maxPages
// fetches (if not 0), no link added once the last has begun. A redirect
// (/go/N to /page/N) is followed if its target was not seen, and the page
// it leads to keeps the depth of the URL requested; else the 301 is the
// result. /loop/a redirects to /loop/b, which redirects back: /loop/b is
// seen then, and /loop/a fails with a redirect loop.
func expect(t *testing.T, site *demosite.Site, root string, maxDepth, maxPages int) ([]visit, map[string]int) {
	t.Helper()
	type item struct {
		url   string
		depth int
	}
	seed := root + "/"
	queue := []item{{seed, 0}}
	seen := map[string]bool{seed: true}
	deep := map[string]bool{}
	skipped := map[string]int{}
	begun, full := 0, false
	admit := func(link string, depth int) {
		if seen[link] {
			return
		}
		if maxDepth > 0 && depth > maxDepth {
			deep[link] = true
			return
		}
		seen[link] = true
		switch u := parse(t, link); {
		case u.Scheme+"://"+u.Host != root:
			skipped[crawl.SkipOtherHost]++
		case full:
			skipped[crawl.SkipLimit]++
		default:
			queue = append(queue, item{link, depth})
		}
	}
	var visits []visit
	for len(queue) > 0 {
		it := queue[0]
		queue = queue[1:]
		u := parse(t, it.url)
		if full {
			skipped[crawl.SkipLimit]++
			continue
		}
		if strings.HasPrefix(u.Path, demosite.Disallowed) {
			skipped[crawl.SkipRobots]++
			continue
		}
		begun++
		full = maxPages > 0 && begun >= maxPages
		v := visit{URL: it.url, Depth: it.depth}
		page := u
		switch {
		case strings.HasPrefix(u.Path, "/go/"):
			target := root + "/page/" + strings.TrimPrefix(u.Path, "/go/")
			if seen[target] {
				v.Status = http.StatusMovedPermanently
				visits = append(visits, v)
				continue
			}
			seen[target] = true
			v.FinalURL, page = target, parse(t, target)
		case u.Path == "/loop/a":
			seen[root+"/loop/b"] = true
			v.Kind = "redirect loop"
			visits = append(visits, v)
			continue
		}
		hrefs, base := site.Hrefs(page.Path)
		switch {
		case hrefs != nil, page.Path == "/robots.txt",
			strings.HasPrefix(page.Path, "/files/") && strings.HasSuffix(page.Path, ".pdf"):
			v.Status = 200
		case page.Path == "/error":
			v.Status, v.Kind = 500, "http 500"
		default:
			v.Status, v.Kind = 404, "http 404"
		}
		links := resolve(t, page, hrefs, base)
		v.Links = len(links)
		visits = append(visits, v)
		for _, l := range links {
			admit(l, it.depth+1)
		}
	}
	for l := range deep {
		if !seen[l] {
			skipped[crawl.SkipDepth]++
		}
	}
	return visits, skipped
}

// resolve returns the links that hrefs, on page with the <base href>
// base (or ""), make: resolved, normalized, http or https only, without
// page itself, each once.
func resolve(t *testing.T, page *url.URL, hrefs []string, base string) []string {
	t.Helper()
	against := page
	if base != "" {
		against = page.ResolveReference(parse(t, base))
	}
	var links []string
	for _, h := range hrefs {
		ref, err := url.Parse(h)
		if err != nil {
			continue
		}
		l, err := crawl.Normalize(against.ResolveReference(ref).String())
		if err != nil || l == page.String() || slices.Contains(links, l) {
			continue
		}
		links = append(links, l)
	}
	return links
}

// crawlAll crawls as cfg says on a loop of its own and returns the
// results in the order OnResult had them (cfg.OnResult, if set, is called
// too), the summary and Run's error. With srv, the server crawled, it
// checks that Run leaves no connection open: once Run has returned and
// srv has closed its side of the connections, as many fds are open as
// before Run. (A server that takes connections over and closes them on
// its own time cannot be counted so.)
func crawlAll(t *testing.T, srv *httptest.Server, cfg crawl.Config) ([]crawl.Result, *crawl.Summary, error) {
	t.Helper()
	var results []crawl.Result
	onResult := cfg.OnResult
	cfg.OnResult = func(ctx context.Context, r *crawl.Result) {
		results = append(results, *r)
		if onResult != nil {
			onResult(ctx, r)
		}
	}
	c, err := crawl.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var sum *crawl.Summary
	var runErr error
	run(t, func(ctx context.Context) error {
		if srv == nil {
			sum, runErr = c.Run(ctx)
			return nil
		}
		pool, err := futures.NewThreadPool(1)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		before := openFDs(t)
		sum, runErr = c.Run(ctx)
		if err := closeServerConns(ctx, pool, srv); err != nil {
			return err
		}
		if after := openFDs(t); after != before {
			t.Errorf("%d fds open once Run returned, %d before it ran", after, before)
		}
		return nil
	})
	return results, sum, runErr
}

// closeServerConns closes srv's side of its connections, on a goroutine
// of pool, and parks the calling task until it is done.
func closeServerConns(ctx context.Context, pool *futures.ThreadPool, srv *httptest.Server) error {
	closed, err := futures.Submit(ctx, pool, func(context.Context) (struct{}, error) {
		srv.CloseClientConnections()
		return struct{}{}, nil
	})
	if err != nil {
		return err
	}
	_, err = closed.Get(ctx)
	return err
}

// checkVisits fails t unless results are want, in order.
func checkVisits(t *testing.T, results []crawl.Result, want []visit) {
	t.Helper()
	got := make([]visit, len(results))
	for i, r := range results {
		got[i] = visitOf(r)
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("result %d of %d is\n\t%v\nwant\n\t%v", i, len(got), got[i], want[i])
		}
	}
	if len(got) != len(want) {
		t.Fatalf("%d results, want %d", len(got), len(want))
	}
}

func TestCrawlFindsExactlyTheReachablePages(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 300, Seed: 7})
	srv := serve(t, site)
	visits, skipped := expect(t, site, srv.URL, 0, 0)
	want := map[string]bool{}
	n404 := 0
	for _, v := range visits {
		want[v.URL] = true
		if v.FinalURL != "" {
			want[v.FinalURL] = true
		}
		if v.Status == 404 {
			n404++
		}
	}

	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 8})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// Every URL has exactly one result, under its URL or as where a
	// redirect led.
	got := map[string]bool{}
	for _, r := range results {
		for _, u := range []string{r.URL, r.FinalURL} {
			if u == "" {
				continue
			}
			if got[u] {
				t.Errorf("%s has more than one result", u)
			}
			got[u] = true
		}
	}
	for u := range want {
		if !got[u] {
			t.Errorf("%s was not crawled", u)
		}
	}
	for u := range got {
		if !want[u] {
			t.Errorf("%s was crawled, and is not reachable", u)
		}
	}
	if got[srv.URL+"/loop/b"] {
		t.Errorf("/loop/b has a result; the loop is /loop/a's")
	}
	for _, r := range results {
		n, ok := strings.CutPrefix(r.URL, srv.URL+"/go/")
		if !ok {
			continue
		}
		// Followed to a page not seen yet, or the 301 itself.
		followed := r.FinalURL == srv.URL+"/page/"+n && r.Status == 200 && r.Links > 0
		stopped := r.FinalURL == "" && r.Status == http.StatusMovedPermanently && r.Links == 0
		if !followed && !stopped || r.Error != "" {
			t.Errorf("%s: %v; want a 200 from /page/%s or the 301", r.URL, visitOf(r), n)
		}
	}
	if r := results[0]; r.URL != srv.URL+"/" || r.Status != 200 || r.Depth != 0 {
		t.Errorf("the first result is %v, want the seed's 200", visitOf(r))
	}

	if sum.Done != len(results) || sum.Interrupted || sum.Connections < 1 || sum.Connections > 8 {
		t.Errorf("summary: %d done, interrupted %v, %d connections; want %d done, not interrupted, 1 to 8 connections",
			sum.Done, sum.Interrupted, sum.Connections, len(results))
	}
	if n404 == 0 || sum.Status[404] != n404 || sum.Status[500] != 1 {
		t.Errorf("statuses: %v; want %d 404s and a 500", sum.Status, n404)
	}
	wantKinds := map[string]int{"http 404": n404, "http 500": 1, "redirect loop": 1}
	if !maps.Equal(sum.ErrorKinds, wantKinds) || sum.Errors != n404+2 {
		t.Errorf("%d errors by kind: %v; want %v", sum.Errors, sum.ErrorKinds, wantKinds)
	}
	if skipped[crawl.SkipRobots] == 0 || skipped[crawl.SkipOtherHost] == 0 || !maps.Equal(sum.Skipped, skipped) {
		t.Errorf("skipped: %v; want %v (the /private/ URLs and the other hosts' found)", sum.Skipped, skipped)
	}
}

// flushing is a ResponseWriter that sends what it is given at once: the
// response goes in chunks, as it has no Content-Length yet.
type flushing struct{ http.ResponseWriter }

func (w flushing) Write(p []byte) (int, error) {
	n, err := w.ResponseWriter.Write(p)
	w.ResponseWriter.(http.Flusher).Flush()
	return n, err
}

// chunkSome serves h, and the pages /page/N with N a multiple of 3
// chunked: gzipped (even N) or not (odd N).
func chunkSome(h http.Handler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/page/")); err == nil && n%3 == 0 {
			w = flushing{w}
		}
		h.ServeHTTP(w, r)
	}
}

func TestCrawlAtConcurrencyOneVisitsBreadthFirstOnOneConnection(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 120, Seed: 3})
	srv, rec := serveRecorded(t, chunkSome(site))
	visits, skipped := expect(t, site, srv.URL, 0, 0)
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkVisits(t, results, visits)
	if !maps.Equal(sum.Skipped, skipped) {
		t.Errorf("skipped: %v, want %v", sum.Skipped, skipped)
	}
	// Even pages came gzipped, some pages chunked: their links were
	// found all the same (checkVisits), on the one connection.
	if r := results[1]; r.URL != srv.URL+"/page/0" || r.Links == 0 {
		t.Errorf("the second result is %v, want /page/0's with its links", visitOf(r))
	}
	if sum.Connections != 1 || rec.conns.Load() != 1 {
		t.Errorf("%d connections made, the server saw %d; want 1 and 1", sum.Connections, rec.conns.Load())
	}
}

func TestCrawlStopsAtMaxDepth(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 300, Seed: 11})
	srv := serve(t, site)
	for _, depth := range []int{1, 2, 3} {
		t.Run("MaxDepth"+strconv.Itoa(depth), func(t *testing.T) {
			visits, skipped := expect(t, site, srv.URL, depth, 0)
			results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true,
				Concurrency: 1, MaxDepth: depth})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			checkVisits(t, results, visits)
			for _, r := range results {
				if r.Depth > depth {
					t.Errorf("%v is deeper than %d", visitOf(r), depth)
				}
			}
			if skipped[crawl.SkipDepth] == 0 || !maps.Equal(sum.Skipped, skipped) {
				t.Errorf("skipped: %v, want %v", sum.Skipped, skipped)
			}
		})
	}
}

func TestCrawlAtConcurrencyStopsAtMaxDepth(t *testing.T) {
	// From one seed, the pages at depth 1 are all known before any is
	// fetched, and depth 2 is the last, so that the set crawled does not
	// depend on the order the workers finish in.
	site := demosite.New(demosite.Config{Pages: 300, Seed: 11})
	srv := serve(t, site)
	visits, _ := expect(t, site, srv.URL, 2, 0)
	want := map[string]int{}
	for _, v := range visits {
		want[v.URL] = v.Depth
	}
	results, _, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true,
		Concurrency: 6, MaxDepth: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]int{}
	for _, r := range results {
		got[r.URL] = r.Depth
	}
	if !maps.Equal(got, want) {
		t.Errorf("crawled (URL: depth) %v\nwant %v", got, want)
	}
}

func TestCrawlStopsAtMaxPages(t *testing.T) {
	const max = 25
	site := demosite.New(demosite.Config{Pages: 300, Seed: 5})
	srv, rec := serveRecorded(t, site)
	visits, skipped := expect(t, site, srv.URL, 0, max)
	all, _ := expect(t, site, srv.URL, 0, 0)
	if !slices.Equal(visits, all[:max]) {
		t.Fatalf("the model is wrong: the first %d visits of a crawl with no limit differ from one with MaxPages", max)
	}
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true,
		Concurrency: 1, MaxPages: max})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	checkVisits(t, results, visits)
	if sum.Done != max || skipped[crawl.SkipLimit] == 0 || !maps.Equal(sum.Skipped, skipped) {
		t.Errorf("%d done, skipped %v; want %d, %v", sum.Done, sum.Skipped, max, skipped)
	}
	// Redirects followed make two requests of one fetch; robots.txt is one more.
	if n := len(rec.Paths()); n > 2*max+1 {
		t.Errorf("the server got %d requests for %d pages", n, max)
	}

	t.Run("Concurrency8", func(t *testing.T) {
		results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true,
			Concurrency: 8, MaxPages: max})
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		urls := map[string]bool{}
		for _, r := range results {
			urls[r.URL] = true
		}
		if len(results) != max || len(urls) != max || sum.Done != max {
			t.Errorf("%d results, for %d URLs, %d done; want %d", len(results), len(urls), sum.Done, max)
		}
	})
}

func TestCrawlNeverRequestsWhatRobotsTxtDisallows(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 100, Seed: 2})
	mux := http.NewServeMux()
	mux.Handle("/", site)
	mux.HandleFunc("/hop", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, demosite.Disallowed+"hop", http.StatusFound)
	})
	srv, rec := serveRecorded(t, mux)
	_, skipped := expect(t, site, srv.URL, 0, 0)
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL, srv.URL + "/hop"},
		SameHost: true, Concurrency: 4})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	for _, p := range rec.Paths() {
		if strings.HasPrefix(p, demosite.Disallowed) {
			t.Errorf("%s was requested; robots.txt disallows it", p)
		}
	}
	// Once to learn the rules, once as a page that / links to.
	if n := rec.count("/robots.txt"); n != 2 {
		t.Errorf("/robots.txt was requested %d times, want 2", n)
	}
	if skipped[crawl.SkipRobots] == 0 || sum.Skipped[crawl.SkipRobots] != skipped[crawl.SkipRobots] {
		t.Errorf("%d URLs skipped for robots.txt, want %d", sum.Skipped[crawl.SkipRobots], skipped[crawl.SkipRobots])
	}
	hop := false
	for _, r := range results {
		if strings.Contains(r.URL, demosite.Disallowed) || strings.Contains(r.FinalURL, demosite.Disallowed) {
			t.Errorf("a result for %v", visitOf(r))
		}
		if r.URL == srv.URL+"/hop" {
			hop = true
			if r.Status != http.StatusFound || r.FinalURL != "" || r.Error != "" {
				t.Errorf("/hop: %v; want its 302, not followed into %s", visitOf(r), demosite.Disallowed)
			}
		}
	}
	if !hop {
		t.Errorf("no result for the seed /hop")
	}
}

func TestCrawlTimesOutASlowPageWithoutStallingTheOthers(t *testing.T) {
	const fast = 10
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, `<a href="/slow">slow</a>`)
		for i := range fast {
			fmt.Fprintf(w, `<a href="/fast/%d">fast</a>`, i)
		}
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // no answer, until the client hangs up
	})
	mux.HandleFunc("/fast/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "fast")
	})
	srv := serve(t, mux)
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2,
		Timeout: 300 * time.Millisecond})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(results) != fast+2 {
		t.Fatalf("%d results, want %d", len(results), fast+2)
	}
	// The slow page's worker waited; the other one fetched the fast
	// pages meanwhile, all of them before the slow one ran out of time.
	for _, r := range results[:fast+1] {
		if r.Status != 200 || r.Error != "" || strings.HasSuffix(r.URL, "/slow") {
			t.Errorf("%v came before the slow page's timeout; want all of / and /fast/N, with 200s", visitOf(r))
		}
	}
	if r := results[fast+1]; r.URL != srv.URL+"/slow" || r.Kind != "timeout" || r.Status != 0 {
		t.Errorf("the last result is %v, want /slow's timeout", visitOf(r))
	}
	if sum.ErrorKinds["timeout"] != 1 || sum.Status[200] != fast+1 {
		t.Errorf("summary: statuses %v, errors %v", sum.Status, sum.ErrorKinds)
	}
}

func TestCrawlFindsLinksInMalformedHTMLAndNoneInOtherContent(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html><html><head><title>broken</title><body>\n"+
			"<div><p>unclosed <b>bold <a href=\"/m/1\">one\n"+
			"<table><tr><td><a href='/m/2'>two</td>\x00\xff\xfe garbage <<<>>> &&&;; &#xZZ;\n"+
			"<A HREF=/m/3>three</a></div></span></p></i></html></html>\n"+
			"<script>document.write('<a href=\"/from-script\">')</script>\n"+
			"<a href=\"/doc.pdf\">a document</a> <a href=\"/notes.txt\">notes</a>\n"+
			"<p <a href=\"/m/1\"> <a href=\"/m/2\">again")
	})
	mux.HandleFunc("/m/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>a page</p>")
	})
	mux.HandleFunc("/doc.pdf", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/pdf")
		io.WriteString(w, "%PDF-1.4\n<a href=\"/from-pdf\">not a link</a>\n%%EOF\n")
	})
	mux.HandleFunc("/notes.txt", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprint(w, "<a href=\"/from-text\">not a link either</a>\n")
	})
	srv, rec := serveRecorded(t, mux)
	results, _, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]crawl.Result{}
	for _, r := range results {
		got[strings.TrimPrefix(r.URL, srv.URL)] = r
	}
	want := []string{"/", "/doc.pdf", "/m/1", "/m/2", "/m/3", "/notes.txt"}
	if keys := slices.Sorted(maps.Keys(got)); !slices.Equal(keys, want) || len(results) != len(want) {
		t.Fatalf("crawled %v, want %v, once each", keys, want)
	}
	if r := got["/"]; r.Status != 200 || r.Links != 5 {
		t.Errorf("/: %v; want a 200 with 5 links", visitOf(r))
	}
	for _, p := range []string{"/doc.pdf", "/notes.txt"} {
		if r := got[p]; r.Status != 200 || r.Links != 0 || r.Error != "" || r.Bytes == 0 {
			t.Errorf("%s: %v, %d bytes; want a 200 with its bytes and no links", p, visitOf(r), r.Bytes)
		}
	}
	if ct := got["/doc.pdf"].ContentType; ct != "application/pdf" {
		t.Errorf("/doc.pdf's content type: %q", ct)
	}
	for _, p := range rec.Paths() {
		if strings.HasPrefix(p, "/from-") {
			t.Errorf("%s was requested", p)
		}
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

// openFDs returns how many file descriptors the process has open.
func openFDs(t *testing.T) int {
	t.Helper()
	fds, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count fds: %v", err)
	}
	return len(fds)
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
		fdsInLoop = openFDs(t)
		sum, runErr = c.Run(crawlCtx)
		// The server's side of the connections closed: what is left
		// open is the crawler's.
		if err := closeServerConns(ctx, pool, srv); err != nil {
			return err
		}
		fdsAfterRun = openFDs(t)
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

// serveTLS serves h over TLS, with the server's handshake errors kept out
// of the test's log.
func serveTLS(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestCrawlOverHTTPSWithTheTestCertificate(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 40, Seed: 8})
	srv := serveTLS(t, site)
	visits, skipped := expect(t, site, srv.URL, 0, 0)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 1,
		TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.HasPrefix(srv.URL, "https://") || sum.Status[200] == 0 {
		t.Fatalf("crawl of %s: statuses %v", srv.URL, sum.Status)
	}
	checkVisits(t, results, visits)
	if !maps.Equal(sum.Skipped, skipped) || sum.Connections != 1 {
		t.Errorf("skipped %v, %d connections; want %v, 1", sum.Skipped, sum.Connections, skipped)
	}
}

func TestCrawlOverHTTPSFailsWithoutTheRootCA(t *testing.T) {
	srv := serveTLS(t, demosite.New(demosite.Config{Pages: 40}))
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if len(results) != 1 || results[0].Kind != "tls" || results[0].Status != 0 || results[0].Error == "" {
		t.Fatalf("results %+v; want the seed's alone, failed with kind tls", results)
	}
	if want := map[string]int{"tls": 1}; !maps.Equal(sum.ErrorKinds, want) || sum.Done != 1 {
		t.Errorf("%d done, errors by kind %v; want 1, %v", sum.Done, sum.ErrorKinds, want)
	}
}

func TestJSONLWritesOneObjectPerResult(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 40, Seed: 6})
	srv := serve(t, site)
	var buf bytes.Buffer
	j := crawl.NewJSONL(&buf)
	var results []crawl.Result
	var flushErr error
	run(t, func(ctx context.Context) error {
		c, err := crawl.New(crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 4,
			OnResult: func(ctx context.Context, r *crawl.Result) {
				results = append(results, *r)
				j.Write(ctx, r)
			}})
		if err != nil {
			return err
		}
		if _, err := c.Run(ctx); err != nil {
			return err
		}
		flushErr = j.Flush(ctx)
		return nil
	})
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(lines)+1, err, sc.Bytes())
		}
		lines = append(lines, obj)
	}
	if len(lines) != len(results) || len(results) == 0 {
		t.Fatalf("%d lines for %d results", len(lines), len(results))
	}
	kinds := map[string]bool{}
	for i, obj := range lines {
		r := results[i]
		want := map[string]any{
			"url":         r.URL,
			"depth":       float64(r.Depth),
			"bytes":       float64(r.Bytes),
			"links":       float64(r.Links),
			"duration_ms": float64(r.Duration.Microseconds()) / 1000,
		}
		if r.Status != 0 {
			want["status"] = float64(r.Status)
		}
		if r.Error != "" {
			want["error"], want["kind"] = r.Error, r.Kind
			kinds[r.Kind] = true
		}
		if r.FinalURL != "" {
			want["final_url"] = r.FinalURL
		}
		if r.ContentType != "" {
			want["content_type"] = r.ContentType
		}
		if !maps.Equal(obj, want) {
			t.Errorf("line %d: %v\nwant %v", i+1, obj, want)
		}
	}
	// The lines have the errors of every kind, and one without a status.
	if !kinds["http 404"] || !kinds["http 500"] || !kinds["redirect loop"] {
		t.Errorf("error kinds in the lines: %v", kinds)
	}
}

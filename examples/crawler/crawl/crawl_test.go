package crawl_test

import (
	"context"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/futures"
)

// A visit is what a crawl records of one URL, the fields of its Result
// that the site decides.
type visit struct {
	URL, Location string
	Depth         int
	Status        int
	Links         int
	Kind          string
}

func (v visit) String() string {
	s := fmt.Sprintf("%s depth %d: %d %q, %d links", v.URL, v.Depth, v.Status, v.Kind, v.Links)
	if v.Location != "" {
		s += " (to " + v.Location + ")"
	}
	return s
}

func visitOf(r crawl.Result) visit {
	return visit{URL: r.URL, Location: r.Location, Depth: r.Depth, Status: r.Status, Links: r.Links, Kind: r.Kind}
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
// (/go/N to /page/N with a 301; /loop/a to /loop/b and back with a 302) is
// a result of its own with its location, and its target is added as a
// link of its at its own depth, whatever was reached first.
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
		var target string
		switch {
		case strings.HasPrefix(u.Path, "/go/"):
			target, v.Status = root+"/page/"+strings.TrimPrefix(u.Path, "/go/"), http.StatusMovedPermanently
		case u.Path == "/loop/a":
			target, v.Status = root+"/loop/b", http.StatusFound
		case u.Path == "/loop/b":
			target, v.Status = root+"/loop/a", http.StatusFound
		}
		if target != "" {
			v.Location = target
			visits = append(visits, v)
			if !seen[target] { // a redirect's target is never too deep
				seen[target] = true
				if full {
					skipped[crawl.SkipLimit]++
				} else {
					queue = append(queue, item{target, it.depth})
				}
			}
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
// checks that Run leaves no connection open: once Run has returned, as
// many fds are registered with the loop as before Run. (The process's fd
// count would also see the server accept, after Run, a connection the
// crawler had dialed and closed meanwhile.)
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
		before := loopFDs(ctx)
		sum, runErr = c.Run(ctx)
		if err := closeServerConns(ctx, pool, srv); err != nil {
			return err
		}
		if after := loopFDs(ctx); after != before {
			t.Errorf("%d fds on the loop once Run returned, %d before it ran", after, before)
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
	// With no depth limit, what a crawl records of each URL does not hang
	// on the order its fetches end in, but for the depth: a redirect is a
	// result of its own, whichever of it and its target came first.
	want := map[string]visit{}
	n404 := 0
	for _, v := range visits {
		v.Depth = 0
		want[v.URL] = v
		if v.Status == 404 {
			n404++
		}
	}
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 8})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	got := map[string]visit{}
	for _, r := range results {
		if _, dup := got[r.URL]; dup {
			t.Errorf("%s has more than one result", r.URL)
		}
		v := visitOf(r)
		v.Depth = 0
		got[r.URL] = v
	}
	for u, w := range want {
		if g, ok := got[u]; !ok {
			t.Errorf("%s was not crawled", u)
		} else if g != w {
			t.Errorf("%s: %v; want %v", u, g, w)
		}
	}
	for u := range got {
		if _, ok := want[u]; !ok {
			t.Errorf("%s was crawled, and is not reachable", u)
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
	wantKinds := map[string]int{"http 404": n404, "http 500": 1}
	if !maps.Equal(sum.ErrorKinds, wantKinds) || sum.Errors != n404+1 {
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

func TestCrawlSendsAndRecordsNoCredentialsAndAnASCIIRequestLine(t *testing.T) {
	var lines []string
	var auth []string
	var mu sync.Mutex
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		lines = append(lines, r.RequestURI)
		auth = append(auth, r.Header.Get("Authorization"))
		mu.Unlock()
		if r.URL.Path == "/robots.txt" {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<p>hello</p>")
	}))
	seed := strings.Replace(srv.URL, "http://", "http://user:secret@", 1) + "/?q=caf\xc3\xa9 au lait"
	results, sum, err := crawlAll(t, nil, crawl.Config{Seeds: []string{seed}, Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	const query = "/?q=caf%C3%A9%20au%20lait"
	if len(results) != 1 || results[0].URL != srv.URL+query || results[0].Status != 200 {
		t.Fatalf("results %+v; want the seed's 200, recorded as %s", results, srv.URL+query)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(lines) != 2 || lines[1] != query || auth[0] != "" || auth[1] != "" {
		t.Errorf("requests for %q with Authorization %q; want /robots.txt and %s, with none", lines, auth, query)
	}
	if s := fmt.Sprintf("%+v", *sum); strings.Contains(s, "secret") {
		t.Errorf("the summary holds the password: %s", s)
	}
}

// Package gocrawl is the baseline of the crawler's benchmarks: the crawl
// that examples/crawler does, written the way a Go programmer writes it
// without evergo.
package gocrawl

import (
	"bytes"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sync"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/evergo/evergo/examples/crawler/crawl"
)

// goCrawler is the baseline: the crawl that examples/crawler does, written
// the way a Go programmer writes it without evergo: a goroutine per unit of
// concurrency, a frontier under a mutex, and net/http's Client with
// keep-alive and transparent gzip. It shares the crawler's normalization
// and link extraction (crawl.Normalize, crawl.Links) and follows the same
// rules: one host, robots.txt, each redirect a result of its own whose
// target is queued as a link would be, bodies capped. One difference is
// left on purpose, as it is how such code is written: it reads each body
// into a new buffer, where the crawler reuses its body buffers and gzip
// readers (Response.Release); net/http pools its own connection buffers.
type goCrawler struct {
	client  *http.Client
	ua      string
	maxBody int64
	host    string // scheme://host:port of the seed
	robots  *robotstxt.Group

	mu      sync.Mutex
	cond    sync.Cond
	seen    map[string]struct{}
	queue   []*url.URL
	pending int                 // URLs queued or being visited
	pages   int                 // results
	fetched map[string]struct{} // URLs visited
}

// Crawl crawls from seed with workers goroutines and returns how many
// results it had (pages, redirects and errors alike, as crawl.Summary
// counts them) and the distinct URLs it fetched, sorted.
func Crawl(seed string, workers int, timeout time.Duration, maxBody int64, ua string) (pages int, fetched []string, err error) {
	seed, err = crawl.Normalize(seed)
	if err != nil {
		return 0, nil, err
	}
	u, err := url.Parse(seed)
	if err != nil {
		return 0, nil, err
	}
	tr := &http.Transport{MaxIdleConns: workers, MaxIdleConnsPerHost: workers}
	defer tr.CloseIdleConnections()
	g := &goCrawler{
		client:  &http.Client{Transport: tr, Timeout: timeout},
		ua:      ua,
		maxBody: maxBody,
		host:    u.Scheme + "://" + u.Host,
		seen:    map[string]struct{}{},
		fetched: map[string]struct{}{},
	}
	g.client.CheckRedirect = g.checkRedirect
	g.cond.L = &g.mu
	g.robots = g.fetchRobots()
	g.admit(u.String())
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			g.work()
		}()
	}
	wg.Wait()
	return g.pages, slices.Sorted(maps.Keys(g.fetched)), nil
}

func (g *goCrawler) fetchRobots() *robotstxt.Group {
	resp, err := g.get(g.host + "/robots.txt")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, g.maxBody))
	if err != nil {
		return nil
	}
	data, err := robotstxt.FromStatusAndBytes(resp.StatusCode, body)
	if err != nil {
		return nil
	}
	return data.FindGroup(g.ua)
}

func (g *goCrawler) get(raw string) (*http.Response, error) {
	req, err := http.NewRequest(http.MethodGet, raw, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("User-Agent", g.ua)
	req.Header.Set("Accept", "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5")
	return g.client.Do(req)
}

func (g *goCrawler) work() {
	g.mu.Lock()
	defer g.mu.Unlock()
	for {
		for len(g.queue) == 0 && g.pending > 0 {
			g.cond.Wait()
		}
		if g.pending == 0 {
			return
		}
		u := g.queue[0]
		g.queue = g.queue[1:]
		g.mu.Unlock()
		g.visit(u)
		g.mu.Lock()

		g.pages++
		g.pending--
		if g.pending == 0 {
			g.cond.Broadcast()
		}
	}
}

// admit queues the normalized URL raw unless it was seen or is off the
// host.
func (g *goCrawler) admit(raw string) {
	u, err := url.Parse(raw)
	if err != nil {
		return
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if _, ok := g.seen[raw]; ok {
		return
	}
	g.seen[raw] = struct{}{}
	if u.Scheme+"://"+u.Host != g.host {
		return
	}
	if g.robots != nil && !g.robots.Test(u.RequestURI()) {
		return
	}
	g.queue = append(g.queue, u)
	g.pending++
	g.cond.Signal()
}

// checkRedirect follows no redirect: the target is queued as a link.
func (g *goCrawler) checkRedirect(req *http.Request, via []*http.Request) error {
	if next, err := crawl.Normalize(req.URL.String()); err == nil {
		g.admit(next)
	}
	return http.ErrUseLastResponse
}

// visit fetches u and queues its links.
func (g *goCrawler) visit(u *url.URL) {
	resp, err := g.get(u.String())
	g.mu.Lock()
	g.fetched[u.String()] = struct{}{}
	g.mu.Unlock()
	if err != nil {
		return // a page's error: counted as a page, as the crawler does
	}
	defer resp.Body.Close()
	var body bytes.Buffer
	if _, err := body.ReadFrom(io.LimitReader(resp.Body, g.maxBody)); err != nil {
		return
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return
	}
	if mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err != nil || mt != "text/html" {
		return
	}
	links, _ := crawl.Links(resp.Request.URL, &body)
	for _, l := range links {
		g.admit(l)
	}
}

package crawl_test

import (
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
)

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

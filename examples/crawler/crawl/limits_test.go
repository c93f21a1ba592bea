package crawl_test

import (
	"context"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
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
	// The model's, and /hop's target.
	if want := skipped[crawl.SkipRobots] + 1; skipped[crawl.SkipRobots] == 0 || sum.Skipped[crawl.SkipRobots] != want {
		t.Errorf("%d URLs skipped for robots.txt, want %d", sum.Skipped[crawl.SkipRobots], want)
	}
	hop := false
	for _, r := range results {
		if strings.Contains(r.URL, demosite.Disallowed) {
			t.Errorf("a result for %v", visitOf(r))
		}
		if r.URL == srv.URL+"/hop" {
			hop = true
			if r.Status != http.StatusFound || r.Location != srv.URL+demosite.Disallowed+"hop" || r.Error != "" {
				t.Errorf("/hop: %v; want its 302 to %shop, not followed", visitOf(r), demosite.Disallowed)
			}
		}
	}
	if !hop {
		t.Errorf("no result for the seed /hop")
	}
}

// A stampedConn records, on the loop's clock, when each request written
// on it was out: the end of each Write (a request is one, written from
// the Fetcher's buffer in a Flush).
type stampedConn struct {
	*ioco.TCPConn
	loop *scheduler.Loop
	log  *[]stamp
}

type stamp struct {
	line string // the request line
	at   time.Time
}

func (c *stampedConn) Write(p []byte) (int, error) {
	n, err := c.TCPConn.Write(p)
	line, _, _ := strings.Cut(string(p), "\r\n")
	*c.log = append(*c.log, stamp{line, c.loop.Now()})
	return n, err
}

// stampRequests makes c's Fetcher dial through stampedConns that log to
// log.
func stampRequests(c *crawl.Crawler, log *[]stamp) {
	crawl.CrawlDialWith(c, func(ctx context.Context, network, addr string) (net.Conn, error) {
		conn, err := ioco.Dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &stampedConn{TCPConn: conn.(*ioco.TCPConn), loop: scheduler.LoopOf(ctx), log: log}, nil
	})
}

// crawlStamped runs a crawl of cfg and returns its requests as they went
// out, or fails t unless it fetched robots.txt first and then pages pages.
func crawlStamped(t *testing.T, cfg crawl.Config, pages int) []stamp {
	t.Helper()
	var stamps []stamp
	c, err := crawl.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	stampRequests(c, &stamps)
	var sum *crawl.Summary
	run(t, func(ctx context.Context) error {
		sum, err = c.Run(ctx)
		return err
	})
	if sum.Done != pages || len(stamps) != pages+1 || !strings.Contains(stamps[0].line, "/robots.txt") {
		t.Fatalf("%d pages, requests %v; want %d pages, robots.txt and %[3]d pages requested", sum.Done, stamps, pages)
	}
	return stamps
}

func TestCrawlSpacesRequestsToAHostByDelay(t *testing.T) {
	// The gaps are measured where the crawler makes them, on the loop's
	// clock: from the moment one request is out to the moment the next
	// is, whatever the way to the server costs on a busy machine. (The
	// pages answer at once: see the next test for slow ones.)
	pages := map[string]string{
		"/":  anchors("/1", "/2", "/3", "/4"),
		"/1": "", "/2": "", "/3": "", "/4": "",
	}
	for _, tc := range []struct {
		name     string
		delay    time.Duration
		robots   string
		maxCrawl time.Duration
		spacing  time.Duration
	}{
		{"Delay", 30 * time.Millisecond, "User-agent: *\nDisallow: /private/\n", 0, 30 * time.Millisecond},
		{"CrawlDelayLargerThanDelay", 10 * time.Millisecond, "User-agent: *\nCrawl-delay: 0.04\n", 0, 40 * time.Millisecond},
		{"DelayLargerThanCrawlDelay", 35 * time.Millisecond, "User-agent: *\nCrawl-delay: 0.01\n", 0, 35 * time.Millisecond},
		// Crawl-delay: 3600 would take an hour a page.
		{"CrawlDelayCutToMaxCrawlDelay", 0, "User-agent: *\nCrawl-delay: 3600\n", 25 * time.Millisecond, 25 * time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			site := maps.Clone(pages)
			site["/robots.txt"] = tc.robots
			srv := serve(t, htmlSite(site))
			stamps := crawlStamped(t, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 4, Delay: tc.delay,
				MaxCrawlDelay: tc.maxCrawl}, 5)
			for i := 1; i < len(stamps); i++ {
				if gap := stamps[i].at.Sub(stamps[i-1].at); gap < tc.spacing || gap >= time.Hour {
					t.Errorf("%q went out %v after %q; want %v or more between two requests",
						stamps[i].line, gap, stamps[i-1].line, tc.spacing)
				}
			}
		})
	}
}

func TestCrawlDelayRunsFromTheEndOfTheLastFetch(t *testing.T) {
	// Each page takes slow to answer once its request has come, so a
	// fetch ends no sooner than slow after its request went out, and the
	// next request waits delay from there: requests go out slow + delay
	// apart or more, where spacing their starts would give max(slow,
	// delay). Lower bounds only, whatever the machine's speed.
	const slow, delay = 30 * time.Millisecond, 20 * time.Millisecond
	pages := htmlSite(map[string]string{
		"/robots.txt": "User-agent: *\nDisallow: /private/\n",
		"/":           anchors("/1", "/2"),
		"/1":          "", "/2": "",
	})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/robots.txt" {
			tm := time.NewTimer(slow) // the page's latency
			defer tm.Stop()
			select {
			case <-tm.C:
			case <-r.Context().Done():
				return
			}
		}
		pages(w, r)
	}))
	stamps := crawlStamped(t, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 4, Delay: delay}, 3)
	for i := 1; i < len(stamps); i++ {
		want := slow + delay
		if i == 1 {
			want = delay // robots.txt answers at once
		}
		if gap := stamps[i].at.Sub(stamps[i-1].at); gap < want {
			t.Errorf("%q went out %v after %q; want %v or more: the delay runs from the end of the fetch before",
				stamps[i].line, gap, stamps[i-1].line, want)
		}
	}
}

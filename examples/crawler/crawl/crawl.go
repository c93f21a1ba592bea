package crawl

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"net/url"
	"runtime/debug"
	"strconv"
	"time"

	"github.com/temoto/robotstxt"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// Config describes a crawl. Only Seeds is required.
type Config struct {
	Seeds       []string      // where the crawl starts: absolute http or https URLs
	Concurrency int           // tasks fetching at once; 0: 32
	MaxDepth    int           // links followed from a seed to a page at most; 0: no limit
	MaxPages    int           // pages fetched at most; 0: no limit
	SameHost    bool          // follow links only to the seeds' hosts (scheme, host and port)
	Delay       time.Duration // at least this long from the end of one fetch from a host to the start of the next

	// MaxCrawlDelay bounds the Crawl-delay of a robots.txt: a longer one
	// is cut to it. 0: DefaultMaxCrawlDelay (30 s); less than 0 is an error.
	MaxCrawlDelay time.Duration

	// MaxRedirects bounds a chain of redirects: each 3xx is a result of
	// its own, and its target is crawled as a URL found, up to this many
	// in a row from a URL that was no redirect's target. 0: 10; less than
	// 0: no redirect's target is crawled.
	MaxRedirects int

	// The fetch settings, as Fetcher's fields.
	Timeout                time.Duration
	MaxBody                int64
	MaxResponseHeaderBytes int64
	UserAgent              string
	TLSConfig              *tls.Config

	// OnResult, if not nil, is called with each page's result, in the
	// task that fetched it; it may park.
	OnResult func(ctx context.Context, r *Result)
}

// A Result is what the crawl found at one URL. A page that failed (no
// response, or a status of 400 or more) has Error set, cut to a few
// hundred bytes (net/http's errors quote what they could not parse), and
// Kind names the kind of failure for the summary (see Kind).
type Result struct {
	URL         string        `json:"url"`
	Status      int           `json:"status,omitempty"`
	Depth       int           `json:"depth"`
	Bytes       int64         `json:"bytes"` // of the body, decoded
	Links       int           `json:"links"` // links found on the page
	Duration    time.Duration `json:"-"`     // written as duration_ms
	Error       string        `json:"error,omitempty"`
	Kind        string        `json:"kind,omitempty"`
	Location    string        `json:"location,omitempty"` // a 3xx's target, resolved and normalized
	ContentType string        `json:"content_type,omitempty"`
	Truncated   bool          `json:"truncated,omitempty"` // the body was cut at MaxBody
}

// DefaultMaxCrawlDelay is the longest robots.txt Crawl-delay a Crawler
// honours when Config.MaxCrawlDelay is 0: as Apache Nutch's
// fetcher.max.crawl.delay, 30 s. A longer one (Crawl-delay: 3600 is seen)
// would stall a host for as long per page.
const DefaultMaxCrawlDelay = 30 * time.Second

// Progress is the state of a running crawl.
type Progress struct {
	Done     int           // pages with a result
	Errors   int           // of them, failed
	Queued   int           // URLs waiting in the frontier
	InFlight int           // fetches under way
	Elapsed  time.Duration // since Run began, on the loop's clock
}

// Rate returns the pages done per second so far, or 0 while that means
// nothing: before two pages are done, or within the first millisecond.
// Never parks.
func (p Progress) Rate() float64 {
	if p.Done < 2 || p.Elapsed < time.Millisecond {
		return 0
	}
	return float64(p.Done) / p.Elapsed.Seconds()
}

// A Summary is what a crawl did, for its closing report.
type Summary struct {
	Progress
	Bytes       int64          // body bytes, decoded
	Status      map[int]int    // pages by status code
	ErrorKinds  map[string]int // failed pages by Kind
	Skipped     map[string]int // URLs found and not fetched, by reason
	Slowest     []Result       // the slowest pages, slowest first
	Connections int            // connections made
	Interrupted bool           // Run's ctx was cancelled before the end

	// Unreachable names the hosts (scheme://host:port) whose robots.txt
	// could not be fetched or answered 5xx or 429, with why: nothing else
	// was fetched from them (RFC 9309 section 2.3.1.4).
	Unreachable map[string]string
	Seeds       int           // distinct seeds
	FailedSeeds []SeedFailure // the seeds that gave no page, in the order they failed
}

// A SeedFailure is a seed that gave no page: its fetch failed, its status
// was 400 or more, or robots.txt kept the crawler out.
type SeedFailure struct {
	URL   string
	Error string // cut to a few hundred bytes
}

// NoSeedFetched reports whether every seed failed: the crawl fetched
// nothing it was asked to. Never parks.
func (s *Summary) NoSeedFetched() bool { return s.Seeds > 0 && len(s.FailedSeeds) == s.Seeds }

// Reasons for skipping a URL, the keys of Summary.Skipped.
const (
	SkipRobots      = "robots.txt"
	SkipUnreachable = "robots.txt unreachable" // its host is in Summary.Unreachable
	SkipOtherHost   = "other host"
	SkipDepth       = "too deep"
	SkipLimit       = "page limit"
)

// slowest is how many pages Summary.Slowest lists.
const slowest = 5

// A Crawler crawls the web from its seeds, on the loop of the task that
// calls Run: Concurrency tasks take URLs from a FIFO frontier, fetch them
// with a Fetcher and add the links they find. Every URL is normalized
// (see Normalize) and fetched once. The first request to a host fetches
// its robots.txt, which the crawler then honours for the group that
// matches its User-Agent, Crawl-delay included (the larger of it, cut to
// MaxCrawlDelay, and Delay applies). A redirect is a result of its own;
// its target joins the frontier as a link would.
type Crawler struct {
	cfg    Config
	f      *Fetcher
	front  *queue.Queue[item]
	seen   map[string]struct{} // URLs in the frontier or done, and those of other hosts
	deep   map[string]struct{} // URLs found only too deep
	scope  map[string]bool     // the seeds' hosts, as hostKey gives them
	seeds  map[string]bool     // the seeds, normalized
	hosts  map[string]*host    // by hostKey
	begun  int                 // fetches begun, against MaxPages
	full   bool                // MaxPages fetches have begun
	sum    Summary
	stop   context.CancelFunc // ends Run's wait for the frontier
	failed error              // the error Run returns, once OnResult panicked
	start  time.Time
	ran    bool
	loop   *scheduler.Loop

	parsing func(u *url.URL) // called before an HTML page is parsed, by tests
}

func (c *Crawler) now() time.Time { return c.loop.Now() }

type item struct {
	url   *url.URL
	depth int
	hops  int // redirects in a row that led here
}

// host is what the crawler knows of one host.
type host struct {
	ready       locks.Event      // set once robots is known
	rules       *robotstxt.Group // robots.txt's group for us
	unreachable string           // why robots.txt keeps the crawler out of the host, if it does
	delay       time.Duration    // from the end of one fetch to the start of the next
	pacing      locks.Lock       // held from the wait for a request's turn to the end of its fetch
	last        time.Time        // when the last fetch from the host ended; zero: none yet
}

// New returns a Crawler for cfg, or an error if a seed is not an absolute
// http or https URL or a setting is out of range. Never parks.
func New(cfg Config) (*Crawler, error) {
	if len(cfg.Seeds) == 0 {
		return nil, errors.New("crawl: no seed URL")
	}
	if cfg.Concurrency < 0 || cfg.MaxDepth < 0 || cfg.MaxPages < 0 || cfg.Delay < 0 ||
		cfg.Timeout < 0 || cfg.MaxBody < 0 || cfg.MaxCrawlDelay < 0 || cfg.MaxResponseHeaderBytes < 0 {
		return nil, errors.New("crawl: a negative setting")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 32
	}
	if cfg.MaxCrawlDelay == 0 {
		cfg.MaxCrawlDelay = DefaultMaxCrawlDelay
	}
	if cfg.MaxRedirects == 0 {
		cfg.MaxRedirects = 10
	}
	c := &Crawler{
		cfg: cfg,
		// The Fetcher follows robots.txt's redirects (RFC 9309 wants five
		// at least), and the crawler none of a page's: see redirect.
		f: &Fetcher{
			UserAgent:              cfg.UserAgent,
			Timeout:                cfg.Timeout,
			MaxBody:                cfg.MaxBody,
			MaxResponseHeaderBytes: cfg.MaxResponseHeaderBytes,
			MaxIdlePerHost:         cfg.Concurrency,
			MaxIdle:                max(256, cfg.Concurrency),
			TLSConfig:              cfg.TLSConfig,
		},
		front: queue.New[item](0),
		seen:  map[string]struct{}{},
		deep:  map[string]struct{}{},
		scope: map[string]bool{},
		seeds: map[string]bool{},
		hosts: map[string]*host{},
		sum: Summary{
			Status:      map[int]int{},
			ErrorKinds:  map[string]int{},
			Skipped:     map[string]int{},
			Unreachable: map[string]string{},
		},
	}
	for _, s := range cfg.Seeds {
		u, err := url.Parse(s)
		if err == nil {
			u, err = normalize(u)
		}
		if err != nil {
			return nil, fmt.Errorf("crawl: seed %d: %w", len(c.seeds)+1, err) // s may hold a password
		}
		c.scope[hostKey(u)] = true
		if _, dup := c.seen[u.String()]; !dup {
			c.seen[u.String()] = struct{}{}
			c.seeds[u.String()] = true
			c.front.TryPut(item{url: u}) // an unbounded queue has room
		}
	}
	c.sum.Seeds = len(c.seeds)
	return c, nil
}

// hostKey names u's host as the crawler scopes and paces it: scheme, host
// and port.
func hostKey(u *url.URL) string { return u.Scheme + "://" + u.Host }

// Progress returns the state of the crawl. Never parks.
func (c *Crawler) Progress() Progress {
	p := c.sum.Progress
	if c.ran || c.loop == nil {
		return p
	}
	p.Queued = c.front.Len()
	p.Elapsed = c.now().Sub(c.start)
	return p
}

// Run crawls, in the calling task and Concurrency tasks it starts, until
// the frontier is empty, and returns the summary. When ctx is cancelled
// first, Run kills the fetching tasks, which closes their connections, and
// returns the summary of what was done, marked Interrupted, with ctx's
// error. The errors of single pages are in the results and the summary,
// never Run's error; a panic of OnResult ends the crawl the same way, and
// Run returns it as a *scheduler.PanicError. A Crawler runs once. May park
// the calling task.
func (c *Crawler) Run(ctx context.Context) (*Summary, error) {
	self := scheduler.Current(ctx)
	if self == nil {
		return nil, scheduler.ErrNoTask
	}
	if c.start != (time.Time{}) {
		return nil, errors.New("crawl: Run called twice")
	}
	c.loop = self.Loop()
	c.start = c.now()
	// The workers get the task's own context, not ctx: ctx's cancellation
	// ends the crawl through Kill below, which closes what they hold.
	tctx := self.Context()
	jctx, stop := context.WithCancel(ctx)
	defer stop()
	c.stop = stop
	workers := make([]*scheduler.Task, 0, c.cfg.Concurrency)
	ended := false
	defer func() {
		c.f.Close()
		if !ended {
			// The calling task was killed, or Spawn failed: a dying task
			// may not kill, so a callback kills the workers it leaves.
			c.loop.CallSoon(func(ctx context.Context) {
				for _, t := range workers {
					t.Kill(ctx)
				}
				c.front.Shutdown()
			})
		}
	}()
	for range c.cfg.Concurrency {
		t, err := scheduler.Spawn(tctx, "crawl", c.work)
		if err != nil {
			return nil, err
		}
		workers = append(workers, t)
	}
	stopped := c.front.Join(jctx)
	if stopped != nil {
		// Killed first, so that no fetch under way records its result
		// after the cancellation.
		for _, t := range workers {
			t.Kill(tctx)
		}
	}
	c.front.Shutdown()
	var failed error
	for _, t := range workers {
		if err := t.Join(tctx); err != nil && !errors.Is(err, scheduler.ErrKilled) && failed == nil {
			failed = err
		}
	}
	ended = true
	c.sum.Elapsed = c.now().Sub(c.start)
	c.sum.InFlight, c.sum.Queued = 0, 0
	c.ran = true
	c.sum.Connections = c.f.Dials()
	for u := range c.deep {
		if _, ok := c.seen[u]; !ok {
			c.sum.Skipped[SkipDepth]++
		}
	}
	c.sum.Interrupted = stopped != nil
	switch {
	case c.failed != nil:
		return &c.sum, c.failed
	case failed != nil:
		return &c.sum, failed
	}
	return &c.sum, stopped
}

// work is a fetching task: it visits the frontier's URLs until the
// frontier is shut down. A panic of OnResult ends the crawl with it.
func (c *Crawler) work(ctx context.Context) error {
	defer func() {
		if r := recover(); r != nil {
			if killed(r) {
				panic(r)
			}
			c.fail(&scheduler.PanicError{Value: r, Stack: debug.Stack()})
		}
	}()
	for {
		it, err := c.front.Get(ctx)
		if errors.Is(err, queue.ErrShutdown) {
			return nil
		}
		if err != nil {
			return err
		}
		c.visit(ctx, it)
	}
}

// killed reports whether the panic value r is a Kill unwinding the task.
func killed(r any) bool {
	err, ok := r.(error)
	return ok && errors.Is(err, scheduler.ErrKilled)
}

// fail ends the crawl with err, which Run returns. Never parks.
func (c *Crawler) fail(err error) {
	if c.failed == nil {
		c.failed = err
	}
	c.stop()
}

// visit fetches one URL, records its result and adds its links to the
// frontier. May park.
func (c *Crawler) visit(ctx context.Context, it item) {
	defer c.front.TaskDone()
	if res := c.try(ctx, it); res != nil {
		c.record(ctx, res)
	}
}

// try fetches it's URL and reads the response, unless the page limit or
// robots.txt rules it out (nil then). A panic on the way (a parser's, on
// a page from the wild) is the page's error, of kind "panic", and the
// crawl goes on; a Kill goes through. May park.
func (c *Crawler) try(ctx context.Context, it item) (res *Result) {
	defer func() {
		if r := recover(); r != nil {
			if killed(r) {
				panic(r)
			}
			res = &Result{URL: it.url.String(), Depth: it.depth,
				Error: clip(fmt.Sprintf("crawl: panic: %v", r)), Kind: "panic"}
		}
	}()
	if c.full {
		c.sum.Skipped[SkipLimit]++
		return nil
	}
	h := c.host(ctx, it.url)
	switch {
	case h.unreachable != "":
		c.sum.Skipped[SkipUnreachable]++
		c.seedFailed(it.url, h.unreachable)
		return nil
	case !h.allows(it.url):
		c.sum.Skipped[SkipRobots]++
		c.seedFailed(it.url, "robots.txt disallows it")
		return nil
	case c.full: // filled while robots.txt was fetched
		c.sum.Skipped[SkipLimit]++
		return nil
	}
	c.begun++
	if c.cfg.MaxPages > 0 && c.begun >= c.cfg.MaxPages {
		c.full = true
	}
	if h.delay > 0 {
		// Only a Kill makes Lock fail, and it panics.
		h.pacing.Lock(ctx)
		defer h.pacing.Unlock(ctx)
		h.await(ctx, c.now())
		defer func() { h.last = c.now() }() // before the Unlock: the next fetch waits from here
	}

	res = &Result{URL: it.url.String(), Depth: it.depth}
	t0 := c.now()
	resp, err := c.fetch(ctx, it)
	res.Duration = c.now().Sub(t0)
	if err != nil {
		res.Error, res.Kind = clip(err.Error()), Kind(err)
		return res
	}
	defer resp.Release()
	c.read(it, resp, res)
	return res
}

// fetch fetches it's URL, counted in flight meanwhile. May park.
func (c *Crawler) fetch(ctx context.Context, it item) (*Response, error) {
	c.sum.InFlight++
	defer func() { c.sum.InFlight-- }()
	return c.f.Fetch(ctx, it.url, stopRedirect)
}

// stopRedirect makes Fetch return a redirect itself: the crawler records
// it, and crawls its target as a URL found (see redirect).
func stopRedirect(*url.URL) error { return ErrStopRedirect }

// read fills res in from resp, and adds the links of an HTML page to the
// frontier. Never parks.
func (c *Crawler) read(it item, resp *Response, res *Result) {
	res.Status = resp.Status
	res.Bytes = int64(len(resp.Body))
	res.ContentType = resp.ContentType
	res.Truncated = resp.Truncated
	if resp.Status >= 400 {
		res.Error, res.Kind = clip(resp.StatusText), "http "+strconv.Itoa(resp.Status)
		return
	}
	if resp.Status >= 300 {
		c.redirect(it, resp, res)
		return
	}
	if mt, _, err := mime.ParseMediaType(resp.ContentType); err != nil || mt != "text/html" {
		return
	}
	if c.parsing != nil {
		c.parsing(resp.URL)
	}
	// A read error cannot come from a bytes.Reader; malformed HTML is read
	// the way a browser reads it.
	links, _ := Links(resp.URL, bytes.NewReader(resp.Body))
	res.Links = len(links)
	for _, l := range links {
		c.admit(l, it.depth+1, 0)
	}
}

// admit adds the normalized URL raw to the frontier unless it was seen, is
// too deep, out of scope, or the page limit is reached. Never parks.
func (c *Crawler) admit(raw string, depth, hops int) {
	if _, ok := c.seen[raw]; ok {
		return
	}
	if c.cfg.MaxDepth > 0 && depth > c.cfg.MaxDepth {
		c.deep[raw] = struct{}{} // a shorter path may still come
		return
	}
	u, err := url.Parse(raw)
	if err != nil {
		return // Links gives parsed and normalized URLs only
	}
	c.seen[raw] = struct{}{}
	switch {
	case c.cfg.SameHost && !c.scope[hostKey(u)]:
		c.sum.Skipped[SkipOtherHost]++
	case c.full:
		c.sum.Skipped[SkipLimit]++
	default:
		c.front.TryPut(item{url: u, depth: depth, hops: hops}) // an unbounded queue has room
	}
}

// redirect records the target of the 3xx resp to it in res, and adds it
// to the frontier as a link found on it, one redirect further from the
// last URL that was no redirect's target: each redirect is a result of
// its own, whatever was reached first, so a crawl's results do not hang
// on the order its fetches end in. A seed's redirect to another host
// (http to https, example.org to www.example.org) says where the site
// is: that host joins the seeds' for the same-host rule. Never parks.
func (c *Crawler) redirect(it item, resp *Response, res *Result) {
	loc := resp.Header.Get("Location")
	if loc == "" {
		return // a 304, say: nothing to follow
	}
	next, err := resp.URL.Parse(loc)
	if err != nil {
		res.Location = clip(loc)
		return
	}
	if n, err := normalize(next); err == nil {
		next = n
	} else {
		next.User = nil // not http: recorded, not followed
		res.Location = clip(next.String())
		return
	}
	res.Location = next.String()
	switch {
	case c.cfg.MaxRedirects < 0:
		return
	case it.hops >= c.cfg.MaxRedirects:
		res.Error = fmt.Sprintf("%s: more than %d in a row", ErrTooManyRedirects, c.cfg.MaxRedirects)
		res.Kind = Kind(ErrTooManyRedirects)
		return
	}
	if it.depth == 0 {
		c.scope[hostKey(next)] = true
	}
	c.admit(next.String(), it.depth, it.hops+1)
}

// seedFailed counts u as a seed that gave no page, for why, if it is one.
// Never parks.
func (c *Crawler) seedFailed(u *url.URL, why string) {
	if c.seeds[u.String()] {
		c.sum.FailedSeeds = append(c.sum.FailedSeeds, SeedFailure{URL: u.String(), Error: clip(why)})
	}
}

// record counts res in the summary and hands it to OnResult. May park.
func (c *Crawler) record(ctx context.Context, res *Result) {
	s := &c.sum
	s.Done++
	s.Bytes += res.Bytes
	if res.Status != 0 {
		s.Status[res.Status]++
	}
	if res.Error != "" {
		s.Errors++
		s.ErrorKinds[res.Kind]++
		if c.seeds[res.URL] {
			s.FailedSeeds = append(s.FailedSeeds, SeedFailure{URL: res.URL, Error: res.Error})
		}
	}
	if len(s.Slowest) < slowest || res.Duration > s.Slowest[len(s.Slowest)-1].Duration {
		i := len(s.Slowest)
		for i > 0 && s.Slowest[i-1].Duration < res.Duration {
			i--
		}
		if len(s.Slowest) < slowest {
			s.Slowest = append(s.Slowest, Result{})
		}
		copy(s.Slowest[i+1:], s.Slowest[i:])
		s.Slowest[i] = *res
	}
	if c.cfg.OnResult != nil {
		c.cfg.OnResult(ctx, res)
	}
}

// host returns what the crawler knows of u's host, fetching its robots.txt
// first if no task has. May park.
//
// As RFC 9309 section 2.3.1 says: a robots.txt that answers 4xx (or that
// leads through more redirects than the Fetcher follows) allows
// everything; one that cannot be fetched (a timeout, a reset, a refused
// connection, a name that does not resolve) or that answers 5xx keeps the
// crawler out of the whole host, as does a 429, which asks for less
// traffic (Google's crawler reads it so too). The host is then in
// Summary.Unreachable, with why.
func (c *Crawler) host(ctx context.Context, u *url.URL) *host {
	key := hostKey(u)
	if h := c.hosts[key]; h != nil {
		h.ready.Wait(ctx) // a Kill is the only way this fails, and it panics
		return h
	}
	h := &host{delay: c.cfg.Delay}
	c.hosts[key] = h
	defer h.ready.Set() // also when a Kill ends the fetch: the waiters are killed too
	robots := &url.URL{Scheme: u.Scheme, Host: u.Host, Path: "/robots.txt"}
	resp, err := c.f.Fetch(ctx, robots, nil)
	h.last = c.now() // the first page waits from here, if the host wants a delay
	switch {
	case errors.Is(err, ErrRedirectLoop), errors.Is(err, ErrTooManyRedirects):
		return h // unavailable: everything is allowed
	case err != nil:
		h.unreachable = clip("robots.txt unreachable: " + err.Error())
	case resp.Status >= 500 || resp.Status == http.StatusTooManyRequests:
		h.unreachable = clip("robots.txt answered " + resp.StatusText)
	}
	if h.unreachable != "" {
		c.sum.Unreachable[key] = h.unreachable
		if resp != nil {
			resp.Release()
		}
		return h
	}
	defer resp.Release()
	data, err := robotstxt.FromStatusAndBytes(resp.Status, resp.Body)
	if err != nil {
		return h // a redirect not followed: unavailable
	}
	h.rules = data.FindGroup(c.cfg.UserAgent)
	if d := min(h.rules.CrawlDelay, c.cfg.MaxCrawlDelay); d > h.delay {
		h.delay = d
	}
	return h
}

// allows reports whether robots.txt lets the crawler fetch u. Never parks.
func (h *host) allows(u *url.URL) bool {
	return h.unreachable == "" && (h.rules == nil || h.rules.Test(u.RequestURI()))
}

// await waits, with h.pacing held, until delay has passed since the last
// fetch from the host ended, as wget's --wait spaces retrievals. The gap
// is measured from that fetch's actual end, never from a time booked for
// it: a task that wakes late delays the request after it as much. May
// park.
func (h *host) await(ctx context.Context, now time.Time) {
	if h.last.IsZero() {
		return
	}
	if d := h.last.Add(h.delay).Sub(now); d > 0 {
		scheduler.Sleep(ctx, d) // only a Kill ends it early, and it panics
	}
}

package crawl

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"mime"
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
	Delay       time.Duration // at least this long between two requests to one host

	// The fetch settings, as Fetcher's fields.
	Timeout      time.Duration
	MaxBody      int64
	MaxRedirects int
	UserAgent    string
	TLSConfig    *tls.Config

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
	FinalURL    string        `json:"final_url,omitempty"` // where redirects led, if elsewhere
	ContentType string        `json:"content_type,omitempty"`
	Truncated   bool          `json:"truncated,omitempty"` // the body was cut at MaxBody
}

// Progress is the state of a running crawl.
type Progress struct {
	Done     int           // pages with a result
	Errors   int           // of them, failed
	Queued   int           // URLs waiting in the frontier
	InFlight int           // fetches under way
	Elapsed  time.Duration // since Run began, on the loop's clock
}

// Rate returns the pages done per second so far. Never parks.
func (p Progress) Rate() float64 {
	if p.Elapsed <= 0 {
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
}

// Reasons for skipping a URL, the keys of Summary.Skipped.
const (
	SkipRobots    = "robots.txt"
	SkipOtherHost = "other host"
	SkipDepth     = "too deep"
	SkipLimit     = "page limit"
)

// slowest is how many pages Summary.Slowest lists.
const slowest = 5

// A Crawler crawls the web from its seeds, on the loop of the task that
// calls Run: Concurrency tasks take URLs from a FIFO frontier, fetch them
// with a Fetcher and add the links they find. Every URL is normalized
// (see Normalize) and fetched once. The first request to a host fetches
// its robots.txt, which the crawler then honours for the group that
// matches its User-Agent, Crawl-delay included (the larger of it and
// Delay applies). A redirect is followed at once when it stays on the
// host and leads to a URL not seen yet; a redirect to another host adds
// its target to the frontier instead.
type Crawler struct {
	cfg    Config
	f      *Fetcher
	front  *queue.Queue[item]
	seen   map[string]struct{} // URLs in the frontier or done, and those of other hosts
	deep   map[string]struct{} // URLs found only too deep
	scope  map[string]bool     // the seeds' hosts, as hostKey gives them
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
}

// host is what the crawler knows of one host.
type host struct {
	ready locks.Event      // set once robots is known
	rules *robotstxt.Group // robots.txt's group for us
	delay time.Duration    // between two requests
	next  time.Time        // when the next request may start
}

// New returns a Crawler for cfg, or an error if a seed is not an absolute
// http or https URL or a setting is out of range. Never parks.
func New(cfg Config) (*Crawler, error) {
	if len(cfg.Seeds) == 0 {
		return nil, errors.New("crawl: no seed URL")
	}
	if cfg.Concurrency < 0 || cfg.MaxDepth < 0 || cfg.MaxPages < 0 || cfg.Delay < 0 ||
		cfg.Timeout < 0 || cfg.MaxBody < 0 {
		return nil, errors.New("crawl: a negative setting")
	}
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 32
	}
	c := &Crawler{
		cfg: cfg,
		f: &Fetcher{
			UserAgent:      cfg.UserAgent,
			Timeout:        cfg.Timeout,
			MaxBody:        cfg.MaxBody,
			MaxRedirects:   cfg.MaxRedirects,
			MaxIdlePerHost: cfg.Concurrency,
			MaxIdle:        max(256, cfg.Concurrency),
			TLSConfig:      cfg.TLSConfig,
		},
		front: queue.New[item](0),
		seen:  map[string]struct{}{},
		deep:  map[string]struct{}{},
		scope: map[string]bool{},
		hosts: map[string]*host{},
		sum: Summary{
			Status:     map[int]int{},
			ErrorKinds: map[string]int{},
			Skipped:    map[string]int{},
		},
	}
	for _, s := range cfg.Seeds {
		u, err := url.Parse(s)
		if err == nil {
			u, err = normalize(u)
		}
		if err != nil {
			return nil, fmt.Errorf("crawl: seed %q: %w", s, err)
		}
		c.scope[hostKey(u)] = true
		if _, dup := c.seen[u.String()]; !dup {
			c.seen[u.String()] = struct{}{}
			c.front.TryPut(item{url: u}) // an unbounded queue has room
		}
	}
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
	if !h.allows(it.url) {
		c.sum.Skipped[SkipRobots]++
		return nil
	}
	if c.full { // filled while robots.txt was fetched
		c.sum.Skipped[SkipLimit]++
		return nil
	}
	c.begun++
	if c.cfg.MaxPages > 0 && c.begun >= c.cfg.MaxPages {
		c.full = true
	}
	h.pace(ctx, c.now())

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
	return c.f.Fetch(ctx, it.url, func(next *url.URL) error { return c.redirect(it, next) })
}

// read fills res in from resp, and adds the links of an HTML page to the
// frontier. Never parks.
func (c *Crawler) read(it item, resp *Response, res *Result) {
	res.Status = resp.Status
	res.Bytes = int64(len(resp.Body))
	res.ContentType = resp.ContentType
	res.Truncated = resp.Truncated
	if final := resp.URL.String(); final != res.URL {
		res.FinalURL = final
	}
	if resp.Status >= 400 {
		res.Error, res.Kind = clip(resp.StatusText), "http "+strconv.Itoa(resp.Status)
		return
	}
	if resp.Status >= 300 {
		// A redirect not followed: its target went to the frontier, was
		// seen already or is out of scope, or MaxRedirects < 0 follows none.
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
		c.admit(l, it.depth+1)
	}
}

// admit adds the normalized URL raw to the frontier unless it was seen, is
// too deep, out of scope, or the page limit is reached. Never parks.
func (c *Crawler) admit(raw string, depth int) {
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
		c.front.TryPut(item{url: u, depth: depth}) // an unbounded queue has room
	}
}

// redirect is the RedirectFunc of a visit to it: it follows a redirect on
// the same host to a URL allowed and not seen, and hands one to another
// host to the frontier.
func (c *Crawler) redirect(it item, next *url.URL) error {
	if hostKey(next) != hostKey(it.url) {
		if it.depth == 0 {
			// A seed's redirect (http to https, example.org to
			// www.example.org) says where the site is: it joins the scope.
			c.scope[hostKey(next)] = true
		}
		c.admit(next.String(), it.depth)
		return ErrStopRedirect
	}
	s := next.String()
	if _, ok := c.seen[s]; ok {
		return ErrStopRedirect
	}
	if h := c.hosts[hostKey(next)]; h != nil && !h.allows(next) {
		return ErrStopRedirect
	}
	c.seen[s] = struct{}{}
	return nil
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
	if err != nil {
		return h // no robots.txt to be had: everything is allowed
	}
	defer resp.Release()
	h.next = c.now().Add(h.delay)
	data, err := robotstxt.FromStatusAndBytes(resp.Status, resp.Body)
	if err != nil {
		return h
	}
	h.rules = data.FindGroup(c.cfg.UserAgent)
	if h.rules.CrawlDelay > h.delay {
		h.delay = h.rules.CrawlDelay
		h.next = c.now().Add(h.delay)
	}
	return h
}

// allows reports whether robots.txt lets the crawler fetch u. Never parks.
func (h *host) allows(u *url.URL) bool {
	return h.rules == nil || h.rules.Test(u.RequestURI())
}

// pace waits until the host may take another request, and books the next
// slot. May park.
func (h *host) pace(ctx context.Context, now time.Time) {
	if h.delay <= 0 {
		return
	}
	at := h.next
	if at.Before(now) {
		at = now
	}
	h.next = at.Add(h.delay)
	if d := at.Sub(now); d > 0 {
		scheduler.Sleep(ctx, d) // only a Kill ends it early, and it panics
	}
}

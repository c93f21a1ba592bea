package crawl

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/evergo/evergo/scheduler"
)

// Errors of a fetch that are the fetcher's own; the others are the network's
// (*net.OpError, os.ErrDeadlineExceeded...) or net/http's framing errors.
var (
	ErrRedirectLoop     = errors.New("crawl: redirect loop")
	ErrTooManyRedirects = errors.New("crawl: too many redirects")
	// ErrHeaderTooLarge is the error of a response whose header (status
	// line, fields and the blank line after them) is longer than
	// MaxResponseHeaderBytes.
	ErrHeaderTooLarge = errors.New("crawl: response header too large")
)

// DefaultMaxResponseHeaderBytes is the Fetcher's bound on the header of a
// response when its MaxResponseHeaderBytes is 0: 1 MiB, as net/http's
// server bounds a request's (http.DefaultMaxHeaderBytes). Real headers are
// a few KiB; net/http's Transport allows 10 MiB.
const DefaultMaxResponseHeaderBytes = 1 << 20

// A Fetcher makes HTTP/1.1 GET requests over ioco conns, for the tasks of
// one loop, and keeps the connections that the server leaves open, per
// scheme, host and port, for the next request to the same server.
// net/http writes the requests and reads the responses (Request.Write,
// http.ReadResponse); the Fetcher decodes gzip itself, as it asks for it.
//
// Its fields are settings, read at each Fetch; they must not change while
// a Fetch runs. Fetch may be called by several tasks of the loop at once;
// the other methods must be called on the loop too. Close closes the
// connections kept open, and the Fetcher keeps none after it: a Fetcher
// must be closed when it is no longer used, or they stay open.
//
// The kept connections are bounded twice: MaxIdlePerHost per server, and
// MaxIdle in all, the one unused longest closed first to make room, so a
// crawl of many hosts holds a bounded number of descriptors. Every byte
// read from a server is bounded too: a response's header by
// MaxResponseHeaderBytes, its body by MaxBody, and the whole fetch by its
// deadline, checked at every read (a server that never stops sending
// never makes a read wait, where a conn's deadline is checked).
type Fetcher struct {
	UserAgent      string        // the User-Agent header; empty: net/http's
	Timeout        time.Duration // how long a fetch may take, redirects included; 0: no limit
	MaxBody        int64         // bytes of a body kept, after decoding; 0: 10 MiB
	MaxRedirects   int           // redirects followed; 0: 10, less than 0: none (the 3xx is the response)
	MaxIdlePerHost int           // idle connections kept per server; 0: 64, less than 0: none
	MaxIdle        int           // idle connections kept in all; 0: 256, less than 0: none
	TLSConfig      *tls.Config   // for https; nil: crypto/tls's defaults. Its NextProtos is replaced by http/1.1

	// MaxResponseHeaderBytes bounds the header of each response (and of
	// each informational one before it), as net/http's Transport field
	// of the name does: a longer one fails the fetch with
	// ErrHeaderTooLarge. 0: DefaultMaxResponseHeaderBytes (1 MiB); less
	// than 0 is an error.
	MaxResponseHeaderBytes int64

	idle   map[string][]*pconn // by connKey, the most recently used last
	oldest *pconn              // the list of all idle connections, by the time they went idle
	newest *pconn
	nidle  int
	closed bool            // Close was called: keep no connection
	gz     []*gzip.Reader  // readers to Reset, so that a page allocates none
	bufs   []*bytes.Buffer // body buffers handed back by Response.Release
	dials  int             // connections made, for tests and the summary

	// dialHook, if not nil, makes the connections to http servers in
	// place of ioco.Dial: the tests' way to put a socketpair under a fetch.
	dialHook func(ctx context.Context, network, addr string) (net.Conn, error)
	// wrote, if not nil, is called once each request is written, before
	// its response is read: the Crawler's pacing hears of it so.
	wrote func(u *url.URL)
}

// A Response is what Fetch returns: the last response of the chain of
// redirects, with its body read, decoded and capped.
type Response struct {
	URL         *url.URL // the URL the response came from, after redirects
	Status      int      // its status code, as in "404"
	StatusText  string   // its status line's text, as in "404 Not Found"
	ContentType string   // its Content-Type header
	Header      http.Header
	Body        []byte // at most MaxBody bytes of the decoded body
	Truncated   bool   // the body was longer than MaxBody
	Redirects   int    // redirects followed to get here

	buf *bytes.Buffer
	f   *Fetcher
}

// Release hands the body's buffer back to the Fetcher for a later
// response; Body must not be used after. Never parks.
func (r *Response) Release() {
	if r.buf != nil && r.f != nil {
		r.f.bufs = append(r.f.bufs, r.buf)
		r.buf, r.Body = nil, nil
	}
}

// A RedirectFunc decides whether Fetch follows a redirect to next: nil
// follows it; ErrStopRedirect makes Fetch return the redirect response
// itself without error; any other error ends the fetch with it. It is
// asked before Fetch checks for a loop or too many redirects: a redirect
// not followed is neither.
type RedirectFunc func(next *url.URL) error

// ErrStopRedirect is returned by a RedirectFunc that wants the redirect
// response rather than what it points to.
var ErrStopRedirect = errors.New("crawl: redirect not followed")

// Fetch gets u, normalized first (see Normalize), following the redirects
// that redirect (if not nil) allows, and returns the response with its
// body read. A response with any status is a response: a 404 is not an
// error here. The whole fetch, connecting and every redirect included,
// must end by the earlier of ctx's deadline and the Fetcher's Timeout, on
// the loop's clock. ctx's cancellation is seen while connecting only: to
// stop a fetch under way, Kill the task, which closes the connection it
// was using. May park the calling task.
func (f *Fetcher) Fetch(ctx context.Context, u *url.URL, redirect RedirectFunc) (*Response, error) {
	deadline, _ := ctx.Deadline()
	if f.Timeout > 0 {
		if d := scheduler.Now(ctx).Add(f.Timeout); deadline.IsZero() || d.Before(deadline) {
			deadline = d
		}
	}
	maxRedirects := f.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = 10
	}
	if f.MaxResponseHeaderBytes < 0 {
		return nil, errors.New("crawl: Fetcher.MaxResponseHeaderBytes is negative")
	}
	u, err := normalize(u)
	if err != nil {
		return nil, err
	}
	var chain []string // the URLs fetched so far, normalized, to tell a loop
	for {
		resp, err := f.get(ctx, u, deadline)
		if err != nil {
			return nil, err
		}
		resp.Redirects = len(chain)
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.Status) || loc == "" || maxRedirects < 0 {
			return resp, nil
		}
		next, err := u.Parse(loc)
		if err != nil {
			resp.Release()
			return nil, fmt.Errorf("crawl: redirect to a bad Location %q: %w", loc, err)
		}
		if next, err = normalize(next); err != nil {
			return resp, nil // not http or https: nothing to follow
		}
		if redirect != nil {
			switch err := redirect(next); {
			case errors.Is(err, ErrStopRedirect):
				return resp, nil
			case err != nil:
				resp.Release()
				return nil, err
			}
		}
		resp.Release()
		chain = append(chain, u.String())
		for _, seen := range chain {
			if seen == next.String() {
				return nil, fmt.Errorf("%w: %s leads back to %s", ErrRedirectLoop, u, next)
			}
		}
		if len(chain) > maxRedirects {
			return nil, fmt.Errorf("%w: more than %d from %s", ErrTooManyRedirects, maxRedirects, chain[0])
		}
		u = next
	}
}

func isRedirect(code int) bool {
	switch code {
	case http.StatusMovedPermanently, http.StatusFound, http.StatusSeeOther,
		http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		return true
	}
	return false
}

// Dials returns how many connections the Fetcher has made. Never parks.
func (f *Fetcher) Dials() int { return f.dials }

// Close closes the connections kept for reuse, and those that go idle
// after it: Fetch still works, on new connections each time. Never parks.
func (f *Fetcher) Close() {
	f.closed = true
	for f.oldest != nil {
		f.evict()
	}
}

// get makes one request for u and reads its response, on a kept
// connection if there is one, else on a new one. A kept connection may
// have been closed by the server meanwhile: a request that fails on it
// before any of the response came is made again on a new connection, as
// net/http's Transport does for a GET. May park.
func (f *Fetcher) get(ctx context.Context, u *url.URL, deadline time.Time) (*Response, error) {
	key, addr, err := connKey(u)
	if err != nil {
		return nil, err
	}
	req := &http.Request{
		Method:     http.MethodGet,
		URL:        u,
		Proto:      "HTTP/1.1",
		ProtoMajor: 1,
		ProtoMinor: 1,
		Header: http.Header{
			"Accept":          {"text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"},
			"Accept-Encoding": {"gzip"},
		},
		Host: u.Host,
	}
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	for {
		pc := f.takeIdle(key)
		if pc == nil {
			if pc, err = f.dial(ctx, u, key, addr, deadline); err != nil {
				return nil, err
			}
		}
		resp, err := f.roundTrip(pc, req, deadline)
		if err != nil && pc.reused && retryable(err) {
			continue // the server closed the kept connection; pc is closed
		}
		return resp, err
	}
}

// retryable reports whether err is how a kept connection that the server
// closed fails a request before any of the response arrived.
func retryable(err error) bool {
	var nerr *noResponseError
	if !errors.As(err, &nerr) {
		return false
	}
	return errors.Is(nerr.err, io.EOF) || errors.Is(nerr.err, syscall.ECONNRESET) ||
		errors.Is(nerr.err, syscall.EPIPE)
}

// noResponseError wraps an error that came before any byte of a response.
type noResponseError struct{ err error }

func (e *noResponseError) Error() string { return e.err.Error() }
func (e *noResponseError) Unwrap() error { return e.err }

// roundTrip writes req on pc and reads the response and its body. pc goes
// back to the idle pool if the response leaves it fit for another request,
// and is closed otherwise, also when a Kill ends the calling task here.
func (f *Fetcher) roundTrip(pc *pconn, req *http.Request, deadline time.Time) (resp *Response, err error) {
	keep := false
	defer func() {
		if keep {
			f.putIdle(pc)
		} else {
			pc.c.Close()
		}
	}()
	// A conn's deadline is on the loop's clock, as deadline is; the zero
	// time clears the one a kept connection had. The reader checks it too,
	// at every read, as a read that finds bytes waiting never parks.
	if err := pc.c.SetDeadline(deadline); err != nil {
		return nil, err
	}
	pc.r.deadline = deadline
	if err := req.Write(pc.bw); err != nil {
		return nil, &noResponseError{err}
	}
	if err := pc.bw.Flush(); err != nil {
		return nil, &noResponseError{err}
	}
	if f.wrote != nil {
		f.wrote(req.URL)
	}
	limit := f.MaxResponseHeaderBytes
	if limit == 0 {
		limit = DefaultMaxResponseHeaderBytes
	}
	pc.r.limit, pc.r.max = limit, limit
	if _, err := pc.br.Peek(1); err != nil {
		return nil, &noResponseError{err}
	}
	hr, err := readHeader(pc, req)
	// An informational response (103 Early Hints, a 100 no one asked
	// for) comes before the real one, as many as a server likes; net/http's
	// Transport reads up to 5 of them, and so does the Fetcher. A 101 is
	// final: the connection speaks something else after it.
	for n := 0; err == nil && hr.StatusCode >= 100 && hr.StatusCode < 200 &&
		hr.StatusCode != http.StatusSwitchingProtocols; n++ {
		if n == 5 {
			return nil, fmt.Errorf("crawl: more than 5 informational responses from %s", req.URL.Host)
		}
		pc.r.limit = limit // each header has its own, as in net/http
		hr, err = readHeader(pc, req)
	}
	if err != nil {
		return nil, err
	}
	pc.r.limit = -1 // the body is bounded by MaxBody
	resp = &Response{
		URL:         req.URL,
		Status:      hr.StatusCode,
		StatusText:  hr.Status,
		ContentType: hr.Header.Get("Content-Type"),
		Header:      hr.Header,
		f:           f,
	}
	complete, err := f.readBody(resp, hr)
	if err != nil {
		resp.Release()
		return nil, err
	}
	// Bytes after the response, not asked for, mean the server and the
	// Fetcher disagree on where it ended: the connection is not reused.
	keep = complete && !hr.Close && hr.StatusCode != http.StatusSwitchingProtocols &&
		pc.br.Buffered() == 0
	return resp, nil
}

// readHeader reads a response's status line and header fields, as many
// bytes as pc's reader allows. A read that failed on the way (a
// deadline, a reset) is the error, whatever the bytes before it looked
// like: bufio's ReadLine hands a line cut short by an error to
// http.ReadResponse as if it were whole, which would call "HTTP/" cut by
// a timeout a malformed response. net/http's errors quote what they could
// not parse, up to the whole header; they are cut to a few hundred bytes.
func readHeader(pc *pconn, req *http.Request) (*http.Response, error) {
	hr, err := http.ReadResponse(pc.br, req)
	switch {
	case pc.r.err == io.EOF && err != nil:
		return nil, io.ErrUnexpectedEOF // a header cut short
	case pc.r.err != nil:
		if hr != nil {
			hr.Body.Close()
		}
		return nil, pc.r.err
	case err != nil:
		return nil, &clippedError{err}
	}
	return hr, nil
}

// A clippedError is err with its message cut to a few hundred bytes.
type clippedError struct{ err error }

func (e *clippedError) Error() string { return clip(e.err.Error()) }
func (e *clippedError) Unwrap() error { return e.err }

// maxErrorText is how much of an error's text a Result keeps.
const maxErrorText = 300

// clip cuts s to maxErrorText bytes, on a character boundary, with an
// ellipsis when it cut. Never parks.
func clip(s string) string {
	if len(s) <= maxErrorText {
		return s
	}
	n := maxErrorText - len("…")
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "…"
}

// readBody reads hr's body into resp, decoding gzip, up to MaxBody bytes.
// complete reports whether the body was read to its end, so that the
// connection is at the next response.
func (f *Fetcher) readBody(resp *Response, hr *http.Response) (complete bool, err error) {
	max := f.MaxBody
	if max == 0 {
		max = 10 << 20
	}
	buf := f.takeBuf()
	resp.buf = buf
	body := io.Reader(hr.Body)
	var gz *gzip.Reader
	if hr.Header.Get("Content-Encoding") == "gzip" {
		gz, err = f.gzipReader(hr.Body)
		switch {
		case errors.Is(err, io.EOF):
			// An empty body (a 204's, a redirect's) has nothing to
			// decode, whatever its header says; net/http reads it so.
		case err != nil:
			return false, fmt.Errorf("crawl: gzip body: %w", err)
		default:
			defer func() { f.gz = append(f.gz, gz) }()
			body = gz
		}
	}
	n, err := buf.ReadFrom(io.LimitReader(body, max+1))
	if err != nil {
		return false, err
	}
	if n > max {
		buf.Truncate(int(max))
		resp.Truncated = true
	}
	resp.Body = buf.Bytes()
	if resp.Truncated {
		return false, nil
	}
	if gz != nil {
		// The gzip stream has ended; the HTTP body may still hold its
		// trailer's last bytes or the chunked terminator.
		if _, err := io.Copy(io.Discard, io.LimitReader(hr.Body, 4<<10)); err != nil {
			return false, err
		}
	}
	// Reading the body to io.EOF leaves the reader at the next response;
	// hr.Body.Close would read on to there otherwise, without a limit.
	var one [1]byte
	if n, _ := hr.Body.Read(one[:]); n != 0 {
		return false, nil
	}
	return true, nil
}

func (f *Fetcher) takeBuf() *bytes.Buffer {
	if n := len(f.bufs); n > 0 {
		b := f.bufs[n-1]
		f.bufs = f.bufs[:n-1]
		b.Reset()
		return b
	}
	return new(bytes.Buffer)
}

func (f *Fetcher) gzipReader(r io.Reader) (*gzip.Reader, error) {
	if n := len(f.gz); n > 0 {
		gz := f.gz[n-1]
		f.gz = f.gz[:n-1]
		if err := gz.Reset(r); err != nil {
			f.gz = append(f.gz, gz)
			return nil, err
		}
		return gz, nil
	}
	return gzip.NewReader(r)
}

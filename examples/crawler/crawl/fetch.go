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
	"os"
	"time"
	"unicode/utf8"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// Errors of a fetch that are the fetcher's own; the others are the network's
// (*net.OpError, os.ErrDeadlineExceeded...), the Transport's, or net/http's
// framing errors.
var (
	ErrRedirectLoop     = errors.New("crawl: redirect loop")
	ErrTooManyRedirects = errors.New("crawl: too many redirects")
	// ErrHeaderTooLarge is the error of a response whose header (status
	// line, fields and the blank line after them) is longer than
	// MaxResponseHeaderBytes: the Transport's own,
	// httpco.ErrResponseHeaderTooLarge.
	ErrHeaderTooLarge = httpco.ErrResponseHeaderTooLarge
)

// errTimeout is why a fetch's context ends when the Fetcher's Timeout
// passes: os.ErrDeadlineExceeded, as a connection's deadline says it.
var errTimeout = fmt.Errorf("crawl: the fetch's Timeout passed: %w", os.ErrDeadlineExceeded)

// DefaultMaxResponseHeaderBytes is the Fetcher's bound on the header of a
// response when its MaxResponseHeaderBytes is 0: 1 MiB, as net/http's
// server bounds a request's (http.DefaultMaxHeaderBytes). Real headers are
// a few KiB; net/http's Transport allows 10 MiB.
const DefaultMaxResponseHeaderBytes = 1 << 20

// A Fetcher makes HTTP/1.1 GET requests for the tasks of one loop, on an
// httpco.Transport of its own, called as http.Client calls its
// RoundTripper: the Transport keeps the connections, writes the requests
// and reads the responses. The Fetcher adds the crawler's policy: which
// redirects to follow and how (normalized, loops told), the body decoded
// from gzip (which it asks for itself, into readers it reuses) and capped.
// It follows redirects itself, where http.Client would: a crawler records
// each redirect, a Location that does not parse included, where
// http.Client fails the request before its CheckRedirect is asked.
//
// Its fields are settings, read at each Fetch; they must not change while
// a Fetch runs. Fetch may be called by several tasks of the loop at once;
// the other methods must be called on the loop too. Close closes the
// connections kept open, and the Fetcher keeps none after it: a Fetcher
// must be closed when it is no longer used, or they stay open.
//
// The kept connections are bounded twice: MaxIdlePerHost per server, and
// MaxIdle in all, the one idle longest closed first to make room, so a
// crawl of many hosts holds a bounded number of descriptors. Every byte
// read from a server is bounded too: a response's header by
// MaxResponseHeaderBytes, its body by MaxBody, and the whole fetch by its
// deadline, which the Transport makes the connection's (a server that
// never stops sending never makes a read wait, where a task would hear of
// its context's end).
type Fetcher struct {
	UserAgent      string        // the User-Agent header; empty: net/http's
	Timeout        time.Duration // how long a fetch may take, redirects included; 0: no limit
	MaxBody        int64         // bytes of a body kept, after decoding; 0: 10 MiB
	MaxRedirects   int           // redirects followed; 0: 10, less than 0: none (the 3xx is the response)
	MaxIdlePerHost int           // idle connections kept per server; 0: 64, less than 0: none
	MaxIdle        int           // idle connections kept in all; 0: 256, less than 0: none
	TLSConfig      *tls.Config   // for https; nil: crypto/tls's defaults. Its NextProtos is replaced by http/1.1

	// MaxResponseHeaderBytes bounds the header of each response, with
	// those of the informational responses before it, as net/http's
	// Transport field of the name does: a longer one fails the fetch with
	// ErrHeaderTooLarge. 0: DefaultMaxResponseHeaderBytes (1 MiB); less
	// than 0 is an error.
	MaxResponseHeaderBytes int64

	t      *httpco.Transport // made by the first Fetch
	closed bool              // Close was called: keep no connection
	gz     []*gzip.Reader    // readers to Reset, so that a page allocates none
	bufs   []*bytes.Buffer   // body buffers handed back by Response.Release
	dials  int               // connections made, for tests and the summary

	// dialHook, if not nil, makes the connections in place of ioco.Dial:
	// the tests' way to put a socketpair under a fetch.
	dialHook func(ctx context.Context, network, addr string) (net.Conn, error)
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
// the loop's clock; a fetch past its Timeout fails with an error that
// wraps os.ErrDeadlineExceeded. ctx's end ends the fetch wherever it is.
// May park the calling task.
func (f *Fetcher) Fetch(ctx context.Context, u *url.URL, redirect RedirectFunc) (*Response, error) {
	if f.MaxResponseHeaderBytes < 0 {
		return nil, errors.New("crawl: Fetcher.MaxResponseHeaderBytes is negative")
	}
	maxRedirects := f.MaxRedirects
	if maxRedirects == 0 {
		maxRedirects = 10
	}
	u, err := normalize(u)
	if err != nil {
		return nil, err
	}
	if f.Timeout > 0 {
		d := scheduler.Now(ctx).Add(f.Timeout)
		if dl, ok := ctx.Deadline(); !ok || d.Before(dl) {
			var cancel context.CancelFunc
			ctx, cancel = scheduler.WithDeadlineCause(ctx, d, errTimeout)
			defer cancel()
		}
	}
	t := f.transport()
	var chain []string // the URLs fetched so far, normalized, to tell a loop
	for {
		resp, err := f.get(ctx, t, u)
		if err != nil {
			return nil, fetchError(err)
		}
		resp.Redirects = len(chain)
		loc := resp.Header.Get("Location")
		if !isRedirect(resp.Status) || loc == "" || maxRedirects < 0 {
			return resp, nil
		}
		next, err := u.Parse(loc)
		if err != nil {
			resp.Release()
			return nil, fmt.Errorf("crawl: redirect to a bad Location %q: %w", clip(loc), err)
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

// get makes one request for u through t and reads its response, its body
// decoded and capped. May park.
func (f *Fetcher) get(ctx context.Context, t *httpco.Transport, u *url.URL) (*Response, error) {
	req := (&http.Request{
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
	}).WithContext(ctx)
	if f.UserAgent != "" {
		req.Header.Set("User-Agent", f.UserAgent)
	}
	hr, err := t.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer hr.Body.Close() // read to its end first, when it is kept: its connection is then kept too
	resp := &Response{
		URL:         u,
		Status:      hr.StatusCode,
		StatusText:  hr.Status,
		ContentType: hr.Header.Get("Content-Type"),
		Header:      hr.Header,
		f:           f,
	}
	if err := f.readBody(resp, hr); err != nil {
		resp.Release()
		return nil, err // (the body's errors are the Transport's: ctx's cause once ctx is done)
	}
	return resp, nil
}

// transport returns the Fetcher's Transport, with its settings as the
// Fetcher's are now. Never parks.
func (f *Fetcher) transport() *httpco.Transport {
	if f.t == nil {
		// The Fetcher asks for gzip itself and decodes it into a reader
		// it reuses; the Transport decodes only what it asked for.
		f.t = &httpco.Transport{DisableCompression: true, DialContext: f.dial}
	}
	t := f.t
	perHost, all := f.MaxIdlePerHost, f.MaxIdle
	if perHost == 0 {
		perHost = 64
	}
	if all == 0 {
		all = 256
	}
	t.MaxIdleConnsPerHost, t.MaxIdleConns = perHost, all
	t.DisableKeepAlives = f.closed || perHost < 0 || all < 0
	t.TLSClientConfig = f.TLSConfig
	t.MaxResponseHeaderBytes = f.MaxResponseHeaderBytes
	if t.MaxResponseHeaderBytes == 0 {
		t.MaxResponseHeaderBytes = DefaultMaxResponseHeaderBytes
	}
	return t
}

// dial is the Transport's DialContext: it counts the connections made.
func (f *Fetcher) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	dial := ioco.Dial
	if f.dialHook != nil {
		dial = f.dialHook
	}
	c, err := dial(ctx, network, addr)
	if err == nil {
		f.dials++
	}
	return c, err
}

// fetchError returns err with its text cut to a few hundred bytes:
// net/http's errors quote what they could not parse, up to a whole header.
func fetchError(err error) error {
	if len(err.Error()) > maxErrorText {
		return &clippedError{err}
	}
	return err
}

// Dials returns how many connections the Fetcher has made. Never parks.
func (f *Fetcher) Dials() int { return f.dials }

// Close closes the connections kept for reuse, and those that go idle
// after it: Fetch still works, on new connections each time. Never parks.
func (f *Fetcher) Close() {
	f.closed = true
	if f.t != nil {
		f.t.DisableKeepAlives = true
		f.t.CloseIdleConnections()
	}
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
// A body read to its end leaves its connection to the Transport, for the
// next request; one cut at MaxBody closes it (Fetch closes the body).
func (f *Fetcher) readBody(resp *Response, hr *http.Response) (err error) {
	max := f.MaxBody
	if max == 0 {
		max = 10 << 20
	}
	buf := f.takeBuf()
	resp.buf = buf
	if hr.StatusCode == http.StatusSwitchingProtocols {
		return nil // the body is the connection, speaking something else: no page
	}
	body := io.Reader(hr.Body)
	var gz *gzip.Reader
	if hr.Header.Get("Content-Encoding") == "gzip" {
		gz, err = f.gzipReader(hr.Body)
		switch {
		case errors.Is(err, io.EOF):
			// An empty body (a 204's, a redirect's) has nothing to
			// decode, whatever its header says; net/http reads it so.
		case err != nil:
			return fmt.Errorf("crawl: gzip body: %w", err)
		default:
			defer func() { f.gz = append(f.gz, gz) }()
			body = gz
		}
	}
	n, err := buf.ReadFrom(io.LimitReader(body, max+1))
	if err != nil {
		return err
	}
	if n > max {
		buf.Truncate(int(max))
		resp.Truncated = true
	}
	resp.Body = buf.Bytes()
	if gz != nil && !resp.Truncated {
		// The gzip stream has ended; the HTTP body may still hold its
		// trailer's last bytes or the chunked terminator: read to its
		// end, if it is near, for the connection to be kept.
		if _, err := io.Copy(io.Discard, io.LimitReader(hr.Body, 4<<10)); err != nil {
			return err
		}
	}
	return nil
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

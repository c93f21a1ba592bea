package httpco

import (
	"bufio"
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/net/http/httpguts"
	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A clientConn is one connection of a Transport: idle in its host's list,
// or serving one request at a time, from the writing of the request to
// the end of its response's body.
type clientConn struct {
	t      *Transport
	h      *hostPool
	c      net.Conn
	lr     connReader // under br: bounds a response's header, keeps the conn's error
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool // it served a request before the one it serves
	busy   bool // a request is in flight, its body included
	closed bool
	gen    uint64   // requests so far: a cancellation that comes late checks it
	proxy  *url.URL // the proxy plain requests go to, in absolute form; nil: none
	// headerRead is how many bytes the last readResponse took from the
	// connection: a wait for "100 Continue" that timed out having taken
	// some has left the connection out of step.
	headerRead int64
	// deadline is the connection's deadline: the request's context's, or
	// zero. It stays set while the connection is idle, and the next
	// request sets its own.
	deadline time.Time

	idleSeq   uint64 // when it went idle, in the Transport's count
	idleTimer *scheduler.Handle
	hangUp    func() // close, made once: ioco.OnHangUp's function while idle
}

func newClientConn(t *Transport, c net.Conn) *clientConn {
	cc := &clientConn{t: t, c: c}
	cc.lr = connReader{c: c, n: noLimit}
	cc.br = bufio.NewReaderSize(&cc.lr, bufSize)
	cc.bw = bufio.NewWriterSize(c, bufSize)
	cc.hangUp = func() { cc.close() }
	return cc
}

// stillGood reports whether an idle connection may serve a request: the
// server has neither closed it nor sent anything unasked (a byte that
// comes before a request belongs to no response, and the connection is
// out of step). ioco.Quiet tells most often; one recv(2) with MSG_PEEK
// otherwise, without reading.
func (cc *clientConn) stillGood() bool {
	if cc.closed || cc.br.Buffered() > 0 {
		return false
	}
	if ioco.Quiet(cc.c) {
		return true // nothing came since the response's last read: no recv needed
	}
	raw := cc.c
	if tc, ok := raw.(*tls.Conn); ok {
		raw = tc.NetConn()
	}
	sc, ok := raw.(syscall.Conn)
	if !ok {
		return true // nothing to ask: the request's failure will tell
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	good := false
	rc.Control(func(fd uintptr) {
		var b [1]byte
		_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		good = err == unix.EAGAIN
	})
	return good
}

// A connReader is what a connection's bufio.Reader reads from: the conn,
// bounded to n bytes while a response's header is read (as
// io.LimitedReader's N), keeping the last error the conn returned, which
// bufio may pass over.
type connReader struct {
	c   net.Conn
	n   int64
	err error
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > r.n {
		p = p[:r.n]
	}
	n, err := r.c.Read(p)
	r.n -= int64(n)
	if err != nil {
		r.err = err
	}
	return n, err
}

// errPastDeadline is the error of a request whose deadline passed before
// it was sent.
var errPastDeadline = fmt.Errorf("httpco: the request's deadline passed before it was sent: %w", os.ErrDeadlineExceeded)

// pastDeadline reports whether the request's deadline, cc's, has passed
// on the loop's clock: a read that failed with os.ErrDeadlineExceeded met
// it rather than a timeout of the Transport's.
func (cc *clientConn) pastDeadline() bool {
	return !cc.deadline.IsZero() && !cc.t.loop.Now().Before(cc.deadline)
}

// maxHeaderBytes is the bound on a response's header.
func (t *Transport) maxHeaderBytes() int64 {
	if t.MaxResponseHeaderBytes > 0 {
		return t.MaxResponseHeaderBytes
	}
	return 10 << 20 // net/http's default
}

// roundTrip writes req on cc and reads its response's header. On error,
// or when a Kill unwinds the calling task, cc is closed (unless the
// request's deadline had passed before anything was sent); a reused
// connection that failed before any of the response came fails with
// errDeadConn in its chain. May park the calling task.
//
// sent reports whether req's body was handed to Request.Write, which
// closes it.
func (cc *clientConn) roundTrip(ctx context.Context, req *http.Request, trace *httptrace.ClientTrace) (resp *http.Response, sent bool, err error) {
	t := cc.t
	reused := cc.reused
	cc.reused, cc.busy = true, true
	cc.gen++
	gen := cc.gen
	// ctx's end comes to the loop as a post that closes the connection,
	// if it still serves this request: a parked read or write then fails,
	// and the error returned is ctx's (see ctxErr). This is onDone with
	// its state kept in cc (gen, busy) rather than in a closure: two
	// allocations fewer per request (BenchmarkClientGetHttpco, -benchmem).
	stop := context.AfterFunc(ctx, func() {
		t.loop.Post(func(context.Context) {
			if cc.gen == gen && cc.busy {
				cc.close()
			}
		})
	})
	// A failure closes cc, and so does a Kill that unwinds the task from
	// a park in here: the deferred call runs either way.
	ok := false
	defer func() {
		if !ok {
			stop()
			cc.busy = false
			cc.close()
		}
	}()
	// The context's deadline is the connection's too, until the
	// response's body ends. A context's end reaches a task only when it
	// parks, and a task reading a response whose bytes keep coming never
	// does (a read that finds bytes waiting does not wait); a conn's
	// deadline fails the first read made after it, as package net's do.
	// (A conn that cannot keep deadlines still has the watch on ctx; so
	// does a wall-clock deadline on a virtual clock: see LoopDeadline.)
	if dl, _ := scheduler.LoopDeadline(ctx); !dl.Equal(cc.deadline) {
		cc.c.SetDeadline(dl)
		cc.deadline = dl
	}
	if cc.pastDeadline() {
		// Passed before anything was sent (the loop has not run the
		// context's timer yet): the connection is as good as it was.
		ok = true
		stop()
		cc.busy = false
		t.putIdle(cc)
		return nil, sent, errPastDeadline
	}

	r, gzipped, err := t.outgoing(req, cc.proxy)
	if err != nil {
		return nil, sent, err
	}
	sent = true // Write closes the body, whatever happens
	var cb *continueBody
	if t.ExpectContinueTimeout > 0 && r.Body != nil && r.Body != http.NoBody &&
		httpguts.HeaderValuesContainsToken(r.Header["Expect"], "100-continue") {
		// Request.Write flushes the header before it reads a body of
		// this type: the first read waits for the server's answer.
		cb = &continueBody{cc: cc, ctx: ctx, trace: trace, r: r, body: r.Body}
		rr := *r
		rr.Body = cb
		r = &rr
	}
	if cc.proxy != nil {
		err = r.WriteProxy(cc.bw)
	} else {
		err = r.Write(cc.bw)
	}
	if err == nil {
		err = cc.bw.Flush()
	}
	// (Request.Write reports WroteHeaders and WroteRequest to a ClientTrace itself.)
	switch {
	case cb != nil && cb.final != nil:
		// The server answered before the body went: the answer is the
		// request's, and the connection, with a request cut short on it,
		// serves no other.
		resp, err = cb.final, nil
		r.Close = true
	case cb != nil && cb.err != nil:
		return nil, sent, cb.err
	case err != nil:
		if reused && !(errors.Is(err, os.ErrDeadlineExceeded) && cc.pastDeadline()) {
			err = fmt.Errorf("%w: %w", errDeadConn, err)
		}
		return nil, sent, err
	default:
		resp, err = cc.readResponse(ctx, r, t.ResponseHeaderTimeout, false, trace)
		switch {
		case errors.Is(err, os.ErrDeadlineExceeded) && t.ResponseHeaderTimeout > 0 && !cc.pastDeadline():
			return nil, sent, errors.New("httpco: timeout awaiting response headers")
		case err != nil && reused && cc.headerRead == 0 && (errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET)):
			return nil, sent, fmt.Errorf("%w: %w", errDeadConn, err)
		case err != nil:
			return nil, sent, err
		}
	}

	if resp.StatusCode == http.StatusSwitchingProtocols {
		stop()
		cc.leavePool()
		if !cc.deadline.IsZero() {
			cc.c.SetDeadline(time.Time{}) // the connection is its owner's now
		}
		resp.Body = &upgradedBody{cc: cc}
		ok = true
		return resp, sent, nil
	}
	body := &clientBody{cc: cc, ctx: ctx, rc: resp.Body, stop: stop,
		keep: !resp.Close && !r.Close && !t.DisableKeepAlives}
	resp.Body = body
	if gzipped && strings.EqualFold(strings.TrimSpace(resp.Header.Get("Content-Encoding")), "gzip") {
		resp.Body = &gzipBody{body: body}
		resp.Header.Del("Content-Encoding")
		resp.Header.Del("Content-Length")
		resp.ContentLength = -1
		resp.Uncompressed = true
	}
	if resp.ContentLength == 0 && !resp.Uncompressed || req.Method == http.MethodHead {
		body.finish(true) // nothing to read: the connection is free now
	}
	ok = true
	return resp, sent, nil
}

// readResponse reads the header of r's next response, skipping
// informational ones (100 Continue, 103 Early Hints) unless continues is
// set, and bounded by d on the loop's clock when d > 0 (the error is then
// os.ErrDeadlineExceeded) and by MaxResponseHeaderBytes: the headers of
// the informational responses and the final one's together, as in
// net/http, unless a ClientTrace's Got1xxResponse hears of each (then each
// has the bound of its own, and the hook bounds how many). May park the
// calling task.
func (cc *clientConn) readResponse(ctx context.Context, r *http.Request, d time.Duration, continues bool, trace *httptrace.ClientTrace) (*http.Response, error) {
	if d > 0 {
		rd := scheduler.Now(ctx).Add(d)
		if !cc.deadline.IsZero() && cc.deadline.Before(rd) {
			rd = cc.deadline
		}
		cc.c.SetReadDeadline(rd)
		defer cc.c.SetReadDeadline(cc.deadline)
	}
	max := cc.t.maxHeaderBytes()
	cc.headerRead = 0
	cc.lr.n, cc.lr.err = max, nil
	defer func() { cc.lr.n = noLimit }()
	if trace != nil && trace.GotFirstResponseByte != nil {
		if _, err := cc.br.Peek(1); err == nil {
			trace.GotFirstResponseByte()
		}
	}
	for {
		left, buffered := cc.lr.n, cc.br.Buffered()
		resp, err := http.ReadResponse(cc.br, r)
		// (the bound counts what bufio read ahead of the header too: it
		// is only the cause of a failure)
		hitLimit := cc.lr.n == 0
		cc.headerRead += left - cc.lr.n + int64(buffered-cc.br.Buffered())
		switch {
		case err != nil && hitLimit:
			return nil, fmt.Errorf("%w: more than %d bytes", ErrResponseHeaderTooLarge, max)
		case err != nil && cc.lr.err != nil:
			// A read failed on the way: that is the error, whatever the
			// bytes before it looked like. bufio hands a line cut short
			// by an error to net/http as a whole one, which would call
			// "HTTP/" cut by a timeout a malformed response.
			if cc.lr.err == io.EOF && cc.headerRead > 0 {
				return nil, io.ErrUnexpectedEOF
			}
			return nil, cc.lr.err
		case err != nil:
			return nil, err
		case resp.StatusCode >= 200 || resp.StatusCode == http.StatusSwitchingProtocols:
			return resp, nil
		case continues && resp.StatusCode == http.StatusContinue:
			if trace != nil && trace.Got100Continue != nil {
				trace.Got100Continue()
			}
			return resp, nil
		case trace != nil && trace.Got1xxResponse != nil:
			if err := trace.Got1xxResponse(resp.StatusCode, textproto.MIMEHeader(resp.Header)); err != nil {
				return nil, err
			}
			cc.lr.n = max // the hook saw it: the next header has a bound of its own
		}
	}
}

// A continueBody is the body of a request with "Expect: 100-continue".
// Its first Read, which Request.Write makes once it has flushed the
// header, waits for the server at most ExpectContinueTimeout: after "100
// Continue", or nothing, the body goes; a final response that comes
// instead ends the body there (Read fails, and so does the Write) and is
// the request's.
type continueBody struct {
	cc     *clientConn
	ctx    context.Context
	trace  *httptrace.ClientTrace // the request's, or nil
	r      *http.Request
	body   io.ReadCloser
	waited bool
	final  *http.Response // the server's answer, instead of 100
	err    error          // the wait's failure
}

var errBodyNotSent = errors.New("httpco: the server answered before the request's body was sent")

func (b *continueBody) Read(p []byte) (int, error) {
	if !b.waited {
		b.waited = true
		if b.trace != nil && b.trace.Wait100Continue != nil {
			b.trace.Wait100Continue()
		}
		resp, err := b.cc.readResponse(b.ctx, b.r, b.cc.t.ExpectContinueTimeout, true, b.trace)
		switch {
		case err == nil && resp.StatusCode == http.StatusContinue:
		case err == nil:
			b.final = resp
			return 0, errBodyNotSent
		case errors.Is(err, os.ErrDeadlineExceeded) && b.cc.headerRead == 0 && !b.cc.pastDeadline():
			// No answer in time: the body goes, as the server may not
			// know the expectation (RFC 9110, 10.1.1).
		default:
			b.err = err
			return 0, err
		}
	}
	return b.body.Read(p)
}

func (b *continueBody) Close() error { return b.body.Close() }

// outgoing returns the request to write for req: req itself, or a copy
// asking for gzip (reported), saying "Connection: close", carrying the
// proxy's credentials, or with a body of unknown length looked into, as
// the Transport's settings want; req's header is left as it was.
func (t *Transport) outgoing(req *http.Request, proxy *url.URL) (*http.Request, bool, error) {
	gzip := !t.DisableCompression && req.Method != http.MethodHead &&
		req.Header.Get("Accept-Encoding") == "" && req.Header.Get("Range") == ""
	auth := ""
	if proxy != nil && req.Header.Get("Proxy-Authorization") == "" {
		auth = proxyAuth(proxy)
	}
	unknown := req.Body != nil && req.Body != http.NoBody && req.ContentLength == 0 && len(req.TransferEncoding) == 0
	if !gzip && auth == "" && !unknown && (!t.DisableKeepAlives || req.Close) {
		return req, false, nil
	}
	r := *req
	if gzip || auth != "" {
		r.Header = req.Header.Clone()
	}
	if gzip {
		r.Header.Set("Accept-Encoding", "gzip")
	}
	if auth != "" {
		r.Header.Set("Proxy-Authorization", auth)
	}
	if t.DisableKeepAlives {
		r.Close = true
	}
	if unknown {
		// Request.Write would read the first byte of such a body on a
		// goroutine of its own (for a GET, to see whether there is a
		// body at all): read here, in the task, and say what it found.
		var b [1]byte
		n, err := io.ReadFull(req.Body, b[:])
		switch {
		case n == 0 && err == io.EOF:
			req.Body.Close()
			r.Body = http.NoBody
		case n == 1:
			r.Body = struct {
				io.Reader
				io.Closer
			}{io.MultiReader(strings.NewReader(string(b[:])), req.Body), req.Body}
			r.ContentLength, r.TransferEncoding = -1, []string{"chunked"}
		default:
			return nil, false, err
		}
	}
	return &r, gzip, nil
}

// leavePool takes cc out of its Transport's accounting for good: its
// caller owns it (an upgraded connection).
func (cc *clientConn) leavePool() {
	cc.busy = false
	if h := cc.h; h != nil {
		cc.h = nil
		h.open--
		cc.t.passSlot(h)
		cc.t.dropIfEmpty(h)
	}
}

// A clientBody is a response's body: reading it to its end gives the
// connection back to its Transport; closing it before then closes the
// connection.
type clientBody struct {
	cc   *clientConn
	ctx  context.Context
	rc   io.ReadCloser // net/http's framing
	stop func() bool   // the watch on ctx
	keep bool          // the connection may serve another request
	done bool
	err  error // what Read returns once done
}

var errBodyClosed = errors.New("http: read on closed response body")

func (b *clientBody) Read(p []byte) (int, error) {
	if b.done {
		return 0, b.err
	}
	n, err := b.rc.Read(p)
	switch {
	case err == io.EOF:
		b.finish(true)
	case err != nil:
		err = ctxErr(b.ctx, err)
		b.finish(false)
		b.err = err
	}
	return n, err
}

// Close ends the body; the connection is closed unless the body was read
// to its end. Never parks.
func (b *clientBody) Close() error {
	if !b.done {
		b.finish(false)
		b.err = errBodyClosed
	}
	return nil
}

// finish ends the request on its connection: back to the Transport after
// a body read to its end, closed otherwise.
func (b *clientBody) finish(eof bool) {
	b.done, b.err = true, io.EOF
	b.stop()
	cc := b.cc
	cc.busy = false
	switch {
	case cc.closed:
	case eof && b.keep && cc.br.Buffered() == 0:
		cc.t.putIdle(cc)
	default:
		cc.close()
	}
}

// A gzipBody decodes a gzip-encoded body the Transport asked for.
type gzipBody struct {
	body *clientBody
	zr   *gzip.Reader
	err  error
}

func (g *gzipBody) Read(p []byte) (int, error) {
	if g.err != nil {
		return 0, g.err
	}
	if g.zr == nil {
		zr, err := gzip.NewReader(g.body)
		if err != nil {
			g.err = err
			return 0, err
		}
		g.zr = zr
	}
	n, err := g.zr.Read(p)
	if err != nil {
		g.err = err
	}
	return n, err
}

func (g *gzipBody) Close() error { return g.body.Close() }

// An upgradedBody is a 101 response's body: the connection itself, read
// through what was buffered, written to directly, and closed by its owner.
type upgradedBody struct{ cc *clientConn }

func (u *upgradedBody) Read(p []byte) (int, error)  { return u.cc.br.Read(p) }
func (u *upgradedBody) Write(p []byte) (int, error) { return u.cc.c.Write(p) }
func (u *upgradedBody) Close() error                { return u.cc.c.Close() }

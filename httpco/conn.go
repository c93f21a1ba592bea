package httpco

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A conn is one connection being served, by its own task. Its states:
//
//	idle    → reading   the first byte of a request came (its task was parked in Peek)
//	reading → active    the header was read and is valid; the handler runs
//	reading → closed    a bad or slow header: answered with its status, or not at all
//	active  → idle      the response is written, the connection kept alive
//	active  → closed    the response said "Connection: close", or the server shuts down
//	idle    → closed    the client closed, IdleTimeout passed, or Shutdown closed it
//
// Only idle is recorded (Shutdown closes idle connections at once; the
// others close after their response).
type conn struct {
	s    *Server
	c    net.Conn
	lr   io.LimitedReader // under br: bounds what a header may read
	br   *bufio.Reader
	bw   *bufio.Writer // writes to cw
	cw   *connWriter
	idle bool
	// rctx is the context of the request being served (Close cancels it).
	rctx *requestCtx
	// hangUp cancels rctx: ioco.OnHangUp's function, made once per
	// connection rather than once per request.
	hangUp func()
	hj     *hijackedConn // set by Hijack
	body   []byte        // a response's kept body, reused by the next
	raddr  string        // the client's address, made on first need
}

const (
	noLimit      = 1<<63 - 1
	bufSize      = 4 << 10
	maxDrain     = 256 << 10 // what is read of an unread body to keep the connection
	headerSlack  = 4096      // read beyond MaxHeaderBytes, as net/http allows
	errorHeaders = "\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n"
)

// serveConn is the ioco.Server handler: it serves c's requests one after
// another until one closes the connection. ioco.Server closes c when it
// returns.
func (s *Server) serveConn(ctx context.Context, c net.Conn) {
	cn := &conn{s: s, c: c}
	cn.hangUp = func() {
		if cn.rctx != nil {
			cn.rctx.cancel()
		}
	}
	cn.lr = io.LimitedReader{R: c, N: noLimit}
	cn.br = bufio.NewReaderSize(&cn.lr, bufSize)
	cn.cw = newConnWriter(c)
	cn.bw = bufio.NewWriterSize(cn.cw, bufSize)
	s.conns[cn] = struct{}{}
	defer delete(s.conns, cn)
	defer func() {
		r := recover()
		if err, ok := r.(error); ok && errors.Is(err, scheduler.ErrKilled) {
			panic(r) // a kill (Shutdown's ctx ended) unwinds on: it is no handler's panic
		}
		if r != nil && r != http.ErrAbortHandler {
			s.logf("httpco: panic serving %v: %v\n%s", c.RemoteAddr(), r, debug.Stack())
		}
	}()
	// A connection accepted before Shutdown began, or as it began, is
	// served its first request (net/http's Shutdown, too, waits for a new
	// connection's first request): its client, which cannot know that the
	// server is stopping, would not retry a request on a connection
	// closed before any answer.
	for first := true; first || !s.inShutdown; first = false {
		req, err := cn.readRequest(ctx, first)
		if err != nil {
			cn.reject(err)
			return
		}
		if !cn.serve(ctx, req) {
			return
		}
	}
}

// errQuiet ends a connection without a response: the client closed it or
// went quiet between requests.
var errQuiet = errors.New("httpco: connection ended between requests")

// A statusError ends a connection with a response of its status.
type statusError struct {
	code int
	text string
}

func (e statusError) Error() string { return e.text }

// readRequest waits for the next request, reads its header and checks it.
func (cn *conn) readRequest(ctx context.Context, first bool) (*http.Request, error) {
	s := cn.s
	now := scheduler.Now(ctx)
	if d := cmp(s.IdleTimeout, s.ReadTimeout); d > 0 && !first {
		cn.c.SetReadDeadline(now.Add(d))
	} else if d := cmp(s.ReadHeaderTimeout, s.ReadTimeout); d > 0 && first {
		cn.c.SetReadDeadline(now.Add(d))
	}
	// What a header may read is bounded from its first byte on (bytes of
	// a pipelined request already buffered are not counted again).
	cn.lr.N = s.maxHeaderBytes() + headerSlack
	cn.idle = !first // Shutdown closes a kept-alive connection that waits, not a new one
	_, err := cn.br.Peek(1)
	cn.idle = false
	if err != nil {
		return nil, errQuiet
	}
	start := scheduler.Now(ctx)
	var deadline time.Time
	if d := cmp(s.ReadHeaderTimeout, s.ReadTimeout); d > 0 {
		deadline = start.Add(d)
		cn.c.SetReadDeadline(deadline)
	}
	req, err := http.ReadRequest(cn.br)
	hitLimit := cn.lr.N == 0
	cn.lr.N = noLimit
	switch {
	case err == nil:
	case hitLimit:
		return nil, statusError{http.StatusRequestHeaderFieldsTooLarge, ""}
	case errors.Is(err, os.ErrDeadlineExceeded) || !deadline.IsZero() && !scheduler.Now(ctx).Before(deadline):
		// (a line cut short by the deadline reaches ReadRequest without
		// its error, as a line: bufio's ReadLine drops the error of a
		// partial line, and the parse fails on what came)
		return nil, statusError{http.StatusRequestTimeout, ""}
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
		return nil, errQuiet
	case strings.Contains(err.Error(), "unsupported transfer encoding"):
		return nil, statusError{http.StatusNotImplemented, "Unsupported transfer encoding"}
	default:
		return nil, statusError{http.StatusBadRequest, ""}
	}
	if err := check(req); err != nil {
		return nil, err
	}
	if d := s.ReadTimeout; d > 0 {
		cn.c.SetReadDeadline(start.Add(d))
	} else {
		cn.c.SetReadDeadline(time.Time{})
	}
	if d := s.WriteTimeout; d > 0 {
		cn.c.SetWriteDeadline(scheduler.Now(ctx).Add(d))
	} else {
		cn.c.SetWriteDeadline(time.Time{})
	}
	if cn.raddr == "" {
		cn.raddr = cn.c.RemoteAddr().String()
	}
	req.RemoteAddr = cn.raddr
	if tc, ok := cn.c.(*tls.Conn); ok {
		st := tc.ConnectionState()
		req.TLS = &st
	}
	return req, nil
}

// check refuses what net/http's server refuses in a request it could
// parse: another HTTP version than 1.x, a missing or malformed Host, a
// malformed header field.
func check(req *http.Request) error {
	if req.ProtoMajor != 1 {
		return statusError{http.StatusHTTPVersionNotSupported, "unsupported protocol version"}
	}
	// http.ReadRequest has moved Host from the header to req.Host (a
	// second Host field is dropped there, unseen).
	switch {
	case req.ProtoAtLeast(1, 1) && req.Host == "" && req.Method != http.MethodConnect:
		return statusError{http.StatusBadRequest, "missing required Host header"}
	case !httpguts.ValidHostHeader(req.Host):
		return statusError{http.StatusBadRequest, "malformed Host header"}
	}
	for k, vv := range req.Header {
		if !httpguts.ValidHeaderFieldName(k) {
			return statusError{http.StatusBadRequest, "invalid header name"}
		}
		for _, v := range vv {
			if !httpguts.ValidHeaderFieldValue(v) {
				return statusError{http.StatusBadRequest, "invalid header value"}
			}
		}
	}
	return nil
}

// reject ends the connection after a request that cannot be served: with
// its status, or quietly.
func (cn *conn) reject(err error) {
	var se statusError
	if !errors.As(err, &se) {
		return
	}
	text := http.StatusText(se.code)
	body := strconv.Itoa(se.code) + " " + text
	if se.text != "" {
		body += ": " + se.text
	}
	cn.c.SetWriteDeadline(time.Time{})
	io.WriteString(cn.c, "HTTP/1.1 "+strconv.Itoa(se.code)+" "+text+errorHeaders+body)
}

// serve runs the handler on req and writes its response. It reports
// whether the connection may serve another request.
func (cn *conn) serve(ctx context.Context, req *http.Request) bool {
	// Budget: internal/bench/http, CPU per request beside net/http's. No
	// goroutine per request and one allocation for its context (see
	// requestCtx).
	rctx := &requestCtx{parent: ctx, laddr: cn.c.LocalAddr()}
	cn.rctx = rctx
	defer func() { cn.rctx = nil; rctx.cancel() }()
	w := newResponse(cn, req)
	if !w.expect() {
		return false
	}
	ioco.OnHangUp(cn.c, cn.hangUp) // the client went away: the request is over
	cn.s.handler().ServeHTTP(w, req.WithContext(rctx))
	w.returned = true
	ioco.OnHangUp(cn.c, nil)
	if w.hijacked != nil {
		rctx.cancel()
		w.hijacked.wait(ctx)
		return false
	}
	ok := w.finish()
	cn.body = w.body[:0]
	return ok
}

// cmp returns a if it is set, and b otherwise.
func cmp(a, b time.Duration) time.Duration {
	if a > 0 {
		return a
	}
	return b
}

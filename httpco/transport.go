package httpco

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/http/httpproxy"

	"github.com/evergo/evergo/scheduler"
)

// A Transport is an http.RoundTripper for tasks of a loop, in
// net/http.Transport's shape: set it as an http.Client's Transport and
// call the client from a task, with a request whose context carries the
// task (http.NewRequestWithContext(ctx, ...) with the task's ctx, or one
// derived from it). A call parks only the calling task: the connection's
// reads and writes are ioco's, on the loop's poller, and no goroutine is
// started per connection or per request.
//
// Connections are kept alive and reused per scheme and host:port, the
// most recently used first, as net/http's are. A Transport belongs to the
// loop of its first request; a request from a task of another loop, or
// from no task, fails. It must not be copied after first use.
type Transport struct {
	// Proxy returns the proxy for a request, or nil for none, as
	// net/http.Transport's: an http or https proxy is sent plain requests
	// in absolute form and asked for a CONNECT tunnel for https ones. nil
	// means no proxy; NewTransport sets it from the environment
	// (HTTP_PROXY, HTTPS_PROXY, NO_PROXY, through
	// golang.org/x/net/http/httpproxy).
	Proxy func(*http.Request) (*url.URL, error)
	// DialContext dials the connections; nil means ioco.Dial. It is
	// called from the requesting task and may park it.
	DialContext func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSClientConfig configures https connections (cloned; ServerName
	// defaults to the request's host). Its NextProtos is set to
	// "http/1.1": HTTP/2 is not offered.
	TLSClientConfig *tls.Config
	// TLSHandshakeTimeout bounds a TLS handshake; zero means none.
	TLSHandshakeTimeout time.Duration
	// DisableKeepAlives makes each connection serve one request.
	DisableKeepAlives bool
	// DisableCompression stops the Transport from asking for gzip (an
	// "Accept-Encoding: gzip" the request did not set) and from decoding
	// such responses.
	DisableCompression bool
	// MaxIdleConns bounds the idle connections over all hosts; zero means
	// no bound.
	MaxIdleConns int
	// MaxIdleConnsPerHost bounds the idle connections kept per host; zero
	// means http.DefaultMaxIdleConnsPerHost (2).
	MaxIdleConnsPerHost int
	// MaxConnsPerHost bounds the connections per host, dialing, active
	// and idle; requests beyond it park, first come first served, until a
	// connection is free. Zero means no bound.
	MaxConnsPerHost int
	// IdleConnTimeout closes a connection idle that long, on the loop's
	// clock; zero means no timeout.
	IdleConnTimeout time.Duration
	// ResponseHeaderTimeout bounds the wait for a response's header once
	// the request is written, on the loop's clock; zero means none.
	ResponseHeaderTimeout time.Duration
	// MaxResponseHeaderBytes bounds a response's header; zero means
	// net/http's default (10 MiB).
	MaxResponseHeaderBytes int64
	// ExpectContinueTimeout is how long a request with a body and
	// "Expect: 100-continue" waits, once its header is sent, for the
	// server's "100 Continue" before it sends its body anyway, on the
	// loop's clock. A final response that comes first is the request's,
	// and the body is not sent. Zero sends the body at once.
	ExpectContinueTimeout time.Duration

	loop    *scheduler.Loop
	hosts   map[connKey]*hostPool // the hosts with a connection or a waiter
	idle    int                   // idle connections over all hosts
	idleSeq uint64                // connections put idle so far
}

// NewTransport returns a Transport with http.DefaultTransport's settings:
// the proxies the environment names, at most 100 idle connections, closed
// after 90 seconds idle, TLS handshakes bounded by 10 seconds, and a
// second's wait for "100 Continue".
func NewTransport() *Transport {
	proxy := httpproxy.FromEnvironment().ProxyFunc()
	return &Transport{
		Proxy:                 func(req *http.Request) (*url.URL, error) { return proxy(req.URL) },
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// Errors of RoundTrip's own; the others are the connection's, net/http's
// parsing errors, or the request context's cause (context.Cause) once it
// is done.
var (
	// ErrNoTask: the request's context carries no task of a loop. It
	// wraps scheduler.ErrNoTask.
	ErrNoTask = fmt.Errorf("httpco: request's context carries no task (use a task's ctx): %w", scheduler.ErrNoTask)
	// ErrWrongLoop: the Transport serves another loop's tasks. It wraps
	// scheduler.ErrWrongLoop.
	ErrWrongLoop = fmt.Errorf("httpco: Transport used from a task of another loop: %w", scheduler.ErrWrongLoop)
	// ErrResponseHeaderTooLarge: a response's header is longer than
	// MaxResponseHeaderBytes.
	ErrResponseHeaderTooLarge = errors.New("httpco: server response headers too large")
)

// A connKey names the connections a request may use.
type connKey struct {
	proxy  string // the proxy's URL, or ""
	scheme string // the target's: "http" or "https"
	addr   string // the target's host:port
}

// RoundTrip sends req and returns its response, as http.Transport's does:
// the response's body must be read to its end or closed for the
// connection to be reused. Only http and https URLs are served. It closes
// req.Body, even on error. May park the calling task.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if err := t.check(ctx, req); err != nil {
		closeBody(req)
		return nil, err
	}
	key := connKey{scheme: req.URL.Scheme, addr: canonicalAddr(req.URL)}
	proxy, err := t.proxyFor(req)
	if err != nil {
		closeBody(req)
		return nil, err
	}
	if proxy != nil {
		key.proxy = proxy.String()
	}
	// Looked up once: a lookup in a task's context that passes to the
	// loop's values costs an allocation.
	trace := httptrace.ContextClientTrace(ctx)
	orig := req // the one the response carries, whatever a retry sends
	for retried := false; ; retried = true {
		if trace != nil && trace.GetConn != nil {
			trace.GetConn(key.addr)
		}
		cc, err := t.getConn(ctx, key)
		if err == nil && trace != nil && trace.GotConn != nil {
			trace.GotConn(httptrace.GotConnInfo{Conn: cc.c, Reused: cc.reused, WasIdle: cc.reused})
		}
		if err != nil {
			closeBody(req)
			return nil, ctxErr(ctx, err)
		}
		resp, sent, err := cc.roundTrip(ctx, req, trace)
		if err == nil {
			resp.Request = orig // not a copy written, as net/http's Transport
			return resp, nil
		}
		if retried || !cc.reused || !replayable(req, err) {
			if !sent {
				closeBody(req)
			}
			return nil, ctxErr(ctx, err)
		}
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

// check refuses what RoundTrip cannot serve.
func (t *Transport) check(ctx context.Context, req *http.Request) error {
	switch {
	case req.URL == nil:
		return errors.New("httpco: nil Request.URL")
	case req.Header == nil:
		return errors.New("httpco: nil Request.Header")
	case req.URL.Scheme != "http" && req.URL.Scheme != "https":
		return errors.New("httpco: unsupported protocol scheme " + `"` + req.URL.Scheme + `"`)
	case req.URL.Host == "":
		return errors.New("httpco: no Host in request URL")
	}
	l := scheduler.LoopOf(ctx)
	switch {
	case l == nil || scheduler.Current(ctx) == nil:
		return ErrNoTask
	case t.loop == nil:
		t.loop, t.hosts = l, make(map[connKey]*hostPool)
	case t.loop != l:
		return ErrWrongLoop
	}
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return nil
}

// proxyFor returns req's proxy, or nil.
func (t *Transport) proxyFor(req *http.Request) (*url.URL, error) {
	if t.Proxy == nil {
		return nil, nil
	}
	u, err := t.Proxy(req)
	if err != nil || u == nil {
		return nil, err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, errors.New("httpco: unsupported proxy scheme " + `"` + u.Scheme + `"`)
	}
	return u, nil
}

// CloseIdleConnections closes the connections that wait idle for a
// request; those in use are not touched, and go idle as usual. Call it on
// the loop (a task or a callback); from another goroutine, through
// scheduler.Loop.Post. Never parks.
func (t *Transport) CloseIdleConnections() {
	for _, h := range t.hosts {
		for len(h.idle) > 0 {
			h.idle[0].close()
		}
	}
}

// canonicalAddr returns u's host:port, the port made explicit.
func canonicalAddr(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = "80"
		if u.Scheme == "https" {
			port = "443"
		}
	}
	return net.JoinHostPort(strings.ToLower(u.Hostname()), port)
}

// closeBody closes req's body, as RoundTrip must on every path.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}

// ctxErr returns ctx's cause (context.Cause: its error, unless it was
// given another) in place of err once ctx is done, as net/http's
// Transport does: the connection error a cancellation causes is its
// consequence.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return context.Cause(ctx)
	}
	return err
}

// replayable reports whether req may be sent again on a new connection
// after err on a reused one, as net/http retries: an idempotent request
// whose body can be had again, that failed before any of the response
// came.
func replayable(req *http.Request, err error) bool {
	if !errors.Is(err, errDeadConn) || req.Context().Err() != nil {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody && req.GetBody == nil {
		return false
	}
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	_, ok := req.Header["Idempotency-Key"]
	if !ok {
		_, ok = req.Header["X-Idempotency-Key"]
	}
	return ok
}

// rewound returns req with its body had again from GetBody.
func rewound(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

// errDeadConn marks a failure of a reused connection before any of the
// response came: the server had closed it meanwhile.
var errDeadConn = errors.New("httpco: connection closed by the server before the response")

package httpco

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"slices"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A hostPool is the connections of one connKey: the idle ones, oldest
// first (a request takes the newest), and the tasks waiting for one while
// MaxConnsPerHost are open.
type hostPool struct {
	key     connKey
	idle    []*clientConn
	open    int // dialing, active or idle
	waiters []*connWaiter
}

// A connWaiter is a task parked in getConn until a connection is handed to
// it or it may dial.
type connWaiter struct {
	t    *scheduler.Task
	cc   *clientConn // handed over by putIdle
	dial bool        // a connection closed: it may dial one
}

func (t *Transport) pool(key connKey) *hostPool {
	h := t.hosts[key]
	if h == nil {
		h = &hostPool{key: key}
		t.hosts[key] = h
	}
	return h
}

// getConn returns a connection for key: an idle one that is still good,
// else a new one, parking behind the tasks already waiting while
// MaxConnsPerHost are open. A task killed or whose ctx ends while it
// waits or dials gives up what it was given (a connection, the right to
// dial) to the next. May park the calling task.
func (t *Transport) getConn(ctx context.Context, key connKey) (*clientConn, error) {
	h := t.pool(key)
	for len(h.idle) > 0 {
		cc := h.idle[len(h.idle)-1]
		cc.leaveIdle()
		if cc.stillGood() {
			return cc, nil
		}
		cc.close()
	}
	h = t.pool(key) // (closing the last idle connection forgets the pool)
	if t.MaxConnsPerHost > 0 && (h.open >= t.MaxConnsPerHost || len(h.waiters) > 0) {
		cc, err := t.wait(ctx, h)
		if err != nil || cc != nil {
			return cc, err
		}
		// A connection closed: its slot, counted in h.open, is this task's.
	} else {
		h.open++
	}
	dialed := false
	defer func() {
		if !dialed { // failed, ctx ended, or killed: the slot goes on
			h.open--
			t.passSlot(h)
		}
	}()
	cc, err := t.dial(ctx, key)
	if err != nil {
		return nil, err
	}
	dialed = true
	cc.h = h
	return cc, nil
}

// wait parks the calling task, after those already waiting, until putIdle
// hands it a connection (returned) or passSlot lets it dial one (nil). May
// park the calling task.
func (t *Transport) wait(ctx context.Context, h *hostPool) (cc *clientConn, err error) {
	w := &connWaiter{t: scheduler.Current(ctx)}
	h.waiters = append(h.waiters, w)
	served := false
	defer func() {
		if served {
			return
		}
		// ctx ended or the task is being killed (its deferred calls run).
		switch i := slices.Index(h.waiters, w); {
		case i >= 0:
			h.waiters = slices.Delete(h.waiters, i, i+1)
		case w.cc != nil:
			t.putIdle(w.cc) // handed over as the wait ended: to the next
		case w.dial:
			h.open--
			t.passSlot(h)
		}
	}()
	for w.cc == nil && !w.dial {
		if err := scheduler.Park(ctx, "httpco: a connection to "+h.key.addr); err != nil {
			return nil, err
		}
	}
	served = true
	return w.cc, nil
}

// dial opens a connection for key: to its host, or to its proxy (a TLS
// one for an https proxy), through a CONNECT tunnel to its host for https,
// with the TLS handshake for https. ctx's end fails a dial under way.
func (t *Transport) dial(ctx context.Context, key connKey) (cc *clientConn, err error) {
	dial := t.DialContext
	if dial == nil {
		dial = ioco.Dial
	}
	var proxy *url.URL
	addr := key.addr
	if key.proxy != "" {
		if proxy, err = url.Parse(key.proxy); err != nil {
			return nil, err
		}
		addr = canonicalAddr(proxy)
	}
	c, err := dial(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	defer func() {
		if cc == nil { // failed, or the task is being killed
			c.Close()
		}
	}()
	if proxy != nil && proxy.Scheme == "https" {
		tc, err := t.tlsClient(ctx, c, proxy.Hostname())
		if err != nil {
			return nil, err
		}
		c = tc
	}
	if proxy != nil && key.scheme == "https" {
		if err := t.connect(ctx, c, key.addr, proxy); err != nil {
			return nil, err
		}
	}
	if key.scheme == "https" {
		host, _, _ := net.SplitHostPort(key.addr)
		tc, err := t.tlsClient(ctx, c, host)
		if err != nil {
			return nil, err
		}
		c = tc
	}
	cc = newClientConn(t, c)
	if proxy != nil && key.scheme == "http" {
		cc.proxy = proxy // requests go in absolute form, with the proxy's credentials
	}
	return cc, nil
}

// tlsClient makes c a TLS client connection to host, its handshake made.
func (t *Transport) tlsClient(ctx context.Context, c net.Conn, host string) (net.Conn, error) {
	cfg := &tls.Config{}
	if t.TLSClientConfig != nil {
		cfg = t.TLSClientConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	cfg.NextProtos = []string{"http/1.1"}
	if d := t.TLSHandshakeTimeout; d > 0 {
		var cancel context.CancelFunc
		ctx, cancel = scheduler.WithTimeout(ctx, d)
		defer cancel()
	}
	tc := tls.Client(c, cfg)
	trace := httptrace.ContextClientTrace(ctx)
	if trace != nil && trace.TLSHandshakeStart != nil {
		trace.TLSHandshakeStart()
	}
	err := ioco.Handshake(ctx, tc)
	if trace != nil && trace.TLSHandshakeDone != nil {
		trace.TLSHandshakeDone(tc.ConnectionState(), err)
	}
	if err != nil {
		return nil, err
	}
	return tc, nil
}

// connect asks the proxy at the other end of c for a tunnel to addr.
func (t *Transport) connect(ctx context.Context, c net.Conn, addr string, proxy *url.URL) error {
	req := &http.Request{Method: http.MethodConnect, URL: &url.URL{Opaque: addr}, Host: addr, Header: make(http.Header)}
	if auth := proxyAuth(proxy); auth != "" {
		req.Header.Set("Proxy-Authorization", auth)
	}
	stop := t.onDone(ctx, func() { c.Close() })
	defer stop()
	if err := req.Write(c); err != nil {
		return ctxErr(ctx, err)
	}
	br := bufio.NewReader(io.LimitReader(c, t.maxHeaderBytes()))
	resp, err := http.ReadResponse(br, req)
	if err != nil {
		return ctxErr(ctx, err)
	}
	// The body is not read: after a 200 the tunnel follows the header
	// (some proxies announce a body they never send), and after a refusal
	// the connection is closed.
	switch {
	case resp.StatusCode != http.StatusOK:
		return errors.New("httpco: proxy refused CONNECT to " + addr + ": " + resp.Status)
	case br.Buffered() > 0:
		return errors.New("httpco: proxy sent bytes after its CONNECT response")
	}
	return nil
}

// onDone calls fn on the loop when ctx ends, unless stop was called
// first: ctx's end comes to the loop as a post (a context may end on any
// goroutine), and stop, called on the loop, makes a post still on its way
// do nothing. fn closes a connection, so that a read or write parked on it
// fails, and the caller returns ctx's error (ctxErr).
func (t *Transport) onDone(ctx context.Context, fn func()) (stop func()) {
	stopped := false
	stopWatch := context.AfterFunc(ctx, func() {
		t.loop.Post(func(context.Context) {
			if !stopped {
				fn()
			}
		})
	})
	return func() { stopped = true; stopWatch() }
}

// proxyAuth returns the Proxy-Authorization value for proxy's
// credentials, or "".
func proxyAuth(proxy *url.URL) string {
	if proxy.User == nil {
		return ""
	}
	pass, _ := proxy.User.Password()
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(proxy.User.Username()+":"+pass))
}

// putIdle takes back a connection whose response was read whole: to the
// first waiting task, else to the idle list (bounded, with its idle
// timer), else closed.
func (t *Transport) putIdle(cc *clientConn) {
	h := cc.h
	if len(h.waiters) > 0 {
		w := h.waiters[0]
		h.waiters = h.waiters[1:]
		w.cc = cc
		w.t.Wake()
		return
	}
	max := t.MaxIdleConnsPerHost
	if max == 0 {
		max = http.DefaultMaxIdleConnsPerHost
	}
	if t.DisableKeepAlives || len(h.idle) >= max {
		cc.close()
		return
	}
	if t.MaxIdleConns > 0 && t.idle >= t.MaxIdleConns {
		t.closeOldestIdle()
	}
	h.idle = append(h.idle, cc)
	t.idle++
	t.idleSeq++
	cc.idleSeq = t.idleSeq
	if d := t.IdleConnTimeout; d > 0 {
		cc.idleTimer = t.loop.CallLater(d, func(context.Context) {
			cc.idleTimer = nil
			cc.close()
		})
	}
	ioco.OnHangUp(cc.c, cc.hangUp) // a server that closes it takes it out of the list
}

// closeOldestIdle closes the connection idle the longest over all hosts
// (the first put idle: a tie on the clock is no tie here).
func (t *Transport) closeOldestIdle() {
	var oldest *clientConn
	for _, h := range t.hosts {
		if len(h.idle) > 0 && (oldest == nil || h.idle[0].idleSeq < oldest.idleSeq) {
			oldest = h.idle[0]
		}
	}
	if oldest != nil {
		oldest.close()
	}
}

// passSlot lets the first waiting task dial, a connection having closed.
func (t *Transport) passSlot(h *hostPool) {
	if len(h.waiters) == 0 || t.MaxConnsPerHost > 0 && h.open >= t.MaxConnsPerHost {
		return
	}
	w := h.waiters[0]
	h.waiters = h.waiters[1:]
	h.open++ // reserved for w: nobody dials ahead of it
	w.dial = true
	w.t.Wake()
}

// leaveIdle takes cc out of its host's idle list.
func (cc *clientConn) leaveIdle() {
	h := cc.h
	if h == nil {
		return
	}
	i := len(h.idle) - 1 // most often the newest: getConn takes it
	if i < 0 || h.idle[i] != cc {
		i = slices.Index(h.idle, cc)
	}
	if i >= 0 {
		h.idle = slices.Delete(h.idle, i, i+1)
		cc.t.idle--
		ioco.OnHangUp(cc.c, nil)
		if cc.idleTimer != nil {
			cc.idleTimer.Cancel()
			cc.idleTimer = nil
		}
	}
}

// close closes cc, idle or not, and lets a waiting task dial in its place.
// A second close does nothing. Never parks.
func (cc *clientConn) close() error {
	if cc.closed {
		return nil
	}
	cc.closed = true
	cc.leaveIdle()
	err := cc.c.Close()
	if h := cc.h; h != nil {
		h.open--
		cc.t.passSlot(h)
		cc.t.dropIfEmpty(h)
	}
	return err
}

// dropIfEmpty forgets h once it has no connection and no waiter: a
// crawler meets many hosts once each.
func (t *Transport) dropIfEmpty(h *hostPool) {
	if h.open == 0 && len(h.idle) == 0 && len(h.waiters) == 0 && t.hosts[h.key] == h {
		delete(t.hosts, h.key)
	}
}

package crawl_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// guard bounds a wait for something that a working Fetcher or Crawler
// makes happen at once: a broken one fails the test after it instead of
// hanging it. It orders nothing.
const guard = 10 * time.Second

// A rawServer answers each request it reads on a connection with what
// respond returns for it, written as is in one write: the test's way to
// send what net/http's server never would. It counts the connections it
// accepted.
type rawServer struct {
	URL   string
	conns atomic.Int32

	ln   net.Listener
	wg   sync.WaitGroup
	mu   sync.Mutex
	open []net.Conn
}

// serveRaw starts a rawServer, stopped when the test ends: its listener
// and connections closed, its goroutines gone.
func serveRaw(t *testing.T, respond func(r *http.Request) string) *rawServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &rawServer{URL: "http://" + ln.Addr().String(), ln: ln}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return // the listener is closed
			}
			s.conns.Add(1)
			s.mu.Lock()
			s.open = append(s.open, c)
			s.mu.Unlock()
			s.wg.Add(1)
			go func() {
				defer s.wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for {
					r, err := http.ReadRequest(br)
					if err != nil {
						return // the client hung up, or the test ended
					}
					if _, err := io.WriteString(c, respond(r)); err != nil {
						return
					}
				}
			}()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.open {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

// response is a whole HTTP/1.1 200 response with body and a Content-Length.
func response(body string) string {
	return fmt.Sprintf("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

const earlyHints = "HTTP/1.1 103 Early Hints\r\nLink: </s.css>; rel=preload\r\n\r\n"

func TestFetchSkipsInformationalResponses(t *testing.T) {
	const limit = 4 << 10 // the headers of all of a response's 1xx and its own
	srv := serveRaw(t, func(r *http.Request) string {
		switch r.URL.Path {
		case "/hints":
			return earlyHints + response("hello")
		case "/continue":
			return "HTTP/1.1 100 Continue\r\n\r\n" + earlyHints + response("again")
		case "/six":
			return strings.Repeat(earlyHints, 6) + response("six")
		case "/flood":
			return strings.Repeat(earlyHints, limit/len(earlyHints)+1) + response("flood")
		}
		return "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n"
	})
	type got struct {
		status int
		body   string
		err    error
	}
	var gots []got
	var dials int
	paths := []string{"/hints", "/continue", "/six", "/hints", "/flood"}
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{MaxResponseHeaderBytes: limit}
		defer f.Close()
		for _, p := range paths {
			if p == "/flood" {
				dials = f.Dials()
			}
			resp, err := f.Fetch(ctx, parse(t, srv.URL+p), nil)
			g := got{err: err}
			if err == nil {
				g.status, g.body = resp.Status, string(resp.Body)
				resp.Release()
			}
			gots = append(gots, g)
		}
		return nil
	})
	want := []got{{200, "hello", nil}, {200, "again", nil}, {200, "six", nil}, {200, "hello", nil}}
	for i, w := range want {
		if g := gots[i]; g != w {
			t.Errorf("Fetch %s = %d %q, %v; want %d %q, the response after the 1xx",
				paths[i], g.status, g.body, g.err, w.status, w.body)
		}
	}
	// The connection is at the next response after the final one: the
	// fetches share it.
	if dials != 1 {
		t.Errorf("%d dials for fetches after 1xx responses; want 1", dials)
	}
	// 1xx responses that never end meet the bound on the header.
	if g := gots[4]; !errors.Is(g.err, crawl.ErrHeaderTooLarge) {
		t.Errorf("Fetch /flood (103s over %d bytes) = %d %q, %v; want ErrHeaderTooLarge",
			limit, g.status, g.body, g.err)
	}
}

func TestFetchDoesNotReuseAConnectionWithUnsolicitedBytes(t *testing.T) {
	srv := serveRaw(t, func(r *http.Request) string {
		if r.URL.Path == "/junk" {
			return response("hello") + "junk" // 4 bytes that no request asked for
		}
		return response("world")
	})
	type step struct {
		body  string
		dials int
		err   error
	}
	var steps []step
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		for _, p := range []string{"/clean", "/clean", "/junk", "/clean"} {
			resp, err := f.Fetch(ctx, parse(t, srv.URL+p), nil)
			s := step{err: err, dials: f.Dials()}
			if err == nil {
				s.body = string(resp.Body)
				resp.Release()
			}
			steps = append(steps, s)
		}
		return nil
	})
	// A clean response leaves its connection for the next fetch; one with
	// bytes after it does not, and the next fetch reads its own response.
	want := []step{{"world", 1, nil}, {"world", 1, nil}, {"hello", 1, nil}, {"world", 2, nil}}
	if !slices.Equal(steps, want) {
		t.Errorf("fetches /clean /clean /junk /clean: %+v\nwant %+v", steps, want)
	}
	if n := srv.conns.Load(); n != 2 {
		t.Errorf("the server accepted %d connections, want 2", n)
	}
}

// A connWatch is a server's ConnState hook: it counts the connections the
// server saw open and those it saw end (closed or hijacked).
type connWatch struct {
	opened, closed atomic.Int32
	ends           chan struct{} // a send for each end
}

func (w *connWatch) connState(_ net.Conn, st http.ConnState) {
	switch st {
	case http.StateNew:
		w.opened.Add(1)
	case http.StateClosed, http.StateHijacked:
		w.closed.Add(1)
		w.ends <- struct{}{}
	}
}

// awaitClosed blocks until the server has seen n connections end, or
// guard has passed. Not for a task: see offLoop.
func (w *connWatch) awaitClosed(n int) error {
	timeout := time.After(guard)
	for int(w.closed.Load()) < n {
		select {
		case <-w.ends:
		case <-timeout:
			return fmt.Errorf("the server saw %d connections closed, want %d", w.closed.Load(), n)
		}
	}
	return nil
}

// serveWatched serves h on an httptest server watched by a connWatch.
func serveWatched(t *testing.T, h http.Handler) (*httptest.Server, *connWatch) {
	t.Helper()
	w := &connWatch{ends: make(chan struct{}, 1024)}
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = w.connState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, w
}

// offLoop runs fn, which blocks, on a goroutine of pool, and parks the
// calling task until it returns.
func offLoop(ctx context.Context, pool *futures.ThreadPool, fn func() error) error {
	done, err := futures.Submit(ctx, pool, func(context.Context) (struct{}, error) {
		return struct{}{}, fn()
	})
	if err != nil {
		return err
	}
	_, err = done.Get(ctx)
	return err
}

// withPool runs main on a loop with a ThreadPool of one goroutine.
func withPool(t *testing.T, main func(ctx context.Context, pool *futures.ThreadPool) error) {
	t.Helper()
	run(t, func(ctx context.Context) error {
		pool, err := futures.NewThreadPool(1)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		if err := main(ctx, pool); err != nil {
			t.Error(err)
		}
		return nil
	})
}

// fetchBody fetches u with f and returns the body, or fails t.
func fetchBody(ctx context.Context, t *testing.T, f *crawl.Fetcher, u string) string {
	t.Helper()
	resp, err := f.Fetch(ctx, parse(t, u), nil)
	if err != nil {
		t.Errorf("Fetch %s: %v", u, err)
		return ""
	}
	defer resp.Release()
	return string(resp.Body)
}

func hello(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "hello from ", r.URL.Path) }

func TestFetchCapsIdleConnectionsInAllClosingTheOldestFirst(t *testing.T) {
	a, aw := serveWatched(t, http.HandlerFunc(hello))
	b, bw := serveWatched(t, http.HandlerFunc(hello))
	c, cw := serveWatched(t, http.HandlerFunc(hello))
	servers := map[string]string{"A": a.URL, "B": b.URL, "C": c.URL}
	var dials []string
	withPool(t, func(ctx context.Context, pool *futures.ThreadPool) error {
		f := &crawl.Fetcher{MaxIdle: 2}
		defer f.Close()
		for i, s := range []string{"A", "B", "C", "C", "A", "C", "B"} {
			fetchBody(ctx, t, f, servers[s]+"/")
			dials = append(dials, fmt.Sprintf("%s:%d", s, f.Dials()))
			if i == 2 {
				// C went idle third, with A and B idle: A, idle
				// longest, was closed to make room.
				if err := offLoop(ctx, pool, func() error { return aw.awaitClosed(1) }); err != nil {
					return fmt.Errorf("after fetches of A, B and C with MaxIdle 2: %w", err)
				}
				if n, m := bw.closed.Load(), cw.closed.Load(); n != 0 || m != 0 {
					t.Errorf("after fetches of A, B and C with MaxIdle 2, B and C saw %d and %d closes; want 0", n, m)
				}
			}
		}
		return nil
	})
	// Idle after each fetch: A; A B; B C; B C (C reused); C A (B, idle
	// longest, closed); A C (C reused); then B needs a new connection.
	if got, want := strings.Join(dials, " "), "A:1 B:2 C:3 C:3 A:4 C:4 B:5"; got != want {
		t.Errorf("dials after each fetch: %s; want %s", got, want)
	}
	if a, b, c := aw.opened.Load(), bw.opened.Load(), cw.opened.Load(); a != 2 || b != 2 || c != 1 {
		t.Errorf("connections seen by A, B and C: %d, %d, %d; want 2, 2, 1", a, b, c)
	}
}

func TestFetchCapsIdleConnectionsPerHost(t *testing.T) {
	// Each request waits for the other, so that two connections are in
	// use at once.
	var arrived atomic.Int32
	both := make(chan struct{})
	srv, w := serveWatched(t, http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-time.After(guard):
		}
		hello(rw, r)
	}))
	var dials []int
	withPool(t, func(ctx context.Context, pool *futures.ThreadPool) error {
		f := &crawl.Fetcher{MaxIdlePerHost: 1}
		defer f.Close()
		var tasks []*scheduler.Task
		for range 2 {
			task, err := scheduler.Spawn(ctx, "fetch", func(ctx context.Context) error {
				fetchBody(ctx, t, f, srv.URL+"/")
				return nil
			})
			if err != nil {
				return err
			}
			tasks = append(tasks, task)
		}
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		dials = append(dials, f.Dials())
		// The second to go idle found the first kept, and was closed.
		if err := offLoop(ctx, pool, func() error { return w.awaitClosed(1) }); err != nil {
			return fmt.Errorf("after two fetches at once with MaxIdlePerHost 1: %w", err)
		}
		fetchBody(ctx, t, f, srv.URL+"/") // on the one kept
		dials = append(dials, f.Dials())
		return nil
	})
	if fmt.Sprint(dials) != "[2 2]" {
		t.Errorf("dials after two fetches at once, and after one more: %v; want [2 2]", dials)
	}
	if n := w.opened.Load(); n != 2 {
		t.Errorf("the server saw %d connections, want 2", n)
	}
}

func TestFetchCloseClosesKeptConnectionsAndKeepsNoneAfter(t *testing.T) {
	a, aw := serveWatched(t, http.HandlerFunc(hello))
	b, bw := serveWatched(t, http.HandlerFunc(hello))
	var dials []int
	var fdsClosed int
	var bodies []string
	withPool(t, func(ctx context.Context, pool *futures.ThreadPool) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		fetchBody(ctx, t, f, a.URL+"/")
		fetchBody(ctx, t, f, b.URL+"/")
		kept := openFDs(t)
		f.Close()
		// The Fetcher's side closes at once; the servers' side may
		// follow by now, which only lowers the count further.
		fdsClosed = kept - openFDs(t)
		if err := offLoop(ctx, pool, func() error {
			return errors.Join(aw.awaitClosed(1), bw.awaitClosed(1))
		}); err != nil {
			return fmt.Errorf("after Close: %w", err)
		}
		for range 2 {
			bodies = append(bodies, fetchBody(ctx, t, f, a.URL+"/after"))
			dials = append(dials, f.Dials())
		}
		// Each fetch after Close closed its connection when it ended.
		return offLoop(ctx, pool, func() error { return aw.awaitClosed(3) })
	})
	if fdsClosed < 2 {
		t.Errorf("Close with 2 connections kept closed %d fds, want 2 or more", fdsClosed)
	}
	if fmt.Sprint(bodies) != "[hello from /after hello from /after]" || fmt.Sprint(dials) != "[3 4]" {
		t.Errorf("fetches after Close: bodies %q, dials %v; want the page twice, with dials [3 4]", bodies, dials)
	}
	if n := aw.opened.Load(); n != 3 {
		t.Errorf("A saw %d connections, want 3: one before Close, one per fetch after", n)
	}
}

// serveBlocking serves requests that get no answer until the client hangs
// up or the test ends (or, to fail rather than hang, guard has passed:
// then a 200).
func serveBlocking(t *testing.T) *httptest.Server {
	t.Helper()
	end := make(chan struct{})
	srv := serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-end:
		case <-r.Context().Done():
		case <-time.After(guard):
			fmt.Fprint(w, "too late")
		}
	}))
	t.Cleanup(func() { close(end) }) // before the server's Close, registered earlier
	return srv
}

func TestFetchEndsByTheEarlierOfCtxDeadlineAndTimeout(t *testing.T) {
	const short, long = 50 * time.Millisecond, time.Hour
	for _, tc := range []struct {
		name         string
		ctx, timeout time.Duration // 0: none
	}{
		{"CtxDeadlineWithoutTimeout", short, 0},
		{"CtxDeadlineBeforeTimeout", short, long},
		{"TimeoutBeforeCtxDeadline", long, short},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := serveBlocking(t)
			var err error
			var deadline, end time.Time
			run(t, func(ctx context.Context) error {
				f := &crawl.Fetcher{Timeout: tc.timeout}
				defer f.Close()
				// The fetch may not end before the earlier of the two,
				// each known before it begins: the ctx's deadline, and
				// Timeout after the loop's time now.
				start := scheduler.Now(ctx)
				ctx, cancel := context.WithTimeout(ctx, tc.ctx)
				defer cancel()
				deadline, _ = ctx.Deadline()
				if tc.timeout > 0 && start.Add(tc.timeout).Before(deadline) {
					deadline = start.Add(tc.timeout)
				}
				var resp *crawl.Response
				resp, err = f.Fetch(ctx, parse(t, srv.URL+"/"), nil)
				end = scheduler.Now(ctx)
				if err == nil {
					t.Errorf("Fetch = %d %q, want a timeout", resp.Status, resp.Body)
				}
				return nil
			})
			if k := crawl.Kind(err); k != "timeout" {
				t.Errorf("Fetch with a ctx deadline in %v, Timeout %v: Kind(%v) = %q, want timeout", tc.ctx, tc.timeout, err, k)
			}
			if end.Before(deadline) {
				t.Errorf("Fetch timed out %v before its deadline", deadline.Sub(end))
			}
		})
	}
}

// fetchAroundIdle fetches /a and /b with a Fetcher on peers whose
// connections answer "a" and "b" in turn, doing idle to the first
// connection's server end in between, while it is idle; it returns the
// bodies and the dials after each fetch.
func fetchAroundIdle(t *testing.T, idle func(p *peerSite) error) (p *peerSite, bodies []string, dials []int) {
	f := &crawl.Fetcher{}
	p = dialPeers(t, f, response("a"), response("b"))
	run(t, func(ctx context.Context) error {
		defer f.Close()
		for i, path := range []string{"/a", "/b"} {
			if i == 1 {
				if err := idle(p); err != nil {
					return err
				}
				// The loop hears of what came at its next poll, which a
				// yield lets it make before the next request; what comes
				// within the same round of the loop is not seen until
				// the request is on its way, the window net/http's read
				// loop leaves too.
				if err := scheduler.Sleep(ctx, 0); err != nil {
					return err
				}
			}
			bodies = append(bodies, fetchBody(ctx, t, f, "http://peer.test"+path))
			dials = append(dials, f.Dials())
		}
		return nil
	})
	return p, bodies, dials
}

func TestFetchDoesNotReuseAConnectionThatGotBytesWhileIdle(t *testing.T) {
	_, bodies, dials := fetchAroundIdle(t, func(p *peerSite) error {
		p.write(0, response(`<a href="/injected">not asked for</a>`))
		return nil
	})
	if fmt.Sprint(bodies) != "[a b]" || fmt.Sprint(dials) != "[1 2]" {
		t.Errorf("bodies %q after dials %v; want [a b] after [1 2]: the response that came while idle is no one's", bodies, dials)
	}
}

func TestFetchDoesNotReuseAConnectionClosedWhileIdle(t *testing.T) {
	p, bodies, dials := fetchAroundIdle(t, func(p *peerSite) error { return closeWrite(p.peers[0]) })
	if fmt.Sprint(bodies) != "[a b]" || fmt.Sprint(dials) != "[1 2]" {
		t.Errorf("bodies %q after dials %v; want [a b] after [1 2]", bodies, dials)
	}
	// The request went to the new connection alone: the closed one was
	// passed over before a request was written on it.
	var b [256]byte
	if n, _ := unix.Read(p.peers[0], b[:]); strings.Count(string(b[:n]), "GET ") != 1 {
		t.Errorf("the first connection got %q; want the request for /a alone", b[:n])
	}
}

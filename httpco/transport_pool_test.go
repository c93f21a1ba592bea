package httpco_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"strconv"
	"strings"
	"testing"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// At MaxConnsPerHost, a waiter that is killed and a waiter whose ctx ends
// give up their place; the connection in use going away lets the next
// waiter dial; and no more connections are ever open than the bound.
func TestTransportWaitersThatLeaveGiveUpTheirPlace(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hold" {
			w.Header().Set("Connection", "close") // the held connection goes away after it
			<-release
		}
		io.WriteString(w, "ok "+r.URL.Path)
	}))
	defer srv.Close()
	tr := httpco.NewTransport()
	tr.MaxConnsPerHost = 1
	var open, maxOpen int // the client's own count: dialed and not closed
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := ioco.Dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		open++
		maxOpen = max(maxOpen, open)
		return &countedConn{Conn: c, open: &open}, nil
	}
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		holder, _ := scheduler.Spawn(ctx, "holder", func(ctx context.Context) error {
			_, err := getBody(ctx, client, srv.URL+"/hold")
			return err
		})
		scheduler.Sleep(ctx, 0) // the holder has the connection and waits for its answer
		killed, _ := scheduler.Spawn(ctx, "killed", func(ctx context.Context) error {
			_, err := getBody(ctx, client, srv.URL+"/killed")
			return err
		})
		var cancel context.CancelFunc
		cancelled, _ := scheduler.Spawn(ctx, "cancelled", func(ctx context.Context) error {
			ctx, cancel = context.WithCancel(ctx)
			_, err := getBody(ctx, client, srv.URL+"/cancelled")
			return err
		})
		last, _ := scheduler.Spawn(ctx, "last", func(ctx context.Context) error {
			body, err := getBody(ctx, client, srv.URL+"/last")
			if body != "ok /last" {
				return fmt.Errorf("last: %q, %v", body, err)
			}
			return err
		})
		scheduler.Sleep(ctx, 0) // all three wait now
		killed.Kill(ctx)
		cancel()
		close(release)
		if err := holder.Join(ctx); err != nil {
			t.Errorf("holder: %v", err)
		}
		if err := cancelled.Join(ctx); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled waiter: %v, want context.Canceled", err)
		}
		if err := last.Join(ctx); err != nil {
			t.Errorf("the waiter after those that left: %v", err)
		}
		if body, err := getBody(ctx, client, srv.URL+"/after"); body != "ok /after" || err != nil {
			t.Errorf("a request after all that: %q, %v", body, err)
		}
	})
	if m := maxOpen; m > 1 {
		t.Errorf("%d connections open at once, want at most 1 (MaxConnsPerHost)", m)
	}
}

// A countedConn counts itself out of open when first closed.
type countedConn struct {
	net.Conn
	open   *int
	closed bool
}

func (c *countedConn) Close() error {
	if !c.closed {
		c.closed = true
		*c.open--
	}
	return c.Conn.Close()
}

// A GET with a body of unknown length has that body read in the task
// (net/http's Request.Write would look into it on a goroutine of its own,
// which cannot use the loop).
func TestTransportReadsABodyOfUnknownLengthInTheTask(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		fmt.Fprintf(w, "%s %q %v", r.Method, b, r.TransferEncoding)
	}))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		for _, c := range []struct{ body, want string }{{"query", `GET "query" [chunked]`}, {"", `GET "" []`}} {
			body := &loopReader{ctx: ctx, r: strings.NewReader(c.body)}
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, io.NopCloser(body))
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("body %q: %v", c.body, err)
				continue
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if string(got) != c.want {
				t.Errorf("body %q: the server saw %s, want %s", c.body, got, c.want)
			}
		}
	})
}

// A loopReader is a body that must be read in a task of the loop: each
// Read yields first, which fails anywhere else.
type loopReader struct {
	ctx context.Context
	r   io.Reader
}

func (l *loopReader) Read(p []byte) (int, error) {
	if err := scheduler.Sleep(l.ctx, 0); err != nil {
		return 0, err
	}
	return l.r.Read(p)
}

// At most MaxIdleConns wait idle over all hosts, the one idle longest
// closed first; CloseIdleConnections closes them all.
func TestTransportBoundsIdleConnectionsOverAllHosts(t *testing.T) {
	var servers []string
	for range 3 {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
		defer srv.Close()
		servers = append(servers, srv.URL)
	}
	tr := httpco.NewTransport()
	tr.MaxIdleConns = 2
	dials := map[string]int{}
	tr.DialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		dials[addr]++
		return ioco.Dial(ctx, network, addr)
	}
	count := func() string {
		var s []string
		for _, u := range servers {
			s = append(s, strconv.Itoa(dials[strings.TrimPrefix(u, "http://")]))
		}
		return strings.Join(s, " ")
	}
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		for _, u := range servers { // 3 go idle: the first is closed for the third
			getBody(ctx, client, u)
		}
		for _, u := range servers[1:] { // reused
			getBody(ctx, client, u)
		}
		if got := count(); got != "1 1 1" {
			t.Errorf("dials per server %s, want 1 1 1 (the second and third reused)", got)
		}
		getBody(ctx, client, servers[0]) // dialed again: its connection was the one closed
		if got := count(); got != "2 1 1" {
			t.Errorf("dials per server %s, want 2 1 1 (the first evicted)", got)
		}
		client.CloseIdleConnections()
		getBody(ctx, client, servers[1])
		if got := count(); got != "2 2 1" {
			t.Errorf("dials per server %s after CloseIdleConnections, want 2 2 1", got)
		}
	})
}

// A 101 response's body is the connection, to read and write.
func TestTransportHandsOverAnUpgradedConnection(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "Upgrade")
		w.Header().Set("Upgrade", "echo")
		w.WriteHeader(http.StatusSwitchingProtocols)
		c, brw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			return
		}
		defer c.Close()
		line, _ := brw.ReadString('\n')
		brw.WriteString("echo: " + line)
		brw.Flush()
	}))
	defer srv.Close()
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		req.Header.Set("Connection", "Upgrade")
		req.Header.Set("Upgrade", "echo")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		rw, ok := resp.Body.(io.ReadWriteCloser)
		if resp.StatusCode != http.StatusSwitchingProtocols || !ok {
			t.Fatalf("status %d, body a ReadWriteCloser: %v", resp.StatusCode, ok)
		}
		defer rw.Close()
		io.WriteString(rw, "ping\n")
		if got, _ := bufio.NewReader(rw).ReadString('\n'); got != "echo: ping\n" {
			t.Errorf("read %q over the upgraded connection, want echo: ping", got)
		}
	})
}

// A task killed while it waits for a response closes its connection and
// gives its MaxConnsPerHost slot back: the Kill unwinds the request.
func TestTransportKillDuringARequestClosesItsConnection(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/never" {
			<-r.Context().Done() // until the client hangs up
			return
		}
		io.WriteString(w, "ok")
	}))
	tr := &httpco.Transport{MaxConnsPerHost: 1}
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		fds := scheduler.LoopOf(ctx).Stats().FDs
		self := scheduler.Current(ctx)
		trace := &httptrace.ClientTrace{WroteRequest: func(httptrace.WroteRequestInfo) { self.Wake() }}
		stuck, err := scheduler.Spawn(ctx, "stuck", func(ctx context.Context) error {
			_, err := getBody(httptrace.WithClientTrace(ctx, trace), client, srv.URL+"/never")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if err := scheduler.Park(ctx, "the request written"); err != nil {
			t.Fatal(err)
		}
		stuck.Kill(ctx)
		if err := stuck.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("the killed request's task ended with %v, want ErrKilled", err)
		}
		if n := scheduler.LoopOf(ctx).Stats().FDs; n != fds {
			t.Errorf("%d fds on the loop after the Kill, %d before the request", n, fds)
		}
		// The slot is free: this request dials, where it would wait forever.
		if body, err := getBody(ctx, client, srv.URL+"/ok"); body != "ok" || err != nil {
			t.Errorf("GET after the Kill: %q, %v; want ok", body, err)
		}
	})
	if n := conns.Load(); n != 2 {
		t.Errorf("the server saw %d connections, want 2", n)
	}
}

package httpco_test

import (
	"bufio"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/scheduler"
)

// countingServer is an httptest server (net/http's, on goroutines) that
// counts the connections it accepted.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int32) {
	t.Helper()
	var conns atomic.Int32
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// onLoop runs fn in a task of a new loop, with a client on tr; the idle
// connections are closed as it returns.
func onLoop(t *testing.T, tr *httpco.Transport, fn func(ctx context.Context, client *http.Client), opts ...scheduler.Option) {
	t.Helper()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		defer tr.CloseIdleConnections()
		fn(ctx, &http.Client{Transport: tr})
		return nil
	}, opts...)
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// getBody makes a GET of url with ctx and returns its body.
func getBody(ctx context.Context, client *http.Client, url string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return "", err
	}
	resp, err := client.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestTransportReusesAKeptAliveConnection(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "hello "+r.URL.Path)
	}))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		for i := range 10 {
			body, err := getBody(ctx, client, fmt.Sprintf("%s/%d", srv.URL, i))
			if want := fmt.Sprintf("hello /%d", i); body != want || err != nil {
				t.Errorf("GET %d: %q, %v; want %q", i, body, err, want)
			}
		}
	})
	if n := conns.Load(); n != 1 {
		t.Errorf("the server accepted %d connections for 10 requests in turn, want 1", n)
	}
}

// At MaxConnsPerHost, requests park and are served in the order they
// came, on the connections there are.
func TestTransportMaxConnsPerHostServesWaitersInOrder(t *testing.T) {
	var mu sync.Mutex
	var order []string
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		order = append(order, r.URL.Path)
		mu.Unlock()
		io.WriteString(w, "ok")
	}))
	tr := httpco.NewTransport()
	tr.MaxConnsPerHost = 1
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		var g scheduler.Group
		for i := range 5 {
			g.Go(ctx, func(ctx context.Context) error {
				_, err := getBody(ctx, client, fmt.Sprintf("%s/%d", srv.URL, i))
				return err
			})
		}
		if err := g.Wait(ctx); err != nil {
			t.Error(err)
		}
	})
	if n := conns.Load(); n != 1 {
		t.Errorf("%d connections, want 1 (MaxConnsPerHost)", n)
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(order, " "); got != "/0 /1 /2 /3 /4" {
		t.Errorf("served in the order %s, want /0 /1 /2 /3 /4", got)
	}
}

// A server that closes each connection after its response gets a new
// connection for each request, and no request fails.
func TestTransportDialsAgainAfterTheServerCloses(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	}))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		for i := range 3 {
			if body, err := getBody(ctx, client, srv.URL); body != "bye" || err != nil {
				t.Errorf("GET %d: %q, %v", i, body, err)
			}
		}
	})
	if n := conns.Load(); n != 3 {
		t.Errorf("%d connections, want 3", n)
	}
}

// An idle connection is closed after IdleConnTimeout on the loop's clock.
func TestTransportClosesIdleConnectionsAfterIdleConnTimeout(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	tr := httpco.NewTransport()
	tr.IdleConnTimeout = time.Minute
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		getBody(ctx, client, srv.URL)
		scheduler.Sleep(ctx, 59*time.Second)
		getBody(ctx, client, srv.URL) // reused: 59 s idle
		scheduler.Sleep(ctx, 61*time.Second)
		getBody(ctx, client, srv.URL) // a new one
	}, scheduler.WithVirtualClock())
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// The Transport asks for gzip and decodes it; a request that asks for an
// encoding itself gets the bytes as they came.
func TestTransportDecodesTheGzipItAskedFor(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Accept-Encoding") != "gzip" {
			io.WriteString(w, "plain")
			return
		}
		w.Header().Set("Content-Encoding", "gzip")
		zw := gzip.NewWriter(w)
		io.WriteString(zw, strings.Repeat("squeezed ", 1000))
		zw.Close()
	}))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != strings.Repeat("squeezed ", 1000) || err != nil || !resp.Uncompressed || resp.Header.Get("Content-Encoding") != "" {
			t.Errorf("got %d bytes, %v, Uncompressed %v, Content-Encoding %q; want the decoded body", len(b), err, resp.Uncompressed, resp.Header.Get("Content-Encoding"))
		}
		req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		req.Header.Set("Accept-Encoding", "identity")
		if resp, err = client.Do(req); err == nil {
			b, _ = io.ReadAll(resp.Body)
			resp.Body.Close()
		}
		if string(b) != "plain" || resp.Uncompressed {
			t.Errorf("with the request's own Accept-Encoding: %q, Uncompressed %v", b, resp.Uncompressed)
		}
	})
}

// A Client.Timeout, which fires on a goroutine of net/http's, ends a
// request waiting for its response.
func TestTransportHonoursClientTimeout(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-release
	}))
	defer close(release)
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		client.Timeout = 50 * time.Millisecond
		_, err := getBody(ctx, client, srv.URL)
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("err = %v, want a timeout", err)
		}
	})
}

// Cancelling the request's context from another goroutine ends a read of
// its body with the context's error.
func TestTransportCancelEndsTheBodyRead(t *testing.T) {
	release := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first part;")
		w.(http.Flusher).Flush()
		<-release
	}))
	defer close(release)
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		rctx, cancel := context.WithCancel(ctx)
		defer cancel()
		req, _ := http.NewRequestWithContext(rctx, http.MethodGet, srv.URL, nil)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		br := bufio.NewReader(resp.Body)
		if s, err := br.ReadString(';'); s != "first part;" || err != nil {
			t.Fatalf("first part: %q, %v", s, err)
		}
		go cancel()
		if _, err := io.ReadAll(br); !errors.Is(err, context.Canceled) {
			t.Errorf("reading on after the cancel: %v, want context.Canceled", err)
		}
	})
}

// A request on a reused connection that the server closes as the request
// comes is sent again on a new connection when it is idempotent, and fails
// otherwise, as net/http's Transport does.
func TestTransportRetriesIdempotentRequestsOnADeadReusedConnection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	defer ln.Close()
	var conns atomic.Int32
	wg.Add(1)
	go func() { // answers each connection's first request, drops it at its second
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				br := bufio.NewReader(c)
				for i := 0; ; i++ {
					req, err := http.ReadRequest(br)
					if err != nil {
						return
					}
					io.Copy(io.Discard, req.Body)
					if i == 1 {
						return
					}
					io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
				}
			}()
		}
	}()
	url := "http://" + ln.Addr().String()
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		if body, err := getBody(ctx, client, url); body != "ok" || err != nil {
			t.Errorf("GET: %q, %v; want ok", body, err)
		}
		// A PUT with an Idempotency-Key is sent again too, its body had
		// again from GetBody; the response carries the request given.
		put, _ := http.NewRequestWithContext(ctx, http.MethodPut, url, strings.NewReader("x"))
		put.Header.Set("Idempotency-Key", "1")
		resp, err := client.Transport.RoundTrip(put)
		if err != nil {
			t.Fatalf("PUT with an Idempotency-Key: %v; want ok (retried on a new connection)", err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "ok" || resp.Request != put {
			t.Errorf("PUT retried: %q, resp.Request %p; want ok and the request given, %p", b, resp.Request, put)
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url, io.NopCloser(strings.NewReader("x")))
		if resp, err := client.Do(req); err == nil {
			resp.Body.Close()
			t.Error("a POST on a connection the server dropped succeeded: it was sent again")
		}
	})
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// A request whose context carries no task is refused.
func TestTransportRefusesARequestFromNoTask(t *testing.T) {
	req, _ := http.NewRequest(http.MethodGet, "http://127.0.0.1:1/", nil)
	if _, err := httpco.NewTransport().RoundTrip(req); !errors.Is(err, httpco.ErrNoTask) || !errors.Is(err, scheduler.ErrNoTask) {
		t.Errorf("err = %v, want ErrNoTask, a scheduler.ErrNoTask", err)
	}
}

// An idle connection on which the server sent something unasked is not
// reused: those bytes belong to no request.
func TestTransportDoesNotReuseAConnectionWithUnaskedBytes(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	bodyRead, junkSent := make(chan struct{}), make(chan struct{})
	var conns atomic.Int32
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		for first := true; ; first = false {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			br := bufio.NewReader(c)
			if _, err := http.ReadRequest(br); err == nil {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
			}
			if first {
				<-bodyRead
				io.WriteString(c, "JUNK")
				acked(c) // in the client's receive queue before junkSent
				close(junkSent)
				defer c.Close()
				continue
			}
			c.Close()
		}
	}()
	url := "http://" + ln.Addr().String()
	tr := httpco.NewTransport()
	tr.ResponseHeaderTimeout = 5 * time.Second // a bound on a failure (JUNK read as a response), not on success
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		if body, err := getBody(ctx, client, url); body != "ok" || err != nil {
			t.Errorf("first GET: %q, %v", body, err)
		}
		close(bodyRead)
		scheduler.Recv(ctx, junkSent)
		// The loop hears of what came at its next poll, which a yield
		// lets it make (Recv returns at once if junkSent was closed
		// already): what comes within the same round of the loop as the
		// next request is not seen, the window net/http's read loop
		// leaves too.
		scheduler.Sleep(ctx, 0)
		if body, err := getBody(ctx, client, url); body != "ok" || err != nil {
			t.Errorf("second GET: %q, %v; want ok on a new connection", body, err)
		}
	})
	if n := conns.Load(); n != 2 {
		t.Errorf("%d connections, want 2", n)
	}
}

// acked waits until every byte written on c is acknowledged, so in the
// peer's receive queue: on a busy machine loopback may deliver them after
// the write has returned. It gives up after a while, failing the test
// that relies on it rather than hanging it.
func acked(c net.Conn) {
	rc, err := c.(*net.TCPConn).SyscallConn()
	if err != nil {
		return
	}
	for giveUp := time.Now().Add(10 * time.Second); time.Now().Before(giveUp); runtime.Gosched() {
		n := -1
		rc.Control(func(fd uintptr) { n, _ = unix.IoctlGetInt(int(fd), unix.SIOCOUTQ) })
		if n <= 0 {
			return
		}
	}
}

// A Transport belongs to the loop of its first request: another loop's
// tasks are refused.
func TestTransportRefusesAnotherLoopsTask(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	tr := httpco.NewTransport()
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		if body, err := getBody(ctx, client, srv.URL); body != "ok" || err != nil {
			t.Errorf("first loop: %q, %v", body, err)
		}
	})
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		if _, err := getBody(ctx, client, srv.URL); !errors.Is(err, httpco.ErrWrongLoop) || !errors.Is(err, scheduler.ErrWrongLoop) {
			t.Errorf("second loop: %v, want ErrWrongLoop", err)
		}
	})
}

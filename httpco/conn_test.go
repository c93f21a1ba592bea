package httpco_test

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A hijacked connection is the handler's: the server writes nothing more
// on it, and what the client sent beyond the request is in the reader.
func TestHijackedConnectionBelongsToTheHandler(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, rw, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		rw.Flush()
		line, _ := rw.ReadString('\n') // may be buffered already: the client sent it with the request
		rw.WriteString("echo: " + line)
		rw.Flush()
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		back := raw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\nping\n")
		want := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\necho: ping\n"
		if back != want {
			t.Errorf("got %q, want %q", back, want)
		}
	})
}

// Flush sends what the handler wrote so far while the handler goes on.
func TestFlushSendsTheFirstPartBeforeTheHandlerEnds(t *testing.T) {
	release := make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "first;")
		w.(http.Flusher).Flush()
		if _, _, err := scheduler.Recv(r.Context(), release); err != nil { // parks until the client saw "first;"
			t.Error(err)
		}
		io.WriteString(w, "second")
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		resp, err := (&http.Client{Transport: tr}).Get("http://" + addr)
		if err != nil {
			t.Error(err)
			close(release)
			return
		}
		defer resp.Body.Close()
		buf := make([]byte, len("first;"))
		_, err = io.ReadFull(resp.Body, buf)
		close(release)
		rest, _ := io.ReadAll(resp.Body)
		if err != nil || string(buf) != "first;" || string(rest) != "second" {
			t.Errorf("read %q then %q (%v), want first; then second", buf, rest, err)
		}
	})
}

// A client that drips its header a byte at a time is cut off at
// ReadHeaderTimeout, counted from its first byte.
func TestDrippingHeaderIsCutOffAtReadHeaderTimeout(t *testing.T) {
	srv := &httpco.Server{Handler: http.NotFoundHandler(), ReadHeaderTimeout: 100 * time.Millisecond}
	serve(t, srv, func(addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		answer := make(chan string)
		go func() {
			back, _ := io.ReadAll(c)
			answer <- string(back)
		}()
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		header := "GET / HTTP/1.1\r\nHost: x\r\nX-Drip: " + strings.Repeat("a", 100000)
		for i := 0; ; i++ {
			select {
			case back := <-answer:
				if !strings.HasPrefix(back, "HTTP/1.1 408 ") {
					t.Errorf("after %d bytes: %q, want 408", i, back)
				}
				return
			case <-tick.C:
				c.Write([]byte{header[i%len(header)]})
			}
		}
	})
}

// Shutdown closes idle connections at once, lets the request being served
// end with "Connection: close", and then Serve returns ErrServerClosed.
func TestShutdownLetsTheRequestInFlightEnd(t *testing.T) {
	inHandler := make(chan struct{}, 1)
	var srv *httpco.Server
	srv = &httpco.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			inHandler <- struct{}{}
			scheduler.Sleep(r.Context(), 0)
			scheduler.Go(r.Context(), func(ctx context.Context) error {
				return srv.Shutdown(ctx) // while this request is in flight
			})
			scheduler.Sleep(r.Context(), 10*time.Millisecond)
		}
		io.WriteString(w, "done")
	})}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		post := scheduler.LoopOf(ctx).Expect()
		go func() {
			defer post(func(context.Context) {})
			idle, err := net.Dial("tcp", ln.Addr().String()) // kept idle: Shutdown closes it
			if err != nil {
				t.Error(err)
				return
			}
			defer idle.Close()
			io.WriteString(idle, "GET /fast HTTP/1.1\r\nHost: x\r\n\r\n")
			br := bufio.NewReader(idle)
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.Close {
				t.Errorf("the idle connection's first response: %v, %v", resp, err)
			} else {
				io.ReadAll(resp.Body)
			}
			back := raw(t, ln.Addr().String(), "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n")
			if !strings.Contains(back, "Connection: close\r\n") || !strings.HasSuffix(back, "done") {
				t.Errorf("in-flight request: %q, want done with Connection: close", back)
			}
			if n, err := br.Read(make([]byte, 1)); n != 0 || err == nil {
				t.Errorf("the idle connection read %d, %v after Shutdown; want it closed", n, err)
			}
		}()
		if err := srv.Serve(ctx, ln); err != http.ErrServerClosed {
			t.Errorf("Serve = %v, want ErrServerClosed", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// A client that goes away while its request is served cancels the
// request's context.
func TestClientGoneCancelsTheRequestsContext(t *testing.T) {
	inHandler := make(chan struct{}, 1)
	result := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler <- struct{}{}
		result <- scheduler.Sleep(r.Context(), time.Hour)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		<-inHandler
		c.Close()
		if err := <-result; err != context.Canceled {
			t.Errorf("the handler's wait ended with %v, want context.Canceled", err)
		}
	})
}

// A status set by WriteHeader before Hijack goes out with its header, as
// net/http sends it; body bytes written before Hijack do not.
func TestHijackSendsTheHeaderWriteHeaderSet(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Upgrade", "echo")
		w.Header().Set("Connection", "Upgrade")
		w.WriteHeader(http.StatusSwitchingProtocols)
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Error(err)
			return
		}
		io.WriteString(c, "hello")
		c.Close()
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		back := raw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
		head, body, _ := strings.Cut(back, "\r\n\r\n")
		if !strings.HasPrefix(head, "HTTP/1.1 101 Switching Protocols\r\n") || !strings.Contains(head, "\r\nUpgrade: echo") || body != "hello" {
			t.Errorf("got %q, want the 101 header and then hello", back)
		}
		if strings.Contains(head, "Content-Length") || strings.Contains(head, "Transfer-Encoding") {
			t.Errorf("a 101 header with a body framing: %q", head)
		}
	})
}

// A handler's "Connection: close" ends the connection after its response,
// as net/http's does: a request pipelined behind it is not served.
func TestHandlersConnectionCloseEndsTheConnection(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Connection", "close")
		io.WriteString(w, "bye")
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		back := raw(t, addr, "GET /1 HTTP/1.1\r\nHost: x\r\n\r\nGET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
		if n := strings.Count(back, "HTTP/1.1 200"); n != 1 {
			t.Errorf("%d responses, want 1:\n%s", n, back)
		}
		if n := strings.Count(back, "Connection: close\r\n"); n != 1 || !strings.HasSuffix(back, "\r\n\r\nbye") {
			t.Errorf("want one Connection: close field and the body last:\n%s", back)
		}
	})
}

// A task the handler started that writes once the handler has returned is
// refused with ErrHandlerReturned, and the next response on the connection
// is whole.
func TestWriteAfterTheHandlerReturnedIsRefused(t *testing.T) {
	later := make(chan struct{})
	lateErr := make(chan error, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/first" {
			scheduler.Go(r.Context(), func(ctx context.Context) error {
				scheduler.Recv(ctx, later)
				_, err := io.WriteString(w, "late")
				lateErr <- err
				return nil
			})
		}
		io.WriteString(w, r.URL.Path)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c, br := dialSend(t, addr, "GET /first HTTP/1.1\r\nHost: x\r\n\r\n")
		if c == nil {
			return // no handler ran
		}
		defer c.Close()
		want := func(path string) {
			if _, body, ok := nextResponse(t, br, path); ok && string(body) != path {
				t.Errorf("%s: body %q, want %q", path, body, path)
			}
		}
		want("/first")
		close(later)
		if err := <-lateErr; err != httpco.ErrHandlerReturned {
			t.Errorf("a write after the handler returned: %v, want httpco.ErrHandlerReturned", err)
		}
		io.WriteString(c, "GET /second HTTP/1.1\r\nHost: x\r\n\r\n")
		want("/second")
	})
}

// A body declared with its Content-Length and written at once, bigger than
// the connection's buffer, goes out whole after its header (in one system
// call with it, on an ioco conn), and the pipelined request after it is
// answered after it.
func TestBigDeclaredBodyFollowsItsHeaderWhole(t *testing.T) {
	big := make([]byte, 100<<10)
	for i := range big {
		big[i] = byte('a' + i%26)
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			w.Write(big)
			return
		}
		io.WriteString(w, r.URL.Path)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c, br := dialSend(t, addr, "GET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /after HTTP/1.1\r\nHost: x\r\n\r\n")
		if c == nil {
			return
		}
		defer c.Close()
		for _, want := range [][]byte{big, []byte("/after")} {
			resp, body, ok := nextResponse(t, br, string(want))
			if !ok {
				return
			}
			if !bytes.Equal(body, want) || resp.ContentLength != int64(len(want)) {
				t.Errorf("%.6s: %d bytes (Content-Length %d); want %d bytes as written", want, len(body), resp.ContentLength, len(want))
			}
		}
	})
}

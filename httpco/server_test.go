package httpco_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// serve runs srv on a loop, listening on a free loopback port, and runs
// client on a goroutine of its own with the server's address; once client
// returns, the server is closed and the loop ends.
func serve(t testing.TB, srv *httpco.Server, client func(addr string)) {
	t.Helper()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		post := scheduler.LoopOf(ctx).Expect()
		go func() {
			client(ln.Addr().String())
			post(func(context.Context) { srv.Close() })
		}()
		if err := srv.Serve(ctx, ln); err != http.ErrServerClosed {
			return fmt.Errorf("Serve = %v, want http.ErrServerClosed", err)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// get makes a GET with a client of its own and returns the response with
// its body read.
func get(t *testing.T, url string) (*http.Response, string) {
	t.Helper()
	tr := &http.Transport{}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Get(url)
	if err != nil {
		t.Errorf("GET %s: %v", url, err)
		return nil, ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("GET %s: reading the body: %v", url, err)
	}
	return resp, string(body)
}

// dialSend opens a connection to addr and sends what on it; the caller
// closes it. It reports a failure and returns nil if the dial fails.
func dialSend(t testing.TB, addr, what string) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Error(err)
		return nil, nil
	}
	io.WriteString(c, what)
	return c, bufio.NewReader(c)
}

// nextResponse reads the next response on br and its body whole; it
// reports a failure, naming the response by what, and returns false when
// there is none.
func nextResponse(t testing.TB, br *bufio.Reader, what string) (*http.Response, []byte, bool) {
	t.Helper()
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Errorf("reading the response for %.10s: %v", what, err)
		return nil, nil, false
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("reading the body of %.10s: %v", what, err)
	}
	return resp, body, true
}

// raw sends what on a new connection and returns everything the server
// writes back until it closes the connection.
func raw(t *testing.T, addr, what string) string {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := io.WriteString(c, what); err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(c)
	return string(back)
}

func TestServeMuxPatternsAnsweredWithContentLength(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s", r.PathValue("name"))
	})
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		resp, body := get(t, "http://"+addr+"/hello/gopher")
		if resp == nil {
			return
		}
		if resp.StatusCode != 200 || body != "hello, gopher" || resp.ContentLength != int64(len(body)) {
			t.Errorf("got %d %q (Content-Length %d), want 200 %q with its length", resp.StatusCode, body, resp.ContentLength, "hello, gopher")
		}
		if ct := resp.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
			t.Errorf("Content-Type = %q, want the sniffed text/plain", ct)
		}
		if resp.Header.Get("Date") == "" {
			t.Error("no Date header")
		}
		if resp, _ := get(t, "http://"+addr+"/nope"); resp != nil && resp.StatusCode != 404 {
			t.Errorf("unknown path: %d, want 404", resp.StatusCode)
		}
	})
}

// Pipelined requests are answered in order on one connection, and a big
// response goes out chunked.
func TestPipelinedRequestsAnsweredInOrderBigBodyChunked(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/big" {
			w.Write(bytes.Repeat([]byte("x"), 3000))
			return
		}
		io.WriteString(w, r.URL.Path)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c, br := dialSend(t, addr, "GET /one HTTP/1.1\r\nHost: x\r\n\r\nGET /big HTTP/1.1\r\nHost: x\r\n\r\nGET /three HTTP/1.1\r\nHost: x\r\n\r\n")
		if c == nil {
			return
		}
		defer c.Close()
		for _, want := range []string{"/one", strings.Repeat("x", 3000), "/three"} {
			resp, body, ok := nextResponse(t, br, want)
			if !ok {
				return
			}
			if string(body) != want {
				t.Errorf("body %.20q, want %.20q", body, want)
			}
			if chunked := len(resp.TransferEncoding) > 0; chunked != (len(want) > 2048) {
				t.Errorf("%.10s: Transfer-Encoding %v, want chunked only past 2 KiB", want, resp.TransferEncoding)
			}
		}
	})
}

func TestRequestBodiesFixedAndChunkedAndHead(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		fmt.Fprintf(w, "%s %d", r.Method, n)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		back := raw(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"+
			"POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n4\r\ndefg\r\n0\r\n\r\n"+
			"HEAD / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
		br := bufio.NewReader(strings.NewReader(back))
		for _, want := range []string{"POST 5", "POST 7", ""} {
			req := &http.Request{Method: "GET"}
			if want == "" {
				req.Method = "HEAD"
			}
			resp, err := http.ReadResponse(br, req)
			if err != nil {
				t.Errorf("response for %q: %v (all: %q)", want, err, back)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if string(body) != want {
				t.Errorf("body %q, want %q", body, want)
			}
			if want == "" && resp.ContentLength != int64(len("HEAD 0")) {
				t.Errorf("HEAD Content-Length = %d, want that of the GET's body", resp.ContentLength)
			}
		}
	})
}

func TestExpectContinueIsAnsweredWhenTheHandlerReads(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		w.Write(body)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Error(err)
			return
		}
		defer c.Close()
		io.WriteString(c, "PUT / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n")
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		if line != "HTTP/1.1 100 Continue\r\n" {
			t.Errorf("first line %q, want 100 Continue", line)
			return
		}
		br.ReadString('\n')
		io.WriteString(c, "data")
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Error(err)
			return
		}
		if body, _ := io.ReadAll(resp.Body); string(body) != "data" {
			t.Errorf("body %q, want data", body)
		}
	})
}

func TestHTTP10ClosesAfterTheResponse(t *testing.T) {
	serve(t, &httpco.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "old")
	})}, func(addr string) {
		back := raw(t, addr, "GET / HTTP/1.0\r\n\r\n")
		if !strings.HasPrefix(back, "HTTP/1.1 200 OK\r\n") || !strings.Contains(back, "Connection: close\r\n") || !strings.HasSuffix(back, "\r\n\r\nold") {
			t.Errorf("response %q, want 200 with Connection: close and then the close", back)
		}
		// Keep-alive, when an HTTP/1.0 client asks for it.
		c, br := dialSend(t, addr, "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\nGET / HTTP/1.0\r\n\r\n")
		if c == nil {
			return
		}
		defer c.Close()
		for i, want := range []string{"keep-alive", ""} { // ReadResponse takes "close" out into Close
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Errorf("response %d: %v", i+1, err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if got := resp.Header.Get("Connection"); got != want || resp.Close != (want == "") || string(body) != "old" {
				t.Errorf("response %d: Connection %q (Close %v), body %q; want %q and old", i+1, got, resp.Close, body, want)
			}
		}
	})
}

// Bad input gets the status net/http gives, and the connection closed.
func TestBadRequestsGetNetHTTPsStatuses(t *testing.T) {
	srv := &httpco.Server{
		Handler:           http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}),
		MaxHeaderBytes:    1024,
		ReadHeaderTimeout: 50 * time.Millisecond,
	}
	serve(t, srv, func(addr string) {
		for _, c := range []struct{ name, send, status string }{
			{"garbage", "\x16\x03\x01 hello\r\n\r\n", "400 Bad Request"},
			{"no host", "GET / HTTP/1.1\r\n\r\n", "400 Bad Request"},
			{"bad header name", "GET / HTTP/1.1\r\nHost: x\r\nBad Name: y\r\n\r\n", "400 Bad Request"},
			{"header too large", "GET / HTTP/1.1\r\nHost: x\r\nX: " + strings.Repeat("a", 8000) + "\r\n\r\n", "431 Request Header Fields Too Large"},
			{"version", "GET / HTTP/2.0\r\nHost: x\r\n\r\n", "505 HTTP Version Not Supported"},
			{"transfer encoding", "POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n", "501 Not Implemented"},
			{"slow header", "GET / HTTP/1.1\r\nHost: x\r\n", "408 Request Timeout"},
			{"expectation", "GET / HTTP/1.1\r\nHost: x\r\nExpect: magic\r\n\r\n", "417 Expectation Failed"},
		} {
			back := raw(t, addr, c.send)
			if !strings.HasPrefix(back, "HTTP/1.1 "+c.status+"\r\n") || !strings.Contains(back, "Connection: close") {
				t.Errorf("%s: got %q, want %s and Connection: close", c.name, back, c.status)
			}
		}
	})
}

// A handler that parks parks only itself: here one waits on a queue that
// the next request fills.
func TestAParkedHandlerLetsTheOthersRun(t *testing.T) {
	q := queue.New[string](0)
	waiting := make(chan struct{}, 1)
	mux := http.NewServeMux()
	mux.HandleFunc("/wait", func(w http.ResponseWriter, r *http.Request) {
		waiting <- struct{}{} // the loop serves nothing else until Get parks
		v, err := q.Get(r.Context())
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		io.WriteString(w, v)
	})
	mux.HandleFunc("/put", func(w http.ResponseWriter, r *http.Request) {
		q.TryPut("released")
	})
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		done := make(chan string)
		go func() {
			_, body := get(t, "http://"+addr+"/wait")
			done <- body
		}()
		<-waiting
		get(t, "http://"+addr+"/put")
		if body := <-done; body != "released" {
			t.Errorf("/wait answered %q, want released", body)
		}
	})
}

func TestHandlerPanicIsLoggedAndTheServerGoesOn(t *testing.T) {
	var logged bytes.Buffer
	mux := http.NewServeMux()
	mux.HandleFunc("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("/ok", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	serve(t, &httpco.Server{Handler: mux, ErrorLog: log.New(&logged, "", 0)}, func(addr string) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		if _, err := (&http.Client{Transport: tr}).Get("http://" + addr + "/panic"); err == nil {
			t.Error("GET /panic succeeded, want the connection closed")
		}
		if _, body := get(t, "http://"+addr+"/ok"); body != "ok" {
			t.Errorf("after the panic: %q, want ok", body)
		}
	})
	if !strings.Contains(logged.String(), "panic serving") || !strings.Contains(logged.String(), "boom") {
		t.Errorf("log %q, want the panic", logged.String())
	}
}

func TestMaxBytesReaderStopsABigBody(t *testing.T) {
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 10))
		var mbe *http.MaxBytesError
		if !errors.As(err, &mbe) {
			t.Errorf("reading past the limit: %v, want a *http.MaxBytesError", err)
		}
		http.Error(w, "too big", http.StatusRequestEntityTooLarge)
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		back := raw(t, addr, "POST / HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: 20\r\n\r\n01234567890123456789")
		if !strings.HasPrefix(back, "HTTP/1.1 413 ") {
			t.Errorf("got %q, want 413", back)
		}
	})
}

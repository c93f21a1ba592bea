package httpco_test

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
)

// readCounter counts the reads of a request body.
type readCounter struct {
	io.Reader
	reads atomic.Int32
}

func (r *readCounter) Read(p []byte) (int, error) { r.reads.Add(1); return r.Reader.Read(p) }

// With "Expect: 100-continue" the body goes once the server asks for it
// (net/http's server sends 100 Continue when its handler reads), and not at
// all when the server answers first.
func TestTransportExpectContinueSendsTheBodyOnlyWhenAsked(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/refuse" {
			http.Error(w, "too big", http.StatusRequestEntityTooLarge)
			return
		}
		io.Copy(w, r.Body)
	}))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		for _, c := range []struct {
			path, wantBody string
			wantStatus     int
			wantReads      bool
		}{{"/echo", "payload", 200, true}, {"/refuse", "too big\n", 413, false}} {
			body := &readCounter{Reader: strings.NewReader("payload")}
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+c.path, io.NopCloser(body))
			req.ContentLength = int64(len("payload"))
			req.Header.Set("Expect", "100-continue")
			resp, err := client.Do(req)
			if err != nil {
				t.Errorf("%s: %v", c.path, err)
				continue
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.wantStatus || string(got) != c.wantBody || (body.reads.Load() > 0) != c.wantReads {
				t.Errorf("%s: %d %q with %d reads of the body; want %d %q, body read: %v",
					c.path, resp.StatusCode, got, body.reads.Load(), c.wantStatus, c.wantBody, c.wantReads)
			}
		}
	})
}

// A server that never answers the expectation gets the body after
// ExpectContinueTimeout: it answers only once it has the body, so the
// request can end only by way of the timeout.
func TestTransportExpectContinueSendsTheBodyAfterTheTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	wg.Add(1)
	go func() { // reads the request and its body without a 100, then answers
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		req, err := http.ReadRequest(bufio.NewReader(c))
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: "+strconv.Itoa(len(b))+"\r\n\r\n"+string(b))
	}()
	tr := httpco.NewTransport()
	tr.ExpectContinueTimeout = 10 * time.Millisecond
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPut, "http://"+ln.Addr().String(), strings.NewReader("late"))
		req.Header.Set("Expect", "100-continue")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(got) != "late" {
			t.Errorf("echo %q, want late", got)
		}
	})
}

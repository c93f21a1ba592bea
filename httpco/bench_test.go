package httpco_test

import (
	"bufio"
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"testing"

	"github.com/evergo/evergo/httpco"
)

// The pair below measures a server's cost per request in-process, over
// loopback, with a client that is nearly free: one connection, a request
// written in one write and a response read by its known size. Run it at one
// core, as the budget compares, with its allocations:
//
//	go test ./httpco -run '^$' -bench 'Hello' -cpu 1 -benchmem -count 6
//
// internal/bench/http measures the same under wrk with many connections;
// this pair is the quick check of a change to the request path, and the
// place to read allocations per request from.

var (
	benchBody    = []byte("Hello, World!")
	benchBodyLen = strconv.Itoa(len(benchBody))
	benchRequest = []byte("GET / HTTP/1.1\r\nHost: bench\r\nUser-Agent: bench\r\nAccept: */*\r\n\r\n")
)

// benchHandler is a handler written as one usually is.
func benchHandler(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", benchBodyLen)
	w.Write(benchBody)
}

// runClient makes b.N keep-alive requests on one connection to addr.
func runClient(b *testing.B, addr string) {
	c, err := net.Dial("tcp", addr)
	if err != nil {
		b.Error(err)
		return
	}
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	// The first response tells the size of all: its header is the same
	// each time but for Date, which has a fixed width.
	size := 0
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := c.Write(benchRequest); err != nil {
			b.Error(err)
			return
		}
		if size == 0 {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				b.Error(err)
				return
			}
			body, _ := io.ReadAll(resp.Body)
			if !bytes.Equal(body, benchBody) {
				b.Errorf("body %q", body)
				return
			}
			size = -1
			continue
		}
		if size < 0 {
			// Measure the second response, then discard by size.
			n := 0
			for {
				line, err := br.ReadSlice('\n')
				if err != nil {
					b.Error(err)
					return
				}
				n += len(line)
				if len(line) == 2 {
					break
				}
			}
			br.Discard(len(benchBody))
			size = n + len(benchBody)
			continue
		}
		if _, err := br.Discard(size); err != nil {
			b.Error(err)
			return
		}
	}
	b.StopTimer()
}

func BenchmarkHelloHttpco(b *testing.B) {
	b.ReportAllocs()
	serve(b, &httpco.Server{Handler: http.HandlerFunc(benchHandler)}, func(addr string) {
		runClient(b, addr)
	})
}

func BenchmarkHelloNetHTTP(b *testing.B) {
	b.ReportAllocs()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(benchHandler)}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	runClient(b, ln.Addr().String())
	srv.Close()
	if err := <-done; err != http.ErrServerClosed {
		b.Fatal(err)
	}
}

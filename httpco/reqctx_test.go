package httpco_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// What the handler saw of its request's context, sent to the client side
// of the test.
type seenCtx struct {
	ctx, child  context.Context
	cancelChild context.CancelFunc
	errDuring   error
	laddr       any
	onLoop      bool
	stopAfter   func() bool // context.AfterFunc's stop
}

// The request's context carries the local address and the loop, is live
// while the handler runs, and ends when the request does, with the contexts
// derived from it and the functions registered on it.
func TestRequestContextEndsWithTheRequestAndWhatDerivesFromIt(t *testing.T) {
	seen := make(chan seenCtx, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" {
			ctx := r.Context()
			s := seenCtx{ctx: ctx, errDuring: ctx.Err(), laddr: ctx.Value(http.LocalAddrContextKey),
				onLoop: scheduler.LoopOf(ctx) != nil}
			s.child, s.cancelChild = context.WithCancel(ctx) // cancelled by the request's end first
			s.stopAfter = context.AfterFunc(ctx, func() {})
			seen <- s
		}
		w.Write([]byte("ok"))
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		// The connection stays open throughout: the request's end, not the
		// connection's, is what must end its context. The second request's
		// response comes once the first request is over on the server.
		c, br := dialSend(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if c == nil {
			return
		}
		defer c.Close()
		for i := range 2 {
			if i == 1 {
				io.WriteString(c, "GET /2 HTTP/1.1\r\nHost: x\r\n\r\n")
			}
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Error(err)
				return
			}
			if body, _ := io.ReadAll(io.LimitReader(resp.Body, 2)); string(body) != "ok" {
				t.Errorf("body %q, want ok", body)
			}
		}
		s := <-seen
		defer s.cancelChild()
		if s.errDuring != nil {
			t.Errorf("Err during the handler = %v, want nil", s.errDuring)
		}
		if a, ok := s.laddr.(net.Addr); !ok || a.String() != addr {
			t.Errorf("LocalAddrContextKey = %v, want %s", s.laddr, addr)
		}
		if !s.onLoop {
			t.Error("scheduler.LoopOf(r.Context()) = nil: the request's context must carry its task's values")
		}
		for what, done := range map[string]<-chan struct{}{"Done": s.ctx.Done(), "a derived context's Done": s.child.Done()} {
			select {
			case <-done:
			default:
				t.Errorf("%s is open after the request ended", what)
			}
		}
		if s.stopAfter() {
			t.Error("context.AfterFunc's function had not been started when the request ended")
		}
		if err := s.ctx.Err(); err != context.Canceled {
			t.Errorf("Err after the request = %v, want context.Canceled", err)
		}
		if err := s.child.Err(); err != context.Canceled {
			t.Errorf("a derived context's Err = %v, want context.Canceled", err)
		}
	})
}

// A handler's request context is done by the time its deferred calls run
// when its task is killed (Shutdown's ctx ended): it follows its task's
// context, not only the end of the request.
func TestRequestContextIsDoneWhenTheTaskIsKilled(t *testing.T) {
	inHandler := make(chan struct{})
	doneInDefer := make(chan bool, 1)
	never := make(chan struct{})
	var srv *httpco.Server
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := r.Context().Done()
		defer func() {
			select {
			case <-done:
				doneInDefer <- true
			default:
				doneInDefer <- false
			}
		}()
		close(inHandler)
		// Parked on a context that does not end with the request's, so
		// that only the task's end can reach the request's context.
		scheduler.Recv(context.WithoutCancel(r.Context()), never)
	})
	srv = &httpco.Server{Handler: handler}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		scheduler.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
		client := make(chan net.Conn, 1)
		go func() {
			c, err := net.Dial("tcp", ln.Addr().String())
			if err != nil {
				t.Error(err)
				close(inHandler)
				client <- nil
				return
			}
			c.Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
			client <- c
		}()
		if _, _, err := scheduler.Recv(ctx, inHandler); err != nil {
			return err
		}
		sctx, cancel := scheduler.WithTimeout(ctx, time.Millisecond) // on the loop's clock
		defer cancel()
		if err := srv.Shutdown(sctx); err != context.DeadlineExceeded {
			t.Errorf("Shutdown = %v, want context.DeadlineExceeded (the handler was killed)", err)
		}
		c, _, _ := scheduler.Recv(ctx, client)
		if c == nil {
			return nil // the dial failed: no handler ran
		}
		c.Close()
		if !<-doneInDefer {
			t.Error("the request's context was not done when the killed handler's deferred calls ran")
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

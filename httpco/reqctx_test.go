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
	afterRan    chan struct{}
}

// The request's context carries the local address and the loop, is live
// while the handler runs, and ends when the request does, with the contexts
// derived from it and the functions registered on it.
func TestRequestContextEndsWithTheRequestAndWhatDerivesFromIt(t *testing.T) {
	seen := make(chan seenCtx, 1)
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := r.Context()
		s := seenCtx{ctx: ctx, errDuring: ctx.Err(), laddr: ctx.Value(http.LocalAddrContextKey),
			onLoop: scheduler.LoopOf(ctx) != nil, afterRan: make(chan struct{})}
		s.child, s.cancelChild = context.WithCancel(ctx) // cancelled by the request's end first
		context.AfterFunc(ctx, func() { close(s.afterRan) })
		seen <- s
		w.Write([]byte("ok"))
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		// The connection stays open throughout: the request's end, not the
		// connection's, is what must end its context.
		c, br := dialSend(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n")
		if c == nil {
			return
		}
		defer c.Close()
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Error(err)
			return
		}
		if body, _ := io.ReadAll(io.LimitReader(resp.Body, 2)); string(body) != "ok" {
			t.Errorf("body %q, want ok", body)
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
		for what, done := range map[string]<-chan struct{}{"Done": s.ctx.Done(), "a derived context's Done": s.child.Done(), "an AfterFunc": s.afterRan} {
			select {
			case <-done:
			case <-time.After(10 * time.Second): // a failure, not a margin: the end comes as the handler returns
				t.Errorf("%s did not end with the request", what)
			}
		}
		if err := s.ctx.Err(); err != context.Canceled {
			t.Errorf("Err after the request = %v, want context.Canceled", err)
		}
		if err := s.child.Err(); err != context.Canceled {
			t.Errorf("a derived context's Err = %v, want context.Canceled", err)
		}
	})
}

// A handler that selects on its request's Done from a goroutine of its own
// sees it close when its task is killed (Shutdown's ctx ended).
func TestRequestContextDoneClosesWhenTheTaskIsKilled(t *testing.T) {
	inHandler := make(chan struct{})
	var srv *httpco.Server
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		done := r.Context().Done()
		closed := make(chan struct{})
		go func() { <-done; close(closed) }()
		close(inHandler)
		scheduler.Recv(r.Context(), closed) // parks until the goroutine saw Done
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
		if c, _, _ := scheduler.Recv(ctx, client); c != nil {
			c.Close()
		}
		return nil
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

package ioco_test

import (
	"context"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestServerShutdownStopsAcceptingAndWaitsForTheHandlers(t *testing.T) {
	runNamed(t, 0, func(ctx context.Context, n *named) error {
		s, j, addr, serve := n.s, &n.j, n.addr, n.serve
		ab, err := dialNamed(ctx, addr, "A", "B")
		if err != nil {
			return err
		}
		defer closeAll(ab)
		a, b := ab[0], ab[1]
		shutdown, err := scheduler.Go(ctx, func(ctx context.Context) error {
			err := s.Shutdown(ctx)
			j.add("Shutdown returned %v", err)
			return err
		})
		if err != nil {
			return err
		}
		if err := joinClosed(ctx, serve); err != nil {
			return err
		}
		if _, err := ioco.Dial(ctx, "tcp", addr); err == nil {
			t.Errorf("Dial after Shutdown: connected, want refused")
		}
		if err := roundTrip(b, "still served"); err != nil {
			return err
		}
		a.Close()
		if err := j.waitFor(ctx, "A done"); err != nil {
			return err
		}
		if shutdown.State() == scheduler.StateEnded {
			t.Errorf("Shutdown returned while B's handler runs")
		}
		b.Close()
		if err := shutdown.Join(ctx); err != nil {
			return fmt.Errorf("Shutdown: %v", err)
		}
		want := "[served A served B A ended: <nil> A done B ended: <nil> B done Shutdown returned <nil>]"
		if got := j.String(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		return nil
	})
}

func TestServerShutdownWhoseCtxEndsKillsTheHandlersAndRunsTheirDeferredCalls(t *testing.T) {
	runNamed(t, 0, func(ctx context.Context, n *named) error {
		s, j, addr, serve := n.s, &n.j, n.addr, n.serve
		a, err := client(ctx, "tcp", addr, "A", true)
		if err != nil {
			return err
		}
		defer a.Close()
		sctx, cancel := scheduler.WithTimeout(ctx, 10*time.Millisecond) // the loop's clock
		defer cancel()
		if err := s.Shutdown(sctx); err != context.DeadlineExceeded {
			return fmt.Errorf("Shutdown returned %v, want context.DeadlineExceeded", err)
		}
		// Killed in io.Copy: its deferred call ran, the rest never will.
		if got, want := j.String(), "[served A A done]"; got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		if err := expectEOF(a); err != nil {
			return fmt.Errorf("client of a killed handler: %v", err)
		}
		if err := joinClosed(ctx, serve); err != nil {
			return err
		}
		a.Close()
		return nil
	})
}

// hookListener calls before, when not nil, at the start of each Accept of
// the listener it wraps, with the call's index (an error from before is
// Accept's), and after, when not nil, with the error of the wrapped
// listener's Accept.
type hookListener struct {
	net.Listener
	calls  int
	before func(i int) error
	after  func(err error)
}

func (l *hookListener) Accept() (net.Conn, error) {
	i := l.calls
	l.calls++
	if l.before != nil {
		if err := l.before(i); err != nil {
			return nil, err
		}
	}
	c, err := l.Listener.Accept()
	if l.after != nil {
		l.after(err)
	}
	return c, err
}

func TestServerShutdownKillsAHandlerTaskThatHasNotRunAndClosesItsConn(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		called := false
		s := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) { called = true }}
		var shutdownErr error
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// The second Accept, made by Serve just after it started the first
		// connection's task, shuts the server down with a ctx already
		// done, before that task has run.
		ln := &hookListener{Listener: real, before: func(i int) error {
			if i == 1 {
				serveCtx := scheduler.LoopOf(ctx).Running().Context()
				sctx, cancel := context.WithCancel(serveCtx)
				cancel()
				shutdownErr = s.Shutdown(sctx)
			}
			return nil
		}}
		serve, err := scheduler.Spawn(ctx, "serve", func(ctx context.Context) error { return s.Serve(ctx, ln) })
		if err != nil {
			return err
		}
		c, err := ioco.Dial(ctx, "tcp", real.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		if err := joinClosed(ctx, serve); err != nil {
			return err
		}
		if shutdownErr != context.Canceled || called {
			t.Errorf("Shutdown returned %v and the handler was called: %v; want context.Canceled and no call", shutdownErr, called)
		}
		if err := expectEOF(c); err != nil {
			return err
		}
		c.Close()
		noLeak()
		return nil
	})
}

func TestServerCloseClosesEveryConnUnderItsHandlerAndServeReturnsErrServerClosed(t *testing.T) {
	runNamed(t, 0, func(ctx context.Context, n *named) error {
		s, j, addr, serve := n.s, &n.j, n.addr, n.serve
		clients, err := dialNamed(ctx, addr, "A", "B")
		if err != nil {
			return err
		}
		defer closeAll(clients)
		if err := s.Close(); err != nil {
			return fmt.Errorf("Close: %v", err)
		}
		if err := joinClosed(ctx, serve); err != nil {
			return err
		}
		for _, name := range []string{"A", "B"} {
			if err := j.waitFor(ctx, name+" done"); err != nil {
				return err
			}
		}
		for _, e := range j.entries {
			if strings.Contains(e, "ended") && !strings.Contains(e, net.ErrClosed.Error()) {
				t.Errorf("handler %s, want net.ErrClosed", e)
			}
		}
		for _, c := range clients {
			if err := expectEOF(c); err != nil {
				return err
			}
		}
		closeAll(clients)
		if err := s.Shutdown(ctx); err != nil { // nothing left to wait for
			return err
		}
		return nil
	})
}

func TestServerServeWhoseCtxEndsClosesTheServerAndReturnsCtxError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		var j journal
		s := &ioco.Server{Handler: namedEcho(&j)}
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		serve, err := scheduler.Go(ctx, func(ctx context.Context) error {
			sctx, cancel := scheduler.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			return s.Serve(sctx, ln)
		})
		if err != nil {
			return err
		}
		a, err := client(ctx, "tcp", ln.Addr().String(), "A", true)
		if err != nil {
			return err
		}
		defer a.Close()
		if err := serve.Join(ctx); err != context.DeadlineExceeded {
			return fmt.Errorf("Serve returned %v, want context.DeadlineExceeded", err)
		}
		if err := expectEOF(a); err != nil {
			return err
		}
		if err := j.waitFor(ctx, "A done"); err != nil {
			return err
		}
		a.Close()
		noLeak()
		return nil
	})
}

func TestServerKilledServeClosesTheServer(t *testing.T) {
	runNamed(t, 0, func(ctx context.Context, n *named) error {
		j, addr, serve := &n.j, n.addr, n.serve
		a, err := client(ctx, "tcp", addr, "A", true)
		if err != nil {
			return err
		}
		defer a.Close()
		if err := serve.Kill(ctx); err != nil {
			return err
		}
		if err := expectEOF(a); err != nil {
			return err
		}
		if err := j.waitFor(ctx, "A done"); err != nil {
			return err
		}
		a.Close()
		return nil
	})
}

package serve_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/echo/internal/serve"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// runVirtual runs fn as the main task of a loop on a virtual clock.
func runVirtual(t *testing.T, fn func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), fn, scheduler.WithVirtualClock()); err != nil {
		t.Fatal(err)
	}
}

// since returns a func that gives the loop's time since it was called.
func since(ctx context.Context) func() time.Duration {
	start := scheduler.Now(ctx)
	return func() time.Duration { return scheduler.Now(ctx).Sub(start) }
}

func TestLoopWaitsOutAcceptErrorsOnTheLoopClockThenServesAClient(t *testing.T) {
	var log []string
	var echoed string
	var serveErr error
	runVirtual(t, func(ctx context.Context) error {
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer real.Close()
		elapsed := since(ctx)
		client := func(ctx context.Context) error {
			defer real.Close() // ends the accept loop
			c, err := ioco.Dial(ctx, "tcp", real.Addr().String())
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Write([]byte("hello")); err != nil {
				return err
			}
			got := make([]byte, 5)
			if _, err := io.ReadFull(c, got); err != nil {
				return err
			}
			echoed = string(got)
			return nil
		}
		ln := &scriptListener{
			Listener: real,
			steps: []step{
				{err: acceptErr(syscall.EMFILE)},
				{err: acceptErr(syscall.ENFILE)},
				{err: acceptErr(syscall.ENOBUFS)},
				{err: acceptErr(syscall.ECONNABORTED)},
			},
			onAccept: func(i int) {
				log = append(log, fmt.Sprintf("accept %d at %v", i, elapsed()))
				if i == 4 { // the errors are over: a client comes
					scheduler.Go(ctx, client)
				}
			},
		}
		srv, err := scheduler.Go(ctx, func(ctx context.Context) error {
			serveErr = serve.Loop(ctx, ln, serve.Echo, t.Logf)
			return nil
		})
		if err != nil {
			return err
		}
		return srv.Join(ctx)
	})
	want := "[accept 0 at 0s accept 1 at 5ms accept 2 at 15ms accept 3 at 35ms accept 4 at 75ms accept 5 at 75ms]"
	if got := fmt.Sprint(log); got != want {
		t.Errorf("Accept calls:\n%s\nwant\n%s", got, want)
	}
	if echoed != "hello" {
		t.Errorf("client got %q back, want %q", echoed, "hello")
	}
	if !errors.Is(serveErr, net.ErrClosed) {
		t.Errorf("Loop returned %v, want net.ErrClosed", serveErr)
	}
}

func TestLoopRunsOtherTasksDuringBackoff(t *testing.T) {
	var log []string
	runVirtual(t, func(ctx context.Context) error {
		elapsed := since(ctx)
		ln := &scriptListener{
			steps: []step{{err: acceptErr(syscall.EMFILE)}, {err: acceptErr(syscall.EMFILE)}},
			onAccept: func(i int) {
				log = append(log, fmt.Sprintf("accept %d at %v", i, elapsed()))
			},
		}
		other, err := scheduler.Go(ctx, func(ctx context.Context) error {
			if err := scheduler.Sleep(ctx, 7*time.Millisecond); err != nil {
				return err
			}
			log = append(log, fmt.Sprintf("other task at %v", elapsed()))
			return nil
		})
		if err != nil {
			return err
		}
		if err := serve.Loop(ctx, ln, serve.Echo, nil); !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("Loop returned %v, want net.ErrClosed", err)
		}
		return other.Join(ctx)
	})
	want := "[accept 0 at 0s accept 1 at 5ms other task at 7ms accept 2 at 15ms]"
	if got := fmt.Sprint(log); got != want {
		t.Errorf("events:\n%s\nwant\n%s", got, want)
	}
}

func TestLoopBackoffStartsOverAfterAnAcceptedConn(t *testing.T) {
	var log []string
	c := &eofConn{}
	runVirtual(t, func(ctx context.Context) error {
		elapsed := since(ctx)
		ln := &scriptListener{
			steps: []step{
				{err: acceptErr(syscall.EMFILE)},
				{err: acceptErr(syscall.EMFILE)},
				{conn: c},
				{err: acceptErr(syscall.EMFILE)},
			},
			onAccept: func(i int) {
				log = append(log, fmt.Sprintf("accept %d at %v", i, elapsed()))
			},
		}
		err := serve.Loop(ctx, ln, serve.Echo, nil)
		if !errors.Is(err, net.ErrClosed) {
			return fmt.Errorf("Loop returned %v, want net.ErrClosed", err)
		}
		return nil
	})
	want := "[accept 0 at 0s accept 1 at 5ms accept 2 at 15ms accept 3 at 15ms accept 4 at 20ms]"
	if got := fmt.Sprint(log); got != want {
		t.Errorf("Accept calls:\n%s\nwant\n%s", got, want)
	}
	if c.closed != 1 {
		t.Errorf("accepted conn closed %d times, want 1", c.closed)
	}
}

func TestLoopEndsAtOnceOnAnErrorThatIsNotTemporary(t *testing.T) {
	for _, stop := range []error{closedErr(), acceptErr(syscall.EINVAL)} {
		runVirtual(t, func(ctx context.Context) error {
			elapsed := since(ctx)
			ln := &scriptListener{steps: []step{{err: stop}, {err: acceptErr(syscall.EMFILE)}}}
			if err := serve.Loop(ctx, ln, serve.Echo, nil); err != stop {
				t.Errorf("Loop returned %v, want %v", err, stop)
			}
			if ln.calls != 1 || elapsed() != 0 {
				t.Errorf("after %v: %d Accept calls in %v, want 1 in 0s", stop, ln.calls, elapsed())
			}
			return nil
		})
	}
}

func TestLoopInBackoffEndsWhenKilled(t *testing.T) {
	runVirtual(t, func(ctx context.Context) error {
		forever := make([]step, 100)
		for i := range forever {
			forever[i].err = acceptErr(syscall.EMFILE)
		}
		ln := &scriptListener{steps: forever}
		srv, err := scheduler.Go(ctx, func(ctx context.Context) error {
			return serve.Loop(ctx, ln, serve.Echo, nil)
		})
		if err != nil {
			return err
		}
		if err := scheduler.Sleep(ctx, 10*time.Second); err != nil {
			return err
		}
		if err := srv.Kill(ctx); err != nil {
			return err
		}
		if err := srv.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			return fmt.Errorf("server task ended with %v, want ErrKilled", err)
		}
		// Accepts at 0, 5, 15, ..., 635 and 1,275 ms (5+10+...+640), then
		// a second apart: 2.275 s to 9.275 s.
		if want := 9 + 8; ln.calls != want {
			return fmt.Errorf("%d Accept calls in 10 s, want %d", ln.calls, want)
		}
		return nil
	})
}

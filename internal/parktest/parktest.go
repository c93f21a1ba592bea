// Package parktest checks, for the packages built on the scheduler, the
// rules every parking call keeps: it returns a ctx's error only once ctx
// reports it (with its cause), and in a dying task's deferred calls it
// returns scheduler.ErrKilled at once. Each package lists its parking calls
// as Setups; the checks are the same for all.
package parktest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// A Setup prepares, on the loop of ctx and by the task ctx carries, a
// parking call that holds up any other task that makes it (a lock the
// setting-up task holds, an empty queue), and returns that call. It runs
// once per check; what it leaves behind must not keep the loop from ending.
type Setup func(ctx context.Context) (call func(ctx context.Context) error)

var errCause = errors.New("parktest: the cause")

// ReturnsOnlyWhatCtxReports makes each call, in a task of its own, with a
// ctx that times out while it waits (package context's timeout, and the
// loop's), several times, and fails t unless the call returned an error for
// which errors.Is(err, ctx.Err()) holds with ctx.Err() set, and
// context.Cause(ctx) gives the cause.
func ReturnsOnlyWhatCtxReports(t *testing.T, calls map[string]Setup) {
	t.Helper()
	timeouts := map[string]func(context.Context, time.Duration, error) (context.Context, context.CancelFunc){
		"context":   context.WithTimeoutCause,
		"scheduler": scheduler.WithTimeoutCause,
	}
	for kind, withTimeout := range timeouts {
		for name, setup := range calls {
			t.Run(kind+"/"+name, func(t *testing.T) {
				run(t, func(ctx context.Context) error {
					for range 10 {
						call := setup(ctx)
						caller, err := scheduler.Spawn(ctx, "caller", func(ctx context.Context) error {
							c, cancel := withTimeout(ctx, 50*time.Microsecond, errCause)
							defer cancel()
							err := call(c)
							if cerr := c.Err(); cerr == nil || !errors.Is(err, cerr) || context.Cause(c) != errCause {
								t.Errorf("%s = %v while its ctx's Err was %v and Cause %v", name, err, cerr, context.Cause(c))
							}
							return nil
						})
						if err != nil {
							return err
						}
						if err := caller.Join(ctx); err != nil {
							return err
						}
					}
					return nil
				})
			})
		}
	}
}

// DyingTaskGetsErrKilled makes each call in the deferred function of a
// task killed while parked, and fails t unless it returned an error for
// which errors.Is(err, scheduler.ErrKilled) holds: a dying task may not
// park, and its cancelled context's error is not the answer.
func DyingTaskGetsErrKilled(t *testing.T, calls map[string]Setup) {
	t.Helper()
	for name, setup := range calls {
		t.Run(name, func(t *testing.T) {
			var got error
			run(t, func(ctx context.Context) error {
				call := setup(ctx)
				victim, err := scheduler.Spawn(ctx, "victim", func(ctx context.Context) error {
					defer func() { got = call(ctx) }()
					return scheduler.Park(ctx, "the kill")
				})
				if err != nil {
					return err
				}
				if err := scheduler.Sleep(ctx, 0); err != nil {
					return err
				}
				return victim.Kill(ctx)
			})
			if !errors.Is(got, scheduler.ErrKilled) {
				t.Fatalf("%s in a dying task's deferred call = %v, want ErrKilled", name, got)
			}
		})
	}
}

func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

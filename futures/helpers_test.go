package futures_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// Helpers shared by the package's tests.

// runLoop runs main as the main task of a loop on a virtual clock and fails
// the test on an error.
func runLoop(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main, scheduler.WithVirtualClock()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func spawnTask(t *testing.T, ctx context.Context, name string, fn func(ctx context.Context) error) *scheduler.Task {
	t.Helper()
	task, err := scheduler.Spawn(ctx, name, fn)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return task
}

// letRun lets every runnable task run until it parks or ends.
func letRun(ctx context.Context) {
	for range 3 {
		scheduler.Sleep(ctx, 0)
	}
}

// panicsWith fails t unless fn panics with a string that starts with want.
func panicsWith(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, want) {
			t.Errorf("panic %v, want one that starts with %q", r, want)
		}
	}()
	fn()
}

// loopDeadline returns ctx with a deadline d from now on ctx's loop clock.
func loopDeadline(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return scheduler.WithTimeout(ctx, d)
}

// since is the time on ctx's loop clock since start.
func since(ctx context.Context, start time.Time) time.Duration {
	return scheduler.Now(ctx).Sub(start)
}

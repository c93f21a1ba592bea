package scheduler_test

import (
	"context"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// watched runs main on a loop whose block watch sends its reports to the
// returned channel, which holds up to 64 of them (more are dropped).
func watched(t *testing.T, threshold time.Duration, main func(ctx context.Context, reports <-chan scheduler.LoopBlocked) error) {
	t.Helper()
	reports := make(chan scheduler.LoopBlocked, 64)
	report := func(b scheduler.LoopBlocked) {
		select {
		case reports <- b:
		default:
		}
	}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		return main(ctx, reports)
	}, scheduler.WithBlockWatch(threshold, report))
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// A task that blocks its goroutine (here on a Go channel: the reports
// themselves) is reported while it blocks, by id and name, with its stack.
func TestBlockWatchReportsATaskThatBlocksTheLoop(t *testing.T) {
	const threshold = 5 * time.Millisecond
	watched(t, threshold, func(ctx context.Context, reports <-chan scheduler.LoopBlocked) error {
		blocker, err := scheduler.Spawn(ctx, "blocker", func(ctx context.Context) error {
			me := scheduler.Current(ctx).ID()
			for b := range reports { // blocks the loop's thread: no switch
				// An earlier report may be about the time before the
				// receive (a slow machine): wait for one that sees it.
				if b.TaskID == me && strings.Contains(b.Stack, "[chan receive") {
					if b.Task != "blocker" || b.For < threshold ||
						!strings.Contains(b.Stack, "TestBlockWatchReportsATaskThatBlocksTheLoop") {
						t.Errorf("report %+v, want task %q held for ≥ %v with this test in its stack", b, "blocker", threshold)
					}
					if !strings.Contains(b.String(), `by task `) {
						t.Errorf("String() = %q", b.String())
					}
					return nil
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return blocker.Join(ctx)
	})
}

// A callback that blocks the loop is reported too, as no task.
func TestBlockWatchReportsABlockingCallback(t *testing.T) {
	watched(t, 5*time.Millisecond, func(ctx context.Context, reports <-chan scheduler.LoopBlocked) error {
		done := false
		scheduler.LoopOf(ctx).CallSoon(func(context.Context) {
			for b := range reports {
				if b.TaskID == 0 && strings.Contains(b.Stack, "[chan receive") &&
					strings.Contains(b.Stack, "TestBlockWatchReportsABlockingCallback") {
					done = true
					return
				}
			}
		})
		if err := scheduler.Sleep(ctx, 0); err != nil {
			return err
		}
		if !done {
			t.Error("the callback ran and returned without a report of itself")
		}
		return nil
	})
}

// A loop that waits in the poller is idle, not blocked, however long it
// waits; nor is one whose tasks keep switching.
func TestBlockWatchIsQuietWhileTheLoopWaitsOrSwitches(t *testing.T) {
	// Long enough that no stall of a loaded machine between two switches
	// reaches it.
	const threshold = 200 * time.Millisecond
	watched(t, threshold, func(ctx context.Context, reports <-chan scheduler.LoopBlocked) error {
		l := scheduler.LoopOf(ctx)
		checks := func(n uint64) { // 4 checks per threshold
			for start := scheduler.WatchChecks(l); scheduler.WatchChecks(l) < start+n; {
				runtime.Gosched()
			}
		}
		// Idle: the only task waits for a post that comes after three
		// thresholds' worth of checks.
		post, me := l.Expect(), scheduler.Current(ctx)
		go func() {
			checks(12)
			post(func(context.Context) { me.Wake() })
		}()
		if err := scheduler.Park(ctx, "a post"); err != nil {
			return err
		}
		// Busy: two tasks yield to each other for as long.
		stop := false
		other := mustGo(t, ctx, func(ctx context.Context) error {
			for !stop {
				if err := scheduler.Sleep(ctx, 0); err != nil {
					return err
				}
			}
			return nil
		})
		for start := scheduler.WatchChecks(l); scheduler.WatchChecks(l) < start+12; {
			if err := scheduler.Sleep(ctx, 0); err != nil {
				return err
			}
		}
		stop = true
		if err := other.Join(ctx); err != nil {
			return err
		}
		select {
		case b := <-reports:
			t.Errorf("report of a loop that never held the baton for %v: %v", threshold, b)
		default:
		}
		return nil
	})
}

func TestWithBlockWatchRefusesABadThresholdOrNoReport(t *testing.T) {
	for name, f := range map[string]func(){
		"zero threshold": func() { scheduler.WithBlockWatch(0, func(scheduler.LoopBlocked) {}) },
		"nil report":     func() { scheduler.WithBlockWatch(time.Second, nil) },
	} {
		func() {
			defer func() {
				if r, _ := recover().(string); !strings.HasPrefix(r, "scheduler: WithBlockWatch: ") {
					t.Errorf("%s: panic %q, want one of scheduler's", name, r)
				}
			}()
			f()
		}()
	}
}

package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// A deadline on the loop's clock follows the virtual clock: after a day of
// sleeps, an hour's timeout is an hour of virtual time, not a deadline
// already passed on the wall clock.
func TestWithTimeoutFollowsTheVirtualClock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		if err := scheduler.Sleep(ctx, 24*time.Hour); err != nil {
			return err
		}
		start := scheduler.Now(ctx)
		c, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		if d, ok := c.Deadline(); !ok || !d.Equal(start.Add(time.Hour)) {
			t.Errorf("Deadline = %v, %v; want %v on the loop's clock", d, ok, start.Add(time.Hour))
		}
		err := scheduler.Park(c, "nothing")
		if waited := scheduler.Now(ctx).Sub(start); waited != time.Hour {
			t.Errorf("Park ended after %v on the loop's clock, want 1h", waited)
		}
		if err != context.DeadlineExceeded || c.Err() != context.DeadlineExceeded {
			t.Errorf("Park = %v, ctx.Err = %v; want DeadlineExceeded both", err, c.Err())
		}
		if cause := context.Cause(c); cause != context.DeadlineExceeded {
			t.Errorf("Cause = %v, want DeadlineExceeded", cause)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestWithTimeoutCauseIsWhatCauseReports(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c, cancel := scheduler.WithTimeoutCause(ctx, time.Second, errCause)
		defer cancel()
		err := scheduler.Sleep(c, time.Hour)
		if err != context.DeadlineExceeded || c.Err() != err || context.Cause(c) != errCause {
			t.Errorf("Sleep = %v, Err = %v, Cause = %v; want DeadlineExceeded, DeadlineExceeded, %v",
				err, c.Err(), context.Cause(c), errCause)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// A context derived from a loop-clock deadline with package context ends a
// park at that deadline too, in the same iteration: WithValue passes the
// deadline's error on, WithCancel reports Canceled with the deadline as its
// cause.
func TestContextDerivedFromALoopDeadlineEndsAParkAtIt(t *testing.T) {
	type key struct{}
	for name, derive := range map[string]func(context.Context) (context.Context, context.CancelFunc, error){
		"WithValue": func(c context.Context) (context.Context, context.CancelFunc, error) {
			return context.WithValue(c, key{}, 1), func() {}, context.DeadlineExceeded
		},
		"WithCancel": func(c context.Context) (context.Context, context.CancelFunc, error) {
			d, cancel := context.WithCancel(c)
			return d, cancel, context.Canceled
		},
	} {
		t.Run(name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				start := scheduler.Now(ctx)
				c, cancel := scheduler.WithTimeout(ctx, time.Minute)
				defer cancel()
				d, cancelD, want := derive(c)
				defer cancelD()
				err := scheduler.Sleep(d, time.Hour)
				if waited := scheduler.Now(ctx).Sub(start); waited != time.Minute || err != want || d.Err() != want {
					t.Errorf("Sleep = %v after %v (its ctx's Err %v); want %v after 1m", err, waited, d.Err(), want)
				}
				if cause := context.Cause(d); cause != context.DeadlineExceeded {
					t.Errorf("Cause = %v, want DeadlineExceeded", cause)
				}
				return nil
			}, scheduler.WithVirtualClock())
		})
	}
}

// Deadlines of several tasks fire in deadline order, the same every run:
// they are the loop's timers.
func TestLoopDeadlinesEndParksInDeadlineOrder(t *testing.T) {
	var got []int
	run(t, func(ctx context.Context) error {
		for i, d := range []time.Duration{3, 1, 2} {
			mustGo(t, ctx, func(ctx context.Context) error {
				c, cancel := scheduler.WithTimeout(ctx, d*time.Second)
				defer cancel()
				if err := scheduler.Park(c, "nothing"); err != context.DeadlineExceeded {
					return err
				}
				got = append(got, i)
				return nil
			})
		}
		return nil
	}, scheduler.WithVirtualClock(), scheduler.WithSeed(7))
	if fmt.Sprint(got) != "[1 2 0]" {
		t.Fatalf("parks ended in the order %v, want [1 2 0]", got)
	}
}

// cancel takes the deadline's timer out, so that an idle loop neither
// waits for it nor jumps its virtual clock to it.
func TestCancelOfALoopDeadlineTakesItsTimerOut(t *testing.T) {
	run(t, func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		c, cancel := scheduler.WithTimeout(ctx, time.Hour)
		if n := scheduler.LoopOf(ctx).Stats().Timers; n != 1 {
			t.Errorf("%d timers pending with a deadline, want 1", n)
		}
		cancel()
		if c.Err() != context.Canceled {
			t.Errorf("Err after cancel = %v, want Canceled", c.Err())
		}
		if err := scheduler.Sleep(ctx, time.Second); err != nil {
			return err
		}
		if waited := scheduler.Now(ctx).Sub(start); waited != time.Second {
			t.Errorf("a 1s sleep after the cancel ended after %v, want 1s", waited)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// On the real clock, a cancelled deadline of an hour does not keep the loop
// from seeing that its tasks wait forever.
func TestCancelledLoopDeadlineDoesNotDelayTheDeadlockReport(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		_, cancel := scheduler.WithTimeout(ctx, time.Hour)
		cancel()
		return scheduler.Park(ctx, "nothing")
	})
	if !errors.Is(err, scheduler.ErrDeadlock) {
		t.Fatalf("Run = %v, want ErrDeadlock", err)
	}
}

func TestLoopDeadlineInThePastIsDoneAtOnce(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c, cancel := scheduler.WithDeadline(ctx, scheduler.Now(ctx).Add(-time.Second))
		defer cancel()
		if err := scheduler.Sleep(c, time.Hour); err != context.DeadlineExceeded || c.Err() != err {
			t.Errorf("Sleep = %v, Err = %v; want DeadlineExceeded", err, c.Err())
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestWithTimeoutOfAContextWithoutALoopIsPackageContexts(t *testing.T) {
	c, cancel := scheduler.WithTimeoutCause(context.Background(), time.Nanosecond, errCause)
	defer cancel()
	<-c.Done()
	if !errors.Is(c.Err(), context.DeadlineExceeded) || context.Cause(c) != errCause {
		t.Fatalf("Err = %v, Cause = %v; want DeadlineExceeded, %v", c.Err(), context.Cause(c), errCause)
	}
}

func ExampleWithTimeout() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		c, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		err := scheduler.Sleep(c, 24*time.Hour) // the timeout ends it first
		fmt.Println(err, scheduler.Now(ctx).Sub(start))
		return nil
	}, scheduler.WithVirtualClock())
	fmt.Println(err)
	// Output:
	// context deadline exceeded 1h0m0s
	// <nil>
}

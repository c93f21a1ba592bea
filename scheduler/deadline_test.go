package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
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

// LoopDeadline is what a conn's deadline, on the loop's clock, may be set
// to: on a virtual clock, a loop deadline and not a wall-clock one.
func ExampleLoopDeadline() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		loop, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		wall, cancelWall := context.WithTimeout(loop, time.Minute)
		defer cancelWall()
		d, ok := scheduler.LoopDeadline(wall)
		fmt.Println(d.Sub(start), ok)
		_, ok = scheduler.LoopDeadline(ctx)
		fmt.Println(ok)
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// 1h0m0s true
	// false
}

// A task started from a context with a loop deadline carries its values,
// not its deadline: its own timeouts and sleeps are its own, and a sleep on
// a context derived from its own ends when it should.
func TestTaskStartedFromALoopDeadlineHasItsOwnTimeouts(t *testing.T) {
	run(t, func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		short, cancel := scheduler.WithTimeout(ctx, time.Second)
		defer cancel()
		child := mustGo(t, short, func(ctx context.Context) error {
			c, cancel := scheduler.WithTimeout(ctx, 10*time.Second)
			defer cancel()
			if err := scheduler.Park(c, "nothing"); err != context.DeadlineExceeded {
				t.Errorf("Park with the child's own 10s timeout = %v, want DeadlineExceeded", err)
			}
			if waited := scheduler.Now(ctx).Sub(start); waited != 10*time.Second {
				t.Errorf("the child's 10s timeout ended after %v", waited)
			}
			d, cancelD := context.WithCancel(ctx)
			defer cancelD()
			if err := scheduler.Sleep(d, 5*time.Second); err != nil {
				t.Errorf("Sleep of 5s on a cancellable child context = %v, want nil", err)
			}
			if waited := scheduler.Now(ctx).Sub(start); waited != 15*time.Second {
				t.Errorf("the child's sleep ended at %v, want 15s", waited)
			}
			return nil
		})
		return child.Join(ctx)
	}, scheduler.WithVirtualClock())
}

// A context that carries a loop deadline in its values but not its
// cancellation (context.WithoutCancel) does not end a park at it, and the
// sleep it displaced still ends on time.
func TestSleepOnAContextWithoutTheDeadlinesCancellationEndsOnTime(t *testing.T) {
	run(t, func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		dl, cancel := scheduler.WithTimeout(ctx, time.Second)
		defer cancel()
		c, cancelC := context.WithCancel(context.WithoutCancel(dl))
		defer cancelC()
		if err := scheduler.Sleep(c, 5*time.Second); err != nil {
			t.Errorf("Sleep = %v, want nil", err)
		}
		if waited := scheduler.Now(ctx).Sub(start); waited != 5*time.Second {
			t.Errorf("Sleep of 5s ended after %v", waited)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// A scheduler.WithTimeout within an earlier one is cut to it, and reports
// DeadlineExceeded when that passes, as package context's nested deadlines
// do.
func TestNestedLoopDeadlineEndsWithTheOuterOne(t *testing.T) {
	run(t, func(ctx context.Context) error {
		outer, cancel := scheduler.WithTimeout(ctx, time.Second)
		defer cancel()
		inner, cancelInner := scheduler.WithTimeout(outer, time.Hour)
		defer cancelInner()
		if d, _ := inner.Deadline(); d != scheduler.Now(ctx).Add(time.Second) {
			t.Errorf("the inner deadline is %v, want the outer one", d)
		}
		if err := scheduler.Park(inner, "nothing"); err != context.DeadlineExceeded || inner.Err() != err {
			t.Errorf("Park = %v, Err = %v; want DeadlineExceeded", err, inner.Err())
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// The CancelFunc of a deadline whose parent was cancelled first (a killed
// task's, say) still takes its timer out: the loop does not wait for it
// before reporting a deadlock.
func TestCancelAfterTheParentEndedStillTakesTheTimerOut(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		victim := mustGo(t, ctx, func(ctx context.Context) error {
			_, cancel := scheduler.WithTimeout(ctx, time.Hour)
			defer cancel() // runs after the kill cancelled ctx
			return scheduler.Park(ctx, "the kill")
		})
		scheduler.Sleep(ctx, 0)
		victim.Kill(ctx)
		return scheduler.Park(ctx, "nothing")
	})
	if !errors.Is(err, scheduler.ErrDeadlock) {
		t.Fatalf("Run = %v, want ErrDeadlock at once", err)
	}
}

// Parks that loop deadlines end leave a seeded run's schedule to the seed:
// the same seed gives the same trace every time.
func TestSeededRunWithLoopDeadlinesIsReproducible(t *testing.T) {
	trace := func() scheduler.Trace {
		var tr scheduler.Trace
		run(t, func(ctx context.Context) error {
			for i := range 20 {
				mustGo(t, ctx, func(ctx context.Context) error {
					for j := range 5 {
						c, cancel := scheduler.WithTimeout(ctx, time.Duration(1+(i*7+j)%5)*time.Millisecond)
						scheduler.Park(c, "nothing")
						cancel()
						scheduler.Sleep(ctx, 0)
					}
					return nil
				})
			}
			return nil
		}, scheduler.WithVirtualClock(), scheduler.WithSeed(42), scheduler.WithTrace(&tr))
		return tr
	}
	want := trace()
	for range 30 {
		if got := trace(); !slices.Equal(got, want) {
			t.Fatalf("a run with seed 42 traced %v, another %v", got, want)
		}
	}
}

// Moving an fd's deadline before the loop deadline of the ctx its Wait
// was given applies, as moving it applies to every parked Wait.
func TestFDDeadlineMovedBeforeTheCtxDeadlineApplies(t *testing.T) {
	a, _ := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fd.Close()
		start := scheduler.Now(ctx)
		mustGo(t, ctx, func(ctx context.Context) error {
			fd.SetDeadline(scheduler.Read, scheduler.Now(ctx).Add(time.Millisecond))
			return nil
		})
		c, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		if err := fd.Wait(c, scheduler.Read); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Wait = %v after %v, want the fd's deadline", err, scheduler.Now(ctx).Sub(start))
		}
		return nil
	})
}

type valueKey struct{}

// LoopDeadline gives what a conn's deadline on the loop's clock may be set
// to: a loop deadline always, a wall-clock one only where the loop's clock
// is the wall clock.
func TestLoopDeadlineIsOnTheLoopsClock(t *testing.T) {
	for _, virtual := range []bool{false, true} {
		var opts []scheduler.Option
		if virtual {
			opts = append(opts, scheduler.WithVirtualClock())
		}
		run(t, func(ctx context.Context) error {
			if d, ok := scheduler.LoopDeadline(ctx); ok {
				t.Errorf("virtual %v: LoopDeadline of a task's ctx = %v, want none", virtual, d)
			}
			loop, cancel := scheduler.WithTimeout(ctx, time.Hour)
			defer cancel()
			want, _ := loop.Deadline()
			// A wall-clock deadline derived from it, nearer on the wall
			// clock, and a value: the loop deadline stays where the
			// clock is virtual.
			wall, cancelWall := context.WithTimeout(context.WithValue(loop, valueKey{}, "v"), time.Minute)
			defer cancelWall()
			if virtual {
				if d, ok := scheduler.LoopDeadline(wall); !ok || !d.Equal(want) {
					t.Errorf("virtual: LoopDeadline = %v, %v; want the loop deadline %v", d, ok, want)
				}
				if d, ok := scheduler.LoopDeadline(context.WithValue(ctx, valueKey{}, "v")); ok {
					t.Errorf("virtual: LoopDeadline without a loop deadline = %v, want none", d)
				}
				return nil
			}
			wallDL, _ := wall.Deadline()
			if d, ok := scheduler.LoopDeadline(wall); !ok || !d.Equal(wallDL) {
				t.Errorf("wall clock: LoopDeadline = %v, %v; want the wall-clock deadline %v", d, ok, wallDL)
			}
			return nil
		}, opts...)
	}
	if d, ok := scheduler.LoopDeadline(context.Background()); ok {
		t.Errorf("LoopDeadline without a loop = %v, want none", d)
	}
}

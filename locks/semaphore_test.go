package locks_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

func TestSemaphoreTryAcquireWhenExhaustedReturnsFalse(t *testing.T) {
	run(t, func(ctx context.Context) error {
		s, err := locks.NewSemaphore(2)
		if err != nil {
			return err
		}
		if !s.TryAcquire() || !s.TryAcquire() {
			t.Fatal("TryAcquire failed with permits free")
		}
		if s.TryAcquire() {
			t.Error("TryAcquire succeeded with no permit free")
		}
		s.Release()
		if s.Value() != 1 || !s.TryAcquire() {
			t.Error("a released permit was not free again")
		}
		return nil
	})
}

func TestSemaphoreWaitersWakeInArrivalOrder(t *testing.T) { // gevent#1487
	run(t, func(ctx context.Context) error {
		var s locks.Semaphore // no permits
		var order []int
		for i := range 6 {
			spawn(t, ctx, "waiter", func(ctx context.Context) error {
				if err := s.Acquire(ctx); err != nil {
					return err
				}
				order = append(order, i)
				return nil
			})
		}
		yield(ctx)
		for range 6 {
			s.Release()
			scheduler.Sleep(ctx, 0)
		}
		yield(ctx)
		if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(order, want) {
			t.Errorf("woke in order %v, want %v", order, want)
		}
		if s.Value() != 0 {
			t.Errorf("Value = %d after every permit was taken", s.Value())
		}
		return nil
	})
}

func TestBoundedSemaphoreOverReleasePanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, err := locks.NewBoundedSemaphore(1)
		if err != nil {
			return err
		}
		if err := b.Acquire(ctx); err != nil {
			return err
		}
		b.Release()
		mustPanic(t, "locks: BoundedSemaphore released more times than acquired", b.Release)
		if b.Value() != 1 {
			t.Errorf("Value = %d after a refused Release, want 1", b.Value())
		}
		return nil
	})
}

func TestConstructorsRefuseCountsTheyCannotWorkWith(t *testing.T) {
	if _, err := locks.NewSemaphore(-1); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("NewSemaphore(-1) = %v, want ErrInvalid", err)
	}
	if _, err := locks.NewBoundedSemaphore(-1); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("NewBoundedSemaphore(-1) = %v, want ErrInvalid", err)
	}
	if _, err := locks.NewBarrier(0, nil); !errors.Is(err, locks.ErrInvalid) {
		t.Errorf("NewBarrier(0) = %v, want ErrInvalid", err)
	}
}

func TestKilledOrTimedOutSemaphoreWaiterNeverSwallowsARelease(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var s locks.Semaphore
		var got []string
		acquire := func(name string, ctx context.Context) error {
			err := s.Acquire(ctx)
			got = append(got, name+":"+errString(err))
			return err
		}
		spawn(t, ctx, "timed", func(ctx context.Context) error {
			short, cancel := timeout(ctx, time.Second)
			defer cancel()
			acquire("timed", short)
			return nil
		})
		killed := spawn(t, ctx, "killed", func(ctx context.Context) error { return acquire("killed", ctx) })
		spawn(t, ctx, "patient", func(ctx context.Context) error { return acquire("patient", ctx) })
		yield(ctx)
		scheduler.Sleep(ctx, 2*time.Second) // timed gives up
		s.Release()                         // to killed, which dies before it runs
		killed.Kill(ctx)
		yield(ctx)
		want := []string{"timed:" + context.DeadlineExceeded.Error(), "patient:ok"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestEventWaitReturnsAtOnceWhenSet(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var e locks.Event
		e.Set()
		done, cancel := context.WithCancel(ctx)
		cancel()
		if err := e.Wait(done); err != nil { // set: no park, even with ctx done
			t.Errorf("Wait on a set Event = %v", err)
		}
		e.Clear()
		if e.IsSet() {
			t.Error("IsSet after Clear")
		}
		return nil
	})
}

func TestEventWaitWithDeadlineReturnsTheDeadlineError(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var e locks.Event
		start := scheduler.Now(ctx)
		short, cancel := timeout(ctx, time.Second)
		defer cancel()
		if err := e.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Wait = %v, want DeadlineExceeded", err)
		}
		if waited := scheduler.Now(ctx).Sub(start); waited != time.Second {
			t.Errorf("waited %v on the loop's clock, want 1s", waited)
		}
		return nil
	})
}

func TestEventSetWakesEveryWaiterAndAKilledOneDoesNotBreakIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var e locks.Event
		var woke []string
		var ts []*scheduler.Task
		for _, name := range []string{"a", "b", "c"} {
			ts = append(ts, spawn(t, ctx, name, func(ctx context.Context) error {
				if err := e.Wait(ctx); err != nil {
					return err
				}
				woke = append(woke, name)
				return nil
			}))
		}
		yield(ctx)
		ts[1].Kill(ctx)
		e.Set()
		e.Clear() // the woken return all the same
		yield(ctx)
		if want := []string{"a", "c"}; !slices.Equal(woke, want) {
			t.Errorf("woke %v, want %v", woke, want)
		}
		return nil
	})
}

func TestBarrierOfElevenPartiesReleasesThemAll(t *testing.T) {
	run(t, func(ctx context.Context) error {
		const parties = 11
		actions := 0
		b, err := locks.NewBarrier(parties, func() { actions++ })
		if err != nil {
			return err
		}
		for round := range 2 {
			var indexes []int
			var ts []*scheduler.Task
			for range parties {
				ts = append(ts, spawn(t, ctx, "party", func(ctx context.Context) error {
					i, err := b.Wait(ctx)
					indexes = append(indexes, i)
					return err
				}))
				yield(ctx)
				if b.Waiting() != len(ts)%parties {
					t.Errorf("Waiting = %d with %d arrived", b.Waiting(), len(ts))
				}
			}
			for _, task := range ts {
				if err := task.Join(ctx); err != nil {
					return err
				}
			}
			slices.Sort(indexes)
			if want := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10}; !slices.Equal(indexes, want) {
				t.Errorf("round %d: indexes %v, want %v", round, indexes, want)
			}
			if actions != round+1 {
				t.Errorf("round %d: action ran %d times", round, actions)
			}
		}
		return nil
	})
}

// waitAll starts n tasks that wait at b and returns their errors' slots.
func waitAll(t *testing.T, ctx context.Context, b *locks.Barrier, n int) ([]*scheduler.Task, []error) {
	errs := make([]error, n)
	var ts []*scheduler.Task
	for i := range n {
		ts = append(ts, spawn(t, ctx, "party", func(ctx context.Context) error {
			_, errs[i] = b.Wait(ctx)
			return nil
		}))
	}
	yield(ctx)
	return ts, errs
}

func TestBarrierAbortBreaksItForAllWaitersAndResetRestoresIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, nil)
		_, errs := waitAll(t, ctx, b, 2)
		b.Abort()
		yield(ctx)
		for i, err := range errs {
			if !errors.Is(err, locks.ErrBrokenBarrier) {
				t.Errorf("waiter %d: %v, want ErrBrokenBarrier", i, err)
			}
		}
		if _, err := b.Wait(ctx); !errors.Is(err, locks.ErrBrokenBarrier) || !b.Broken() {
			t.Errorf("Wait on a broken barrier = %v, Broken = %v", err, b.Broken())
		}
		b.Reset()
		if b.Broken() || b.Waiting() != 0 {
			t.Fatalf("after Reset: Broken = %v, Waiting = %d", b.Broken(), b.Waiting())
		}
		_, errs = waitAll(t, ctx, b, 2)
		if i, err := b.Wait(ctx); i != 2 || err != nil {
			t.Errorf("last arrival after Reset = %d, %v; want 2, nil", i, err)
		}
		yield(ctx)
		for i, err := range errs {
			if err != nil {
				t.Errorf("waiter %d after Reset: %v", i, err)
			}
		}
		return nil
	})
}

func TestBarrierWaiterThatTimesOutBreaksIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, nil)
		_, errs := waitAll(t, ctx, b, 1)
		short, cancel := timeout(ctx, time.Second)
		defer cancel()
		if _, err := b.Wait(short); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("timed Wait = %v, want DeadlineExceeded", err)
		}
		yield(ctx)
		if !b.Broken() || !errors.Is(errs[0], locks.ErrBrokenBarrier) {
			t.Errorf("Broken = %v, other waiter got %v; want broken, ErrBrokenBarrier", b.Broken(), errs[0])
		}
		return nil
	})
}

func TestBarrierWaiterKilledBreaksIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, nil)
		ts, errs := waitAll(t, ctx, b, 2)
		ts[0].Kill(ctx)
		yield(ctx)
		if !b.Broken() || !errors.Is(errs[1], locks.ErrBrokenBarrier) {
			t.Errorf("Broken = %v, other waiter got %v; want broken, ErrBrokenBarrier", b.Broken(), errs[1])
		}
		return nil
	})
}

func TestBarrierActionThatPanicsBreaksIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(2, func() { panic("action failed") })
		_, errs := waitAll(t, ctx, b, 1)
		last := spawn(t, ctx, "last", func(ctx context.Context) error {
			b.Wait(ctx)
			return nil
		})
		var pe *scheduler.PanicError
		if err := last.Join(ctx); !errors.As(err, &pe) {
			t.Errorf("the last arrival ended with %v, want the action's panic", err)
		}
		yield(ctx)
		if !b.Broken() || !errors.Is(errs[0], locks.ErrBrokenBarrier) {
			t.Errorf("Broken = %v, waiter got %v; want broken, ErrBrokenBarrier", b.Broken(), errs[0])
		}
		return nil
	})
}

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

// Waiters that leave (or seem to): stray wake-ups, cancelled waiters that
// have not resumed yet, kills after a hand-off, kills of waiters whose turn
// is over.

// grantCase is a primitive with one task about to wait on it: wait waits,
// grant lets the waiter through.
type grantCase struct {
	name  string
	setup func(ctx context.Context) (wait func(ctx context.Context) error, grant func(ctx context.Context))
}

var grantCases = []grantCase{
	{"Lock", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		m := new(locks.Lock)
		m.Lock(ctx)
		return m.Lock, m.Unlock
	}},
	{"RLock", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		m := new(locks.RLock)
		m.Lock(ctx)
		return m.Lock, m.Unlock
	}},
	{"Semaphore", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		s := new(locks.Semaphore)
		return s.Acquire, func(context.Context) { s.Release() }
	}},
	{"Condition", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		c := new(locks.Condition)
		wait := func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			return c.Wait(ctx)
		}
		return wait, func(ctx context.Context) {
			c.Lock(ctx)
			c.Notify(ctx, 1)
			c.Unlock(ctx)
		}
	}},
	{"Event", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		e := new(locks.Event)
		return e.Wait, func(context.Context) { e.Set() }
	}},
	{"RWLock", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		m := new(locks.RWLock)
		m.Lock(ctx)
		return m.RLock, m.Unlock
	}},
	{"Barrier", func(ctx context.Context) (func(context.Context) error, func(context.Context)) {
		b, _ := locks.NewBarrier(2, nil)
		wait := func(ctx context.Context) error {
			_, err := b.Wait(ctx)
			return err
		}
		return wait, func(ctx context.Context) { wait(ctx) }
	}},
}

func TestStrayWakeDoesNotPullAWaiterOutOfLine(t *testing.T) {
	for _, c := range grantCases {
		t.Run(c.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				wait, grant := c.setup(ctx)
				w := spawn(t, ctx, "waiter", wait)
				yield(ctx)
				if w.Wake() {
					t.Error("Wake of a waiting task reported true")
				}
				grant(ctx) // before the waiter could run, had Wake made it runnable
				return w.Join(ctx)
			})
		})
	}
}

func TestCancelledWaiterThatHasNotResumedIsPassedOver(t *testing.T) {
	for _, c := range grantCases {
		if c.name == "Barrier" || c.name == "Event" { // a leaver breaks a Barrier; Set wakes all
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				wait, grant := c.setup(ctx)
				var cancel context.CancelFunc
				var leftWith error
				left := spawn(t, ctx, "leaver", func(ctx context.Context) error {
					ctx, cancel = context.WithCancel(ctx)
					leftWith = wait(ctx)
					return nil
				})
				stays := spawn(t, ctx, "stays", wait)
				yield(ctx)
				cancel()
				for left.State() != scheduler.StateRunnable { // cancelled, not yet resumed
					scheduler.Sleep(ctx, 0)
				}
				grant(ctx) // must go to stays
				if err := stays.Join(ctx); err != nil {
					return err
				}
				left.Join(ctx)
				if !errors.Is(leftWith, context.Canceled) {
					t.Errorf("the cancelled waiter got %v, want context.Canceled", leftWith)
				}
				return nil
			})
		})
	}
}

func TestKilledWaiterHandedItsTurnPassesItOn(t *testing.T) {
	for _, c := range grantCases {
		if c.name == "Barrier" || c.name == "Event" { // nothing to pass on
			continue
		}
		t.Run(c.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				wait, grant := c.setup(ctx)
				first := spawn(t, ctx, "first", wait)
				second := spawn(t, ctx, "second", wait)
				yield(ctx)
				grant(ctx) // to first, which is killed before it runs
				first.Kill(ctx)
				if err := first.Join(ctx); err != scheduler.ErrKilled {
					t.Errorf("first ended with %v, want exactly ErrKilled", err)
				}
				return second.Join(ctx)
			})
		})
	}
}

func TestKilledNotifiedWaiterDoesNotPassNotifyAllToALaterWaiter(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		var woke []string
		wait := func(name string) *scheduler.Task {
			return spawn(t, ctx, name, func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx)
				if err := c.Wait(ctx); err != nil {
					return err
				}
				woke = append(woke, name)
				return nil
			})
		}
		a := wait("a")
		wait("b")
		yield(ctx)
		later := wait("later") // runnable: waits once the NotifyAll is made
		spawn(t, ctx, "killer", func(ctx context.Context) error {
			return a.Kill(ctx) // a was notified but has not run
		})
		c.Lock(ctx)
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		yield(ctx)
		if want := []string{"b"}; !slices.Equal(woke, want) {
			t.Errorf("woke %v, want %v: the later waiter was not notified", woke, want)
		}
		c.Lock(ctx)
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		return later.Join(ctx)
	})
}

func TestKilledWaiterOfABarrierRoundThatEndedDoesNotBreakALaterRound(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, nil)
		var cancel context.CancelFunc
		stale := spawn(t, ctx, "stale", func(ctx context.Context) error {
			ctx, cancel = context.WithCancel(ctx)
			b.Wait(ctx)
			return nil
		})
		yield(ctx)
		cancel()
		for stale.State() != scheduler.StateRunnable {
			scheduler.Sleep(ctx, 0)
		}
		b.Reset()
		stale.Kill(ctx)
		if b.Broken() {
			t.Error("a kill of a waiter of an ended round broke the reset Barrier")
		}
		return nil
	})
}

func TestBarrierRoundWithAWaiterThatLeftButHasNotResumedBreaks(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, nil)
		var cancel context.CancelFunc
		var leftWith error
		left := spawn(t, ctx, "leaver", func(ctx context.Context) error {
			ctx, cancel = context.WithCancel(ctx)
			_, leftWith = b.Wait(ctx)
			return nil
		})
		_, errs := waitAll(t, ctx, b, 1)
		cancel()
		for left.State() != scheduler.StateRunnable {
			scheduler.Sleep(ctx, 0)
		}
		if _, err := b.Wait(ctx); !errors.Is(err, locks.ErrBrokenBarrier) {
			t.Errorf("the last arrival = %v, want ErrBrokenBarrier: one party left", err)
		}
		yield(ctx)
		if !errors.Is(errs[0], locks.ErrBrokenBarrier) || !errors.Is(leftWith, context.Canceled) {
			t.Errorf("waiter got %v, leaver %v; want ErrBrokenBarrier, context.Canceled", errs[0], leftWith)
		}
		return nil
	})
}

func TestZeroBarrierPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var b locks.Barrier
		mustPanic(t, "locks: Barrier.Wait on a Barrier not made by NewBarrier", func() { b.Wait(ctx) })
		return nil
	})
}

func TestBoundedSemaphoreOfZeroRefusesAReleaseEvenWithAWaiter(t *testing.T) {
	run(t, func(ctx context.Context) error {
		b, _ := locks.NewBoundedSemaphore(0)
		w := spawn(t, ctx, "waiter", b.Acquire)
		yield(ctx)
		mustPanic(t, "locks: BoundedSemaphore released more times than acquired", b.Release)
		return w.Kill(ctx)
	})
}

func TestRLockKilledInConditionWaitAtDepthTwoLeavesTheLockFree(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition // over an RLock
		w := spawn(t, ctx, "waiter", func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			c.Lock(ctx)
			defer c.Unlock(ctx)
			return c.Wait(ctx)
		})
		yield(ctx)
		w.Kill(ctx)
		if err := w.Join(ctx); err != scheduler.ErrKilled {
			t.Errorf("waiter ended with %v, want exactly ErrKilled: its deferred Unlocks must do nothing", err)
		}
		if !c.TryLock(ctx) {
			t.Fatal("the lock is held after the killed waiter unwound")
		}
		c.Unlock(ctx)
		return nil
	})
}

func TestRWLockWriterTimingOutInLineLetsTheReadersBehindItIn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		m.RLock(ctx)
		spawn(t, ctx, "writer", func(ctx context.Context) error {
			short, cancel := timeout(ctx, time.Second)
			defer cancel()
			if err := m.Lock(short); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("writer's Lock = %v, want DeadlineExceeded", err)
			}
			return nil
		})
		got := false
		reader := spawn(t, ctx, "reader", func(ctx context.Context) error {
			if err := m.RLock(ctx); err != nil {
				return err
			}
			got = true
			m.RUnlock()
			return nil
		})
		yield(ctx)
		scheduler.Sleep(ctx, 2*time.Second)
		if !got {
			t.Error("the reader behind a writer that timed out was not let in")
		}
		m.RUnlock()
		return reader.Join(ctx)
	})
}

func TestRWLockReaderKilledAfterBeingLetInReleasesItsReadLock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		m.Lock(ctx)
		r := spawn(t, ctx, "reader", m.RLock)
		yield(ctx)
		m.Unlock(ctx) // lets the reader in; it is killed before it runs
		r.Kill(ctx)
		if !m.TryLock(ctx) {
			t.Fatal("the killed reader's read lock is still counted")
		}
		m.Unlock(ctx)
		return nil
	})
}

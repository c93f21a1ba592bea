package locks_test

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// run runs main as the main task of a loop on a virtual clock and fails the
// test on an error.
func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main, scheduler.WithVirtualClock()); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func spawn(t *testing.T, ctx context.Context, name string, fn func(ctx context.Context) error) *scheduler.Task {
	t.Helper()
	task, err := scheduler.Spawn(ctx, name, fn)
	if err != nil {
		t.Fatalf("Spawn: %v", err)
	}
	return task
}

// yield lets every runnable task run until it parks or ends.
func yield(ctx context.Context) {
	for range 3 {
		scheduler.Sleep(ctx, 0)
	}
}

// mustPanic fails t unless fn panics with a message that starts with want.
func mustPanic(t *testing.T, want string, fn func()) {
	t.Helper()
	defer func() {
		t.Helper()
		r := recover()
		msg, _ := r.(string)
		if !strings.HasPrefix(msg, want) {
			t.Errorf("panic %v, want %q", r, want)
		}
	}()
	fn()
}

// timeout returns ctx with a deadline d from now on ctx's loop clock.
func timeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return scheduler.WithTimeout(ctx, d)
}

func TestLockIsHandedToWaitersInArrivalOrder(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		var order []string
		inside := 0
		m.Lock(ctx)
		for _, name := range []string{"a", "b", "c"} {
			spawn(t, ctx, name, func(ctx context.Context) error {
				if err := m.Lock(ctx); err != nil {
					return err
				}
				defer m.Unlock(ctx)
				if inside++; inside != 1 {
					t.Errorf("%d tasks inside the lock", inside)
				}
				order = append(order, name)
				scheduler.Sleep(ctx, 0) // hold it across a switch
				inside--
				return nil
			})
		}
		yield(ctx)
		if len(order) != 0 {
			t.Fatalf("%v got in while main held the lock", order)
		}
		m.Unlock(ctx)
		yield(ctx)
		yield(ctx)
		if want := []string{"a", "b", "c"}; !slices.Equal(order, want) {
			t.Errorf("order %v, want %v", order, want)
		}
		if m.Locked() {
			t.Error("lock still held after every task unlocked it")
		}
		return nil
	})
}

func TestUnlockOfUnlockedLockPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		mustPanic(t, "locks: Unlock of unlocked Lock", func() { m.Unlock(ctx) })
		return nil
	})
}

func TestLockReleasedByNonHolderPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		m.Lock(ctx)
		other := spawn(t, ctx, "other", func(ctx context.Context) error {
			mustPanic(t, "locks: Unlock of a Lock held by another task", func() { m.Unlock(ctx) })
			return nil
		})
		if err := other.Join(ctx); err != nil {
			return err
		}
		if !m.Locked() {
			t.Error("a refused Unlock released the lock")
		}
		m.Unlock(ctx)
		return nil
	})
}

func TestLockByItsHolderPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		m.Lock(ctx)
		mustPanic(t, "locks: Lock of a Lock the calling task holds", func() { m.Lock(ctx) })
		m.Unlock(ctx)
		return nil
	})
}

func TestTryLockNeverParks(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		if !m.TryLock(ctx) {
			t.Fatal("TryLock of a free lock failed")
		}
		other := spawn(t, ctx, "other", func(ctx context.Context) error {
			if m.TryLock(ctx) {
				t.Error("TryLock of a held lock succeeded")
			}
			return nil
		})
		if err := other.Join(ctx); err != nil {
			return err
		}
		m.Unlock(ctx)
		return nil
	})
}

func TestTryLockWithoutATaskPanics(t *testing.T) {
	var m locks.Lock
	mustPanic(t, "locks: Lock.TryLock: scheduler: ", func() { m.TryLock(context.Background()) })
}

func TestLockWithoutATaskFails(t *testing.T) {
	var m locks.Lock
	if err := m.Lock(context.Background()); !errors.Is(err, scheduler.ErrNoTask) {
		t.Fatalf("Lock = %v, want ErrNoTask", err)
	}
}

func TestLockFromAnotherLoopFails(t *testing.T) {
	var m locks.Lock
	run(t, func(ctx context.Context) error {
		m.Lock(ctx)
		m.Unlock(ctx)
		return nil
	})
	run(t, func(ctx context.Context) error {
		if err := m.Lock(ctx); !errors.Is(err, scheduler.ErrWrongLoop) {
			t.Errorf("Lock from a second loop = %v, want ErrWrongLoop", err)
		}
		return nil
	})
}

func TestLockDeadlineFailsAndTheNextWaiterGetsTheLock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		m.Lock(ctx)
		var got []string
		spawn(t, ctx, "timed", func(ctx context.Context) error {
			ctx, cancel := timeout(ctx, time.Second)
			defer cancel()
			err := m.Lock(ctx)
			got = append(got, "timed:"+errString(err))
			return nil
		})
		spawn(t, ctx, "patient", func(ctx context.Context) error {
			err := m.Lock(ctx)
			got = append(got, "patient:"+errString(err))
			m.Unlock(ctx)
			return nil
		})
		yield(ctx)
		scheduler.Sleep(ctx, 2*time.Second) // the deadline passes
		m.Unlock(ctx)
		yield(ctx)
		want := []string{"timed:" + context.DeadlineExceeded.Error(), "patient:ok"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestTimedOutWaiterThatHasNotResumedIsPassedOver(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		m.Lock(ctx)
		var got []string
		timed := spawn(t, ctx, "timed", func(ctx context.Context) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			spawn(t, ctx, "canceller", func(context.Context) error { cancel(); return nil })
			err := m.Lock(ctx)
			got = append(got, "timed:"+errString(err))
			return nil
		})
		spawn(t, ctx, "patient", func(ctx context.Context) error {
			err := m.Lock(ctx)
			got = append(got, "patient:"+errString(err))
			m.Unlock(ctx)
			return nil
		})
		for timed.State() != scheduler.StateParked {
			scheduler.Sleep(ctx, 0)
		}
		for timed.State() != scheduler.StateRunnable { // cancelled, not yet resumed
			scheduler.Sleep(ctx, 0)
		}
		m.Unlock(ctx) // must go to patient, not to the task that stopped waiting
		yield(ctx)
		want := []string{"timed:" + context.Canceled.Error(), "patient:ok"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestKilledWaiterHandedTheLockPassesItOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.Lock
		m.Lock(ctx)
		a := spawn(t, ctx, "a", func(ctx context.Context) error { return m.Lock(ctx) })
		got := ""
		spawn(t, ctx, "b", func(ctx context.Context) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			got = "b"
			m.Unlock(ctx)
			return nil
		})
		yield(ctx)
		m.Unlock(ctx) // a is the holder now, but has not run
		a.Kill(ctx)
		yield(ctx)
		if got != "b" || m.Locked() {
			t.Errorf("after a's kill: %q got the lock, locked=%v; want b, then free", got, m.Locked())
		}
		return nil
	})
}

func TestRLockReentersForItsOwnerAndRefusesAnother(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RLock
		m.Lock(ctx)
		m.Lock(ctx)
		if !m.TryLock(ctx) {
			t.Fatal("the owner's TryLock failed")
		}
		got := false
		other := spawn(t, ctx, "other", func(ctx context.Context) error {
			if m.TryLock(ctx) {
				t.Error("another task's TryLock succeeded")
			}
			if err := m.Lock(ctx); err != nil {
				return err
			}
			got = true
			m.Unlock(ctx)
			return nil
		})
		for range 3 {
			yield(ctx)
			if got {
				t.Fatal("another task got the RLock before the owner's last Unlock")
			}
			m.Unlock(ctx)
		}
		if err := other.Join(ctx); err != nil {
			return err
		}
		if !got {
			t.Error("the waiter never got the RLock")
		}
		return nil
	})
}

func TestRLockUnlockByNonOwnerPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RLock
		mustPanic(t, "locks: Unlock of unlocked RLock", func() { m.Unlock(ctx) })
		m.Lock(ctx)
		other := spawn(t, ctx, "other", func(ctx context.Context) error {
			mustPanic(t, "locks: Unlock of an RLock held by another task", func() { m.Unlock(ctx) })
			return nil
		})
		if err := other.Join(ctx); err != nil {
			return err
		}
		m.Unlock(ctx)
		return nil
	})
}

func errString(err error) string {
	if err == nil {
		return "ok"
	}
	return err.Error()
}

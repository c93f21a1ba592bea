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

func TestConditionWaitWithoutTheLockPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		mustPanic(t, "locks: Condition.Wait without holding its lock", func() { c.Wait(ctx) })
		mustPanic(t, "locks: Condition.Notify without holding its lock", func() { c.Notify(ctx, 1) })
		mustPanic(t, "locks: Condition.NotifyAll without holding its lock", func() { c.NotifyAll(ctx) })
		return nil
	})
}

func TestConditionWaitWithoutATaskFails(t *testing.T) {
	var c locks.Condition
	if err := c.Wait(context.Background()); !errors.Is(err, scheduler.ErrNoTask) {
		t.Fatalf("Wait = %v, want ErrNoTask", err)
	}
}

func TestConditionNotifyAllHandsTheValueToEveryWaiter(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c := locks.NewCondition(new(locks.Lock))
		value := 0
		var got []int
		var ts []*scheduler.Task
		for range 5 {
			ts = append(ts, spawn(t, ctx, "waiter", func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx)
				if err := c.Wait(ctx); err != nil {
					return err
				}
				got = append(got, value)
				return nil
			}))
		}
		yield(ctx)
		c.Lock(ctx)
		value = 42
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		for _, task := range ts {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		if want := []int{42, 42, 42, 42, 42}; !slices.Equal(got, want) {
			t.Errorf("waiters saw %v, want %v", got, want)
		}
		return nil
	})
}

func TestConditionNotifyWakesTheOldestWaitersFirst(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		var woke []string
		for _, name := range []string{"a", "b", "c", "d"} {
			spawn(t, ctx, name, func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx)
				if err := c.Wait(ctx); err != nil {
					return err
				}
				woke = append(woke, name)
				return nil
			})
		}
		yield(ctx)
		c.Lock(ctx)
		c.Notify(ctx, 2)
		c.Unlock(ctx)
		yield(ctx)
		if want := []string{"a", "b"}; !slices.Equal(woke, want) {
			t.Errorf("Notify(2) woke %v, want %v", woke, want)
		}
		c.Lock(ctx)
		c.Notify(ctx, 5) // more than wait
		c.Unlock(ctx)
		yield(ctx)
		if want := []string{"a", "b", "c", "d"}; !slices.Equal(woke, want) {
			t.Errorf("then Notify(5) woke %v, want %v", woke, want)
		}
		return nil
	})
}

func TestConditionWaitForLoopsUntilThePredicateHolds(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		count, checks := 0, 0
		waiter := spawn(t, ctx, "waiter", func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			err := c.WaitFor(ctx, func() bool {
				checks++
				return count >= 3
			})
			if err == nil && count != 3 {
				t.Errorf("WaitFor returned with count %d", count)
			}
			return err
		})
		yield(ctx)
		for range 3 {
			c.Lock(ctx)
			count++
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			yield(ctx)
		}
		if err := waiter.Join(ctx); err != nil {
			return err
		}
		if checks != 4 { // once at first, then after each notification
			t.Errorf("predicate checked %d times, want 4", checks)
		}
		return nil
	})
}

func TestConditionWaitForDeadlineFailsUnlessThePredicateHolds(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		c.Lock(ctx)
		defer c.Unlock(ctx)
		short, cancel := timeout(ctx, time.Second)
		defer cancel()
		if err := c.WaitFor(short, func() bool { return false }); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitFor = %v, want DeadlineExceeded", err)
		}
		if !c.L().(*locks.RLock).Locked() {
			t.Error("WaitFor returned without the lock")
		}
		return nil
	})
}

func TestConditionWaitPastItsDeadlineStillRetakesTheLock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c := locks.NewCondition(new(locks.Lock))
		var waitErr error
		holds := false
		waiter := spawn(t, ctx, "waiter", func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			short, cancel := timeout(ctx, time.Second)
			defer cancel()
			waitErr = c.Wait(short)
			holds = !c.TryLock(ctx) && c.L().(*locks.Lock).Locked()
			return nil
		})
		yield(ctx)
		c.Lock(ctx) // held across the waiter's deadline
		scheduler.Sleep(ctx, 2*time.Second)
		c.Unlock(ctx)
		if err := waiter.Join(ctx); err != nil {
			return err
		}
		if !errors.Is(waitErr, context.DeadlineExceeded) || !holds {
			t.Errorf("Wait = %v, holding the lock: %v; want DeadlineExceeded, holding it", waitErr, holds)
		}
		return nil
	})
}

func TestConditionWaitRetakesAnRLockAsOftenAsItWasHeld(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition // an RLock of its own
		waiter := spawn(t, ctx, "waiter", func(ctx context.Context) error {
			c.Lock(ctx)
			c.Lock(ctx)
			if err := c.Wait(ctx); err != nil {
				return err
			}
			c.Unlock(ctx)
			c.Unlock(ctx) // both locks are back: no panic
			return nil
		})
		yield(ctx)
		c.Lock(ctx) // Wait released both of the waiter's locks
		c.NotifyAll(ctx)
		c.Unlock(ctx)
		return waiter.Join(ctx)
	})
}

func TestKilledConditionWaiterPassesTheNotificationOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		c := locks.NewCondition(new(locks.Lock))
		var woke []string
		start := func(name string) *scheduler.Task {
			return spawn(t, ctx, name, func(ctx context.Context) error {
				c.Lock(ctx)
				defer c.Unlock(ctx) // a no-op if killed in Wait
				if err := c.Wait(ctx); err != nil {
					return err
				}
				woke = append(woke, name)
				return nil
			})
		}
		a := start("a")
		b := start("b")
		yield(ctx)
		c.Lock(ctx)
		c.Notify(ctx, 1) // to a, which is killed before it runs
		c.Unlock(ctx)
		a.Kill(ctx)
		if err := a.Join(ctx); err != scheduler.ErrKilled {
			t.Errorf("a ended with %v, want ErrKilled (its deferred Unlock must not panic)", err)
		}
		if err := b.Join(ctx); err != nil {
			return err
		}
		if want := []string{"b"}; !slices.Equal(woke, want) {
			t.Errorf("woke %v, want %v", woke, want)
		}
		if !c.L().(*locks.Lock).TryLock(ctx) {
			t.Error("the lock is still held after the killed waiter unwound")
		}
		c.Unlock(ctx)
		return nil
	})
}

func TestTimedOutConditionWaiterNeverSwallowsANotification(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c locks.Condition
		var got []string
		spawn(t, ctx, "timed", func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			short, cancel := timeout(ctx, time.Second)
			defer cancel()
			got = append(got, "timed:"+errString(c.Wait(short)))
			return nil
		})
		spawn(t, ctx, "patient", func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			got = append(got, "patient:"+errString(c.Wait(ctx)))
			return nil
		})
		yield(ctx)
		scheduler.Sleep(ctx, 2*time.Second)
		c.Lock(ctx)
		c.Notify(ctx, 1)
		c.Unlock(ctx)
		yield(ctx)
		want := []string{"timed:" + context.DeadlineExceeded.Error(), "patient:ok"}
		if !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

package locks_test

import (
	"context"
	"sync/atomic"
	"testing"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// blockingCalls are the parking calls of this package, each on a primitive
// that holds up whoever calls it: set up by the task that will not call it
// (it holds what must be held), made by another task.
func blockingCalls() map[string]parktest.Setup {
	return map[string]parktest.Setup{
		"Lock.Lock": func(ctx context.Context) func(ctx context.Context) error {
			var m locks.Lock
			m.Lock(ctx)
			return m.Lock
		},
		"RLock.Lock": func(ctx context.Context) func(ctx context.Context) error {
			var m locks.RLock
			m.Lock(ctx)
			return m.Lock
		},
		"RWLock.RLock": func(ctx context.Context) func(ctx context.Context) error {
			var m locks.RWLock
			m.Lock(ctx)
			return m.RLock
		},
		"RWLock.Lock": func(ctx context.Context) func(ctx context.Context) error {
			var m locks.RWLock
			m.RLock(ctx)
			return m.Lock
		},
		"Semaphore.Acquire": func(ctx context.Context) func(ctx context.Context) error {
			s, _ := locks.NewSemaphore(0)
			return s.Acquire
		},
		"Event.Wait": func(ctx context.Context) func(ctx context.Context) error {
			var e locks.Event
			return e.Wait
		},
		"Condition.Wait": func(ctx context.Context) func(ctx context.Context) error {
			c := locks.NewCondition(nil)
			return func(ctx context.Context) error {
				task := scheduler.Current(ctx).Context()
				if err := c.Lock(task); err != nil {
					return err
				}
				defer c.Unlock(task)
				return c.Wait(ctx)
			}
		},
		"Barrier.Wait": func(ctx context.Context) func(ctx context.Context) error {
			b, _ := locks.NewBarrier(2, nil)
			return func(ctx context.Context) error { _, err := b.Wait(ctx); return err }
		},
	}
}

func TestParkingCallsReturnOnlyWhatTheirContextReports(t *testing.T) {
	parktest.ReturnsOnlyWhatCtxReports(t, blockingCalls())
}

func TestParkingCallsOfADyingTaskReturnErrKilled(t *testing.T) {
	parktest.DyingTaskGetsErrKilled(t, blockingCalls())
}

// A primitive bound to one loop refuses a task of another before it reads
// anything the first loop changes: the race detector watches while that
// loop keeps using it.
func TestPrimitiveOfAnotherLoopIsRefusedWithoutRace(t *testing.T) {
	var m locks.Lock
	handed := make(chan struct{})
	var done atomic.Bool
	loopA := make(chan error)
	go func() {
		loopA <- scheduler.Run(context.Background(), func(ctx context.Context) error {
			m.Lock(ctx) // binds m to this loop
			m.Unlock(ctx)
			close(handed)
			for !done.Load() {
				if err := m.Lock(ctx); err != nil {
					return err
				}
				yield(ctx)
				m.Unlock(ctx)
			}
			return nil
		})
	}()
	<-handed
	run(t, func(ctx context.Context) error {
		defer done.Store(true)
		if err := m.Lock(ctx); err != scheduler.ErrWrongLoop {
			t.Errorf("Lock of another loop's Lock = %v, want ErrWrongLoop", err)
		}
		mustPanic(t, "locks: Lock.Unlock by a task of another loop", func() { m.Unlock(ctx) })
		return nil
	})
	if err := <-loopA; err != nil {
		t.Fatalf("the other loop: %v", err)
	}
}

package locks

import (
	"context"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// An Event is a flag that tasks can wait for: Set raises it and wakes every
// task waiting, Clear lowers it, and Wait returns at once while it is
// raised. A waiter woken by Set returns even if the flag was cleared again
// before it ran. The zero value is a lowered Event; an Event must not be
// copied after first use.
type Event struct {
	_       noCopy
	set     bool
	home    waitq.Home
	waiters waitq.Queue[struct{}]
}

// Set raises e and wakes every task waiting on it, in the order they came.
// Never parks.
func (e *Event) Set() {
	e.set = true
	e.waiters.WakeAll(struct{}{}, nil)
}

// Clear lowers e. Never parks.
func (e *Event) Clear() { e.set = false }

// IsSet reports whether e is raised. Never parks.
func (e *Event) IsSet() bool { return e.set }

// Wait returns nil at once if e is raised, and otherwise parks the task that
// ctx carries until Set or until ctx is done (it then returns ctx's error).
// Wait fails with scheduler.ErrNoTask, scheduler.ErrNotCurrent or
// scheduler.ErrWrongLoop. May park the calling task.
func (e *Event) Wait(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := e.home.Check(t); err != nil {
		return err
	}
	if e.set {
		return nil
	}
	_, err := e.waiters.Wait(ctx, "locks.Event.Wait", 0, struct{}{}, nil)
	return err
}

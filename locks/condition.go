package locks

import (
	"context"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Locker is a lock that a Condition can wait with: a *Lock or an *RLock.
// Its unexported methods let Condition check who holds it and release it
// completely while it waits.
type Locker interface {
	Lock(ctx context.Context) error
	TryLock(ctx context.Context) bool
	Unlock(ctx context.Context)

	heldBy(t *scheduler.Task) bool
	releaseAll(t *scheduler.Task) (depth int) // t holds it: free it, handing it on
	restore(t *scheduler.Task, depth int)     // t holds it again after releaseAll
	excuse(t *scheduler.Task, depth int)      // t left without it: its Unlocks are no-ops
}

var (
	_ Locker = (*Lock)(nil)
	_ Locker = (*RLock)(nil)
)

// A Condition lets tasks wait until another task tells them that something
// they share, guarded by the Condition's lock, has changed. A task waits
// while holding the lock (Wait releases it while parked and takes it again
// before returning) and notifies while holding it. Waiters are notified in
// the order they came.
//
// The zero value is a Condition with an RLock of its own; NewCondition makes
// one over a given lock. A Condition must not be copied after first use.
type Condition struct {
	_    noCopy
	l    Locker // nil until first use of a zero Condition: then &own
	own  RLock
	home waitq.Home
	// Waiters are numbered as they come (Tag); a notification is woken
	// with the number of the first waiter that came after it (Value), and
	// only waiters before that number are notified by it, or handed it
	// when a notified waiter is killed.
	waiters waitq.Queue[uint64]
	arrived uint64
}

// NewCondition returns a Condition over l, which may be shared with other
// Conditions. A nil l gives the Condition an RLock of its own. Never parks.
func NewCondition(l Locker) *Condition {
	return &Condition{l: l}
}

// L returns c's lock. Never parks.
func (c *Condition) L() Locker {
	if c.l == nil {
		c.l = &c.own
	}
	return c.l
}

// Lock locks c's lock (see Lock.Lock and RLock.Lock). May park the calling
// task.
func (c *Condition) Lock(ctx context.Context) error { return c.L().Lock(ctx) }

// TryLock locks c's lock if that takes no wait, and reports whether it did
// (see Lock.TryLock and RLock.TryLock). Never parks.
func (c *Condition) TryLock(ctx context.Context) bool { return c.L().TryLock(ctx) }

// Unlock unlocks c's lock (see Lock.Unlock and RLock.Unlock). Never parks.
func (c *Condition) Unlock(ctx context.Context) { c.L().Unlock(ctx) }

// Wait releases c's lock (all of an RLock's locks), parks the task that ctx
// carries until Notify or NotifyAll wakes it or ctx is done, and locks c's
// lock again, as often as before, before returning. It returns nil when
// notified, ctx's error otherwise: ctx's deadline bounds the wait for a
// notification, not the wait for the lock afterwards. A notification never
// comes without cause, but what it announces may be gone by the time the
// lock is retaken: check the condition in a loop, or use WaitFor.
//
// A task killed in Wait unwinds without c's lock, and its deferred Unlocks
// of it (as many as it held) do nothing, so that the usual
//
//	c.Lock(ctx)
//	defer c.Unlock(ctx)
//
// stays correct. (A dying task cannot switch, so its deferred calls run
// alone either way.)
//
// Wait panics with "locks: Condition.Wait without holding its lock" if the
// task does not hold c's lock. It fails with scheduler.ErrNoTask,
// scheduler.ErrNotCurrent or scheduler.ErrWrongLoop. May park the calling
// task.
func (c *Condition) Wait(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := c.home.Check(t); err != nil {
		return err
	}
	l := c.L()
	if !l.heldBy(t) {
		panic("locks: Condition.Wait without holding its lock")
	}
	depth := l.releaseAll(t)
	relocked := false
	defer func() {
		if !relocked { // killed
			l.excuse(t, depth)
		}
	}()
	n := c.arrived
	c.arrived++
	_, err := c.waiters.Wait(ctx, "locks.Condition.Wait", int(n), 0, (*conditionKilled)(c))
	// ctx's deadline was for the notification: the lock is retaken under the
	// task's own context, which ends only with the task.
	if lerr := l.Lock(t.Context()); lerr != nil { // a dying task's deferred call
		relocked = true
		l.excuse(t, depth)
		return lerr
	}
	relocked = true
	l.restore(t, depth)
	return err
}

// WaitFor waits (see Wait) until pred, called with c's lock held, reports
// true, and returns nil then: at once if it holds already. If ctx is done
// first, WaitFor returns ctx's error, unless pred holds by then. It panics
// and fails as Wait does. May park the calling task.
func (c *Condition) WaitFor(ctx context.Context, pred func() bool) error {
	for !pred() {
		if err := c.Wait(ctx); err != nil {
			if pred() {
				return nil
			}
			return err
		}
	}
	return nil
}

// Notify wakes up to n of the tasks waiting on c, those that have waited
// longest first; each retakes c's lock once the calling task releases it.
// It panics with "locks: Condition.Notify without holding its lock" if the
// task that ctx carries does not hold c's lock. Never parks.
func (c *Condition) Notify(ctx context.Context, n int) {
	c.mustHold(ctx, "Notify")
	c.notify(n)
}

// NotifyAll wakes every task waiting on c (see Notify). Never parks.
func (c *Condition) NotifyAll(ctx context.Context) {
	c.mustHold(ctx, "NotifyAll")
	c.waiters.WakeAll(c.arrived, nil)
}

func (c *Condition) notify(n int) {
	for ; n > 0; n-- {
		w := c.waiters.Front()
		if w == nil {
			return
		}
		c.waiters.Wake(w, c.arrived, nil)
	}
}

func (c *Condition) mustHold(ctx context.Context, call string) {
	t := scheduler.Current(ctx)
	mustBeHome(&c.home, t, "Condition", call)
	if !c.L().heldBy(t) {
		panic("locks: Condition." + call + " without holding its lock")
	}
}

// conditionKilled is c seen by its waiters' kills: a killed task that was
// notified passes the notification on, to the first waiter that was
// waiting when it was made (none, for a NotifyAll: it woke them all).
type conditionKilled Condition

func (k *conditionKilled) Killed(w *waitq.Waiter[uint64]) {
	c := (*Condition)(k)
	if !w.Woken {
		return
	}
	if next := c.waiters.Front(); next != nil && uint64(next.Tag) < w.Value {
		c.waiters.Wake(next, w.Value, nil)
	}
}

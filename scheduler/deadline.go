package scheduler

import (
	"context"
	"sync/atomic"
	"time"
)

// Contexts whose deadline is the loop's time. Package context keeps a
// deadline with a runtime timer on the wall clock: a virtual clock does not
// move it, and its expiry reaches a parked task through a goroutine and a
// post, in no reproducible order. A deadline made here is a timer of the
// loop's own: it expires inside the loop's timer step, at the loop's time
// (virtual or not), before the tasks whose parks it ends are made runnable,
// so that their parking calls return an error the context already reports.

// deadlineKey is the Value key under which a loop-clock deadline context
// answers with itself, so that a park on a context derived from it (with
// package context) still ends at its deadline on the loop's clock.
type deadlineKey struct{}

// deadlineCtx is a context done at a time on its loop's clock. It is a
// context.WithCancelCause of its parent (which gives it Done, Value,
// cancellation by the parent, and Cause through package context's own
// lookup) whose Err is DeadlineExceeded once the deadline has passed.
type deadlineCtx struct {
	context.Context                         // WithCancelCause(parent)
	cancel          context.CancelCauseFunc // inner's
	l               *Loop
	when            int64        // the deadline on the loop's clock; fixed
	tm              timer        // on the loop's heap until the deadline or cancel
	cause           error        // what Cause reports once the deadline has passed
	outer           *deadlineCtx // the nearest loop deadline it was made within, if any
	state           atomic.Int32 // dlLive, then dlExpired or dlStopped, once
	removed         atomic.Bool  // stop asked the loop to take the timer out
	nextStop        *deadlineCtx // in the loop's stopped list
}

// The states of a deadlineCtx: live until its deadline passes (expired)
// or its CancelFunc is called (stopped), whichever comes first; its Err is
// then DeadlineExceeded, or Canceled.
const (
	dlLive int32 = iota
	dlExpired
	dlStopped
)

// WithDeadline returns a copy of ctx that is done once the clock of the
// loop ctx carries reaches d (see Loop.Now: virtual under WithVirtualClock),
// or when the returned cancel is called, or when ctx is done, whichever
// comes first: package context's WithDeadline on the loop's clock. Its Err
// is then context.DeadlineExceeded (or context.Canceled, or ctx's error),
// and a parking call given it, or a context derived from it, returns that
// error in the same iteration of the loop in which the deadline passed.
// Its Deadline is d, a time on the loop's clock.
//
// A context derived from it is done at the same moment: one made here
// (a later deadline is cut to this one) and a context.WithValue report
// context.DeadlineExceeded, while a context.WithCancel (or
// WithCancelCause) reports context.Canceled, with context.Cause giving
// context.DeadlineExceeded (or the cause): package context tells only its
// own deadlines apart. A task started from it carries its values but not
// its deadline, as it carries no cancellation (see the package doc).
//
// ctx must carry a loop (a task's or a callback's context, or one derived
// from it), and WithDeadline must be called on that loop; without a loop it
// is context.WithDeadline. Never parks. The returned cancel is safe to call
// from any goroutine, and should be called as soon as the work it bounds
// is done, as with package context: it takes the loop's timer out.
func WithDeadline(ctx context.Context, d time.Time) (context.Context, context.CancelFunc) {
	return WithDeadlineCause(ctx, d, nil)
}

// WithDeadlineCause is WithDeadline, with cause as what context.Cause
// reports once the deadline has passed (nil: context.DeadlineExceeded).
// Never parks.
func WithDeadlineCause(ctx context.Context, d time.Time, cause error) (context.Context, context.CancelFunc) {
	l := LoopOf(ctx)
	if l == nil {
		return context.WithDeadlineCause(ctx, d, cause)
	}
	return l.deadline(ctx, int64(d.Sub(l.base)), cause)
}

// WithTimeout is WithDeadline(ctx, Now(ctx).Add(timeout)): a timeout on
// the loop's clock. Never parks.
func WithTimeout(ctx context.Context, timeout time.Duration) (context.Context, context.CancelFunc) {
	return WithTimeoutCause(ctx, timeout, nil)
}

// WithTimeoutCause is WithTimeout with a cause, as WithDeadlineCause.
// Never parks.
func WithTimeoutCause(ctx context.Context, timeout time.Duration, cause error) (context.Context, context.CancelFunc) {
	return WithDeadlineCause(ctx, Now(ctx).Add(timeout), cause)
}

// LoopDeadline returns the time on the loop's clock by which ctx is done
// through a deadline, for what keeps time on that clock (an ioco conn's
// SetDeadline): the deadline of ctx made by WithDeadline or WithTimeout,
// and, on a loop that runs on the wall clock, one of package context's too
// (ctx.Deadline(): the two clocks are one there). On a virtual clock a
// wall-clock deadline is no time of the loop's and is left out: ctx's end
// still comes through ctx. ok is false when there is none, or when ctx
// carries no loop. Never parks.
func LoopDeadline(ctx context.Context) (d time.Time, ok bool) {
	l := LoopOf(ctx)
	switch {
	case l == nil:
		return time.Time{}, false
	case !l.virtual:
		return ctx.Deadline()
	}
	if c, found := ctx.Value(deadlineKey{}).(*deadlineCtx); found && c.l == l {
		return c.Deadline()
	}
	return time.Time{}, false
}

// deadline makes a deadlineCtx of ctx due at when on l's clock.
func (l *Loop) deadline(ctx context.Context, when int64, cause error) (context.Context, context.CancelFunc) {
	if cause == nil {
		cause = context.DeadlineExceeded
	}
	var outer *deadlineCtx
	if p, ok := ctx.Value(deadlineKey{}).(*deadlineCtx); ok && p.l == l && ctx.Done() != nil {
		outer = p
		when = min(when, p.when) // ctx ends first anyway, as in package context
	}
	inner, cancel := context.WithCancelCause(ctx)
	c := &deadlineCtx{Context: inner, cancel: cancel, l: l, when: when, cause: cause, outer: outer}
	c.tm.dl = c
	if when <= l.now() {
		c.expire()
		return c, func() {}
	}
	l.timers.Push(&c.tm, when)
	return c, c.stop
}

// expire ends c at its deadline, on the loop. A c cancelled before is left
// as it is, unless what cancelled it is the same deadline of an outer loop
// deadline, whose timer fired first in this same step: c then reports the
// deadline too, as package context's children of a deadline do.
func (c *deadlineCtx) expire() {
	if c.Context.Err() != nil && (c.outer == nil || c.outer.state.Load() != dlExpired || c.outer.when != c.when) {
		return
	}
	if c.state.CompareAndSwap(dlLive, dlExpired) { // before Done closes: whoever sees Done sees the deadline's Err
		c.cancel(c.cause)
	}
}

// stop is the CancelFunc of c: it cancels c at once, from any goroutine,
// unless its deadline passed first, and takes c's timer off the loop's heap
// through a post, whatever ended c (a c cancelled by its parent keeps its
// timer until then).
func (c *deadlineCtx) stop() {
	if c.state.CompareAndSwap(dlLive, dlStopped) {
		c.cancel(context.Canceled)
	}
	if c.removed.CompareAndSwap(false, true) {
		c.l.pushStopped(c)
	}
}

// pushStopped asks the loop to take c's timer off its heap: onto the
// stopped list, which the loop reads at its next timer or wait step (no
// allocation, where a post would make two), waking it if it sleeps (as
// Post does: the loop sets sleeping before it reads the list, and this
// pushes before it reads sleeping). Safe from any goroutine; after the
// loop has ended it does nothing of consequence.
func (l *Loop) pushStopped(c *deadlineCtx) {
	for {
		head := l.stopped.Load()
		c.nextStop = head
		if l.stopped.CompareAndSwap(head, c) {
			break
		}
	}
	if l.sleeping.Load() {
		l.mu.Lock()
		if !l.closed && l.started && l.sleeping.Load() {
			l.wakes.Add(1)
			l.poller.Wake()
		}
		l.mu.Unlock()
	}
}

// takeStopped takes the timers of the cancelled loop deadlines off the
// heap. On the loop, at every iteration: one atomic load when there are
// none (inlined; the yield ping-pong's budget).
func (l *Loop) takeStopped() {
	if l.stopped.Load() != nil {
		l.removeStopped()
	}
}

func (l *Loop) removeStopped() {
	for c := l.stopped.Swap(nil); c != nil; {
		next := c.nextStop
		c.nextStop = nil
		if c.tm.node.Queued() {
			l.timers.Remove(&c.tm)
		}
		c = next
	}
}

// expiredBy reports whether c ended by its own deadline. Safe to call from
// any goroutine.
func (c *deadlineCtx) expiredBy() bool { return c.state.Load() == dlExpired }

func (c *deadlineCtx) Deadline() (time.Time, bool) {
	return c.l.base.Add(time.Duration(c.when)), true
}

func (c *deadlineCtx) Err() error {
	if c.state.Load() == dlExpired {
		return context.DeadlineExceeded
	}
	return c.Context.Err()
}

func (c *deadlineCtx) Value(key any) any {
	if key == (deadlineKey{}) {
		return c
	}
	return c.Context.Value(key)
}

func (c *deadlineCtx) String() string {
	d, _ := c.Deadline()
	return "scheduler.WithDeadline(" + d.String() + ")"
}

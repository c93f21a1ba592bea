package scheduler

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/evergo/evergo/internal/timerheap"
)

// timer is an entry of the loop's timer heap: a callback's (h set), a
// parked task's deadline (t set) or a loop-clock context's (dl set).
type timer struct {
	node timerheap.Node
	h    *Handle
	t    *Task
	dl   *deadlineCtx
	err  error // what the task's park returns when the timer fires...
	// ...or, if ctx is set, ctx's error then: the park's ctx has a deadline
	// on the loop's clock (see deadline.go), whose own timer, due at the
	// same time and set earlier, has fired first.
	ctx context.Context
}

func (tm *timer) HeapNode() *timerheap.Node { return &tm.node }

// A Handle is a scheduled callback: CallSoon's, CallLater's or CallAt's.
type Handle struct {
	tm    timer
	l     *Loop
	fn    func(ctx context.Context)
	state handleState
}

// handleState is where a callback is:
//
//	handleTimer → handleReady      its time came (fireTimers)
//	handleReady → handleDone       the loop ran it
//	handleTimer, handleReady → handleCancelled   Cancel
type handleState uint8

const (
	handleTimer handleState = iota
	handleReady
	handleDone
	handleCancelled
)

// CallSoon schedules fn to run on the loop as a callback, after the tasks and
// callbacks already ready. The callback receives the loop's context: it may
// start tasks and schedule callbacks, but not park (parking calls return
// ErrNoTask). A nil fn panics, wrapping ErrNilFunc: the callback could
// never run. Must be called on the loop. Never parks.
func (l *Loop) CallSoon(fn func(ctx context.Context)) *Handle {
	mustFunc("CallSoon", fn)
	h := &Handle{l: l, fn: fn, state: handleReady}
	l.ready.push(entry{h: h})
	return h
}

// CallLater schedules fn to run as a callback once d has passed on the loop's
// clock. Timers due at the same time run in the order they were scheduled.
// A nil fn panics, as in CallSoon. Must be called on the loop. Never parks.
func (l *Loop) CallLater(d time.Duration, fn func(ctx context.Context)) *Handle {
	mustFunc("CallLater", fn)
	return l.callAt(l.now()+int64(max(d, 0)), fn)
}

// CallAt schedules fn to run as a callback once the loop's clock reaches t.
// A nil fn panics, as in CallSoon. Must be called on the loop. Never parks.
func (l *Loop) CallAt(t time.Time, fn func(ctx context.Context)) *Handle {
	mustFunc("CallAt", fn)
	return l.callAt(int64(t.Sub(l.base)), fn)
}

// mustFunc panics, at the call that would register it, on a nil callback:
// the loop would otherwise die of it later, far from the mistake. The panic
// value is an error for which errors.Is(v, ErrNilFunc) holds, Post's error
// for the same mistake (CallSoon, CallLater and CallAt return no error).
func mustFunc(call string, fn func(ctx context.Context)) {
	if fn == nil {
		panic(nilFuncError(call))
	}
}

// nilFuncError is the panic of a call given a nil function.
type nilFuncError string

func (e nilFuncError) Error() string { return "scheduler: " + string(e) + " of a nil function" }
func (e nilFuncError) Unwrap() error { return ErrNilFunc }

func (l *Loop) callAt(when int64, fn func(ctx context.Context)) *Handle {
	h := &Handle{l: l, fn: fn, state: handleTimer}
	h.tm.h = h
	l.timers.Push(&h.tm, when)
	return h
}

// Cancel keeps the callback from running and reports whether it did: false
// if the callback has run or was cancelled already. A timer cancelled by a
// callback that runs before it in the same iteration does not run. Must be
// called on the loop. Never parks.
func (h *Handle) Cancel() bool {
	switch h.state {
	case handleTimer:
		h.l.timers.Remove(&h.tm)
	case handleReady: // its run queue entry goes stale
	default:
		return false
	}
	h.state = handleCancelled
	h.fn = nil
	return true
}

// When returns the time a CallLater or CallAt callback is due on the loop's
// clock; the zero Time for CallSoon's. Never parks.
func (h *Handle) When() time.Time {
	if h.tm.h == nil {
		return time.Time{}
	}
	return h.l.base.Add(time.Duration(h.tm.node.When()))
}

// fireTimers moves every timer due by now onto the run queue, earliest
// first: callbacks become ready, parked tasks runnable.
func (l *Loop) fireTimers(now int64) {
	for {
		tm, ok := l.timers.Min()
		if !ok || tm.node.When() > now {
			return
		}
		l.timers.Remove(tm)
		switch {
		case tm.dl != nil:
			tm.dl.expire()
		case tm.ctx != nil:
			t := tm.t
			if err := tm.ctx.Err(); err != nil {
				t.ready(err)
			} else if w := t.wst; w != nil && w.dispWhen != 0 { // the deadline did not end ctx: back to the timer it displaced
				tm.ctx, tm.err = nil, w.dispErr
				l.timers.Push(tm, w.dispWhen)
				w.dispWhen, w.dispErr = 0, nil
			} // else ctx ends otherwise: its watch ends the park
		case tm.t != nil:
			tm.t.ready(tm.err)
		default:
			tm.h.state = handleReady
			l.ready.push(entry{h: tm.h})
		}
	}
}

// callback runs a ready callback on the loop's own fiber. A panic ends the
// loop: nobody waits for a callback, so Run returns it.
func (l *Loop) callback(h *Handle) {
	h.state = handleDone
	fn := h.fn
	h.fn = nil
	defer func() {
		if r := recover(); r != nil {
			err := fmt.Errorf("scheduler: callback panicked: %w",
				&PanicError{Value: r, Stack: debug.Stack()})
			l.stop.CompareAndSwap(nil, &err)
		}
	}()
	fn(&l.ctx)
}

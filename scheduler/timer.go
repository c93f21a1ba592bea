package scheduler

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/evergo/evergo/internal/timerheap"
)

// timer is an entry of the loop's timer heap: a callback's (h set) or a
// parked task's deadline (t set).
type timer struct {
	node timerheap.Node
	h    *Handle
	t    *Task
	err  error // what the task's park returns when the timer fires
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
// ErrNoTask). Must be called on the loop. Never parks.
func (l *Loop) CallSoon(fn func(ctx context.Context)) *Handle {
	h := &Handle{l: l, fn: fn, state: handleReady}
	l.ready.push(entry{h: h})
	return h
}

// CallLater schedules fn to run as a callback once d has passed on the loop's
// clock. Timers due at the same time run in the order they were scheduled.
// Must be called on the loop. Never parks.
func (l *Loop) CallLater(d time.Duration, fn func(ctx context.Context)) *Handle {
	return l.callAt(l.now()+int64(max(d, 0)), fn)
}

// CallAt schedules fn to run as a callback once the loop's clock reaches t.
// Must be called on the loop. Never parks.
func (l *Loop) CallAt(t time.Time, fn func(ctx context.Context)) *Handle {
	return l.callAt(int64(t.Sub(l.base)), fn)
}

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
		if tm.t != nil {
			tm.t.ready(tm.err)
		} else {
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

// entry is one item of the run queue: a task or a callback.
type entry struct {
	t *Task
	h *Handle
}

// runq is a FIFO ring of entries. Entries of tasks that were killed and of
// callbacks that were cancelled go stale in place and are skipped when they
// come up.
type runq struct {
	buf  []entry // len is a power of two
	head int
	n    int
}

func (q *runq) push(e entry) {
	if q.n == len(q.buf) {
		q.grow()
	}
	q.buf[(q.head+q.n)&(len(q.buf)-1)] = e
	q.n++
}

func (q *runq) pop() entry {
	e := q.buf[q.head]
	q.buf[q.head] = entry{}
	q.head = (q.head + 1) & (len(q.buf) - 1)
	q.n--
	return e
}

// take removes and returns the i-th entry from the front: the front entry
// takes its place.
func (q *runq) take(i int) entry {
	if i > 0 {
		mask := len(q.buf) - 1
		j := (q.head + i) & mask
		q.buf[q.head], q.buf[j] = q.buf[j], q.buf[q.head]
	}
	return q.pop()
}

func (q *runq) grow() {
	buf := make([]entry, max(2*len(q.buf), 16))
	for i := range q.n {
		buf[i] = q.buf[(q.head+i)&(len(q.buf)-1)]
	}
	q.buf, q.head = buf, 0
}

package futures

import (
	"context"
	"errors"
	"iter"
	"strconv"

	"github.com/evergo/evergo/scheduler"
)

// WaitMode says when Wait returns.
type WaitMode uint8

const (
	// AllCompleted: when every future is done.
	AllCompleted WaitMode = iota
	// FirstCompleted: when at least one future is done.
	FirstCompleted
	// FirstError: when a future fails (done with an error other than
	// ErrCancelled), or else when every future is done.
	FirstError
)

func (m WaitMode) String() string {
	switch m {
	case AllCompleted:
		return "AllCompleted"
	case FirstCompleted:
		return "FirstCompleted"
	case FirstError:
		return "FirstError"
	}
	return "WaitMode(" + strconv.Itoa(int(m)) + ")"
}

// Wait parks the task that ctx carries until fs satisfy mode, and returns
// fs split in two, each in the order of fs: done (completed or cancelled)
// and pending. It returns at once if fs satisfy mode already. If ctx ends
// first, Wait returns the split as it stands and an *UnfinishedError that
// says how many futures were pending and unwraps to ctx's error. A future
// listed twice counts twice. Wait fails with scheduler.ErrNoTask without a
// task in ctx, scheduler.ErrWrongLoop for a future of another loop, and it
// panics for a nil future or an unknown mode. May park the calling task.
func Wait[T any](ctx context.Context, fs []*Future[T], mode WaitMode) (done, pending []*Future[T], err error) {
	t := scheduler.Current(ctx)
	if err := check(t, fs); err != nil {
		return nil, nil, err
	}
	w := &waiter{task: t}
	w.hook.OnKill = w
	ndone, failed := 0, false
	for _, f := range fs {
		if f.Done() {
			ndone++
			failed = failed || f.failed()
		}
	}
	switch mode {
	case AllCompleted:
		w.wakeAt = len(fs) - ndone
	case FirstCompleted:
		w.wakeAt = min(len(fs), 1) - min(ndone, 1)
	case FirstError:
		w.wakeAt, w.onFail = len(fs)-ndone, true
	default:
		panic("futures: Wait with an unknown WaitMode")
	}
	if w.wakeAt > 0 && !(failed && w.onFail) {
		watchAll(w, fs)
		err = scheduler.ParkWith(ctx, "futures.Wait", &w.hook)
		w.leave()
	}
	for _, f := range fs {
		if f.Done() {
			done = append(done, f)
		} else {
			pending = append(pending, f)
		}
	}
	if ctxEnded(err) {
		err = &UnfinishedError{Unfinished: len(pending), Total: len(fs), Err: err}
	}
	return done, pending, err
}

// AsCompleted returns an iterator over fs that yields each future once it is
// done: first those done already, in the order of fs, then the others in the
// order they complete, parking the task that ctx carries in between. If ctx
// ends before every future is done, the iterator yields a nil future and an
// *UnfinishedError that says how many were left (it unwraps to ctx's
// error), and stops. It yields a nil future and scheduler.ErrNoTask or
// scheduler.ErrWrongLoop for the mistakes Wait reports. The body of the
// loop may park; the futures that complete meanwhile are yielded after it.
// AsCompleted never parks; the iterator it returns may park the calling
// task.
func AsCompleted[T any](ctx context.Context, fs []*Future[T]) iter.Seq2[*Future[T], error] {
	return func(yield func(*Future[T], error) bool) {
		t := scheduler.Current(ctx)
		if err := check(t, fs); err != nil {
			yield(nil, err)
			return
		}
		w := &waiter{task: t, wakeAt: 1}
		w.hook.OnKill = w
		defer w.leave()
		left := watchAll(w, fs) // before the first yield: its body may park
		for i, f := range fs {
			if w.nodes[i].w == nil && !yield(f, nil) { // done before the watch
				return
			}
		}
		for ; left > 0; left-- {
			if w.unseen() == 0 {
				if err := scheduler.ParkWith(ctx, "futures.AsCompleted", &w.hook); err != nil {
					if ctxEnded(err) {
						err = &UnfinishedError{Unfinished: left, Total: len(fs), Err: err}
					}
					yield(nil, err)
					return
				}
			}
			i := w.fired[w.seen]
			w.seen++
			if !yield(fs[i], nil) {
				return
			}
		}
	}
}

// ctxEnded reports whether a park's error is its ctx's: a deadline (kept on
// the loop's clock, so ctx.Err may not say so yet) or a cancellation.
func ctxEnded(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// check vets the task and the futures of a Wait or an AsCompleted.
func check[T any](t *scheduler.Task, fs []*Future[T]) error {
	if t == nil {
		return scheduler.ErrNoTask
	}
	for _, f := range fs {
		if f == nil {
			panic("futures: wait for a nil Future")
		}
		if err := f.home.Check(t); err != nil {
			return err
		}
	}
	return nil
}

// failed reports whether a done future failed: it has an error other than
// a cancellation.
func (f *Future[T]) failed() bool { return f.state == done && f.err != nil }

// A waiter is a task waiting for some of many futures: Wait, AsCompleted and
// Map. It watches each future that is not done through a node in the
// future's watch list, and notes the futures that complete, in order.
type waiter struct {
	hook   scheduler.ParkHook
	task   *scheduler.Task
	nodes  []watch // one per future of fs, linked if it was pending
	fired  []int   // indexes of the watched futures that completed, in order
	seen   int     // of fired, those the waiter has dealt with
	wakeAt int     // wake the task once this many are unseen
	onFail bool    // or once one has failed
	failed bool    // one has failed
}

// watchAll links a node into the watch list of each future of fs that is not
// done, and returns how many it linked.
func watchAll[T any](w *waiter, fs []*Future[T]) int {
	w.nodes = make([]watch, len(fs))
	n := 0
	for i, f := range fs {
		if !f.Done() {
			nd := &w.nodes[i]
			nd.w, nd.i = w, i
			f.watches.push(nd)
			n++
		}
	}
	return n
}

// fire notes that the future watched by node i completed (failed: with an
// error other than a cancellation), and wakes the task if it waited for
// that. A task parked elsewhere (in the body of an AsCompleted loop) is not
// woken: it finds the note when it comes back.
func (w *waiter) fire(i int, failed bool) {
	w.fired = append(w.fired, i)
	w.failed = w.failed || failed
	if w.unseen() >= w.wakeAt || failed && w.onFail {
		w.task.WakeWith(&w.hook)
	}
}

func (w *waiter) unseen() int { return len(w.fired) - w.seen }

// leave unlinks the nodes still linked.
func (w *waiter) leave() {
	for i := range w.nodes {
		if nd := &w.nodes[i]; nd.list != nil {
			nd.list.remove(nd)
		}
	}
}

// Killed is told by scheduler.Task.Kill of the parked waiter's task.
func (w *waiter) Killed() { w.leave() }

// A watch is a waiter's node in one future's watch list.
type watch struct {
	prev, next *watch
	list       *watchList // the list it is in; nil once out
	w          *waiter
	i          int // the future's index in the waiter's futures
}

// A watchList is a future's list of watching waiters, in the order they
// came.
type watchList struct{ head, tail *watch }

func (l *watchList) push(n *watch) {
	n.list, n.prev, n.next = l, l.tail, nil
	if l.tail == nil {
		l.head = n
	} else {
		l.tail.next = n
	}
	l.tail = n
}

func (l *watchList) remove(n *watch) {
	if n.prev == nil {
		l.head = n.next
	} else {
		n.prev.next = n.next
	}
	if n.next == nil {
		l.tail = n.prev
	} else {
		n.next.prev = n.prev
	}
	n.list, n.prev, n.next = nil, nil, nil
}

// fire empties the list, telling each waiter that its future completed.
func (l *watchList) fire(failed bool) {
	for n := l.head; n != nil; n = l.head {
		l.remove(n)
		n.w.fire(n.i, failed)
	}
}

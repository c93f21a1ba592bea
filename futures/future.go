package futures

import (
	"context"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Future is the result of a computation that may not have ended yet: a
// value of type T or an error, set once. Tasks wait for it with Get; Wait
// and AsCompleted wait for many. The zero Future is pending and ready to
// use; an executor's Submit returns one that its work will complete.
//
// A Future belongs to one loop: the loop of the first task that passes it a
// ctx. Its methods are called on that loop, from its tasks and callbacks;
// another goroutine completes a future through scheduler.Loop.Post. A
// Future must not be copied after first use.
type Future[T any] struct {
	_ noCopy

	state     state
	value     T
	err       error
	home      waitq.Home
	getters   waitq.Queue[struct{}] // tasks parked in Get
	watches   watchList             // Wait and AsCompleted watching
	callbacks []func(*Future[T])
	stop      stopper // an executor's: whether work not started yet can be stopped
}

// state is where a future is in its life.
type state uint8

const (
	pending   state = iota // nothing has happened yet: Cancel succeeds
	running                // its work began: Cancel fails
	done                   // it has a value or an error
	cancelled              // Cancel succeeded
)

// A stopper is told by Cancel of a future whose work runs elsewhere (on a
// thread pool): stop reports whether the work had not started yet and now
// never will.
type stopper interface{ stop() bool }

// Get returns the future's value and error, parking the task that ctx
// carries until the future is done. It returns ErrCancelled for a cancelled
// future, and a *PanicError when the function behind it panicked. If ctx
// ends first (its deadline is Get's timeout), Get returns ctx's error and
// the future is unchanged. A future that is done is returned at once, even
// when ctx is done. Get fails with scheduler.ErrNoTask without a task in
// ctx and with scheduler.ErrWrongLoop for a task of another loop. May park
// the calling task.
//
// SetResult, SetError and Cancel happen before the Gets they complete
// return: what the task or callback that completed a future wrote before
// completing it, the task that Get returns to sees.
func (f *Future[T]) Get(ctx context.Context) (T, error) {
	t := scheduler.Current(ctx)
	if err := f.home.Check(t); err != nil {
		var zero T
		return zero, err
	}
	if f.state < done {
		w := f.getters.Enter(t, 0, struct{}{}, nil)
		if _, err := f.getters.Leave(w, scheduler.ParkWith(ctx, "futures.Future.Get", w.Hook())); err != nil {
			var zero T
			return zero, err
		}
	}
	return f.value, f.err
}

// TryGet returns the value and error of a done future, as Get does, and
// ErrNotDone for one that is not done. Never parks.
func (f *Future[T]) TryGet() (T, error) {
	if f.state < done {
		var zero T
		return zero, ErrNotDone
	}
	return f.value, f.err
}

// Done reports whether the future has a value or an error, or was
// cancelled. Never parks.
func (f *Future[T]) Done() bool { return f.state >= done }

// Cancelled reports whether Cancel cancelled the future. Never parks.
func (f *Future[T]) Cancelled() bool { return f.state == cancelled }

// Cancel cancels a future whose work has not started: it becomes done with
// ErrCancelled, its Gets return, its callbacks run, and the work never
// runs. Cancel reports whether the future is cancelled: true also for one
// cancelled before, false for one that is running or done (with a value or
// an error), which it leaves alone. Never parks.
func (f *Future[T]) Cancel() bool {
	switch f.state {
	case cancelled:
		return true
	case running, done:
		return false
	}
	if f.stop != nil && !f.stop.stop() {
		f.state = running // the thread pool got to it first
		return false
	}
	var zero T
	f.complete(zero, ErrCancelled, cancelled)
	return true
}

// SetRunning marks a pending future as running, so that Cancel fails from
// now on, and reports true; for a cancelled future it reports false, and
// the work it stands for should not start. It is for code that completes
// futures itself, as an executor does. It panics for a future that is
// running or done already. Never parks.
func (f *Future[T]) SetRunning() bool {
	switch f.state {
	case pending:
		f.state = running
		return true
	case cancelled:
		return false
	}
	panic("futures: SetRunning of a running or done Future")
}

// SetResult completes the future with v: its Gets return v and a nil
// error, and its callbacks run, in the order they were added. It reports
// false, dropping v, for a future that is done already (completed or
// cancelled): the first completion wins. A panicking callback panics
// SetResult once the other callbacks have run. Never parks.
func (f *Future[T]) SetResult(v T) bool {
	if f.state >= done {
		return false
	}
	f.complete(v, nil, done)
	return true
}

// SetError completes the future with err, as SetResult does with a value:
// its Gets return the zero T and err. It panics if err is nil. Never parks.
func (f *Future[T]) SetError(err error) bool {
	if err == nil {
		panic("futures: SetError with a nil error")
	}
	if f.state >= done {
		return false
	}
	var zero T
	f.complete(zero, err, done)
	return true
}

// AddDoneCallback makes fn run on the loop when the future is done, with
// the future: in the call that completes it (SetResult, SetError, Cancel),
// after its Gets have been made runnable, in the order the callbacks were
// added. On a future that is done already, fn runs at once, before
// AddDoneCallback returns. fn must not park (it may be called in a
// callback, which is not a task). It panics if fn is nil. Never parks.
func (f *Future[T]) AddDoneCallback(fn func(f *Future[T])) {
	if fn == nil {
		panic("futures: AddDoneCallback with a nil function")
	}
	if f.state >= done {
		fn(f)
		return
	}
	f.callbacks = append(f.callbacks, fn)
}

// complete settles the future and tells everyone who waits.
func (f *Future[T]) complete(v T, err error, st state) {
	f.value, f.err, f.state, f.stop = v, err, st, nil
	f.getters.WakeAll(struct{}{}, nil)
	f.watches.fire(err != nil && st != cancelled)
	if cbs := f.callbacks; cbs != nil {
		f.callbacks = nil
		f.call(cbs)
	}
}

// call runs the callbacks in order; if one panics, the rest still run while
// the panic unwinds, and the panic goes on with its own stack.
func (f *Future[T]) call(cbs []func(*Future[T])) {
	for i, cb := range cbs {
		f.callOne(cb, cbs[i+1:])
	}
}

func (f *Future[T]) callOne(cb func(*Future[T]), rest []func(*Future[T])) {
	ok := false
	defer func() {
		if !ok {
			f.call(rest)
		}
	}()
	cb(f)
	ok = true
}

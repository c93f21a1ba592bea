package scheduler

import (
	"runtime/debug"
	"slices"
)

// endFunc is one function registered by AtEnd.
type endFunc struct {
	fn      func()
	removed bool
}

// AtEnd registers fn to run when the loop ends, however it ends: after the
// tasks still alive have been killed (their deferred calls have run) and
// before Run or RunForever returns, on the loop's goroutine. Functions run
// in the reverse order of their registration, as deferred calls do; a
// function registered while they run runs too. Use it to release what lives
// beside a loop and must not outlive it, such as a pool of goroutines: fn
// may block until that is done, since nothing else runs on the loop any
// more, and it must not park. A panic in fn is recovered: the others still
// run, and Run returns it as a *PanicError if it has no other error.
//
// The stop function unregisters fn: it reports false if fn has run or was
// unregistered already. AtEnd fails with ErrNilFunc, and with ErrClosed on a
// loop that has ended. Never parks. AtEnd and stop are called on the loop.
func (l *Loop) AtEnd(fn func()) (stop func() bool, err error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	if l.state == loopEnded {
		return nil, ErrClosed
	}
	e := &endFunc{fn: fn}
	l.atEnd = append(l.atEnd, e)
	return func() bool {
		if e.removed {
			return false
		}
		e.removed = true
		if i := slices.Index(l.atEnd, e); i >= 0 {
			l.atEnd = slices.Delete(l.atEnd, i, i+1)
		}
		return true
	}, nil
}

// runAtEnd runs the AtEnd functions, last registered first, and returns the
// first panic among them.
func (l *Loop) runAtEnd() (err error) {
	for n := len(l.atEnd); n > 0; n = len(l.atEnd) {
		e := l.atEnd[n-1]
		l.atEnd[n-1] = nil
		l.atEnd = l.atEnd[:n-1]
		if e.removed {
			continue
		}
		e.removed = true
		if perr := callEnd(e.fn); perr != nil && err == nil {
			err = perr
		}
	}
	l.atEnd = nil
	return err
}

func callEnd(fn func()) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: debug.Stack()}
		}
	}()
	fn()
	return nil
}

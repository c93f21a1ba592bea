package httpco

import (
	"context"
	"net"
	"net/http"
	"slices"
	"sync"
	"time"
)

// A requestCtx is the context of one request: its connection task's
// context, with http.LocalAddrContextKey, cancelled as well when the
// request ends (its handler returns, its client hangs up, Close).
//
// It is context.WithCancel and context.WithValue in one allocation, and it
// registers with the task's context only when asked for Done or AfterFunc.
// Budget: one allocation per request for a handler that never selects on
// Done, where the pair costs seven (BenchmarkHelloHttpco, with
// -benchmem). Any goroutine may use it; cancel runs on the loop.
type requestCtx struct {
	parent context.Context // the connection task's
	laddr  net.Addr

	mu         sync.Mutex
	err        error         // set once, by cancel
	done       chan struct{} // made by the first Done
	afters     []*reqAfter   // AfterFunc's, until cancel runs them
	stopParent func() bool   // the registration with parent, once made
}

type reqAfter struct {
	f       func()
	stopped bool // guarded by requestCtx.mu
}

// afterFuncer is a context that calls a function once it is done without a
// goroutine to wait for that (a task's context has it, and so does this).
type afterFuncer interface {
	AfterFunc(func()) func() bool
}

func (c *requestCtx) Deadline() (time.Time, bool) { return c.parent.Deadline() }

func (c *requestCtx) Value(key any) any {
	if key == http.LocalAddrContextKey {
		return c.laddr
	}
	return c.parent.Value(key)
}

func (c *requestCtx) String() string { return "httpco.requestContext" }

// Err reports context.Canceled once the request has ended or its task's
// context is done. Until something asks for Done, it reports the task
// context's error directly; a Done channel asked for at that moment may
// close an instant later, as a task context's does.
func (c *requestCtx) Err() error {
	c.mu.Lock()
	err, registered := c.err, c.stopParent != nil
	c.mu.Unlock()
	if err != nil || registered {
		return err // a registered parent's end reaches err through cancel
	}
	return c.parent.Err() // nobody waits on Done: there is none to close
}

// Done returns a channel closed once the request has ended or its task's
// context is done.
func (c *requestCtx) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done == nil {
		c.done = make(chan struct{})
		if c.err != nil {
			close(c.done)
		} else {
			c.watchParentLocked()
		}
	}
	return c.done
}

// AfterFunc arranges for f to be called once the context is done, as a
// task's context does: package context uses it for a context derived from
// this one (context.WithCancel, WithTimeout, AfterFunc), which then needs no
// goroutine to follow its parent. f runs on the loop, in the call that
// cancels, or at once on a goroutine of its own if the context is done
// already. stop reports whether it stopped f from running.
func (c *requestCtx) AfterFunc(f func()) (stop func() bool) {
	c.mu.Lock()
	if c.err == nil {
		c.watchParentLocked()
	}
	if c.err != nil {
		c.mu.Unlock()
		go f()
		return func() bool { return false }
	}
	a := &reqAfter{f: f}
	c.afters = append(c.afters, a)
	c.mu.Unlock()
	return func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if a.stopped || c.err != nil {
			return false
		}
		a.stopped = true
		// Out of the list, so that a handler deriving a context per call
		// (WithTimeout round each query of a long stream) does not keep
		// them all until its request ends; the latest is most often the
		// one stopped.
		if i := slices.Index(c.afters, a); i >= 0 {
			c.afters = slices.Delete(c.afters, i, i+1)
		}
		return true
	}
}

// watchParentLocked registers with the parent, once, so that its end
// cancels the request. The parent may be done already: the registration
// then runs cancel on a goroutine of its own (package context's rule), and
// err is set at once so that Err and Done agree meanwhile.
func (c *requestCtx) watchParentLocked() {
	if c.stopParent != nil {
		return
	}
	if a, ok := c.parent.(afterFuncer); ok {
		c.stopParent = a.AfterFunc(c.cancel)
	} else {
		c.stopParent = context.AfterFunc(c.parent, c.cancel)
	}
	if err := c.parent.Err(); err != nil {
		c.cancelLocked(err)
	}
}

// cancel ends the request's context: its Done channel closes and its
// AfterFunc functions run. Only the first call does anything.
func (c *requestCtx) cancel() {
	c.mu.Lock()
	afters := c.cancelLocked(context.Canceled)
	stop := c.stopParent
	c.mu.Unlock()
	if stop != nil {
		stop() // no longer needed; a no-op if it is what runs now
	}
	for _, a := range afters {
		a.f()
	}
}

// cancelLocked sets err and closes Done, and returns the AfterFunc
// functions still to run; nothing the second time.
func (c *requestCtx) cancelLocked(err error) []*reqAfter {
	if c.err != nil {
		return nil
	}
	c.err = err
	if c.done != nil {
		close(c.done)
	}
	afters := c.afters[:0:0]
	for _, a := range c.afters {
		if !a.stopped {
			a.stopped = true // stop reports false from now on
			afters = append(afters, a)
		}
	}
	c.afters = nil
	return afters
}

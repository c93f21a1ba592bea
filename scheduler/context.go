package scheduler

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// The contexts a loop hands out. A task's function receives its task's
// context; a callback receives the loop's. Both answer Value with the loop
// (and the task) and pass every other key to the context they were made
// from, so request-scoped values flow from Run and from a spawning task into
// the tasks it spawns. Cancellation does not flow: a task is Thread-like and
// lives on when the task that spawned it is killed; Run's context, when
// cancelled, stops the whole loop instead.

type (
	taskKey struct{}
	loopKey struct{}
)

// loopCtx is what callbacks receive: the loop, and no task.
type loopCtx struct {
	l      *Loop
	parent context.Context // values only
}

func (c *loopCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *loopCtx) Done() <-chan struct{}       { return nil }
func (c *loopCtx) Err() error                  { return nil }
func (c *loopCtx) Value(key any) any {
	if key == (loopKey{}) {
		return c.l
	}
	return c.parent.Value(key)
}
func (c *loopCtx) String() string { return "scheduler.loopContext" }

// taskCtx is what a task's function receives. It is cancelled when the task
// ends or is killed: Done closes, Err returns context.Canceled, and contexts
// derived from it are cancelled on the loop, synchronously (it implements
// the AfterFunc method that package context looks for, so deriving from it
// starts no goroutine).
//
// Done, Err and AfterFunc may be called from any goroutine (a derived
// context may be handed to a thread-pool function), so the cancellation
// state is guarded by ctxState.mu; the loop's hot paths never touch it.
type taskCtx struct {
	t      *Task
	parent context.Context // values only

	// cancel stores err and then loads cs; Done and AfterFunc store cs and
	// then load err, under cs.mu: so cancel takes the lock only when one of
	// them may have run, and neither misses the cancellation.
	err atomic.Pointer[error]    // context.Canceled once cancelled
	cs  atomic.Pointer[ctxState] // made by the first Done or AfterFunc
}

// ctxState is the part of a task's context that only Done and AfterFunc
// need, made on first use so that a task nobody asks for Done stays small.
type ctxState struct {
	mu     sync.Mutex
	done   chan struct{} // made on first Done; closed by cancel
	closed bool          // done is closed
	afters []*afterFunc  // registered by AfterFunc, run by cancel
}

// state returns the context's ctxState, making it on first use.
func (c *taskCtx) state() *ctxState {
	if p := c.cs.Load(); p != nil {
		return p
	}
	c.cs.CompareAndSwap(nil, new(ctxState))
	return c.cs.Load()
}

var errCanceled = context.Canceled

type afterFunc struct {
	f    func()
	stop bool // guarded by ctxState.mu
}

func (c *taskCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *taskCtx) Done() <-chan struct{} {
	cs := c.state()
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.done == nil {
		cs.done = make(chan struct{})
	}
	if !cs.closed && c.err.Load() != nil {
		close(cs.done)
		cs.closed = true
	}
	return cs.done
}

func (c *taskCtx) Err() error {
	if p := c.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (c *taskCtx) Value(key any) any {
	switch key {
	case taskKey{}:
		return c.t
	case loopKey{}:
		return c.t.l
	}
	return c.parent.Value(key)
}

func (c *taskCtx) String() string { return "scheduler.taskContext(" + c.t.Name() + ")" }

// AfterFunc arranges for f to run once the context is cancelled; package
// context calls it when a context is derived from a task's. f runs on the
// loop, in the call that ends or kills the task. stop reports whether it
// stopped f from running.
func (c *taskCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	cs := c.state()
	cs.mu.Lock()
	if c.err.Load() != nil {
		cs.mu.Unlock()
		go f() // already cancelled: as package context does, run it at once
		return func() bool { return false }
	}
	cs.afters = append(cs.afters, a)
	cs.mu.Unlock()
	return func() bool {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if a.stop || c.err.Load() != nil {
			return false
		}
		a.stop = true
		return true
	}
}

// cancel marks the context cancelled and runs the registered functions, in
// registration order. It runs on the loop.
func (c *taskCtx) cancel() {
	if !c.err.CompareAndSwap(nil, &errCanceled) {
		return // cancelled before
	}
	cs := c.cs.Load()
	if cs == nil {
		return // nobody asked for Done or AfterFunc: no lock needed
	}
	cs.mu.Lock()
	if cs.done != nil && !cs.closed {
		close(cs.done)
		cs.closed = true
	}
	afters := cs.afters
	cs.afters = nil
	cs.mu.Unlock()
	for _, a := range afters {
		if !a.stop {
			a.f()
		}
	}
}

// valuesOf returns the context whose values a task or callback made from ctx
// should see: the context a task's or the loop's context was made from, so
// that chains of tasks spawning tasks do not keep each other reachable.
// context.WithoutCancel hides the cancellation of the contexts above from
// package context's own lookups (context.Cause of a task's context is its
// own cause, not Run's).
func valuesOf(ctx context.Context) context.Context {
	switch c := ctx.(type) {
	case *taskCtx:
		return c.parent
	case *loopCtx:
		return c.parent
	}
	return context.WithoutCancel(ctx)
}

// taskOf returns the task ctx carries, or nil. The type switch is the fast
// path: a task passing its own context.
func taskOf(ctx context.Context) *Task {
	if c, ok := ctx.(*taskCtx); ok {
		return c.t
	}
	if ctx == nil {
		return nil
	}
	t, _ := ctx.Value(taskKey{}).(*Task)
	return t
}

// LoopOf returns the loop that ctx carries (that of its task or callback), or
// nil. Never parks.
func LoopOf(ctx context.Context) *Loop {
	switch c := ctx.(type) {
	case *taskCtx:
		return c.t.l
	case *loopCtx:
		return c.l
	case nil:
		return nil
	}
	l, _ := ctx.Value(loopKey{}).(*Loop)
	return l
}

// Current returns the task that ctx carries, or nil: inside a task's function,
// the task itself. Never parks.
func Current(ctx context.Context) *Task {
	if c, ok := ctx.(*taskCtx); ok { // the task's own context, inline
		return c.t
	}
	return taskOf(ctx)
}

// Now returns the time on the clock of the loop that ctx carries (virtual
// under WithVirtualClock), or time.Now() when ctx carries no loop. Never
// parks.
func Now(ctx context.Context) time.Time {
	if l := LoopOf(ctx); l != nil {
		return l.Now()
	}
	return time.Now()
}

package scheduler

import (
	"context"
	"slices"
	"sync"
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
	switch key {
	case loopKey{}:
		return c.l
	case deadlineKey{}:
		return nil // values only, as a task's (see taskCtx.Value)
	}
	return c.parent.Value(key)
}
func (c *loopCtx) String() string { return "scheduler.loopContext" }

// taskCtx is what a task's function receives: the task itself, seen as a
// context (a conversion, so that it costs no allocation and no pointer of
// its own). It is cancelled when the task ends or is killed: Done closes,
// Err returns context.Canceled, and contexts derived from it are cancelled
// on the loop, synchronously (it implements the AfterFunc method that
// package context looks for, so deriving from it starts no goroutine).
//
// Done, Err and AfterFunc may be called from any goroutine (a derived
// context may be handed to a thread-pool function), so the cancellation
// state is the task's atomic cancelled, and what Done and AfterFunc need is
// in its taskExt, guarded by ctxState.mu; the loop's hot paths never touch
// it. cancel stores cancelled and then loads ext; Done and AfterFunc store
// ext and then load cancelled, under ctxState.mu: so cancel takes the lock
// only when one of them may have run, and neither misses the cancellation.
type taskCtx Task

// ctxState is the part of a task's context that only Done and AfterFunc
// need, in the task's taskExt, made on first use so that a task nobody asks
// for Done stays small.
type ctxState struct {
	mu     sync.Mutex
	done   chan struct{} // made on first Done; closed by cancel
	closed bool          // done is closed
	afters []*afterFunc  // registered by AfterFunc, run by cancel
}

// task is the task c is the context of.
func (c *taskCtx) task() *Task { return (*Task)(c) }

type afterFunc struct {
	f    func()
	stop bool // guarded by ctxState.mu
}

func (c *taskCtx) Deadline() (time.Time, bool) { return time.Time{}, false }

func (c *taskCtx) Done() <-chan struct{} {
	cs := &c.task().extra().ctxState
	cs.mu.Lock()
	defer cs.mu.Unlock()
	if cs.done == nil {
		cs.done = make(chan struct{})
	}
	if !cs.closed && c.cancelled.Load() {
		close(cs.done)
		cs.closed = true
	}
	return cs.done
}

func (c *taskCtx) Err() error {
	if c.cancelled.Load() {
		return context.Canceled
	}
	return nil
}

func (c *taskCtx) Value(key any) any {
	switch key {
	case taskKey{}:
		return c.task()
	case loopKey{}:
		return c.l
	case deadlineKey{}:
		return nil // a spawner's deadline is in the values, not its cancellation
	}
	if p := c.task().values(); p != nil {
		return p.Value(key)
	}
	return nil // not started
}

func (c *taskCtx) String() string { return "scheduler.taskContext(" + c.task().Name() + ")" }

// AfterFunc arranges for f to run once the context is cancelled; package
// context calls it when a context is derived from a task's. f runs on the
// loop, in the call that ends or kills the task. stop reports whether it
// stopped f from running.
func (c *taskCtx) AfterFunc(f func()) (stop func() bool) {
	a := &afterFunc{f: f}
	cs := &c.task().extra().ctxState
	cs.mu.Lock()
	if c.cancelled.Load() {
		cs.mu.Unlock()
		go f() // already cancelled: as package context does, run it at once
		return func() bool { return false }
	}
	cs.afters = append(cs.afters, a)
	cs.mu.Unlock()
	return func() bool {
		cs.mu.Lock()
		defer cs.mu.Unlock()
		if a.stop || c.cancelled.Load() {
			return false
		}
		a.stop = true
		// Out of the list, so that a long-lived task deriving a context
		// per request does not keep them all; the latest is most often
		// the one stopped.
		if i := slices.Index(cs.afters, a); i >= 0 {
			cs.afters = slices.Delete(cs.afters, i, i+1)
		}
		return true
	}
}

// cancel marks the context cancelled and runs the registered functions, in
// registration order. It runs on the loop.
func (c *taskCtx) cancel() {
	if !c.cancelled.CompareAndSwap(false, true) {
		return // cancelled before
	}
	e := c.ext.Load()
	if e == nil {
		return // nobody asked for Done or AfterFunc: no lock needed
	}
	cs := &e.ctxState
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

// values returns the context whose values t's context carries: its loop's,
// unless Start was given others; nil before Start.
func (t *Task) values() context.Context {
	if e := t.ext.Load(); e != nil && e.parent != nil {
		return e.parent
	}
	if t.l == nil {
		return nil
	}
	return t.l.ctx.parent
}

// valuesOf returns the context whose values a task made from ctx, which
// carries the task's loop, should see: the context a task's or the loop's
// context was made from, so that chains of tasks spawning tasks do not keep
// each other reachable; nil for the loop's own values (see Task.values).
// withoutCancel hides the cancellation of the contexts above from package
// context's own lookups (context.Cause of a task's context is its own
// cause, not Run's).
func valuesOf(ctx context.Context) context.Context {
	switch c := ctx.(type) {
	case *taskCtx:
		if e := c.ext.Load(); e != nil {
			return e.parent
		}
		return nil
	case *loopCtx:
		return nil
	}
	return withoutCancel(ctx)
}

// withoutCancel is context.WithoutCancel(parent), whose Value does not
// allocate: package context's boxes its receiver, a struct, at every
// lookup that reaches it, and every lookup through a task's context for a
// value of its spawner's does (httptrace's, a request's, a logger's).
// Where package context's own key cannot be told (see cancelCtxKey), it
// is context.WithoutCancel.
func withoutCancel(parent context.Context) context.Context {
	if cancelCtxKey == nil {
		return context.WithoutCancel(parent)
	}
	return &valuesCtx{parent}
}

// A valuesCtx carries its parent's values and nothing of its
// cancellation: no deadline, no Done, no Err, and not the key under which
// package context finds the cancellable context a Cause comes from.
type valuesCtx struct{ parent context.Context }

func (c *valuesCtx) Deadline() (time.Time, bool) { return time.Time{}, false }
func (c *valuesCtx) Done() <-chan struct{}       { return nil }
func (c *valuesCtx) Err() error                  { return nil }
func (c *valuesCtx) String() string              { return "scheduler.withoutCancel" }

func (c *valuesCtx) Value(key any) any {
	if key == cancelCtxKey {
		return nil
	}
	return c.parent.Value(key)
}

// cancelCtxKey is the key package context's cancellable contexts answer
// Value with themselves under, which context.Cause looks up first: found
// by asking Cause of a context that keeps the key it is asked. nil if
// Cause asks for none (then withoutCancel is package context's).
var cancelCtxKey = func() any {
	var spy keySpy
	context.Cause(&spy)
	if _, ok := spy.key.(*int); !ok {
		return nil // not the key of package context's we know (an *int)
	}
	return spy.key
}()

// A keySpy keeps the first key its Value is asked for.
type keySpy struct {
	context.Context
	key any
}

func (s *keySpy) Value(key any) any {
	if s.key == nil {
		s.key = key
	}
	return nil
}
func (s *keySpy) Err() error { return context.Canceled } // (Cause asks Value only of a context ended)

// taskOf returns the task ctx carries, or nil. The type switch is the fast
// path: a task passing its own context.
func taskOf(ctx context.Context) *Task {
	if c, ok := ctx.(*taskCtx); ok {
		return c.task()
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
		return c.l
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
		return c.task()
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

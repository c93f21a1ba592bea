package futures

import (
	"context"
	"errors"
	"runtime/debug"
	"sync/atomic"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// An Executor runs functions and hands back their results as futures:
// TaskPool runs them as tasks on the loop, ThreadPool on a pool of
// goroutines. Submit and Map hand work to any Executor (Go methods cannot
// have type parameters, so they are functions that take the executor). The
// interface has unexported methods: the executors are this package's.
type Executor interface {
	// Shutdown stops the executor taking work: Submit and Map fail with
	// ErrShutdown from then on, and the calls parked in Submit on a full
	// executor return ErrShutdown. Work already submitted goes on. With
	// wait, Shutdown parks the task that ctx carries until that work has
	// ended and the executor has released what it holds; without, it
	// returns at once and the executor releases it once the work has ended.
	// A second Shutdown waits likewise and returns nil. Shutdown(ctx, true)
	// may park the calling task (called from the executor's own work, it
	// waits for itself: Run reports the deadlock); Shutdown(ctx, false)
	// never parks.
	Shutdown(ctx context.Context, wait bool) error

	// slot takes a slot for the task t, whose ctx is ctx, parking while
	// the executor is full; run then runs a job in it, spread starts a
	// worker of a Map in it, or free gives it back unused.
	slot(ctx context.Context, t *scheduler.Task) error
	trySlot() bool // slot, if one is free now
	run(ctx context.Context, j job) error
	spread(ctx context.Context, m spreader) error
	free()
	size() int // how many functions run at once at most
}

// A job is one function handed to an executor, with the future it
// completes. Methods marked "on the loop" run on the future's loop; call
// runs wherever the executor runs functions.
type job interface {
	begin() bool                           // on the loop: mark the future running; false if cancelled
	call(ctx context.Context, inTask bool) // run the function, keeping its result
	finish()                               // on the loop: complete the future with the kept result
	offLoop()                              // on the loop: Cancel must claim the work from now on
	claim() bool                           // off the loop: take the work before Cancel does
}

// Submit hands fn to e and returns the future of its result. fn receives a
// context from the executor: for a TaskPool, the context of the task that
// runs it; for a ThreadPool, one that carries no task (see ThreadPool).
// While e runs as many functions as it may, Submit parks the calling task
// until one ends. Submit fails with ErrShutdown after e's Shutdown,
// scheduler.ErrNilFunc for a nil fn, scheduler.ErrNoTask without a task in
// ctx, scheduler.ErrWrongLoop for an executor that works for another loop,
// and ctx's error if ctx ends while it waits. May park the calling task.
func Submit[T any](ctx context.Context, e Executor, fn func(ctx context.Context) (T, error)) (*Future[T], error) {
	if fn == nil {
		return nil, scheduler.ErrNilFunc
	}
	t := scheduler.Current(ctx)
	if t == nil {
		return nil, scheduler.ErrNoTask
	}
	if err := e.slot(ctx, t); err != nil {
		return nil, err
	}
	w := &fnWork[T]{fn: fn}
	if err := e.run(ctx, w); err != nil {
		return nil, err
	}
	w.f.home.Check(t) // binds it to the loop, which slot has vetted
	return &w.f, nil
}

// fnWork is Submit's job: the function, its future and the result it left.
type fnWork[T any] struct {
	f     Future[T]
	fn    func(ctx context.Context) (T, error)
	value T
	err   error
	// claimed is the one field that another goroutine touches: a thread
	// pool's worker and Cancel race for it (0: free, 1: the worker's, 2:
	// Cancel's).
	claimed atomic.Uint32
}

func (w *fnWork[T]) begin() bool { return w.f.SetRunning() }

func (w *fnWork[T]) call(ctx context.Context, inTask bool) {
	w.value, w.err = protect(inTask, func() (T, error) { return w.fn(ctx) }, func(err error) {
		w.err = err
		if inTask { // a thread pool's worker posts it back in any case
			w.finish()
		}
	})
}

func (w *fnWork[T]) finish() {
	if w.f.state >= done {
		return // completed meanwhile: by its holder's SetResult, say
	}
	w.f.complete(w.value, w.err, done)
}

func (w *fnWork[T]) offLoop() { w.f.stop = w }

func (w *fnWork[T]) claim() bool { return w.claimed.CompareAndSwap(0, 1) }

func (w *fnWork[T]) stop() bool { return w.claimed.CompareAndSwap(0, 2) }

// protect runs fn and returns its result, or its panic as a *PanicError.
// What it cannot stop, it reports to aborted before it goes on: a
// runtime.Goexit in fn (as errGoexit), and in a task (inTask) a kill
// unwinding through fn (as scheduler.ErrKilled), which is no panic of fn's.
func protect[R any](inTask bool, fn func() (R, error), aborted func(err error)) (v R, err error) {
	ok := false
	defer func() {
		if ok {
			return
		}
		switch r := recover(); {
		case r == nil: // runtime.Goexit (a panic(nil) recovers as a *runtime.PanicNilError)
			aborted(errGoexit)
		case inTask && r == scheduler.ErrKilled:
			aborted(scheduler.ErrKilled)
			panic(r)
		default:
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	v, err = fn()
	ok = true
	return v, err
}

// errGoexit is the error of a function that called runtime.Goexit.
var errGoexit = errors.New("futures: the function called runtime.Goexit")

// finishOnLoop completes j's future in a task of the loop l. A panic of one
// of its done callbacks ends the loop, as a callback's panic does: the task
// is the executor's, and nobody would see it end.
func finishOnLoop(l *scheduler.Loop, j job) {
	ok := false
	defer func() {
		if !ok {
			pe := &PanicError{Value: recover(), Stack: debug.Stack()}
			l.CallSoon(func(context.Context) { panic(pe) })
		}
	}()
	j.finish()
	ok = true
}

// A gate admits up to n functions of an executor at a time. Calls that find
// it full park in FIFO order, and each slot that frees is handed to the
// first of them directly. Once the gate is shut and every slot is free, it
// tells its executor through idle.
type gate struct {
	n, busy int
	shut    bool
	waiters waitq.Queue[struct{}]
	idle    func()
}

// enter takes a slot for the task t, parking it while none is free. It
// fails with ErrShutdown once the gate is shut, and with ctx's error.
func (g *gate) enter(ctx context.Context, t *scheduler.Task) error {
	if g.shut {
		return ErrShutdown
	}
	if g.busy < g.n && g.waiters.Front() == nil {
		g.busy++
		return nil
	}
	w := g.waiters.Enter(t, 0, struct{}{}, g)
	_, err := g.waiters.Leave(w, scheduler.ParkWith(ctx, "futures.Submit (executor full)", w.Hook()))
	if err == nil && g.shut { // handed a slot, then Shutdown came before the task ran
		g.leave()
		return ErrShutdown
	}
	return err // nil: the slot was handed over
}

// tryEnter takes a slot if one is free now and no call waits for one.
func (g *gate) tryEnter() bool {
	if g.shut || g.busy >= g.n || g.waiters.Front() != nil {
		return false
	}
	g.busy++
	return true
}

// leave frees a slot: the first parked call takes it.
func (g *gate) leave() {
	if w := g.waiters.Front(); w != nil && g.waiters.Wake(w, struct{}{}, nil) {
		return
	}
	g.busy--
	if g.shut && g.busy == 0 {
		g.idle()
	}
}

// Killed passes on a slot handed to a task that was killed before it took it.
func (g *gate) Killed(w *waitq.Waiter[struct{}]) {
	if w.Woken && w.Err == nil {
		g.leave()
	}
}

// shutdown shuts the gate and sends the parked calls away with
// ErrShutdown. It does nothing to a gate that is shut already.
func (g *gate) shutdown() {
	if g.shut {
		return
	}
	g.shut = true
	g.waiters.WakeAll(struct{}{}, ErrShutdown)
	if g.busy == 0 {
		g.idle()
	}
}

package scheduler

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/evergo/evergo/fiber"
	"github.com/evergo/evergo/internal/poll"
	"github.com/evergo/evergo/internal/timerheap"
)

// A Loop runs tasks and callbacks one at a time on the goroutine that calls
// Run or RunForever, and waits for timers, fds and posts when none is ready.
// See the package documentation for what one iteration does.
//
// A Loop runs once. It is not goroutine-safe: its methods must be called on
// the loop (by a task or a callback) except where stated. Post, Expect's post
// function and Stop are safe to call from any goroutine. A Loop must not be
// copied after first use.
type Loop struct {
	_ noCopy

	// Fixed by New.
	seeded  bool
	seed    uint64
	virtual bool
	trace   *Trace
	watch   *blockWatch // WithBlockWatch's; nil: off
	base    time.Time   // the clock's zero: loop times are nanoseconds since base

	// Owned by the loop goroutine.
	state      loopState
	g          *fiber.Group
	main       *fiber.Fiber // the goroutine running the loop
	ctx        loopCtx      // what callbacks receive
	cur        *Task        // the task holding the baton; nil in callbacks
	below      *Task        // the task that resumed cur itself (see handOn); nil: the loop did
	ready      runq         // runnable tasks and ready callbacks, FIFO
	rng        *rand.Rand   // picks from ready when seeded
	timers     timerheap.Heap[*timer]
	vnow       int64  // the virtual clock's time
	live       *Task  // started, not ended tasks, oldest first (lprev/lnext)
	alive      int    // len(live)
	ids        uint64 // last task id handed out
	mainTask   *Task
	poller     *poll.Poller
	fds        []*FD          // registered fds by number
	nfds       int            // len of fds that is non-nil
	fdWaits    int            // tasks parked on an fd
	hupWatches int            // fds with an OnHangUp function
	outside    int            // posts announced by Expect and not arrived yet
	handedOff  bool           // Expect was called since the loop last waited (see spin)
	watches    int            // parked tasks watching a context the loop does not own
	afters     sync.WaitGroup // context.AfterFunc functions that may still run
	atEnd      []*endFunc     // AtEnd's functions, in registration order
	values     map[any]any    // SetValue's
	lives      []*life        // ended tasks' lives, for new tasks
	sigs       sigTable
	iters      uint64
	runCtx     context.Context
	fdSeq      uint32

	// Shared with other goroutines.
	mu      sync.Mutex
	posts   []func(ctx context.Context) // guarded by mu
	closed  bool                        // guarded by mu: Post fails
	started bool                        // guarded by mu: the poller exists
	npost   atomic.Int32                // len(posts), read without mu
	stop    atomic.Pointer[error]       // why the loop ends: Stop, Run's ctx, a callback's panic
	wakes   atomic.Uint64               // eventfd writes, for Stats
	// stopped is the loop deadlines cancelled whose timers are still on
	// the heap, linked by nextStop: a cancel pushes, the loop takes them
	// out (takeStopped) at the start of its timer and wait steps.
	stopped atomic.Pointer[deadlineCtx]
	// sleeping is set while the loop waits in the poller, or is about to:
	// a Post wakes it only then (see wait).
	sleeping atomic.Bool
}

type loopState uint8

const (
	loopNew loopState = iota
	loopRunning
	loopEnded
)

// An Option configures a Loop made by New.
type Option interface{ apply(*Loop) }

type optionFunc func(*Loop)

func (f optionFunc) apply(l *Loop) { f(l) }

// WithSeed makes the loop pick the next task or callback to run
// pseudo-randomly among the ready ones, from seed. Without it the order is
// FIFO.
//
// A seed alone is reproducible only for a program whose every wake-up comes
// from the loop itself. On the real clock, which timers are due at an
// iteration depends on how fast the machine ran the iterations before it,
// so the same seed can give different schedules from run to run. With
// WithVirtualClock as well, and no fds, posts from other goroutines or
// package context's cancellations and deadlines involved (this package's
// WithTimeout and WithDeadline are the loop's own), the same seed gives
// the same schedule every time.
func WithSeed(seed uint64) Option {
	return optionFunc(func(l *Loop) { l.seeded, l.seed = true, seed })
}

// WithVirtualClock runs the loop on a virtual clock: it starts at the time
// New was called and stands still while anything can run; when nothing can
// run and no fd or post is waited for, it jumps to the next timer. An hour of
// sleeps takes no wall time.
func WithVirtualClock() Option {
	return optionFunc(func(l *Loop) { l.virtual = true })
}

// WithTrace records the id of every task the loop resumes, in order, into tr.
func WithTrace(tr *Trace) Option {
	return optionFunc(func(l *Loop) { l.trace = tr })
}

// Trace is a schedule: the ids of the tasks a loop resumed, in order.
type Trace []uint64

// New returns a loop configured by opts. Never parks.
func New(opts ...Option) *Loop {
	l := &Loop{base: time.Now()}
	for _, o := range opts {
		o.apply(l)
	}
	if l.seeded {
		l.rng = rand.New(rand.NewPCG(l.seed, l.seed^0x9e3779b97f4a7c15))
	}
	l.g = fiber.NewGroup()
	l.main = l.g.Main()
	l.ctx.l = l
	l.ctx.parent = context.Background()
	return l
}

// Run runs a loop made by New(opts...) with main as its first task and
// returns main's result once main and every task started on the loop have
// ended. See Loop.Run.
func Run(ctx context.Context, main func(ctx context.Context) error, opts ...Option) error {
	return New(opts...).Run(ctx, main)
}

// Run runs main as the loop's first task (id 1, named "main") on the calling
// goroutine and returns once it and every other task have ended and every
// post announced by Expect has arrived (work handed to other goroutines,
// such as a thread pool's, is back). It returns
// main's result, or: a *DeadlockError (wrapping ErrDeadlock) if every task
// came to wait on something nothing could deliver; ErrStopped if Stop ended
// the loop first; ctx's error if ctx was cancelled first; a *PanicError if a
// callback panicked. When the loop ends early, the tasks still alive are
// killed, oldest first, and their deferred calls run. Callbacks and timers
// still pending when the loop ends never run; the functions registered by
// AtEnd do. When Run returns, every goroutine the loop started has exited.
//
// The tasks' contexts carry ctx's values, not its cancellation: cancelling
// ctx stops the loop. Run fails with ErrClosed on a loop that has run, and
// ErrNilFunc.
func (l *Loop) Run(ctx context.Context, main func(ctx context.Context) error) error {
	if main == nil {
		return ErrNilFunc
	}
	if err := l.begin(ctx); err != nil {
		return err
	}
	t := NewTask("main", main)
	l.mainTask = t
	if err := l.start(t, nil); err != nil {
		return l.end(err)
	}
	return l.end(l.run(ctx, true))
}

// RunForever runs the loop on the calling goroutine until Stop is called or
// ctx is cancelled, and returns nil (or ctx's error). Tasks still alive then
// are killed, oldest first. See Run.
func (l *Loop) RunForever(ctx context.Context) error {
	if err := l.begin(ctx); err != nil {
		return err
	}
	err := l.run(ctx, false)
	if errors.Is(err, ErrStopped) {
		err = nil
	}
	return l.end(err)
}

func (l *Loop) begin(ctx context.Context) error {
	if l.state != loopNew {
		return ErrClosed
	}
	p, err := poll.New()
	if err != nil {
		return err
	}
	l.mu.Lock()
	l.poller, l.started = p, true
	l.mu.Unlock()
	l.state = loopRunning
	l.runCtx = ctx
	if l.watch != nil {
		l.watch.start(l)
	}
	l.ctx.parent = withoutCancel(ctx)
	if l.virtual {
		l.vnow = 0
	}
	return nil
}

// run is the loop: it returns why it stopped.
func (l *Loop) run(ctx context.Context, untilDone bool) error {
	l.afters.Add(1)
	stop := context.AfterFunc(ctx, func() {
		defer l.afters.Done()
		l.stopWith(ctx.Err())
	})
	defer func() {
		if stop() {
			l.afters.Done()
		}
	}()
	if err := ctx.Err(); err != nil {
		return err
	}
	for {
		if p := l.stop.Load(); p != nil {
			return *p
		}
		if untilDone && l.done() {
			return nil
		}
		l.iters++
		if w := l.watch; w != nil {
			w.beat()
		}
		l.takeStopped()
		if l.timers.Len() > 0 {
			l.fireTimers(l.now())
		}
		if l.npost.Load() > 0 {
			l.drainPosts()
		}
		l.runReady()
		if l.stop.Load() != nil || untilDone && l.done() {
			continue
		}
		if err := l.wait(untilDone); err != nil {
			return err
		}
	}
}

// done reports Run's end: no task is left and no post announced by Expect
// is still to come (work handed to other goroutines is back).
func (l *Loop) done() bool { return l.alive == 0 && l.outside == 0 }

// runReady runs the tasks and callbacks that were ready when it began, and no
// more, so that timers, fds and posts get their turn; while there are none,
// it goes on with those that became ready meanwhile.
func (l *Loop) runReady() {
	// Budget: the hub's share of a yield ping-pong (BenchmarkYieldPingPong,
	// within 1.5× an iter.Pull round trip with Sleep's share): the pop, the
	// state writes and the switch. Resuming a task is inlined here to spare
	// a frame the switch would have to return through. No allocation, no
	// clock reads.
	for n := l.ready.n; ; n-- {
		if n <= 0 || l.ready.n == 0 { // (a joiner may take its task from the queue)
			// The round is over. Go on only if nothing else could need the
			// loop: no timer, no fd, no post.
			if l.ready.n == 0 || !l.quiet() {
				return
			}
			n = l.ready.n
		}
		var e entry
		if l.rng != nil && l.ready.n > 1 {
			e = l.ready.take(l.rng.IntN(l.ready.n))
		} else {
			e = l.ready.pop()
		}
		if t := e.t; t != nil {
			if t.state != StateRunnable {
				continue // killed while it waited its turn
			}
			t.state = StateRunning
			l.cur, l.below = t, nil
			if l.trace != nil {
				*l.trace = append(*l.trace, t.id)
			}
			if w := l.watch; w != nil {
				w.beat()
			}
			_, err := l.main.Switch(t.f, t)
			// The task whose end came to main, if one ended: t, or the task
			// t resumed directly (see joinNext) if t was killed meanwhile.
			if ended := l.cur; ended != nil && ended.state == StateRunning {
				l.cur = nil
				l.finish(ended, err)
			}
			l.cur = nil
		} else if e.h.state == handleReady {
			if w := l.watch; w != nil {
				w.beat()
			}
			l.callback(e.h)
		}
		if l.stop.Load() != nil {
			return
		}
	}
}

// quiet reports that nothing but the run queue needs the loop now: no timer,
// no fd, no post, no stop. A task may then hand the baton on directly (see
// joinNext) without starving anything.
func (l *Loop) quiet() bool {
	return l.timers.Len() == 0 && l.nfds == 0 && l.npost.Load() == 0 &&
		l.stop.Load() == nil
}

// start schedules a new task, whose context carries values (nil: the
// loop's).
func (l *Loop) start(t *Task, values context.Context) error {
	var lf *life
	if n := len(l.lives); n > 0 {
		lf = l.lives[n-1] // the slot keeps lf, in use, until another goes there
		l.lives = l.lives[:n-1]
		if err := l.g.Reuse(lf.f, taskMain, nil); err != nil {
			return err
		}
	} else {
		f, err := l.g.New(taskMain, nil)
		if err != nil {
			return err
		}
		lf = &life{f: f}
	}
	l.ids++
	t.l, t.life, t.id = l, lf, l.ids
	if values != nil { // a task's values are most often its loop's
		t.extra().parent = values
	}
	t.tm.t = t
	t.state = StateRunnable
	l.alive++
	if l.live == nil {
		t.lprev = t
		l.live = t
	} else {
		tail := l.live.lprev
		tail.lnext, t.lprev = t, tail
		l.live.lprev = t
	}
	l.ready.push(entry{t: t})
	return nil
}

// finish records t's end and wakes its joiners, in the order they joined.
func (l *Loop) finish(t *Task, err error) {
	if t.killed && err == nil {
		err = ErrKilled
	} else if pe, ok := err.(*PanicError); ok && t.killed && pe.Value == ErrKilled {
		err = ErrKilled // killed itself
	}
	t.state = StateEnded
	t.setResult(err)
	t.fn = nil
	l.alive--
	if t.lprev == t {
		l.live = nil
	} else {
		if t == l.live {
			l.live = t.lnext
		} else {
			t.lprev.lnext = t.lnext
		}
		if t.lnext != nil {
			t.lnext.lprev = t.lprev
		} else {
			l.live.lprev = t.lprev
		}
	}
	t.lprev, t.lnext = nil, nil
	for j := t.joiners.head; j != nil; j = t.joiners.head {
		j.ready(nil)
	}
	lf := t.life
	t.life = nil
	// A life goes back for reuse unless a task it resumed directly may
	// still have its fiber as parent (it was killed while lending).
	if lf.lending == nil && len(l.lives) < maxLives {
		// Everything else is back at its zero already: unpark and the
		// lines above reset what a park and the live list set. (No store
		// of nil over nil: see runq.push.)
		if lf.wake != nil {
			lf.wake = nil
		}
		if lf.tm.err != nil || lf.tm.ctx != nil {
			lf.tm.err, lf.tm.ctx = nil, nil
		}
		l.lives = append(l.lives, lf)
	}
	t.context().cancel()
}

// maxLives caps the ended tasks' lives a loop keeps for new tasks.
const maxLives = 256

// end shuts the loop down: kills what is alive, runs the AtEnd functions,
// releases the poller, the fibers' goroutines and the signal handlers, and
// refuses further posts.
func (l *Loop) end(err error) error {
	for t := l.live; t != nil; t = l.live {
		l.cur = nil
		if t.state == StateRunnable || t.state == StateParked {
			l.kill(t, l.main)
		} else {
			l.finish(t, ErrKilled)
		}
	}
	if perr := l.runAtEnd(); perr != nil && err == nil {
		err = perr
	}
	l.values = nil
	if cerr := l.g.Close(); cerr != nil && err == nil {
		err = cerr
	}
	l.sigs.closeAll()
	l.mu.Lock()
	l.closed = true
	l.posts = nil
	perr := l.poller.Close()
	l.mu.Unlock()
	l.afters.Wait() // no context.AfterFunc goroutine outlives Run
	if l.watch != nil {
		l.watch.end()
	}
	l.state = loopEnded
	l.ready = runq{}
	l.timers = timerheap.Heap[*timer]{}
	l.fds = nil
	if err == nil && l.mainTask != nil {
		err = l.mainTask.result()
	}
	if err == nil {
		err = perr
	}
	return err
}

// Stop makes the loop end: Run and RunForever return once the task or
// callback running now reaches its next switch point. Stop fails with
// ErrNotRunning on a loop that is not running. Never parks. Safe to call from
// any goroutine.
func (l *Loop) Stop() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if !l.started || l.closed {
		return ErrNotRunning
	}
	l.stopLocked(ErrStopped)
	return nil
}

func (l *Loop) stopWith(err error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.started && !l.closed {
		l.stopLocked(err)
	}
}

func (l *Loop) stopLocked(err error) {
	l.stop.CompareAndSwap(nil, &err)
	l.wakes.Add(1)
	l.poller.Wake()
}

// Post schedules fn to run on the loop as a callback, after the callbacks and
// tasks already ready, and wakes the loop if it waits. Posts made before the
// loop next looks are merged into one wake-up, and a post to a loop that is
// busy wakes nothing: the loop finds it before it next waits. Post fails
// with ErrClosed once the loop has ended (fn will never run). Never parks.
// Safe to call from any goroutine: the one way into a loop from other
// goroutines.
func (l *Loop) Post(fn func(ctx context.Context)) error {
	if fn == nil {
		return ErrNilFunc
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.closed {
		return ErrClosed
	}
	l.posts = append(l.posts, fn)
	if l.npost.Add(1) == 1 && l.started && l.sleeping.Load() {
		l.wakes.Add(1)
		l.poller.Wake()
	}
	return nil
}

// Expect tells the loop that another goroutine will post to it, and returns
// the function that makes that post: call it exactly once, from any
// goroutine. Until it is called, the loop does not report a deadlock and the
// virtual clock does not jump: it waits for the post. Use it for work handed
// to other goroutines whose result comes back to the loop. Never parks.
func (l *Loop) Expect() (post func(fn func(ctx context.Context)) error) {
	l.outside++
	l.handedOff = true
	var done atomic.Bool
	return func(fn func(ctx context.Context)) error {
		if !done.CompareAndSwap(false, true) {
			panic("scheduler: expected post made twice")
		}
		return l.Post(func(ctx context.Context) {
			l.outside--
			if fn != nil {
				fn(ctx)
			}
		})
	}
}

// drainPosts moves the posted functions onto the run queue as callbacks.
func (l *Loop) drainPosts() {
	if l.npost.Load() == 0 {
		return
	}
	l.mu.Lock()
	posts := l.posts
	l.posts = nil
	l.npost.Store(0)
	l.mu.Unlock()
	for _, fn := range posts {
		l.CallSoon(fn)
	}
}

// Stats is a snapshot of a loop's counters.
type Stats struct {
	Tasks      int    // started and not ended
	Runnable   int    // tasks ready to run
	Parked     int    // tasks waiting
	Timers     int    // pending timers, Sleep's included
	FDs        int    // fds registered with the poller
	FDWaits    int    // tasks parked on an fd
	Iterations uint64 // loop iterations so far
	Wakeups    uint64 // wake-ups of the poller by Post and Stop
}

// Stats returns the loop's counters. Never parks.
func (l *Loop) Stats() Stats {
	runnable, parked := 0, 0 // counted here rather than kept up in the hot paths
	for t := l.live; t != nil; t = t.lnext {
		switch t.state {
		case StateRunnable:
			runnable++
		case StateParked:
			parked++
		}
	}
	return Stats{
		Tasks:      l.alive,
		Runnable:   runnable,
		Parked:     parked,
		Timers:     l.timers.Len(),
		FDs:        l.nfds,
		FDWaits:    l.fdWaits,
		Iterations: l.iters,
		Wakeups:    l.wakes.Load(),
	}
}

// Value returns the value that SetValue stored under key, or nil. Never
// parks. Call it on the loop.
func (l *Loop) Value(key any) any { return l.values[key] }

// SetValue stores v under key for the rest of the loop's life (a nil v
// removes it): state that belongs to one loop rather than to the process,
// such as a package's per-loop pool (see futures.LoopPool). Use a key of a
// type of your own, as with context values. Never parks. Call it on the
// loop.
func (l *Loop) SetValue(key, v any) {
	if v == nil {
		delete(l.values, key)
		return
	}
	if l.values == nil {
		l.values = make(map[any]any)
	}
	l.values[key] = v
}

// Running returns the task that holds the loop's baton: the calling task,
// when a task of l calls it, and nil in a callback. It is for calls that
// park without a ctx, as a net.Conn's Read does (package ioco): they park
// the running task, with its own context. Call it on the loop only: from
// another goroutine the answer means nothing. Never parks.
func (l *Loop) Running() *Task { return l.cur }

// Now returns the loop's clock: the wall clock, or the virtual one. Never
// parks.
func (l *Loop) Now() time.Time { return l.base.Add(time.Duration(l.now())) }

// now is the loop's clock in nanoseconds since base.
func (l *Loop) now() int64 {
	if l.virtual {
		return l.vnow
	}
	return int64(time.Since(l.base))
}

// noCopy lets go vet's copylocks check catch a copied Loop.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

package scheduler

import (
	"context"
	"errors"
	"runtime/debug"
	"strconv"
	"sync/atomic"

	"github.com/evergo/evergo/fiber"
)

// A Task is a function running on its own fiber of a loop, Thread-like: it is
// started (Go, Spawn, or NewTask and Start), runs until it returns, panics or
// is killed, and can be joined and killed. Its result is its error; values
// travel through futures, queues or closures.
//
// A Task's methods must be called on its loop (from a task or a callback of
// that loop), except where stated.
type Task struct {
	// Budget: spawning a task allocates this handle and nothing else
	// (BenchmarkSpawnJoin, within 0.7× a goroutine's go + channel receive),
	// in the 48-byte size class: every byte allocated brings the next
	// garbage collection closer, and while one marks, each pointer store
	// pays the write barrier. What only a live task needs is in its life,
	// which ended tasks hand on; the rare parts (a name, Done's channel, a
	// result other than nil or ErrKilled, values other than its loop's) are
	// in ext. Keep it at 48 bytes or less (TestTaskHandleSize).

	// Fixed once started.
	l  *Loop
	fn func(ctx context.Context) error // nil once ended
	id uint64

	// Owned by the loop; change only on it.
	*life // while started and not ended; nil otherwise
	state State
	// killed: Kill was called. Its end is ErrKilled, or an error joined
	// with it in ext.
	killed bool
	// borrowed: a joiner resumed it directly and is its fiber's parent for
	// this run (see joinNext); its next switch to the loop gives it back.
	borrowed bool

	// Its context's cancellation: set once, on the loop, as the task ends;
	// read from any goroutine (see taskCtx).
	cancelled atomic.Bool
	ext       atomic.Pointer[taskExt] // made on first need
}

// taskExt is the part of a task that most tasks never need, made on first
// need: a name given to Spawn or NewTask (set before the task is shared),
// the values its context carries when they are not its loop's (set by
// Start), a result other than nil or ErrKilled (set on the loop as the task
// ends), and what Done and AfterFunc of its context need (see taskCtx).
type taskExt struct {
	name   string
	parent context.Context // nil: the loop's values (l.ctx.parent)
	err    error           // owned by the loop
	ctxState
}

// extra returns t's taskExt, making it on first use. Safe to call from any
// goroutine.
func (t *Task) extra() *taskExt {
	if e := t.ext.Load(); e != nil {
		return e
	}
	t.ext.CompareAndSwap(nil, new(taskExt))
	return t.ext.Load()
}

// life is what a task has between Start and its end. Ended tasks' lives go
// back to their loop and are handed to new tasks (fiber included): the
// handle a user keeps stays small, and spawning a task allocates only the
// handle. Every field is owned by the loop.
type life struct {
	f  *fiber.Fiber // t.f, through the embedded life
	tm timer        // Sleep's timer and the parking deadline

	wakeable bool        // parked by Park or ParkWith: Wake (WakeWith) may end the park
	hook     *ParkHook   // ParkWith's, while in it: its key, told if the task is killed
	lending  *Task       // the task it resumed directly, while that one runs
	lender   *Task       // the task that resumed it directly, while it runs so
	wake     error       // what the pending park returns; set by whoever wakes it
	what     string      // what it waits on, while parked
	seq      uint64      // parks so far: a stale wake-up (a cancelled watch) checks it
	wst      *watchState // the watch on a foreign ctx's end, while parked

	// A parked task sits in at most one wait list (a task's joiners, an fd's
	// waiters): list is that list, prev/next its neighbours there.
	list    *waitList
	wprev   *Task
	wnext   *Task
	waitFor *Task // the task it joins, for the deadlock report
	joiners waitList
	lprev   *Task // the loop's live tasks
	lnext   *Task
	fdw     *FD // the fd it waits on, for Stats and the deadlock report
}

// State is where a task is in its life. Every transition happens on the loop:
//
//	StateNew      → StateRunnable  Start (Go and Spawn start at once)
//	StateNew      → StateEnded     Kill before Start
//	StateRunnable → StateRunning   the loop resumes it
//	StateRunning  → StateRunnable  it yields (Sleep(ctx, 0))
//	StateRunning  → StateParked    it parks (Sleep, Join, a lock, a queue, an fd...)
//	StateParked   → StateRunnable  Wake, WakeWith, a timer, an fd, a post, or its ctx is done
//	StateRunning  → StateEnded     its function returned or panicked
//	any           → StateEnded     Kill, or the loop shutting down
type State uint8

const (
	StateNew      State = iota // made by NewTask, not started
	StateRunnable              // waiting for the loop to resume it
	StateRunning               // holds the loop's baton
	StateParked                // waiting for something to wake it
	StateEnded                 // returned, panicked or killed
)

func (s State) String() string {
	switch s {
	case StateNew:
		return "new"
	case StateRunnable:
		return "runnable"
	case StateRunning:
		return "running"
	case StateParked:
		return "parked"
	case StateEnded:
		return "ended"
	}
	return "scheduler.State(" + strconv.Itoa(int(s)) + ")"
}

// NewTask returns a task that will run fn once started. name appears in
// deadlock reports and traces; "" names it task-<id>. Never parks.
func NewTask(name string, fn func(ctx context.Context) error) *Task {
	t := &Task{fn: fn}
	if name != "" {
		t.ext.Store(&taskExt{name: name})
	}
	return t
}

// Go starts fn as a new task on the loop that ctx carries and returns it. The
// task's context carries ctx's values but not its cancellation: the task lives
// on when the one that spawned it is killed. It runs once the loop gets to it
// (FIFO, or by seed). Go fails with ErrNoLoop, ErrNilFunc or ErrClosed.
// Never parks.
func Go(ctx context.Context, fn func(ctx context.Context) error) (*Task, error) {
	return Spawn(ctx, "", fn)
}

// Spawn is Go with a name for the task ("" names it task-<id>). A name
// costs the task a second allocation, which Go's tasks do without. Never
// parks.
func Spawn(ctx context.Context, name string, fn func(ctx context.Context) error) (*Task, error) {
	// Start's checks, but those a new task passes: no allocation on failure.
	l := LoopOf(ctx)
	switch {
	case l == nil:
		return nil, ErrNoLoop
	case fn == nil:
		return nil, ErrNilFunc
	case l.state == loopEnded:
		return nil, ErrClosed
	}
	t := NewTask(name, fn)
	if err := l.start(t, valuesOf(ctx)); err != nil {
		return nil, err
	}
	return t, nil
}

// Start schedules a task made by NewTask on the loop that ctx carries. It
// fails with ErrNoLoop, ErrNilFunc, ErrClosed, or ErrStarted if the task was
// started or killed before. Never parks.
func (t *Task) Start(ctx context.Context) error {
	l := LoopOf(ctx)
	switch {
	case l == nil:
		return ErrNoLoop
	case t.l != nil: // started, perhaps by another loop: nothing else of t's is read
		return ErrStarted
	case t.fn == nil:
		return ErrNilFunc
	case t.state != StateNew:
		return ErrStarted
	case l.state == loopEnded:
		return ErrClosed
	}
	return l.start(t, valuesOf(ctx))
}

// taskMain is every task fiber's function: the first switch into a task's
// fiber carries the task.
func taskMain(f *fiber.Fiber, v any) (any, error) {
	t := v.(*Task)
	if w := t.l.watch; w != nil {
		w.started(f.GoroutineID(), t)
	}
	return nil, t.fn(t.context())
}

// ID returns the task's number on its loop: 1 for Run's main task, then in
// start order; 0 before Start. Never parks. Safe to call from any goroutine
// once the task has started.
func (t *Task) ID() uint64 { return t.id }

// Name returns the task's name. Never parks.
func (t *Task) Name() string {
	var name string
	if e := t.ext.Load(); e != nil {
		name = e.name
	}
	if name == "" && t.id != 0 {
		return "task-" + itoa(t.id) // made each time: Name may run on any goroutine (ctx.String)
	}
	return name
}

// State returns where the task is in its life. Never parks.
func (t *Task) State() State { return t.state }

// Err returns the task's result once it has ended: what its function
// returned, a *PanicError if it panicked, ErrKilled if it was killed; nil
// before. Never parks.
func (t *Task) Err() error {
	if t.state != StateEnded {
		return nil
	}
	return t.result()
}

// result is the end of an ended task: see Err.
func (t *Task) result() error {
	if e := t.ext.Load(); e != nil && e.err != nil {
		return e.err
	}
	if t.killed {
		return ErrKilled
	}
	return nil
}

// setResult records err as the end of t, which is ending.
func (t *Task) setResult(err error) {
	if err != nil && !(t.killed && err == ErrKilled) {
		t.extra().err = err
	}
}

// Loop returns the loop the task was started on; nil before Start. Never
// parks.
func (t *Task) Loop() *Loop { return t.l }

// Context returns the context the task's function receives. Never parks.
func (t *Task) Context() context.Context { return t.context() }

// context is the context t's function receives: t itself, seen as one.
func (t *Task) context() *taskCtx { return (*taskCtx)(t) }

// Join waits until the task has ended and returns its result (see Err). It
// fails with ErrNotStarted for a task never started, ErrJoinSelf, ErrNoTask
// when ctx carries no task, ErrWrongLoop, or ctx's error when ctx is done
// first: the task itself lives on. May park the calling task.
func (t *Task) Join(ctx context.Context) error {
	// t's state belongs to t's loop: whether ctx is of that loop is settled
	// before anything of t's but its loop (fixed at Start) is read.
	if err := t.sameLoop(ctx); err != nil {
		return err
	}
	if t.state == StateEnded {
		return t.result()
	}
	if t.state == StateNew {
		return ErrNotStarted
	}
	me := taskOf(ctx)
	switch {
	case me == nil:
		return ErrNoTask
	case me == t:
		return ErrJoinSelf
	case me != me.l.cur || me.killed:
		return me.refuse()
	}
	l := t.l
	if ctx == context.Context(me.context()) && !me.borrowed && l.quiet() &&
		l.ready.n == 1 && l.ready.buf[l.ready.head].t == t {
		return me.joinNext(t)
	}
	t.joiners.push(me)
	me.waitFor = t
	if err := me.park(ctx, "Join"); err != nil {
		return err // park took me off the list
	}
	return t.result() // only t's end wakes a joiner without an error
}

// sameLoop vets the ctx handed to a method of t: a started t refuses one of
// another loop with ErrWrongLoop, and a ctx with no loop with ErrNoTask.
// It reads nothing of t's but its loop, which Start set before t could be
// handed to anyone.
func (t *Task) sameLoop(ctx context.Context) error {
	l := LoopOf(ctx)
	switch {
	case l == nil:
		return ErrNoTask
	case t.l != nil && l != t.l:
		return ErrWrongLoop
	}
	return nil
}

// joinNext is Join of the task t that the loop would run next anyway, the
// only one ready: me parks, and instead of handing the baton to the loop,
// which would resume t, it resumes t itself. If t ends on this run, its end
// comes straight back to me (t's fiber is borrowed: me is its parent for the
// run), and me goes on if nothing else became ready in the meantime, as it
// would through the loop: two coroutine switches instead of four, and the
// same order. If t parks or yields instead, it gives its fiber back to the
// loop first (a borrowed task's switch to the loop goes through me's
// goroutine, which hands it on), and me waits as any joiner.
//
// Budget: with the spawn, within 0.7× a goroutine's go + channel receive
// (BenchmarkSpawnJoin): two coroutine switches and the bookkeeping of a
// start and an end. me joins t's joiners only if it has to wait as one (t
// gives its fiber back: see giveBack) or others wait for t too: a task
// that runs to its end at once wakes nobody through the run queue.
func (me *Task) joinNext(t *Task) error {
	l := me.l
	me.state = StateParked
	me.seq++
	l.ready.pop()
	t.state = StateRunning
	l.cur = t
	if l.trace != nil {
		*l.trace = append(*l.trace, t.id)
	}
	if w := l.watch; w != nil {
		w.beat()
	}
	t.f.SetParent(me.f) // cannot fail: me runs, t is suspended, main is their ancestor
	t.borrowed = true
	t.lender = me
	me.lending = t
	_, err := me.f.Switch(t.f, t)
	me.lending = nil
	if t.state != StateRunning || !t.borrowed {
		// t gave its fiber back, me became one of its joiners, and the
		// loop resumed me later: a park's end.
		err := me.wake
		me.wake = nil
		if err != nil {
			return err
		}
		return t.result()
	}
	// t ended on this run, into me.
	t.borrowed = false
	t.lender = nil
	// me goes on if nothing else became ready, as it would through the
	// loop; otherwise it waits its turn in the run queue.
	var goOn bool
	if t.joiners.head != nil || t.ext.Load() != nil {
		// Others joined t before me, or t's end may run functions
		// (AfterFunc of its context) that make tasks ready: me joins
		// behind the others, and finish wakes it in its turn.
		t.joiners.push(me)
		l.finish(t, err)
		goOn = l.quiet() && l.ready.n == 1 && l.ready.buf[l.ready.head].t == me
		if goOn {
			l.ready.pop()
		}
	} else {
		l.finish(t, err) // makes nothing ready
		goOn = l.quiet() && l.ready.n == 0
		if !goOn {
			me.state = StateRunnable // where finish's wake-up would have put it
			l.ready.push(entry{t: me})
		}
	}
	if goOn {
		me.state = StateRunning
		l.cur = me
		if l.trace != nil {
			*l.trace = append(*l.trace, me.id)
		}
		if w := l.watch; w != nil {
			w.beat()
		}
	} else {
		l.cur = nil
		if _, err := me.f.Switch(l.main, nil); err != nil {
			panic("scheduler: internal error: " + err.Error())
		}
	}
	if me.wake != nil {
		me.wake = nil
	}
	return t.result()
}

// Kill ends the task. A task never run ends without its function running. A
// suspended task (parked or runnable) is resumed with a panic of ErrKilled at
// its suspension point, so that its deferred calls run (a parking call made
// by them returns ErrKilled at once); its context is cancelled first (after
// the ParkHook of a task in ParkWith is told, see ParkHook). Kill
// returns once the task has ended; its Join returns ErrKilled (joined with a
// *PanicError if a deferred call panicked). A task killing itself panics with
// ErrKilled at once. Killing an ended task does nothing.
//
// ctx is the caller's: a task's or a callback's of the same loop. Kill fails
// with ErrNoLoop or ErrWrongLoop. May park the calling task (the killed task
// runs its deferred calls in the meantime).
func (t *Task) Kill(ctx context.Context) error {
	l := LoopOf(ctx)
	switch {
	case l == nil:
		return ErrNoLoop
	case t.l != nil && l != t.l: // before anything of t's is read: see Join
		return ErrWrongLoop
	}
	if t.state == StateEnded {
		return nil
	}
	if t.state == StateNew {
		t.killed = true
		t.state = StateEnded
		t.context().cancel()
		return nil
	}
	by := l.main
	if me := taskOf(ctx); me != nil {
		if me != l.cur {
			return ErrNotCurrent
		}
		if me.killed && me != t {
			return ErrKilled // a dying task's deferred calls may not switch
		}
		by = me.f
	} else if l.cur != nil {
		return ErrNotCurrent
	}
	return l.kill(t, by)
}

// kill ends t on behalf of the fiber by, which holds the baton.
func (l *Loop) kill(t *Task, by *fiber.Fiber) error {
	t.killed = true
	if t == l.cur { // killing itself
		t.context().cancel()
		panic(ErrKilled)
	}
	if t.state == StateParked {
		t.unpark()
	} // a runnable task's entry in the run queue goes stale
	hookErr := t.tellHook() // its ParkWith will not return
	t.state = StateRunning
	t.context().cancel()
	prev := l.cur
	l.cur = t
	if w := l.watch; w != nil {
		w.beat() // its deferred calls hold the baton now
	}
	err := by.Kill(t.f)
	l.cur = prev
	if w := l.watch; w != nil {
		w.beat()
	}
	if err != nil || hookErr != nil {
		err = errors.Join(ErrKilled, hookErr, err) // a hook or a deferred call panicked
	} else {
		err = ErrKilled
	}
	if t.state != StateEnded {
		l.finish(t, err)
	}
	return nil
}

// tellHook tells the hook of a ParkWith that t will not return from that it
// was killed. A panic in the hook is the task's, as one in its deferred
// calls would be: it comes back from Join, and the kill goes on.
func (t *Task) tellHook() (err error) {
	h := t.hook
	if h == nil || h.OnKill == nil {
		t.hook = nil
		return nil
	}
	t.hook = nil
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	h.OnKill.Killed()
	return nil
}

// waitList is a FIFO of parked tasks, linked through the tasks themselves:
// a parked task waits on one thing at a time.
type waitList struct{ head, tail *Task }

func (w *waitList) push(t *Task) {
	t.list, t.wprev, t.wnext = w, w.tail, nil
	if w.tail == nil {
		w.head = t
	} else {
		w.tail.wnext = t
	}
	w.tail = t
}

func (w *waitList) remove(t *Task) {
	if t.wprev == nil {
		w.head = t.wnext
	} else {
		t.wprev.wnext = t.wnext
	}
	if t.wnext == nil {
		w.tail = t.wprev
	} else {
		t.wnext.wprev = t.wprev
	}
	t.list, t.wprev, t.wnext = nil, nil, nil
}

package scheduler

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/evergo/evergo/internal/fiberhop"
)

// Park parks the calling task until Wake wakes it (Park returns nil) or ctx is
// done (Park returns ctx's error once ctx reports it: see the package doc).
// what says what the task waits on, for the deadlock report ("queue.Get",
// say). A caller that registered the task somewhere before parking takes it
// out again when Park returns an error, and when the task is killed: a
// killed task does not return from Park, it unwinds (see Task.Kill), so the
// caller either defers its cleanup or parks with ParkWith. Park fails at
// once with ErrNoTask, ErrNotCurrent, or ErrKilled when called by a dying
// task's deferred calls. May park the calling task.
func Park(ctx context.Context, what string) error { return ParkWith(ctx, what, nil) }

// A ParkHook is what a task parks with in ParkWith: a synchronization
// primitive's entry for the task in its wait list, which the primitive
// keeps (embeds, typically) for as long as the task waits. It is the park's
// key: only WakeWith of the same hook ends the park early, so a stray Wake
// can never make the task leave a wait list it still stands in. The zero
// value is a hook that is told nothing.
type ParkHook struct {
	// OnKill, if not nil, is told if the task is killed before its park
	// returns (while parked, or once woken and before it resumed). Killed
	// runs on the loop, in the call of Kill (or the loop's kill of the tasks
	// left when it ends), before the task's context is cancelled and before
	// it unwinds, and must not park (it may kill other tasks on the
	// killer's behalf, as a Group's Wait kills its members); a panic in it
	// is the task's (Join returns it with ErrKilled). It is where the primitive takes the task out of its
	// wait list and hands on what it had handed the task (a lock's
	// ownership, say), which the task will never take.
	OnKill interface{ Killed() }
}

// ParkWith parks the calling task as Park does, except that only WakeWith(h)
// wakes it (Wake does not), and h.OnKill is told if the task is killed
// before the park returns. This spares its caller a deferred call on the
// path of every park. A nil h makes it Park. May park the calling task.
func ParkWith(ctx context.Context, what string, h *ParkHook) error {
	// Budget: a park by a task passing its own context, and the hand-off to
	// the next task (handOn), within one coroutine switch each way
	// (BenchmarkQueuePingPong: a queue ping-pong within 0.6× a channel
	// ping-pong). The coroutine switch is made here, in the caller's frame,
	// with fiber's Switch split around it (internal/fiberhop): after a
	// coroutine switch every return on the way back is mispredicted. Do not
	// add frames to this path.
	if c, ok := ctx.(*taskCtx); ok {
		t := c.task()
		l := t.l
		if t == l.cur && !t.killed && !t.borrowed {
			to, v := l.main, any(nil)
			if next := l.handOn(t); next != nil {
				to, v = next.f, next
			}
			t.wakeable = true
			t.hook = h
			t.state = StateParked
			t.what = what
			t.seq++
			next, yield, err := fiberhop.Begin(t.f, to, v)
			switch {
			case next != nil:
				next()
			case yield != nil:
				yield(struct{}{})
			}
			if err == nil {
				_, err = fiberhop.End(t.f)
			}
			t.hook = nil
			if err != nil { // cannot happen for a running task: undo the park
				if to != l.main { // handOn made another task the running one
					panic("scheduler: internal error: a hand-off failed: " + err.Error())
				}
				t.unpark()
				t.state = StateRunning
				return err
			}
			err = t.wake
			t.wake = nil
			return err
		}
	}
	t := taskOf(ctx)
	if t == nil {
		return ErrNoTask
	}
	if t != t.l.cur || t.killed {
		return t.refuse()
	}
	t.wakeable = true
	t.hook = h
	err := t.park(ctx, what)
	t.hook = nil
	return err
}

// Wake makes a task parked by Park runnable; its Park returns nil. It
// reports whether the task was parked by Park: tasks parked by Sleep, Join,
// FD.Wait or ParkWith with a hook (a lock, a queue) are not woken. Waking a
// task that is not parked (it was woken already, by Wake or by its ctx)
// does nothing, so a wake-up is never delivered twice and never lost to a
// task that has stopped waiting. Never parks.
func (t *Task) Wake() bool {
	if t.state != StateParked || !t.wakeable || t.hook != nil {
		return false
	}
	return t.ready(nil)
}

// WakeWith makes a task parked by ParkWith with h runnable; its ParkWith
// returns nil. It reports whether it did: it does nothing, as Wake, to a
// task that is not parked, or parked otherwise. Never parks.
func (t *Task) WakeWith(h *ParkHook) bool {
	if t.state != StateParked || !t.wakeable || t.hook != h {
		return false
	}
	return t.ready(nil)
}

// Sleep parks the calling task for d on the loop's clock, or until ctx is
// done (it then returns ctx's error). Sleep(ctx, 0) (or less) is a yield: the
// task goes to the back of the run queue and resumes after the tasks and
// callbacks ready before it. Sleep fails with ErrNoTask when ctx carries no
// task. May park the calling task.
func Sleep(ctx context.Context, d time.Duration) error {
	// Budget: a yield and the loop's resume of the next task within 1.5× an
	// iter.Pull round trip (BenchmarkYieldPingPong), no allocation. After a
	// coroutine switch every return on the way back is mispredicted, so the
	// yield of a task passing its own context is made here, with the
	// coroutine switch itself in this frame (internal/fiberhop), and resume
	// is inlined into the loop's runReady. Do not add frames to this path.
	if c, ok := ctx.(*taskCtx); ok && d <= 0 {
		t := c.task()
		l := t.l
		if t == l.cur && !t.borrowed {
			t.state = StateRunnable
			l.ready.push(entry{t: t})
			next, yield, err := fiberhop.Begin(t.f, l.main, nil) // as in ParkWith
			switch {
			case next != nil:
				next()
			case yield != nil:
				yield(struct{}{})
			}
			if err == nil {
				_, err = fiberhop.End(t.f)
			}
			if err != nil { // a dying task
				t.state = StateRunning
				return err
			}
			return nil
		}
	}
	return sleep(ctx, d)
}

// sleep is Sleep's slow path: a timed sleep, or a yield by a context that is
// not the task's own.
func sleep(ctx context.Context, d time.Duration) error {
	t := taskOf(ctx)
	if t == nil {
		return ErrNoTask
	}
	l := t.l
	if t != l.cur || t.killed {
		return t.refuse() // a dying task's context is cancelled: ErrKilled first
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if d <= 0 {
		t.giveBack()
		return Sleep(t.context(), 0) // the fast path, now that it applies
	}
	l.timers.Push(&t.tm, l.now()+int64(d))
	t.tm.err, t.tm.ctx = nil, nil
	return t.park(ctx, "Sleep")
}

// park parks the running task t until ready is called for it. A timer armed
// in t.tm before the call is part of the park: ready disarms it.
func (t *Task) park(ctx context.Context, what string) error {
	l := t.l
	if t != l.cur || t.killed {
		return t.refuse() // callers check first: nothing was registered
	}
	if ctx != context.Context(t.context()) {
		if err := t.watch(ctx); err != nil {
			t.abort()
			return err
		}
	}
	to, v := l.main, any(nil)
	if !t.borrowed {
		if next := l.handOn(t); next != nil {
			to, v = next.f, next
		}
	}
	t.giveBack()
	t.state = StateParked
	t.what = what
	t.seq++
	if _, err := t.f.Switch(to, v); err != nil { // cannot happen for a running task
		if to != l.main { // handOn made another task the running one
			panic("scheduler: internal error: a hand-off failed: " + err.Error())
		}
		t.unpark() // undo the park
		t.state = StateRunning
		return err
	}
	err := t.wake
	t.wake = nil
	return err
}

// handOn takes the task the loop would resume next off the run queue and
// makes it the running one, for the parking task me to resume itself: one
// coroutine switch instead of two (to the loop, and from it). It does so only
// when that changes nothing: the loop is quiet (no timer, fd, post or stop
// needs it), the run queue is FIFO (no seed) and its head is a runnable
// task. And only when the switch is one hop of the fiber's resume chain (see
// package fiber): up from a task the loop resumed, or back down to the task
// that resumed me. Anything else would lengthen the chain, and a switch to
// the loop would then take one hop per task in it. Nor does it start a task:
// starting a fiber from me's goroutine would grow me's stack past its first
// 2 KB, for as long as me lives. Otherwise handOn returns nil, and me
// switches to the loop.
func (l *Loop) handOn(me *Task) *Task {
	// Budget: a hand-off between two tasks (a lock, a queue) costs one
	// coroutine switch (BenchmarkQueuePingPong, within 0.6× a channel
	// ping-pong). No allocation.
	if l.rng != nil || l.ready.n == 0 || !l.quiet() {
		return nil
	}
	t := l.ready.buf[l.ready.head].t
	if t == nil || t.state != StateRunnable || !t.f.Started() {
		return nil
	}
	switch l.below {
	case nil:
		l.below = me
	case t:
		l.below = nil
	default:
		return nil
	}
	l.ready.pop()
	t.state = StateRunning
	l.cur = t
	if l.trace != nil {
		*l.trace = append(*l.trace, t.id)
	}
	if w := l.watch; w != nil {
		w.beat()
	}
	return t
}

// giveBack makes the loop's main fiber the parent of a task that a joiner
// borrowed (see joinNext) before it switches to the loop. The joiner, unless
// t killed it meanwhile, waits from now on as any joiner of t's.
func (t *Task) giveBack() {
	if t.borrowed {
		t.borrowed = false
		t.f.SetParent(nil)
		if me := t.lender; me != nil {
			t.lender = nil
			if me.state == StateParked {
				me.what = "Join"
				t.joiners.push(me)
				me.waitFor = t
			}
		}
	}
}

// watch arranges for ctx, which is not t's own context, to end t's park
// with ctx's error, and only once ctx itself reports it: ctx.Err() is set
// and context.Cause(ctx) gives the cause. A deadline on the loop's clock
// (WithDeadline, and contexts derived from one) ends the park through t's
// timer, which fires after the deadline's own, in the same iteration.
// Every other end of ctx (a cancellation, a deadline of package context's)
// comes through a post made once ctx is done: a timer of the loop's at such
// a deadline could fire before the context's own, and the loop's clock may
// be virtual where the deadline is a wall-clock time.
func (t *Task) watch(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if ctx.Done() == nil {
		return nil // never done: nothing to watch
	}
	l := t.l
	w := &watchState{}
	if d, ok := ctx.Value(deadlineKey{}).(*deadlineCtx); ok && d.l == l {
		if n := &t.tm.node; !n.Queued() || d.when < n.When() {
			if n.Queued() { // kept, for a ctx that d's end does not end after all
				w.dispWhen, w.dispErr = n.When(), t.tm.err
				l.timers.Remove(&t.tm)
			}
			l.timers.Push(&t.tm, d.when)
			t.tm.err, t.tm.ctx = nil, ctx
			w.dl.Store(d)
		}
	}
	seq := t.seq + 1 // the park about to begin
	l.watches++
	l.afters.Add(1)
	w.stop = context.AfterFunc(ctx, func() {
		defer l.afters.Done()
		if d := w.dl.Load(); d != nil && d.expiredBy() {
			return // the loop's timer ends the park, in the step d expired in
		}
		if !w.state.CompareAndSwap(watchArmed, watchFired) {
			return // the loop took the watch down first
		}
		l.Post(func(context.Context) {
			if t.state == StateParked && t.seq == seq {
				t.ready(ctx.Err())
			}
		})
	})
	t.wst = w
	return nil
}

// watchState is a park's watch on a ctx that is not its task's own. Its
// end comes from two sides, and the first one to take it decides: the
// loop, which takes the watch down when the park ends (and counts it out
// of l.watches, on the loop), and ctx's end, whose goroutine posts the
// wake-up. A park that a loop deadline ends (dl) is ended by the loop's
// timer, so that nothing but the loop decides when it returns: a post
// from that goroutine, however late, would change a seeded run's picks.
type watchState struct {
	state atomic.Int32                // watchArmed, then watchDown or watchFired
	dl    atomic.Pointer[deadlineCtx] // the loop deadline whose timer t's is, if any
	stop  func() bool                 // context.AfterFunc's

	// dispWhen and dispErr, owned by the loop, are the timer (Sleep's, an
	// fd deadline) that dl's timer displaced from t's: fireTimers puts it
	// back if dl's timer finds ctx not done after all. dispWhen 0: none.
	dispWhen int64
	dispErr  error
}

const (
	watchArmed int32 = iota
	watchDown        // by the loop
	watchFired       // by ctx's end: its post will come
)

// refuse is the error of a parking call that t may not make: t is not the
// running task, or it is dying.
func (t *Task) refuse() error {
	if t.killed && t == t.l.cur {
		return ErrKilled
	}
	return ErrNotCurrent
}

// abort undoes what a parking call armed before it found it could not park.
func (t *Task) abort() {
	if t.tm.node.Queued() {
		t.l.timers.Remove(&t.tm)
	}
	if t.list != nil {
		t.list.remove(t)
	}
	if t.fdw != nil {
		t.l.fdWaits--
		t.fdw = nil
	}
	t.waitFor = nil
	t.wakeable = false
}

// ready ends t's park with err as its result and queues t to run. It reports
// false, and does nothing, if t is not parked.
func (t *Task) ready(err error) bool {
	if t.state != StateParked {
		return false
	}
	t.unpark()
	if err != nil || t.wake != nil { // no store of nil over nil: see runq.push
		t.wake = err
	}
	t.state = StateRunnable
	t.l.ready.push(entry{t: t})
	return true
}

// unpark takes a parked t out of everything it waits in.
func (t *Task) unpark() {
	if t.tm.node.Queued() || t.wst != nil || t.list != nil || t.fdw != nil {
		t.unwatch()
	}
	if t.waitFor != nil { // no store of nil over nil: see runq.push
		t.waitFor = nil
	}
	if t.what != "" {
		t.what = ""
	}
	t.wakeable = false
	if t.tm.ctx != nil {
		t.tm.ctx = nil
	}
}

// unwatch takes a parked t out of its timer, watch, wait list and fd.
func (t *Task) unwatch() {
	l := t.l
	if t.tm.node.Queued() {
		l.timers.Remove(&t.tm)
	}
	if w := t.wst; w != nil {
		l.watches--
		if w.state.CompareAndSwap(watchArmed, watchDown) && w.stop() {
			l.afters.Done() // its goroutine will never run
		}
		t.wst = nil
	}
	if t.list != nil {
		t.list.remove(t)
	}
	if t.fdw != nil {
		l.fdWaits--
		t.fdw = nil
	}
}

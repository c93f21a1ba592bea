package scheduler

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	"strconv"
)

// A Group is a set of tasks started and waited for together, in the shape
// of golang.org/x/sync/errgroup: Go starts a member, SetLimit bounds how
// many run at once, Wait waits for them all and returns the first failure
// (an error a member returned, or its panic as a *PanicError). It is trio's
// nursery and gevent's Group and Pool too: no member outlives the Wait that
// waits for it. Where it differs from errgroup, and why:
//   - It kills where errgroup cancels. The first failure kills the other
//     members at once, in the call that sees it: each unwinds from its
//     switch point as Task.Kill says, deferred calls run. A member need not
//     poll a context to stop; the kill reaches it wherever it parks. A
//     member killed by anyone else ends without failing the group, as
//     gevent counts GreenletExit a success: the kill was someone's choice.
//   - If Wait's ctx ends first, or the task in Wait is killed, the members
//     are killed before Wait returns (or that task unwinds).
//   - Go and Wait take ctx, as every call here that may park does; Go
//     parks at the limit, so it needs the calling task, while TryGo never
//     parks and works in a callback. Go has no error to return: what keeps
//     it from starting fn is the group's failure.
//   - Wait reports a failure once and leaves the group empty, its loop and
//     limit kept, for the next batch; errgroup's returns it every time.
//
// Members started by a task killed before it reaches Wait are not killed
// with it, unless it waits in a deferred call too (defer g.Wait(ctx)): a
// dying task may not switch, so that Wait returns ErrKilled and leaves the
// kills to a callback, made as soon as the loop gets to it.
//
// A zero Group is ready to use. It belongs to the loop of its first Go or
// TryGo: its methods must be called on that loop. A Group must not be
// copied after first use.
type Group struct {
	_ noCopy

	// Owned by the loop l, set by the first Go or TryGo. A round is what one
	// Wait reports: it ends as a Wait takes its result.
	l        *Loop
	members  []*Task  // started, in start order; ended ones dropped lazily (see add)
	live     int      // members whose function has not ended
	reserved int      // slots handed to tasks parked in Go that have not resumed
	limit    int      // SetLimit(n) stores n+1; 0: no limit
	err      error    // the round's first failure, until a Wait reports it
	fails    uint64   // failures that were a round's first
	rounds   uint64   // rounds reported
	res      error    // what the last round ended with, for the Waits it wakes
	waiters  waitList // tasks parked in Wait
	starters waitList // tasks parked in Go for a slot, first come first served
}

// errFailed ends the park of a task in Go whose group failed.
var errFailed = errors.New("scheduler: group failed")

// SetLimit limits the members running at once to n; n < 0 removes the
// limit, the zero Group's. Once n run, Go parks its caller until one ends
// and TryGo returns false; callers parked in Go get the free slots first
// come, first served. As errgroup's, SetLimit panics if members are running
// or waiting to start. Must be called on the group's loop. Never parks.
func (g *Group) SetLimit(n int) {
	if k := g.live + g.reserved; k > 0 || g.starters.head != nil {
		panic("scheduler: Group.SetLimit while " + strconv.Itoa(k) + " members are active")
	}
	g.limit = max(n+1, 0)
}

// Go starts fn as a member: a new task named "group" on the loop ctx
// carries, whose context carries ctx's values but not its cancellation (see
// Spawn). At the limit, Go parks the calling task until a member ends,
// behind the tasks parked in Go before it.
//
// What keeps Go from starting fn is the group's failure, as if fn had
// returned it: ctx carries no task (ErrNoTask), the task in ctx is not the
// running one or is dying (ErrNotCurrent, ErrKilled), ctx ends while Go
// waits for a slot. A failed group starts nothing until Wait has reported
// the failure. A nil fn, or a ctx of no loop or another loop than the
// group's, leaves the group alone: Go panics with an error wrapping
// ErrNilFunc, ErrNoLoop or ErrWrongLoop. May park the calling task.
func (g *Group) Go(ctx context.Context, fn func(ctx context.Context) error) {
	l := g.bind(ctx, "Go", fn)
	me := taskOf(ctx)
	switch {
	case me == nil:
		g.fail(ErrNoTask)
		return
	case me != l.cur || me.killed:
		g.fail(me.refuse())
		return
	case g.err != nil:
		return
	}
	if !g.room() || g.starters.head != nil {
		p := &parker{g: g, seq: g.fails}
		p.OnKill = p
		g.starters.push(me)
		if err := ParkWith(ctx, "Group.Go", &p.ParkHook); err != nil {
			if err != errFailed {
				g.fail(err)
			}
			return
		}
		g.reserved-- // the slot handOn gave me is mine
		if g.fails != p.seq {
			g.handOn() // the group failed since: give it back
			return
		}
	}
	g.start(ctx, fn)
}

// TryGo starts fn as Go does if it can at once: below the limit, with no
// task parked in Go, on a group that has not failed. It reports whether it
// started fn. ctx may be a callback's. It panics as Go does. Never parks.
func (g *Group) TryGo(ctx context.Context, fn func(ctx context.Context) error) bool {
	g.bind(ctx, "TryGo", fn)
	if g.err != nil || !g.room() || g.starters.head != nil {
		return false
	}
	return g.start(ctx, fn)
}

// Wait waits until every member has ended (and every task in Go handed a
// slot has started its own), and returns the first failure since the
// previous Wait returned, or nil; the group is then empty, ready for reuse.
// With no member it returns at once.
//
// If ctx ends first, or the calling task is killed while it waits, the
// members are killed before Wait returns ctx's error (or the task unwinds):
// every task in Wait reports that, unless a failure came before. Wait fails
// with ErrNoTask, ErrWrongLoop, ErrNotCurrent, or ErrKilled in a dying
// task's deferred calls, where it kills the members (see Group). A member
// waiting for its own group panics. May park the calling task.
func (g *Group) Wait(ctx context.Context) error {
	me := taskOf(ctx)
	switch {
	case me == nil:
		return ErrNoTask
	case g.l != nil && me.l != g.l:
		return ErrWrongLoop
	case g.empty():
		return g.report()
	case me != me.l.cur || me.killed:
		if me.killed && me == me.l.cur {
			g.fail(ErrKilled) // nothing may outlive a Wait
		}
		return me.refuse()
	case slices.Contains(g.members, me):
		panic("scheduler: Group.Wait by a member of the group, which would wait for itself")
	}
	p := &parker{g: g, wait: true, seq: g.rounds}
	p.OnKill = p
	g.waiters.push(me)
	err := ParkWith(ctx, "Group.Wait", &p.ParkHook)
	if g.rounds != p.seq {
		return g.res
	}
	return g.abandon(err)
}

// A parker is a task parked in Go or Wait: the key of its park, and what
// its kill does (see ParkHook).
type parker struct {
	ParkHook
	g      *Group
	wait   bool   // in Wait (in Go otherwise)
	seq    uint64 // in Wait, g.rounds as it parked; in Go, g.fails
	handed bool   // in Go: handOn gave it a slot
}

// Killed gives back the slot a task in Go was handed, if any, and kills the
// members for a task in Wait unless its round has ended. It runs in the
// kill before the task unwinds, on behalf of its killer: the members'
// deferred calls run before the waiter's.
func (p *parker) Killed() {
	switch g := p.g; {
	case p.handed:
		g.reserved--
		g.handOn()
	case p.wait && g.rounds == p.seq:
		g.abandon(ErrKilled)
	}
}

// bind vets a Go or TryGo before it touches the group, and binds a zero
// group to ctx's loop.
func (g *Group) bind(ctx context.Context, call string, fn func(context.Context) error) *Loop {
	l := LoopOf(ctx)
	switch {
	case fn == nil:
		panic(nilFuncError("Group." + call))
	case l == nil:
		panic(fmt.Errorf("%w (Group.%s)", ErrNoLoop, call))
	case g.l == nil:
		g.l = l
	case g.l != l:
		panic(fmt.Errorf("%w (Group.%s)", ErrWrongLoop, call))
	}
	return l
}

// room reports whether one more member may start now.
func (g *Group) room() bool { return g.limit == 0 || g.live+g.reserved < g.limit-1 }

// empty reports that no member is left, nor any slot handed out.
func (g *Group) empty() bool { return g.live == 0 && g.reserved == 0 }

// report ends the round, and returns its failure for a Wait to return.
func (g *Group) report() error {
	err := g.err
	g.err = nil
	g.rounds++
	return err
}

// start spawns fn as a member; a failure to spawn is the group's. Budget:
// the task, its name and the closure binding fn to the group (3 allocations,
// BenchmarkGroupGoWait); no goroutine but the task's fiber.
func (g *Group) start(ctx context.Context, fn func(ctx context.Context) error) bool {
	t, err := Spawn(ctx, "group", func(ctx context.Context) error { return g.run(ctx, fn) })
	if err != nil {
		g.fail(err)
		return false
	}
	g.live++
	g.add(t)
	return true
}

// add appends t to the members. Ended ones are dropped when the slice is
// full, not at each end (a member needs no index of its own); it grows when
// more than half remain, so that the scans stay amortized.
func (g *Group) add(t *Task) {
	if n := len(g.members); n > 0 && n == cap(g.members) {
		kept := g.members[:0]
		for _, m := range g.members {
			if m.state != StateEnded {
				kept = append(kept, m)
			}
		}
		clear(g.members[len(kept):n])
		g.members = slices.Grow(kept, len(kept))
	}
	g.members = append(g.members, t)
}

// run is a member's function: fn, then its end told to the group, however
// fn ended. As the task's outermost frame, it hears of the end once fn's
// deferred calls have run.
func (g *Group) run(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	t := taskOf(ctx)
	returned := false
	defer func() {
		var failure error
		if returned {
			if !t.killed {
				failure = err
			}
		} else {
			switch r := recover(); {
			case r == nil:
				return // runtime.Goexit: the loop goes down with it (see package fiber)
			case r == ErrKilled && t.killed:
				// Killed: no failure. The fiber ends as a kill's would.
			default: // fn's panic, or a deferred call's as it was killed
				err = &PanicError{Value: r, Stack: debug.Stack()}
				failure = err
			}
		}
		g.left(failure)
	}()
	err = fn(ctx)
	returned = true
	return err
}

// left is told that a member's function has ended, with failure if that
// end fails the group.
func (g *Group) left(failure error) {
	if failure != nil {
		g.fail(failure)
	}
	g.live--
	g.handOn()
}

// handOn hands free slots to the tasks parked in Go, first come first
// served, and once the group is empty, wakes the tasks in Wait.
func (g *Group) handOn() {
	for t := g.starters.head; t != nil && g.room(); t = g.starters.head {
		t.hook.OnKill.(*parker).handed = true
		g.reserved++
		wake(&g.starters, t, nil)
	}
	if g.live == 0 {
		clear(g.members)
		g.members = g.members[:0]
	}
	if g.empty() && g.waiters.head != nil {
		g.endRound()
	}
}

// endRound reports the round to every task in Wait.
func (g *Group) endRound() {
	g.res = g.report()
	for t := g.waiters.head; t != nil; t = g.waiters.head {
		wake(&g.waiters, t, nil)
	}
}

// wake ends the park of t, the head of w, with err.
func wake(w *waitList, t *Task, err error) {
	if !t.ready(err) { // cannot happen: a task leaves w as its park ends
		w.remove(t)
	}
}

// fail records err as the round's failure if it is the first, sends the
// tasks parked in Go away (their fn will never run), and kills the members.
func (g *Group) fail(err error) {
	if g.err == nil {
		g.err = err
		g.fails++
	}
	for t := g.starters.head; t != nil; t = g.starters.head {
		wake(&g.starters, t, errFailed)
	}
	g.killAll()
}

// abandon gives up the round a Wait parked in: its ctx ended (err) or its
// task is being killed (ErrKilled). The members are killed, and the round
// ends for every task in Wait with its first failure, which it returns.
func (g *Group) abandon(err error) error {
	round := g.rounds
	g.fail(err)
	if g.rounds == round { // the kills did not end it already
		g.endRound()
	}
	return g.res
}

// killAll kills the members, oldest first, on behalf of whoever holds the
// baton: the running task, or the loop's main fiber (in a callback, as the
// loop ends); a waiter's ParkHook runs on behalf of one of those. A dying
// task may not switch (see Task.Kill): it leaves the kills to a callback,
// which makes them unless the round has ended by then.
func (g *Group) killAll() {
	l, by := g.l, g.l.main // bound: there are members
	if c := l.cur; c != nil {
		if c.killed || c.state != StateRunning {
			round := g.rounds
			l.CallSoon(func(context.Context) {
				if g.rounds == round {
					g.killAll()
				}
			})
			return
		}
		by = c.f
	}
	for i := 0; i < len(g.members); i++ { // handOn may empty it meanwhile
		m := g.members[i]
		if m == l.cur || m.state == StateEnded {
			continue
		}
		ran := m.f.Started()
		l.kill(m, by)
		if !ran {
			g.left(nil) // its function never ran, nor did run's defer
		}
	}
}

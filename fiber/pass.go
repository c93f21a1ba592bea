package fiber

import (
	"iter"
	"runtime/debug"

	"github.com/evergo/evergo/internal/stacks"
)

// This file is the baton's state machine: how a switch travels between
// goroutines, how a fiber starts on a parked worker and how it ends.
//
// Every fiber other than a main fiber runs on a worker: a goroutine made by
// iter.Pull, so that the baton moves through the runtime's coroutine switch
// (coroswitch hands the thread from one goroutine to the other directly; no
// scheduler run queue, no channel). iter.Pull is asymmetric: whoever calls a
// worker's next parks until the worker yields. So the fibers that are parked
// form a resume chain, main at the bottom:
//
//   - calling: parked inside the next that resumed the fiber above it; it runs
//     again when the fiber above hands the baton down (yields).
//   - yielded: parked in its worker's yield; whoever runs resumes it with next,
//     from its own goroutine, becoming calling.
//
// A switch to a yielded or unstarted fiber is one coroutine switch (next); a
// switch to a calling fiber hands the baton down the chain, one yield per
// level (one, in the common case: back to whoever resumed you). Main ↔ fiber
// and fiber ↔ fiber round trips are both two coroutine switches, the same as
// an iter.Pull round trip.

// kind is what a transfer delivers.
type kind uint8

const (
	kindSwitch kind = iota // the value in the target's in
	kindThrow              // err at the target's suspension point
	kindKill               // panic(ErrKilled) at the target's suspension point
)

// transfer is the baton. The origin of a switch fills it in before the baton
// moves (and puts the value in the target's in, a line the switch touches
// anyway); the target takes what it carries and clears it, so that nothing
// stays reachable. At rest, to is the fiber holding the baton (the group's
// current fiber: &main while no fiber runs, nil once closed), err is nil and
// kind is kindSwitch; kind is kindSwitch whenever err is nil.
type transfer struct {
	to   *Fiber
	err  error
	kind kind
}

// worker is a goroutine that runs fibers' functions, one after another.
type worker struct {
	next  func() (struct{}, bool) // resume it: parks the caller until it yields or exits
	stop  func()                  // let an idle worker's goroutine exit
	yield func(struct{}) bool     // set by the worker itself: park it, resume the caller
	f     *Fiber                  // the fiber it runs; nil while idle
	err   error                   // a panic of f's, kept until f's end is handed on
	g     *Group                  // its group, fixed
	gid   uint64                  // its goroutine's id, set as it starts
}

// pass carries the transfer in g.x from self, which has just given up the
// baton, to its target and on, until a transfer reaches self again; then self
// takes what it carries (take). It runs on self's goroutine: every suspended
// fiber is suspended in pass or in the first hop of Switch.
//
// Budget: a switch to a yielded fiber or back down to the resumer is one
// coroutine switch plus the state writes below. Keep allocations, defers and
// calls that may switch out of this loop.
func (g *Group) pass(self *Fiber) {
	for to := g.x.to; to != self; to = g.x.to {
		switch to.state {
		case calling: // below self in the chain: hand the baton down
			self.state = yielded
			self.w.yield(struct{}{})
		case yielded:
			self.state = calling
			to.w.next()
		case unstarted:
			if g.x.kind == kindThrow { // fn never runs: the error goes up
				g.end(to)
				g.x.to = to.ancestor()
				continue
			}
			self.state = calling
			g.start(to)
		default:
			panic("fiber: internal error: switch to a fiber that is " + to.state.String())
		}
	}
}

// onward is the rest of a switch once g.x is filled in: the baton goes on
// until it comes back to self, with a value, an error or a kill. Switch calls
// it only when its own first hop did not end the switch.
func (g *Group) onward(self *Fiber) (any, error) {
	if g.x.to != self {
		g.pass(self)
	}
	return g.take(self)
}

// take gives self the baton and what the transfer in g.x carries: a value,
// an error, or the kill signal. Switch does the same inline for a value.
func (g *Group) take(self *Fiber) (any, error) {
	self.state = running
	v, err, k := self.in, g.x.err, g.x.kind
	if v != nil { // no store of nil over nil: see Group.Reuse
		self.in = nil
	}
	if err != nil {
		g.x.err = nil
	}
	g.x.kind = kindSwitch // g.x.to is self

	if k == kindKill {
		self.dying = true
		panic(ErrKilled)
	}
	return v, err
}

// start binds an unstarted fiber to a parked worker (or a new one) and
// resumes it.
func (g *Group) start(f *Fiber) {
	var w *worker
	if n := len(g.idle); n > 0 {
		// The slot keeps w until loop puts a worker back there: it is
		// bound, so that retains nothing, and spares a store.
		w = g.idle[n-1]
		g.idle = g.idle[:n-1]
	} else {
		w = &worker{g: g}
		w.next, w.stop = iter.Pull(w.loop)
	}
	w.f = f
	f.w = w
	if g.live == nil {
		f.prev = f // the head's prev is the tail
		g.live = f
	} else {
		tail := g.live.prev
		tail.next, f.prev = f, tail
		g.live.prev = f
	}
	w.next()
}

// loop is a worker's goroutine: run the bound fiber, hand its end to the
// ancestor, and park until the next fiber (Close stops parked workers), or
// exit when the group has enough parked workers.
func (w *worker) loop(yield func(struct{}) bool) {
	w.yield = yield
	w.gid = stacks.ID()
	w.g.gids.add(w.gid)
	defer w.exit()
	for {
		f := w.f
		g := f.g
		f.state = running // g.x is {to: f}: the switch that started it
		v := f.in
		if v != nil {
			f.in = nil
		}
		res, err := f.call(v)
		g.finish(f, res, err)
		w.f = nil
		if w.err != nil {
			w.err = nil
		}
		if len(g.idle) >= g.maxIdle {
			return // the caller's next returns and carries on with g.x
		}
		g.idle = append(g.idle, w)
		if !yield(struct{}{}) {
			return // stopped by Close
		}
	}
}

// exit runs as the worker's goroutine ends. A fiber still bound means the
// goroutine is leaving through runtime.Goexit, which no recover stops.
func (w *worker) exit() {
	w.g.gids.remove(w.gid)
	if f := w.f; f != nil {
		f.g.goexit(f, w.err)
	}
}

// call runs the fiber's function, turning a panic into a *PanicError and the
// kill signal into a normal end. A panic is also kept in the worker: if it
// was recovered while runtime.Goexit unwinds the fiber, call never returns
// and exit reports it.
func (f *Fiber) call(v any) (res any, err error) {
	returned := false
	defer func() {
		if returned {
			return
		}
		switch r := recover(); {
		case r == nil: // runtime.Goexit: w.exit takes over
		case f.dying && r == ErrKilled:
			res, err = nil, nil
		default:
			res, err = nil, &PanicError{Value: r, Stack: debug.Stack()}
			f.w.err = err
		}
	}()
	res, err = f.fn(f, v)
	returned = true
	return res, err
}

// finish ends f and addresses its result to whoever receives it: its killer,
// or its first suspended ancestor.
func (g *Group) finish(f *Fiber, res any, err error) {
	to := f.killer
	if to == nil {
		to = f.ancestor()
	}
	g.end(f)
	k, ev := kindSwitch, EventSwitch
	if err != nil {
		res, k, ev = nil, kindThrow, EventThrow
	}
	if g.trace != nil {
		if perr := g.traceEnd(ev, f, to); perr != nil {
			res, err, k = nil, perr, kindThrow
		}
	}
	if res != nil {
		to.in = res // nil at rest
	}
	g.x.to, g.x.kind = to, k // err is nil at rest
	if err != nil {
		g.x.err = err
	}
}

// traceEnd calls the trace hook for a fiber's end from its worker, where a
// panic has no fiber function left to unwind: it becomes the fiber's error.
func (g *Group) traceEnd(ev Event, origin, target *Fiber) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	g.trace(ev, origin, target)
	return nil
}

// end marks f ended and drops what it holds.
func (g *Group) end(f *Fiber) {
	if f.w != nil {
		if f.prev == f { // the only live fiber
			g.live = nil
		} else {
			if f == g.live {
				g.live = f.next
			} else {
				f.prev.next = f.next
			}
			if f.next != nil {
				f.next.prev = f.prev
			} else {
				g.live.prev = f.prev
			}
		}
		f.prev, f.next = nil, nil
		f.w = nil
	}
	f.state = ended
	f.fn = nil
	if f.killer != nil {
		f.killer = nil
	}
}

// ancestor returns the first suspended fiber up f's parent chain. Main is
// never unstarted or ended, so the walk ends there at the latest.
func (f *Fiber) ancestor() *Fiber {
	p := f.parent
	for p.state == unstarted || p.state == ended {
		p = p.parent
	}
	return p
}

// goexit records that f's goroutine is exiting through runtime.Goexit. As
// with iter.Pull, the Goexit goes on in the goroutine that resumed f, and so
// on down the resume chain to the main fiber's goroutine; each fiber on the
// way ends here. While fibers below are still unwinding nobody holds the
// baton (every switch fails with ErrNotCurrent, so their deferred calls cannot
// corrupt the group); once none is left, main holds it, so that a deferred
// Close in main's goroutine still cleans up. lost is a panic recovered during
// the Goexit, which Close reports.
func (g *Group) goexit(f *Fiber, lost error) {
	g.end(f)
	if lost != nil {
		g.lost = append(g.lost, lost)
	}
	g.x = transfer{}
	for l := g.live; l != nil; l = l.next {
		if l.state == calling {
			return
		}
	}
	g.x.to = &g.main
	g.main.state = running
}

func (s state) String() string {
	switch s {
	case unstarted:
		return "unstarted"
	case running:
		return "running"
	case calling:
		return "calling"
	case yielded:
		return "yielded"
	case ended:
		return "ended"
	}
	return "invalid"
}

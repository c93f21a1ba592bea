package fiber

import "errors"

// Func is the function a fiber runs. self is the fiber running it: the
// origin it names when it switches. v is the value of the switch that started
// it. What Func returns goes to the fiber's first suspended ancestor: the
// value as the result of that ancestor's pending Switch, or the error as its
// error.
type Func func(self *Fiber, v any) (any, error)

// A Group is a set of fibers that pass one baton between them: exactly one of
// them runs at any moment. The goroutine that switches into the group from
// outside is its main fiber (Main) until the baton comes back to it.
//
// The zero Group is ready to use, with the default options. A Group must not
// be copied after first use. Close it when done: Close kills every suspended
// fiber so that no goroutine outlives the group.
//
// A Group is not goroutine-safe: only the code holding its baton may call its
// methods or those of its fibers. Passing the group from one goroutine to
// another while its main fiber holds the baton is fine if the hand-over is
// synchronized (a channel send, a mutex) and neither goroutine is locked to
// its OS thread.
type Group struct {
	_ noCopy

	// All fields are owned by the holder of the baton and change only while
	// it runs, or during a switch on its behalf.
	main    Fiber     // the entering goroutine; never unstarted or ended
	x       transfer  // the baton: see transfer
	live    *Fiber    // started, not ended fibers, oldest first (Fiber.prev/next)
	idle    []*worker // parked workers ready for a new fiber, newest last
	maxIdle int       // cap on len(idle); set by options
	trace   TraceFunc // nil: tracing off
	lost    []error   // panics recovered while a fiber left by runtime.Goexit
	closed  bool      // Close has returned: every operation fails with ErrClosed

	gids goroutines // the workers' goroutine ids, shared with other goroutines
}

// DefaultMaxIdle is how many finished fibers' goroutines a group keeps parked
// for reuse by new fibers, unless MaxIdle says otherwise.
const DefaultMaxIdle = 128

// An Option configures a Group made by NewGroup.
type Option interface{ apply(*Group) }

type optionFunc func(*Group)

func (f optionFunc) apply(g *Group) { f(g) }

// MaxIdle sets how many finished fibers' goroutines the group keeps parked for
// reuse (default DefaultMaxIdle). 0 turns reuse off: each fiber's goroutine
// exits when its function ends.
func MaxIdle(n int) Option {
	return optionFunc(func(g *Group) { g.maxIdle = max(n, 0) })
}

// NewGroup returns an empty group configured by opts.
func NewGroup(opts ...Option) *Group {
	g := &Group{maxIdle: DefaultMaxIdle}
	for _, o := range opts {
		o.apply(g)
	}
	g.setup()
	return g
}

// init readies a zero Group on first use.
func (g *Group) init() {
	if g.main.g == nil {
		g.maxIdle = DefaultMaxIdle
		g.setup()
	}
}

func (g *Group) setup() {
	g.main.g = g
	g.main.state = running
	g.x.to = &g.main
}

// Main returns the group's main fiber: the goroutine that switches into the
// group from outside. Switching to it from a fiber returns the baton to that
// goroutine. Never parks.
func (g *Group) Main() *Fiber {
	g.init()
	return &g.main
}

// Current returns the fiber that holds the baton: the caller itself when
// called by the running fiber, the main fiber while no fiber runs, nil once
// the group is closed (or while runtime.Goexit unwinds fibers: see the
// package documentation). Never parks.
func (g *Group) Current() *Fiber {
	g.init()
	return g.x.to
}

// New returns an unstarted fiber that will run fn when first switched to. Its
// parent is parent, or the group's main fiber when parent is nil. New fails
// with ErrClosed, ErrNilFunc, ErrForeign (parent of another group) or ErrDead
// (parent has ended). Never parks.
func (g *Group) New(fn Func, parent *Fiber) (*Fiber, error) {
	g.init()
	if parent == nil {
		parent = &g.main
	}
	switch {
	case g.closed:
		return nil, ErrClosed
	case fn == nil:
		return nil, ErrNilFunc
	case parent.g != g:
		return nil, ErrForeign
	case !parent.Alive():
		return nil, ErrDead
	}
	return &Fiber{g: g, fn: fn, parent: parent}, nil
}

// Reuse makes f, an ended fiber of the group, an unstarted fiber again that
// will run fn, with parent as its parent (nil means main), as New would
// make one, without allocating. Use it only for a fiber nothing else refers
// to any more (a pool of fibers kept by their owner): to whoever kept the
// *Fiber from its previous run, it comes back to life. Reuse fails as New
// does, and with ErrForeign for a fiber of another group and ErrAlive for a
// fiber that has not ended. Never parks.
func (g *Group) Reuse(f *Fiber, fn Func, parent *Fiber) error {
	g.init()
	if parent == nil {
		parent = &g.main
	}
	switch {
	case g.closed:
		return ErrClosed
	case fn == nil:
		return ErrNilFunc
	case f.g != g || parent.g != g:
		return ErrForeign
	case f.state != ended || f == &g.main:
		return ErrAlive
	case !parent.Alive():
		return ErrDead
	}
	// Only what differs from an ended fiber, and no store of nil over nil:
	// while a collection marks, every pointer store pays the write
	// barrier, and a fiber is reused for every task a loop starts. end left
	// w, killer, prev and next nil; in is nil at rest.
	f.fn = fn
	if f.parent != parent {
		f.parent = parent
	}
	if f.in != nil {
		f.in = nil
	}
	f.state, f.dying = unstarted, false
	return nil
}

// SetTrace installs fn as the group's trace hook and returns the previous one;
// nil turns tracing off. The hook sees every move of the baton as (origin,
// target) before it happens, on the origin's goroutine: Switch as a switch,
// Throw and Kill as a throw, and a fiber that ends as a switch (it returned a
// value) or a throw (an error or panic) to whoever receives its end, its
// killer or its first suspended ancestor. Throwing into an unstarted fiber
// shows as that one throw (the error then goes to the ancestor without
// running anything); killing an unstarted fiber moves nothing and shows
// nothing. The hook must not switch. Never parks.
func (g *Group) SetTrace(fn TraceFunc) (old TraceFunc) {
	old, g.trace = g.trace, fn
	return old
}

// Close kills every suspended fiber of the group, oldest first (their deferred
// calls run), lets the goroutines of finished fibers exit, and marks the group
// closed: afterwards every operation fails with ErrClosed and every fiber of
// the group is dead. It returns the errors the fibers' functions ended with
// while being killed (a panic in a deferred call, say), joined. Close must be
// called by the main fiber, while no fiber runs (ErrNotCurrent otherwise);
// closing twice returns ErrClosed. May park the calling fiber: the killed
// fibers run their deferred calls.
func (g *Group) Close() error {
	g.init()
	if g.closed {
		return ErrClosed
	}
	if g.x.to != &g.main {
		return ErrNotCurrent
	}
	var errs []error
	for g.live != nil {
		if err := g.main.Kill(g.live); err != nil {
			errs = append(errs, err)
		}
	}
	g.closed = true
	g.x.to = nil
	for _, w := range g.idle {
		w.stop()
	}
	g.idle = nil
	g.trace = nil
	errs = append(g.lost, errs...)
	g.lost = nil
	return errors.Join(errs...)
}

// Event is what a trace hook sees.
type Event uint8

const (
	EventSwitch Event = iota + 1 // Switch, or a fiber ending with a value
	EventThrow                   // Throw or Kill, or a fiber ending with an error
)

func (e Event) String() string {
	switch e {
	case EventSwitch:
		return "switch"
	case EventThrow:
		return "throw"
	}
	return "fiber.Event(?)"
}

// TraceFunc is a group's trace hook; see Group.SetTrace.
type TraceFunc func(ev Event, origin, target *Fiber)

// A Fiber is a function running on a goroutine of its own that runs only while
// it holds its group's baton. See the package documentation.
type Fiber struct {
	// g is fixed at creation. The rest is owned by whoever holds g's baton.
	g      *Group
	fn     Func    // set until the fiber ends
	parent *Fiber  // nil only for the main fiber
	w      *worker // the goroutine running fn: bound while started and not ended
	killer *Fiber  // set by Kill: receives the fiber's end instead of its ancestor
	state  state
	dying  bool   // a kill was delivered: it may not switch any more
	in     any    // the value of the switch in flight to it; nil at rest
	prev   *Fiber // g.live neighbours while started and not ended
	next   *Fiber
}

// state is where a fiber is. The main fiber is only ever running or calling.
// Every transition is made by the goroutine holding the baton:
//
//	unstarted → running   the first switch into it binds a worker (Group.start)
//	unstarted → ended     Throw or Kill into it, or Close: fn never runs
//	running   → calling   it resumes a yielded or unstarted fiber (Switch, pass)
//	running   → yielded   it hands the baton down the resume chain (Switch, pass)
//	calling   → running   the fiber it resumed handed the baton back down to it
//	yielded   → running   a fiber resumed it
//	running   → ended     fn returned or panicked, or the fiber was killed
type state uint8

const (
	unstarted state = iota
	running         // holds the baton: g.x.to
	calling         // parked in the next call that resumed the fiber above it
	yielded         // parked in its worker's yield, waiting to be resumed
	ended
)

// Group returns the group the fiber belongs to. Never parks.
func (f *Fiber) Group() *Group { return f.g }

// Alive reports whether the fiber can still run: true for unstarted,
// suspended and running fibers, false once it has ended or its group is
// closed. Never parks.
func (f *Fiber) Alive() bool {
	return f.g != nil && !f.g.closed && f.state != ended
}

// Started reports whether the fiber's function has begun: false until the
// first switch into it (and again after Group.Reuse), true while it runs or
// is suspended and once it has ended. A main fiber has always started. Never
// parks.
func (f *Fiber) Started() bool { return f.state != unstarted }

// Parent returns the fiber's parent: where its result goes when its function
// ends (or, if the parent has ended or not started, the parent's parent, and
// so on). The main fiber's parent is nil. Never parks.
func (f *Fiber) Parent() *Fiber { return f.parent }

// SetParent makes p the fiber's parent; nil means the group's main fiber. It
// fails with ErrMain for the main fiber, ErrForeign for a parent of another
// group, ErrDead for an ended parent, ErrCycle if f would become its own
// ancestor, and ErrClosed after the group closed. Never parks.
func (f *Fiber) SetParent(p *Fiber) error {
	g := f.g
	if p == nil {
		p = &g.main
	}
	switch {
	case g.closed:
		return ErrClosed
	case f == &g.main:
		return ErrMain
	case p.g != g:
		return ErrForeign
	case p.state == ended:
		return ErrDead
	}
	for a := p; a != nil; a = a.parent {
		if a == f {
			return ErrCycle
		}
	}
	f.parent = p
	return nil
}

// Switch passes the baton from f, the running fiber, to the fiber to, and
// returns what the next switch back to f delivers: a value, or an error when
// f is thrown into. If to has not started, its function starts with v;
// otherwise its own pending Switch returns v.
//
// Switch fails without switching with ErrSelf, ErrDead (to has ended),
// ErrForeign, ErrNotCurrent (f does not hold the baton), ErrClosed, or
// ErrKilled (f is being killed). May park the calling fiber.
func (f *Fiber) Switch(to *Fiber, v any) (any, error) {
	// Budget: main → fiber → main within 1.3× an iter.Pull next + yield
	// (BenchmarkSwitchMainFiber), with no allocation. This is close to the
	// floor: when the baton comes back, every return between the coroutine
	// switch and the caller is mispredicted (the return stack buffer holds the
	// other goroutine's addresses), and this frame alone costs about 1.2×. So
	// the first hop is made here, not in pass; the checks are check's, spelled
	// out to spare a call; the way back is one comparison. Do not add calls,
	// frames or stores to this path. (begin and end, in hop.go, are this
	// function split in two for the scheduler's park; keep them in step.)
	g := f.g
	if g == nil || to == nil || to.g != g || g.x.to != f || to == f ||
		to.state == ended || f.dying {
		return nil, f.misuse(to)
	}
	if g.trace != nil {
		g.trace(EventSwitch, f, to)
	}
	g.x.to, to.in = to, v // the rest of g.x is zero between switches
	switch to.state {
	case yielded:
		f.state = calling
		to.w.next()
	case calling:
		f.state = yielded
		f.w.yield(struct{}{})
	case unstarted:
		// A new fiber, started from here rather than from pass: two frames
		// fewer for the way back (a task spawned and joined at once,
		// scheduler's BenchmarkSpawnJoin).
		f.state = calling
		g.start(to)
	}
	if g.x.to != f || g.x.kind != kindSwitch {
		return g.onward(f)
	}
	f.state = running
	v = f.in
	f.in = nil
	return v, nil
}

// Throw passes the baton from f, the running fiber, to the fiber to, where
// err is returned by its pending Switch. If to has not started, its function
// never runs: it ends, and err goes to its first suspended ancestor. Throw
// returns what the next switch back to f delivers.
//
// Throw fails without switching as Switch does, and with ErrNilThrow for a
// nil err. May park the calling fiber.
func (f *Fiber) Throw(to *Fiber, err error) (any, error) {
	if e := f.check(to); e != nil {
		return nil, e
	}
	if err == nil {
		return nil, ErrNilThrow
	}
	g := f.g
	if g.trace != nil {
		g.trace(EventThrow, f, to)
	}
	g.x = transfer{to: to, err: err, kind: kindThrow}
	return g.onward(f)
}

// Kill unwinds the fiber to, greenlet's GreenletExit: its pending Switch
// panics with ErrKilled, its deferred calls run, and once it has ended the
// baton comes back to f. Kill returns the error to ended with, if any (a
// deferred call that panicked, say): usually nil. Killing an unstarted fiber
// ends it without running its function; killing an ended fiber does nothing.
//
// Kill fails without switching with ErrMain (to is a main fiber), and as
// Switch does. May park the calling fiber (it does when to is suspended).
func (f *Fiber) Kill(to *Fiber) error {
	if err := f.check(to); err != nil {
		if err == ErrDead {
			return nil
		}
		return err
	}
	g := f.g
	switch {
	case to == &g.main:
		return ErrMain
	case to.state == unstarted:
		g.end(to)
		return nil
	}
	if g.trace != nil {
		g.trace(EventThrow, f, to)
	}
	to.killer = f
	g.x = transfer{to: to, kind: kindKill}
	_, err := g.onward(f)
	return err
}

// check reports why f may not switch to to, or nil if it may: one comparison
// chain (a closed group has no current fiber); the reason is sorted out by
// misuse.
func (f *Fiber) check(to *Fiber) error {
	if g := f.g; g == nil || to == nil || to.g != g || g.x.to != f || to == f ||
		to.state == ended || f.dying {
		return f.misuse(to)
	}
	return nil
}

// misuse is check's slow path: the first rule that the switch breaks.
//
//go:noinline
func (f *Fiber) misuse(to *Fiber) error {
	g := f.g
	switch {
	case g == nil || to == nil || to.g != g:
		return ErrForeign // nil and zero Fibers belong to no group
	case g.closed:
		return ErrClosed
	case g.x.to != f:
		return ErrNotCurrent
	case f.dying:
		return ErrKilled
	case to == f:
		return ErrSelf
	case to.state == ended:
		return ErrDead
	}
	return nil
}

// noCopy lets go vet's copylocks check catch a copied Group.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

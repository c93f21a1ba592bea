// Package fiber provides goroutine-backed fibers that pass one baton between
// them with explicit Switch and Throw: python-fibers' and greenlet's model, in
// Go. It is the primitive under evergo's loop, and useful on its own for
// generators, pipelines and state machines written as straight-line code.
//
//	var g fiber.Group
//	defer g.Close()
//	main := g.Main()
//	gen, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
//		for i := range 3 {
//			self.Switch(self.Parent(), i) // hand i to the parent, wait to be resumed
//		}
//		return "done", nil
//	}, nil)
//	for gen.Alive() {
//		v, _ := main.Switch(gen, nil) // 0, 1, 2, then "done"
//		fmt.Println(v)
//	}
//
// # How a switch works
//
// Each fiber runs its Func on a goroutine of its own, but only while it holds
// its group's baton; every other fiber of the group is parked. from.Switch(to,
// v) parks from and resumes to: if to has not started, its Func starts with v;
// otherwise to's own pending Switch returns v. The baton moves through the
// runtime's coroutine switch (the mechanism behind iter.Pull): the thread is
// handed from one goroutine to the other directly, without the scheduler's run
// queue or a channel, so a round trip costs about what an iter.Pull next and
// yield cost. Throw is a switch that delivers an error instead of a value.
//
// A fiber whose function has returned hands its goroutine back to the group,
// which keeps up to MaxIdle of them parked and runs later fibers on them:
// creating a fiber allocates one small struct, and its goroutine is started
// (or reused) on the first switch into it.
//
// # Why the origin is explicit
//
// Python keeps the running fiber in thread-local state, so greenlet spells a
// switch g.switch(v). Go has no goroutine-local storage, and evergo keeps no
// globals (several groups run on several goroutines at once). So the running
// fiber names itself: Func receives self, and a switch is self.Switch(to, v).
// This lets the rules below be checked: a switch whose origin does not hold
// the baton fails with ErrNotCurrent, one to a fiber of another group with
// ErrForeign, instead of corrupting either group. The origin must be the
// caller's own self (or Main, from the goroutine that entered the group): a
// fiber that names another running fiber as its origin, such as the outer
// fiber that hosts its group, passes the checks and breaks both groups.
//
// # The group and its main fiber
//
// A Group is a set of fibers that share one baton. Its main fiber (Main) is
// the goroutine that switches into the group from outside: it has no function
// of its own, and a fiber that switches to it returns the baton to that
// goroutine. Main is never unstarted or ended. Groups are independent: any
// number run at once on different goroutines, and a fiber of one group may
// enter another group as that group's main fiber.
//
// Close kills every suspended fiber, oldest first, lets the goroutines of
// finished fibers exit, and fails every later operation with ErrClosed. A
// group that is not closed keeps its suspended and idle goroutines parked:
// always defer g.Close().
//
// # The parent chain
//
// Every fiber but main has a parent, main by default (New, SetParent). When a
// fiber's function ends, its result goes to its first suspended ancestor:
// the parent, or if the parent has ended or not started, the parent's parent,
// and so on up to main. That ancestor's pending Switch returns the value, or
// the error. A cyclic chain, an ended parent and a parent from another group
// are refused.
//
// A killed fiber's end goes back to its killer instead (greenlet sends it to
// the parent). That way Kill returns exactly when the fiber has ended, with
// the error its unwinding produced, and Close can kill fibers one after
// another without the baton wandering off to their parents in between.
//
// # Errors and panics
//
// Misuse is reported with an error and nothing moves: switching to oneself
// (ErrSelf), to or into an ended fiber (ErrDead), to a fiber of another group
// (ErrForeign), from a fiber that does not hold the baton (ErrNotCurrent), in a
// closed group (ErrClosed). Throwing into an unstarted fiber ends it without
// running its function; the error goes to its first suspended ancestor.
//
// A panic in a fiber's function does not cross goroutines: the fiber ends and
// its ancestor receives a *PanicError with the panic value and the stack.
// Kill unwinds a suspended fiber by panicking with ErrKilled at its suspension
// point (greenlet's GreenletExit), so its deferred calls run; a fiber that
// recovers from the kill cannot switch any more. runtime.Goexit in a fiber
// (t.FailNow in a test) ends that fiber and, as with iter.Pull, continues in
// the goroutines that resumed it down to the main fiber's. While it does,
// nobody holds the baton and every switch fails with ErrNotCurrent; once it
// reaches main's goroutine, a deferred Close still kills what is left and
// reports any panic recovered on the way.
//
// # Calling context
//
// Nothing in this package is goroutine-safe. A group and its fibers are used
// by the code that holds the group's baton: the running fiber, or main's
// goroutine while no fiber runs. A group may be handed from one goroutine to
// another while main holds the baton, with the usual synchronization, but not
// to or from a goroutine locked to its thread (runtime.LockOSThread): the
// coroutine switch underneath refuses thread-lock changes and the process
// dies.
//
// Switch, Throw, Kill and Close are switch points: they may park the calling
// fiber while others run. Every other function and method never parks. The
// trace hook (SetTrace) runs on the goroutine of the fiber that gives up the
// baton, before it moves, and must not switch.
package fiber

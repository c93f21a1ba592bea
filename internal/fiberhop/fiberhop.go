// Package fiberhop is fiber.Fiber.Switch split in two, for package
// scheduler: Begin does what Switch does before the coroutine switch and
// returns the function that makes it (the target's next, or the origin's
// yield: see package fiber's resume chain); the caller calls it in its own
// frame, then End does what Switch does once the baton is back.
//
// The point is one frame fewer under the switch. When the baton comes back
// to a fiber, every return between the coroutine switch and the code that
// asked for it is mispredicted (the return stack buffer holds the other
// goroutine's addresses), about 6 ns each on the machines evergo is
// measured on; a task that parks in a queue returns through Switch, the
// scheduler's park and the queue's Get. The scheduler's park calls the
// switch itself and saves one of them.
//
// Package fiber sets Begin and End when it is initialized; its parameters
// are typed any (a *fiber.Fiber each) because fiber imports this package.
// The protocol is Switch's: Begin, then exactly one call of the function it
// returned (none if it returned none), then End, with nothing in between
// that touches the group. When Begin fails, nothing was switched: End is
// not called.
package fiberhop

// Begin starts a switch of the baton from f, the running fiber, to to with
// v, as Switch does, up to the coroutine switch. It returns the function
// that makes the switch: next (the target's, which f then resumes) or yield
// (f's own, handing the baton down the chain); both nil when the switch
// takes the slow path, all of which End then does. It fails as Switch does,
// having switched nothing.
var Begin func(f, to any, v any) (next func() (struct{}, bool), yield func(struct{}) bool, err error)

// End finishes the switch that Begin started, once the function Begin
// returned has been called: it returns what Switch returns.
var End func(f any) (any, error)

// Package scheduler is evergo's loop: it runs tasks (functions on fibers of
// package fiber) and callbacks one at a time on one goroutine, and between
// them waits for timers, file descriptors and posts from other goroutines.
// It is Evergreen's EventLoop and Task, rebuilt for Go.
//
//	err := scheduler.Run(ctx, func(ctx context.Context) error {
//		t, err := scheduler.Spawn(ctx, "worker", work)
//		if err != nil {
//			return err
//		}
//		return t.Join(ctx)
//	})
//
// Tasks are Thread-like: Go or Spawn (or NewTask and Start) starts one, Join
// waits for its end, Kill ends it, and its error is its result. Values travel
// through closures, queues and futures. Run returns once its main task and
// every task started on the loop have ended and every post announced by
// Loop.Expect has arrived (work handed to other goroutines is back);
// RunForever runs until Stop. Loop.AtEnd registers what must be released
// when the loop ends, however it ends.
// Several loops may run at once in one process, each on its own goroutine;
// they share nothing.
//
// # Switch points
//
// A task keeps the loop until it reaches a switch point: a call that may
// park it. Between two switch points nothing else on the loop runs, so the
// tasks of a loop share memory without locks. Every function here says
// "May park the calling task." or "Never parks.", and the set is fixed: a
// function that may park counts as a switch point even when it returns at
// once. The switch points of this package are Sleep (Sleep(ctx, 0) is a
// yield: the task goes to the back of the run queue), Park, ParkWith,
// Task.Join, Task.Kill (the killed task's deferred calls run before it
// returns), FD.Wait, Group.Go, Group.Wait, Inbox.Receive, Inbox.Send (in a
// task) and Recv. Go, Spawn, Start, CallSoon, CallLater, CallAt, Post,
// Wake, WakeWith, Group.TryGo, Inbox.TrySend, Inbox.TryReceive and the
// accessors never park.
//
// # Calling context
//
// Nothing here is goroutine-safe except where stated. A loop, its tasks, its
// handles and its fds belong to the goroutine running the loop: call their
// methods from a task or a callback of that loop. Exactly one way in from
// other goroutines: Loop.Post (with Loop.Expect for a post the loop should
// wait for), which is safe to call from any goroutine; so are Loop.Stop and a
// task context's Done, Err and Value.
//
// Values from other goroutines (a library that delivers on goroutines or
// channels: nats.go, fsnotify, ssh) reach tasks through an Inbox, which any
// goroutine fills (Send blocks a goroutine at the bound, and parks a task)
// and the loop's tasks drain with Receive, or through Recv, which parks a
// task on a Go channel: one watcher goroutine per loop receives for every
// task waiting on a channel. A task parked in either keeps Run from
// reporting a deadlock until it leaves, or until the inbox or channel is
// closed. The way back needs no bridge: a task's Context().Done() is closed
// when it ends or is killed (on a kill, before its deferred calls run); its
// result and the loop's other objects are read on the loop, through a Post
// whose function writes to a Go channel that the goroutine reads. A task
// writes out only to channels that cannot block it (buffered with room, or
// a select with a default case), and a futures.Future is waited on from a
// goroutine through an AddDoneCallback that does the same.
//
// The ctx handed to a task carries the task and its loop; every call that
// may park finds them there, and returns ErrNoTask when ctx carries no task
// (a plain context, or a callback's: callbacks run on the loop but are not
// tasks, and may not park). A task's context carries the values of the
// context it was started from, not its cancellation: a task lives on when
// the task that started it is killed. It is cancelled when the task ends or
// is killed. Cancelling Run's context stops the loop. A ctx deadline given
// to a parking call is its timeout.
//
// Contexts derived with package context (WithCancel, WithTimeout) are not
// the loop's: their cancellation and their deadline reach a parked task
// through a goroutine and a post once the context itself is done, on time
// but not in a reproducible order. A parking call therefore returns a
// context's error only when that context reports it: ctx.Err() is set and
// context.Cause(ctx) gives the cause. Their deadlines are wall-clock times,
// kept by package context's own timers: under WithVirtualClock a park on
// such a context lasts that long in wall time, however far the virtual
// clock jumps meanwhile. A task parked on such a context keeps Run from
// reporting a deadlock. For deterministic programs, and under
// WithVirtualClock, time things with Sleep, timers, FD deadlines and this
// package's WithTimeout and WithDeadline, whose deadlines are the loop's
// time and expire in the loop's timer step, and end waits by Kill.
//
// Callbacks registered by CallSoon, CallLater, CallAt, Post and
// AddSignalHandler run on the loop's own goroutine, not in a task. If
// registering a callback returns an error, the callback will never be
// called.
//
// # Task groups
//
// Group is errgroup's shape on the loop: Go starts a member task, SetLimit
// bounds how many run at once (Go parks its caller at the limit, first come
// first served; TryGo never parks), and Wait returns the first failure, a
// member's error or its panic as a *PanicError. The first failure kills the
// other members at once, and so do Wait's ctx ending and a kill of the task
// in Wait (through its ParkHook, which is how nested groups go down
// together): no member outlives the Wait that waits for it. Where errgroup
// cancels a context, a Group kills, and a member need not poll anything to
// stop.
//
// # Errors and panics
//
// Sentinel errors are for branching: ErrNoTask, ErrKilled, ErrDeadlock,
// ErrStopped, ErrClosed and the rest; a context's error is returned
// unchanged. A task's panic is recovered with its stack as a *PanicError,
// which Join returns; the loop and the other tasks go on. A callback's panic
// ends the loop, and Run returns it (nobody else waits for a callback).
//
// Kill is greenlet's GreenletExit: the killed task's suspension point panics
// with ErrKilled, its deferred calls run (a parking call made by them
// returns ErrKilled at once), and Join returns ErrKilled. A task parked by
// ParkWith has its ParkHook told first, in the call of Kill. When a loop ends
// early (Stop, a cancelled Run context, a deadlock, a panicking callback), it
// kills the tasks still alive, oldest first: when Run returns, every
// goroutine the loop started has exited.
//
// When every task waits on something that nothing left in the loop can
// deliver (no task or callback is ready, no timer is pending, no task waits
// on an fd and no fd has an OnHangUp function, no post is expected and no
// signal handler is registered), Run
// returns a *DeadlockError that names each task and what it waits on, as
// gevent's "this operation would block forever" does, with the culprits
// named. A post that nobody announced with Expect does not count: a loop
// that waits for one should be told.
// Each task in the report comes with the file:line of its parking call
// (Blocked.Where).
//
// # Diagnostics
//
// Loop.Dump writes every live task of the loop with its state, what it
// waits on and where: the function and file:line of the call it is
// suspended in, read from the goroutines' stacks when Dump is called (no
// switch pays for it). WithBlockWatch watches for the mistake a
// cooperative loop cannot survive: a task that blocks its goroutine (a
// file read, net.Dial, time.Sleep, a sync.Mutex) instead of parking, so
// that every other task waits. Its watchdog goroutine reports such a task,
// with its stack, while it still blocks; the loop pays an atomic load per
// switch for it.
//
// # Determinism
//
// The loop alone decides what runs next, so the order is reproducible. By
// default it is FIFO: tasks and callbacks run in the order they became
// ready, timers due at the same time in the order they were set. With
// WithSeed(n) the loop picks among the ready ones pseudo-randomly from n:
// the same program with the same seed runs in the same order every time, at
// any GOMAXPROCS, and running a test under many seeds explores many
// interleavings (package schedtest does that and prints the one command that
// replays a failure). Nothing in the scheduling path reads map order or,
// under WithVirtualClock, the wall clock. WithVirtualClock makes time stand
// still while anything can run and jump to the next timer when nothing can,
// so an hour of sleeps takes no wall time. WithTrace records the ids of the
// tasks the loop resumes, in order, for comparing schedules.
//
// Posts and fd readiness come from outside and arrive when they arrive:
// a program that uses them is deterministic only up to their timing.
//
// # One loop iteration
//
//  1. Stop if Stop was called, Run's context was cancelled or a callback
//     panicked; in Run, also once no task is left and no expected post is
//     still to come.
//  2. Run the timers that are due: each callback becomes ready, each task
//     sleeping or waiting with a deadline becomes runnable, earliest first.
//  3. Take in the posts that arrived: each becomes a ready callback.
//  4. Run the tasks and callbacks that were ready when this step began, each
//     until its next switch point, in FIFO order (or by seed). What becomes
//     ready meanwhile waits for the next iteration, so that timers, fds and
//     posts get their turn; when there are none (no timer, no registered fd,
//     no post), the step goes on with it instead.
//  5. Wait in the poller: not at all if something is ready; until the next
//     timer if there is one (or, on a virtual clock with nothing else to
//     wait for, jump to it); forever otherwise, woken by an fd or a post.
//     The loop never wakes on a fixed tick. When nothing at all can happen
//     any more, Run reports the deadlock.
//  6. Make the tasks whose fds became ready runnable, and take in the posts
//     that woke the loop: they run in the next iteration, ahead of the
//     timers that come due by then.
package scheduler

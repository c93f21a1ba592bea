// Package locks has the synchronization primitives of Python's threading
// module, Evergreen and gevent, for the tasks of a loop: Lock, RLock,
// Semaphore, BoundedSemaphore, Condition, Event, Barrier, and RWLock.
//
// Tasks of one loop never run at the same time, so these primitives need no
// atomics: an uncontended Lock and Unlock costs less than sync.Mutex's. They
// are for the stretches where a task parks while it holds something (a
// connection, a slot, a half-updated structure) and the others must wait.
//
// # Calling context
//
// Not goroutine-safe: a primitive belongs to one loop, the loop of the first
// task that passes it a ctx, and refuses tasks of another loop with
// scheduler.ErrWrongLoop (or a panic, for calls that return no error). Calls
// that take no ctx (Semaphore.Release, Event.Set, RWLock.RUnlock...) cannot
// tell, and must be made on the primitive's loop: from one of its tasks or
// callbacks, or through Loop.Post.
//
// Each call's doc says whether it may park. A call that may park takes ctx
// first: ctx carries the calling task (the context the task was given, or
// one derived from it), its deadline is the call's timeout and its
// cancellation ends the wait; the call then returns ctx's error and has
// taken nothing. Without a task in ctx it fails with scheduler.ErrNoTask,
// and in a dying task's deferred calls with scheduler.ErrKilled. A call that
// may park and can be granted at once is granted at once, even when ctx is
// done. Taking a lock or a permit has a Try twin that never parks (TryLock,
// TryRLock, TryAcquire); Event.IsSet is Event.Wait's. Condition.Wait and
// Barrier.Wait have none: waiting is what they are for.
//
// # Fairness
//
// Tasks that wait are served in the order they came (FIFO). What a waiter
// waits for is handed to it directly: Unlock makes the first waiter the
// holder, Release gives the first waiter the permit, and so on, before that
// task even runs. A task that comes later cannot overtake it.
//
// # Ownership
//
// A Lock, an RLock and the write side of an RWLock are held by a task: only
// that task may unlock them. An RLock may be locked again by its holder and
// must be unlocked as many times. Semaphore permits, Event flags and RWLock
// read locks are not owned: any task or callback may release or set them.
//
// # Deadlines and kills
//
// A waiter that leaves early never takes a wake-up meant for another. One
// whose ctx is done (a deadline, a cancellation) is passed over by whoever
// hands out next. One that is killed after it was handed something (a lock,
// a permit, a notification) but before it ran hands it on to the next
// waiter when it is killed (a notification only to a task that was waiting
// when it was made). Stray wake-ups do not happen: a scheduler.Task.Wake of
// a task waiting here does nothing. A task killed in Condition.Wait unwinds
// without the Condition's lock, and its deferred Unlocks of it do nothing; a
// task killed at a Barrier breaks the Barrier for the others, as a timeout
// does.
//
// # Misuse
//
// Programming errors panic with a message that starts "locks: ": unlocking
// a lock that is not locked or that another task holds ("locks: Unlock of
// unlocked Lock"), locking a Lock or an RWLock that the task holds already
// (for writing), releasing a BoundedSemaphore more times than it was
// acquired, waiting on or notifying a Condition without holding its lock,
// waiting on a Barrier not made by NewBarrier, and a Try call whose ctx
// carries no task. Constructors given a count they cannot work with return
// an error wrapping ErrInvalid.
package locks

// Package futures carries results between the tasks of a loop, and out to
// goroutines and back: Future, Wait and AsCompleted, and two executors,
// TaskPool (functions as tasks on the loop) and ThreadPool (blocking
// functions on a pool of goroutines). It is Python's concurrent.futures and
// Evergreen's futures, for evergo's loop.
//
//	pool, _ := futures.NewThreadPool(8)
//	defer pool.Shutdown(ctx, true)
//	f, err := futures.Submit(ctx, pool, func(context.Context) ([]byte, error) {
//		return os.ReadFile(name) // blocks a pool goroutine, not the loop
//	})
//	...
//	data, err := f.Get(ctx) // parks this task; the loop runs the others
//
// Tasks are Thread-like and carry no result; a Future does. An executor's
// Submit returns one, and so may any code that completes it with SetResult
// or SetError. Map fans a function out over a slice and gathers the
// results in order: its workers pull the items one after another, so an
// item costs a function call, not a future and a task.
//
// MapSeq and MapSeqUnordered are Map for a stream (gevent's imap and
// imap_unordered with a maxsize): items come from an iter.Seq, ranged in
// the consuming task, at most n ahead of the results it has been given,
// and the results come back as an iter.Seq2 in the order of the items or
// as the calls end. Memory is bounded by n, not by the input, so an
// endless input works; each item's error is yielded and the stream goes on
// until the consumer breaks or ctx ends. Like Map's, their workers hold
// the executor's slots while the stream runs.
//
// # Calling context
//
// Not goroutine-safe: a Future, a TaskPool and a ThreadPool belong to one
// loop, the loop of the first task that passes them a ctx, and refuse
// tasks of another loop with scheduler.ErrWrongLoop. Calls that take no ctx
// (SetResult, Cancel, AddDoneCallback...) cannot tell, and must be made on
// the loop: from its tasks and callbacks. Another goroutine completes a
// future through scheduler.Loop.Post, as ThreadPool does; a function
// running on a ThreadPool may Post too.
//
// Each call's doc says whether it may park. Get, Wait, the AsCompleted
// iterator, Submit, Map and Shutdown(ctx, true) may park the task that ctx
// carries: ctx's deadline is their timeout and its cancellation ends the
// wait, without a task they fail with scheduler.ErrNoTask, and in a dying
// task's deferred calls with scheduler.ErrKilled. Everything else never
// parks.
//
// # Happens-before
//
// SetResult, SetError and Cancel happen before the Get calls (and Wait,
// AsCompleted and Map returns) that they complete: what was written before
// a future was completed, the task that sees it completed sees too. On one
// loop this is the baton; from a ThreadPool function it is the post that
// brings the result back, so everything the function wrote is visible to
// the task that Get returns to.
//
// # Cancellation
//
// Cancel succeeds only before the work behind a future has started: the
// function then never runs, and Get returns ErrCancelled. Once a function
// runs, Cancel reports false and the function runs to its end (a Go
// function cannot be stopped from outside; a ThreadPool function may watch
// its context, which is cancelled when the loop ends). A Get that times out
// leaves the future as it was.
//
// # Errors and panics
//
// A function's error is what Get returns. A panic in a function is
// recovered where it happened and returned by Get as a *PanicError with the
// panic's value and stack; the loop goes on. Sentinels: ErrCancelled,
// ErrNotDone (TryGet), ErrShutdown (Submit after Shutdown) and ErrInvalid
// (a constructor's bad size); a Wait or AsCompleted whose ctx ends returns
// an *UnfinishedError that says how many futures were left and unwraps to
// ctx's error. Misuse that is a programming error panics with a message
// that starts "futures: ": SetError(nil), a nil callback, SetRunning of a
// future that runs already, a nil future in Wait.
//
// # Executors
//
// Both executors admit up to n functions at a time. Submit on a full
// executor parks the calling task until a function ends, in FIFO order,
// so that a fan-out cannot flood memory (gevent's Pool does the same). A
// function that submits to its own full executor therefore waits forever,
// and Run reports the deadlock. Shutdown stops an executor taking work:
// with wait, it returns once the work submitted has ended and the executor
// has released what it holds.
//
// TaskPool starts a task per function submitted (or per Map worker),
// lazily, and the task ends with it: an idle TaskPool holds nothing.
// ThreadPool makes its goroutines with github.com/panjf2000/ants/v2 at its
// first Submit; it holds the loop open while functions are out (Run does
// not return, and reports no deadlock, until their results are back),
// releases the goroutines when it is shut down and idle, and when the loop
// ends however it ends. When Run returns, every function has returned and
// ants has let its goroutines go; their last deferred calls may still be
// running for a moment (goleak's retries allow for that).
//
// Importing ants starts ants' own default pool (two goroutines,
// panjf2000/ants#373), which this package never uses. A program that checks
// for goroutine leaks, as go.uber.org/goleak does, can release it first
// with ants.Release or ants.ReleaseTimeout.
package futures

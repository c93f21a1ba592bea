package futures

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sync"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// MapSeq runs fn on each item of items on e, at most n items ahead of the
// consumer, and yields the results in the order of items: gevent's
// Pool.imap(maxsize=n), for a stream. It is Map for input that need not
// fit in memory, or never ends: n bounds the items taken from items and
// not yet yielded (a result done but waiting for an earlier one counts), so
// the stream holds at most n items and results whatever the input's
// length, and at most min(n, e's size) calls run at once. e is a parameter,
// as in Map, so that blocking functions can run on a ThreadPool.
//
// The iteration runs in the task that ctx carries, the consumer: the body
// of `for r, err := range MapSeq(ctx, ...)` runs there and may park, and so
// does items' own iteration, which MapSeq ranges in that task (no iter.Pull:
// items may park on the consumer's ctx, and only the consumer may). When n
// items are out, the consumer parks until the next result can be yielded.
// A result that comes while items waits for its next item is yielded once
// items yields that item or ends: a source that waits long between items
// delays the results by as much.
//
// Each item yields its result and fn's error for it, as Map returns them
// (an item needed beside its result travels in R): a panic in fn as a
// *PanicError, a kill of a TaskPool worker's task as scheduler.ErrKilled.
// The stream goes on after an error: the consumer decides, by breaking out
// of the loop, whether it ends the stream (Map cannot go on; a stream that
// may never end should not end for one bad item). Stopping early (a break,
// a panic or a kill of the consumer) takes no more items; idle workers
// leave at once, the calls running then end on their own (a ThreadPool's
// cannot be stopped; TaskPool's are not killed either, as in Map) and their
// results are dropped. If ctx ends, MapSeq yields the zero R and ctx's
// error once, before any result still unyielded, and stops likewise. It
// yields the zero R and an error once, and stops, for what Map fails with
// (scheduler.ErrNoTask, ErrShutdown, scheduler.ErrWrongLoop...), for a nil
// items or fn (scheduler.ErrNilFunc), and for an n below 1 (an error
// wrapping ErrInvalid). An empty input touches no executor.
//
// The items run as in Map: workers started in slots of e, each running fn
// on one item after another, with no future, task or goroutine per item,
// and no allocation per item on a TaskPool. The first worker is started as
// Submit would (parking while e is full), others in the slots free when
// items are waiting. TaskPool workers with nothing to do park and keep
// their slots until the stream ends, so other Submits wait for them as
// they wait for Map's; ThreadPool workers leave instead, and are started
// again when items come (a goroutine waiting for work would hold the loop
// open: a ThreadPool's work keeps Run from returning, the virtual clock
// from jumping and a deadlock from being reported). With n equal to e's
// size, each worker waits for the consumer after each item; an n of twice
// that keeps them fed. Each range over the sequence is a run of its own,
// from the start of items. MapSeq never parks; the sequence it returns may
// park the consumer.
func MapSeq[T, R any](ctx context.Context, e Executor, n int, items iter.Seq[T], fn func(ctx context.Context, item T) (R, error)) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(ctx, e, n, items, fn, true, yield) }
}

// MapSeqUnordered is MapSeq yielding the results in the order the calls
// end, not in the order of items: gevent's Pool.imap_unordered(maxsize=n).
// A slow item then holds back no other result, and n bounds the items
// running or done and not yet yielded. The consumer tells the results
// apart by what fn returns (the item itself, or its key, in R). Never
// parks; the sequence it returns may park the consumer.
func MapSeqUnordered[T, R any](ctx context.Context, e Executor, n int, items iter.Seq[T], fn func(ctx context.Context, item T) (R, error)) iter.Seq2[R, error] {
	return func(yield func(R, error) bool) { runStream(ctx, e, n, items, fn, false, yield) }
}

func runStream[T, R any](ctx context.Context, e Executor, n int, items iter.Seq[T], fn func(ctx context.Context, item T) (R, error), ordered bool, yield func(R, error) bool) {
	var zero R
	t := scheduler.Current(ctx)
	var home waitq.Home
	err := home.Check(t) // a task, and the one running
	switch {
	case err != nil:
	case items == nil || fn == nil:
		err = scheduler.ErrNilFunc
	case n < 1:
		err = fmt.Errorf("futures: MapSeq of %d at a time: %w: n must be at least 1", n, ErrInvalid)
	default:
		err = ctx.Err()
	}
	if err != nil {
		yield(zero, err)
		return
	}
	s := &stream[T, R]{e: e, fn: fn, n: n, ordered: ordered, ctx: ctx, task: t, loop: t.Loop()}
	s.drain = s.drainPosted
	defer s.stop()
	for item := range items {
		if !s.take(item, yield) {
			return
		}
	}
	for s.used > 0 {
		if err := s.await(); err != nil {
			yield(zero, err)
			return
		}
		if !s.flush(yield) {
			return
		}
	}
}

// A stream is one range over a MapSeq: the cells holding the items taken
// and not yet yielded, and the workers running them. The consumer's fields
// are on the loop; the queue between the consumer and the workers is shared
// with a ThreadPool's goroutines, under mu (a TaskPool's workers, on the
// loop, take mu too: it is never held across a park).
type stream[T, R any] struct {
	e       Executor
	fn      func(ctx context.Context, item T) (R, error)
	n       int
	ordered bool
	ctx     context.Context // the consumer's
	task    *scheduler.Task // the consumer
	loop    *scheduler.Loop
	drain   func(context.Context) // drainPosted, made once

	// On the loop.
	hook    scheduler.ParkHook    // the consumer parks with it for a result
	free    []*cell[T, R]         // cells to reuse; at most n are ever made
	out     ring[*cell[T, R]]     // ordered: cells in the order of their items; else done cells, in the order they completed
	used    int                   // cells taken and not yet yielded, ≤ n
	workers int                   // workers started whose exited has not run, ≤ n
	started bool                  // the first worker took its slot with e.slot
	idle    []*streamWorker[T, R] // TaskPool workers parked with nothing to do; the last to park is woken first

	// Under mu.
	mu       sync.Mutex
	queue    ring[*cell[T, R]] // cells waiting for a worker, in the order of their items
	looking  int               // workers that will still take cells from queue
	stopped  bool              // the consumer has gone: take nothing more
	posted   ring[*cell[T, R]] // cells a ThreadPool worker ran, for drainPosted
	draining bool              // drainPosted is posted and has not run yet
}

// A cell holds an item and its result. The consumer writes item and reads
// value and err once done; the worker that took it from the queue reads
// item and writes value and err, and hands it back by complete (on the
// loop) or the post of drainPosted (from a ThreadPool).
type cell[T, R any] struct {
	item  T
	value R
	err   error
	done  bool // on the loop
}

// take puts item in a cell for a worker, yields the results ready, and
// parks the consumer while n cells are taken, so that a cell is free for
// the next item. It reports false once the stream stops.
func (s *stream[T, R]) take(item T, yield func(R, error) bool) bool {
	// Budget: BenchmarkTaskPoolMapSeqYielding beside
	// BenchmarkTaskPoolMapYielding (Map of the same items). A cell reused,
	// an uncontended lock and a worker's wake-up per item; no allocation.
	var zero R
	if err := s.ctx.Err(); err != nil {
		yield(zero, err)
		return false
	}
	var c *cell[T, R]
	if k := len(s.free); k > 0 {
		c, s.free = s.free[k-1], s.free[:k-1]
	} else {
		c = new(cell[T, R])
	}
	c.item = item
	s.used++
	if s.ordered {
		s.out.push(c)
	}
	s.mu.Lock()
	s.queue.push(c)
	s.mu.Unlock()
	if k := len(s.idle); k > 0 {
		w := s.idle[k-1]
		s.idle = s.idle[:k-1]
		w.task.WakeWith(&w.hook)
	} else if err := s.hire(); err != nil {
		yield(zero, err)
		return false
	}
	if !s.flush(yield) {
		return false
	}
	for s.used == s.n {
		if err := s.await(); err != nil {
			yield(zero, err)
			return false
		}
		if !s.flush(yield) {
			return false
		}
	}
	return true
}

// ready reports whether a result can be yielded.
func (s *stream[T, R]) ready() bool {
	return s.out.n > 0 && (!s.ordered || s.out.front().done)
}

// flush yields the results ready, freeing their cells, and reports false
// once the stream stops: the consumer broke, or ctx has ended.
func (s *stream[T, R]) flush(yield func(R, error) bool) bool {
	for s.ready() {
		if err := s.ctx.Err(); err != nil {
			var zero R
			yield(zero, err)
			return false
		}
		c := s.out.pop()
		v, err := c.value, c.err
		*c = cell[T, R]{} // no reference kept to what was yielded
		s.free = append(s.free, c)
		s.used--
		if !yield(v, err) {
			return false
		}
	}
	return true
}

// await parks the consumer until a result is ready, making sure first that
// a worker is there for the cells queued. It returns ctx's error or the
// executor's.
func (s *stream[T, R]) await() error {
	for !s.ready() {
		if err := s.ctx.Err(); err != nil {
			return err
		}
		if err := s.hire(); err != nil {
			return err
		}
		if s.ready() { // hire parked meanwhile
			break
		}
		if err := scheduler.ParkWith(s.ctx, "futures.MapSeq", &s.hook); err != nil {
			return err
		}
	}
	return nil
}

// hire starts workers for the cells queued, up to n: the first in a slot
// of e taken as Submit takes one (parking while e is full), others in the
// slots free now. It parks for a slot again only when no worker will come
// for the queue (ThreadPool workers leave when it is empty).
func (s *stream[T, R]) hire() error {
	s.mu.Lock()
	queued, looking := s.queue.n, s.looking
	s.mu.Unlock()
	for i := 0; i < queued && s.workers < s.n; i++ {
		if !s.started || !s.e.trySlot() {
			if i > 0 || looking > 0 {
				return nil
			}
			if err := s.e.slot(s.ctx, s.task); err != nil {
				return err
			}
			s.started = true // no worker came for the queue meanwhile: only hire starts them
		}
		s.mu.Lock()
		s.looking++
		s.mu.Unlock()
		if err := s.e.spread(s.ctx, &streamWorker[T, R]{s: s}); err != nil { // it frees the slot
			s.mu.Lock()
			s.looking--
			s.mu.Unlock()
			return err
		}
		s.workers++
	}
	return nil
}

// complete hands a cell that a worker ran back to the consumer, on the
// loop, and wakes the consumer if it waits for that result.
func (s *stream[T, R]) complete(c *cell[T, R]) {
	c.done = true
	if !s.ordered {
		s.out.push(c)
	} else if s.out.front() != c {
		return
	}
	s.task.WakeWith(&s.hook)
}

// drainPosted completes, on the loop, the cells ThreadPool workers ran: one
// post for all the cells that end before the loop takes it in.
func (s *stream[T, R]) drainPosted(context.Context) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.posted.n > 0 {
		s.complete(s.posted.pop())
	}
	s.draining = false
}

// stop ends the stream for its workers: idle ones leave now, running ones
// after their call.
func (s *stream[T, R]) stop() {
	s.mu.Lock()
	s.stopped = true
	s.mu.Unlock()
	for _, w := range s.idle {
		w.task.WakeWith(&w.hook)
	}
	s.idle = nil
}

// A streamWorker runs queued cells in a slot of the executor, one after
// another, until the stream stops (or, on a ThreadPool, the queue is
// empty).
type streamWorker[T, R any] struct {
	s      *stream[T, R]
	c      *cell[T, R] // the cell it runs
	inTask bool
	gone   bool // it has stopped looking (counted off s.looking)

	// A TaskPool worker's, on the loop.
	task *scheduler.Task
	hook scheduler.ParkHook // it parks with it in s.idle
}

func (w *streamWorker[T, R]) work(ctx context.Context, inTask bool) {
	s := w.s
	w.inTask = inTask
	if inTask {
		w.task = scheduler.Current(ctx)
		w.hook.OnKill = w
	}
	for {
		s.mu.Lock()
		if !s.stopped && s.queue.n > 0 {
			w.c = s.queue.pop()
			s.mu.Unlock()
			v, err := protect(inTask, func() (R, error) { return s.fn(ctx, w.c.item) }, w.aborted)
			w.ran(v, err)
			continue
		}
		if s.stopped || !inTask {
			w.leave()
			return
		}
		s.mu.Unlock()
		// A waitq.Queue would do, but keeps few spare waiters: a stream's
		// n idle workers would allocate one a park.
		s.idle = append(s.idle, w)
		if err := scheduler.ParkWith(ctx, "futures.MapSeq (idle worker)", &w.hook); err != nil {
			w.Killed() // not parked: take it out
			s.mu.Lock()
			w.leave()
			return
		}
	}
}

// Killed is told by a kill of the worker's task while it is idle: it
// leaves s.idle (exited counts it off). Never parks.
func (w *streamWorker[T, R]) Killed() {
	s := w.s
	if i := slices.Index(s.idle, w); i >= 0 {
		s.idle = slices.Delete(s.idle, i, i+1)
	}
}

// leave counts the worker off s.looking; mu is held, and released.
func (w *streamWorker[T, R]) leave() {
	w.s.looking--
	w.gone = true
	w.s.mu.Unlock()
}

// ran hands the cell run back: on the loop at once, from a ThreadPool
// through a post (one for the cells that end until the loop takes it in).
func (w *streamWorker[T, R]) ran(v R, err error) {
	s, c := w.s, w.c
	w.c = nil
	c.value, c.err = v, err
	if w.inTask {
		s.complete(c)
		return
	}
	s.mu.Lock()
	s.posted.push(c)
	post := !s.draining
	s.draining = true
	s.mu.Unlock()
	if post {
		// Post fails only once the loop has ended, and with it the
		// consumer: nobody is left for the result.
		if err := s.loop.Post(s.drain); err != nil {
			return
		}
	}
}

// aborted is told by protect that the call could not end normally: its
// task is being killed, or it called runtime.Goexit. Its cell gets that
// error, and a ThreadPool worker, whose goroutine ends, stops looking.
func (w *streamWorker[T, R]) aborted(err error) {
	var zero R
	w.ran(zero, err)
	if !w.inTask {
		w.s.mu.Lock()
		w.leave()
	}
}

// exited is told on the loop that the worker has ended.
func (w *streamWorker[T, R]) exited() {
	s := w.s
	if !w.gone { // killed in its task
		s.mu.Lock()
		w.leave()
	}
	s.workers--
	s.task.WakeWith(&s.hook) // hire may be wanted
}

// A ring is a FIFO that grows by doubling: a stream's never hold more than
// n cells.
type ring[E any] struct {
	buf     []E
	head, n int
}

func (r *ring[E]) push(v E) {
	if r.n == len(r.buf) {
		buf := make([]E, max(4, 2*len(r.buf)))
		for i := range r.n {
			buf[i] = r.buf[(r.head+i)%len(r.buf)]
		}
		r.buf, r.head = buf, 0
	}
	r.buf[(r.head+r.n)%len(r.buf)] = v
	r.n++
}

func (r *ring[E]) front() E { return r.buf[r.head] }

func (r *ring[E]) pop() E {
	v := r.buf[r.head]
	var zero E
	r.buf[r.head] = zero
	r.head = (r.head + 1) % len(r.buf)
	r.n--
	return v
}

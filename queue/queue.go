package queue

import (
	"cmp"
	"context"
	"slices"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Queue is a FIFO queue: Get returns the oldest item. Make one with New.
// A Queue must not be copied after first use. Its methods are those of the
// queues of this package; see the package doc.
type Queue[T any] struct{ core[T] }

// A LifoQueue is a LIFO queue, a stack: Get returns the newest item. Make
// one with NewLifo. A LifoQueue must not be copied after first use.
type LifoQueue[T any] struct{ core[T] }

// A PriorityQueue returns its least item first, by its less function or by
// the natural order of its elements; items that are equal come out in no
// set order. Make one with NewPriority or NewPriorityFunc. A PriorityQueue
// must not be copied after first use.
type PriorityQueue[T any] struct{ core[T] }

// New returns a FIFO queue that holds up to maxsize items; 0 or less means
// no bound. Never parks.
func New[T any](maxsize int) *Queue[T] {
	q := new(Queue[T])
	q.make(fifo, maxsize, nil)
	return q
}

// NewLifo returns a LIFO queue that holds up to maxsize items; 0 or less
// means no bound. Never parks.
func NewLifo[T any](maxsize int) *LifoQueue[T] {
	q := new(LifoQueue[T])
	q.make(lifo, maxsize, nil)
	return q
}

// NewPriority returns a priority queue that holds up to maxsize items (0 or
// less means no bound) and gives back the least first, in the order of <.
// Never parks.
func NewPriority[T cmp.Ordered](maxsize int) *PriorityQueue[T] {
	return NewPriorityFunc(maxsize, cmp.Less[T])
}

// NewPriorityFunc returns a priority queue that holds up to maxsize items
// (0 or less means no bound) and gives back first the item that less puts
// before all others. less must be a strict weak order. A nil less makes
// Put, TryPut and Get panic with "queue: Put on a PriorityQueue made with a
// nil less function". Never parks.
func NewPriorityFunc[T any](maxsize int, less func(a, b T) bool) *PriorityQueue[T] {
	q := new(PriorityQueue[T])
	q.make(priority, maxsize, less)
	return q
}

// core is what the three queues share: everything but their order.
//
// Invariants, between calls: a task waits in getters only while buf is
// empty, and in putters only while buf holds maxsize items. So Put hands
// its item straight to a waiting getter, and Get lets the first waiting
// putter's item in as it takes one out.
type core[T any] struct {
	_          noCopy
	buf        buffer[T]
	maxsize    int  // 0: no bound
	unfinished int  // items put and not yet marked done by TaskDone
	shut       bool // Shutdown was called
	home       waitq.Home
	getters    waitq.Queue[T] // Get parked on an empty queue; Tag: see handed
	putters    waitq.Queue[T] // Put parked on a full queue, with its item
	joiners    waitq.Queue[struct{}]

	// handed numbers the items Put hands straight to a parked Get, in the
	// getter's Tag. A FIFO queue's items that killed Gets gave back sit at
	// the front of buf, in the order of those numbers, which back holds:
	// so they come out in the order they were put.
	handed int
	back   []int
}

func (q *core[T]) make(o order, maxsize int, less func(a, b T) bool) {
	q.buf.order, q.buf.less = o, less
	q.maxsize = max(maxsize, 0)
}

// Put puts v in the queue for the task that ctx carries: at once if there
// is room (or a Get waiting for it), otherwise parking until a Get makes
// room. Tasks parked in Put get their turn in the order they came. Put
// fails with ErrShutdown once the queue is shut down (also while parked),
// with ctx's error if ctx is done first (v is then not in the queue), and
// with scheduler.ErrNoTask, scheduler.ErrNotCurrent or
// scheduler.ErrWrongLoop. May park the calling task.
func (q *core[T]) Put(ctx context.Context, v T) error {
	t := scheduler.Current(ctx)
	if err := q.home.Check(t); err != nil {
		return err
	}
	if q.shut {
		return ErrShutdown
	}
	if q.offer(v) {
		return nil
	}
	w := q.putters.Enter(t, 0, v, nil)
	_, err := q.putters.Leave(w, scheduler.ParkWith(ctx, "queue.Put", w.Hook()))
	return err // nil: a Get let v in
}

// TryPut puts v in the queue if there is room (or a Get waiting for it). It
// fails with ErrFull, or ErrShutdown once the queue is shut down. Never
// parks.
func (q *core[T]) TryPut(v T) error {
	if q.shut {
		return ErrShutdown
	}
	if !q.offer(v) {
		return ErrFull
	}
	return nil
}

// offer puts v in, if that takes no wait: to the first waiting Get, or into
// the buffer if it has room.
func (q *core[T]) offer(v T) bool {
	// Budget: a Put that hands its item to a parked Get, and the Get that
	// parks, within a one-switch hand-off each (BenchmarkQueuePingPong,
	// ≤ 0.6× an unbuffered channel ping-pong). No allocation.
	q.mustBeMade()
	if w := q.getters.Front(); w != nil {
		q.unfinished++
		w.Tag = q.handed
		q.handed++
		q.getters.Wake(w, v, nil)
		return true
	}
	if q.maxsize > 0 && q.buf.len() >= q.maxsize {
		return false
	}
	q.buf.push(v)
	q.unfinished++
	return true
}

// Get takes the next item out of the queue for the task that ctx carries:
// at once if there is one, otherwise parking until a Put brings one. Tasks
// parked in Get are served in the order they came. Get fails with
// ErrShutdown once the queue is shut down and empty (also while parked),
// with ctx's error if ctx is done first (it then has taken nothing), and
// with scheduler.ErrNoTask, scheduler.ErrNotCurrent or
// scheduler.ErrWrongLoop. May park the calling task.
func (q *core[T]) Get(ctx context.Context) (T, error) {
	t := scheduler.Current(ctx)
	if err := q.home.Check(t); err != nil {
		var zero T
		return zero, err
	}
	if q.buf.len() > 0 {
		return q.take(), nil
	}
	if q.shut {
		var zero T
		return zero, ErrShutdown
	}
	q.mustBeMade()
	var zero T
	w := q.getters.Enter(t, 0, zero, (*getterKilled[T])(q))
	return q.getters.Leave(w, scheduler.ParkWith(ctx, "queue.Get", w.Hook()))
}

// TryGet takes the next item out of the queue if there is one. It fails
// with ErrEmpty, or ErrShutdown once the queue is shut down and empty.
// Never parks.
func (q *core[T]) TryGet() (T, error) {
	if q.buf.len() > 0 {
		return q.take(), nil
	}
	var zero T
	if q.shut {
		return zero, ErrShutdown
	}
	q.mustBeMade()
	return zero, ErrEmpty
}

func (q *core[T]) mustBeMade() {
	switch {
	case q.buf.order == unmade:
		panic("queue: a queue made without New, NewLifo, NewPriority or NewPriorityFunc")
	case q.buf.order == priority && q.buf.less == nil:
		panic("queue: Put on a PriorityQueue made with a nil less function")
	}
}

// take takes the next item out of a buffer that has one, and lets the first
// waiting Put's item into the room made.
func (q *core[T]) take() T {
	v := q.buf.pop()
	if len(q.back) > 0 { // v was given back
		q.back = q.back[1:]
	}
	if q.buf.len() >= q.maxsize && q.maxsize > 0 {
		return v // still full: an item a killed Get gave back took the room
	}
	if w := q.putters.Front(); w != nil {
		q.buf.push(w.Value)
		q.unfinished++
		var zero T
		q.putters.Wake(w, zero, nil)
	}
	return v
}

// Len returns the number of items in the queue. Never parks.
func (q *core[T]) Len() int { return q.buf.len() }

// Cap returns the queue's maxsize: the number of items it holds before Put
// parks; 0 means no bound. Never parks.
func (q *core[T]) Cap() int { return q.maxsize }

// TaskDone marks one item taken out with Get as done with; when every item
// put is done, Join returns. It panics with "queue: TaskDone called more
// times than items were put" when no item is left to mark. Never parks.
func (q *core[T]) TaskDone() {
	if q.unfinished <= 0 {
		panic("queue: TaskDone called more times than items were put")
	}
	if q.unfinished--; q.unfinished == 0 {
		q.joiners.WakeAll(struct{}{}, nil)
	}
}

// Join parks the task that ctx carries until every item ever put has been
// marked done with TaskDone; it returns nil at once when none is pending,
// as in an empty queue that never held an item. It fails with ctx's error
// if ctx is done first, and with scheduler.ErrNoTask,
// scheduler.ErrNotCurrent or scheduler.ErrWrongLoop. May park the calling
// task.
func (q *core[T]) Join(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := q.home.Check(t); err != nil {
		return err
	}
	if q.unfinished == 0 {
		return nil
	}
	_, err := q.joiners.Wait(ctx, "queue.Join", 0, struct{}{}, nil)
	return err
}

// Shutdown shuts the queue down: Put fails with ErrShutdown from now on,
// Get takes the items left and then fails with ErrShutdown, and every Put
// and Get parked now wakes with ErrShutdown (their items are not put).
// Join is not released: items still in the queue, and items taken but not
// marked done, keep it waiting. Shutting down twice does nothing more. Never
// parks.
func (q *core[T]) Shutdown() {
	q.shut = true
	var zero T
	q.getters.WakeAll(zero, ErrShutdown)
	q.putters.WakeAll(zero, ErrShutdown)
}

// getterKilled is a queue seen by its Gets' kills: an item handed to a task
// killed before it could take it goes back where it came from.
type getterKilled[T any] core[T]

func (k *getterKilled[T]) Killed(w *waitq.Waiter[T]) {
	if !w.Woken || w.Err != nil {
		return
	}
	q := (*core[T])(k)
	if g := q.getters.Front(); g != nil {
		g.Tag = w.Tag
		q.getters.Wake(g, w.Value, nil)
		return
	}
	if q.buf.order != fifo {
		q.buf.unpop(w.Value) // a LIFO's top, or the heap's place
		return
	}
	// Every item in flight to a Get was put before every item in buf, so w's
	// goes among the items given back, by the order it was handed out in.
	i, _ := slices.BinarySearch(q.back, w.Tag)
	q.back = slices.Insert(q.back, i, w.Tag)
	q.buf.insert(i, w.Value)
}

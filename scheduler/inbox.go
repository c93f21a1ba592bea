package scheduler

import (
	"context"
	"errors"
	"sync"
)

// The bridge from goroutines into a loop: Inbox, a bounded buffer that any
// goroutine fills and the loop's tasks drain, and Recv (chanrecv.go), which
// parks a task on a Go channel. Libraries that deliver on goroutines and
// channels (nats.go, fsnotify, grpc, ssh) reach tasks through them without
// blocking the loop and without a goroutine per waiting task.

var (
	// ErrInboxFull is returned by Inbox.TrySend when the inbox holds its
	// bound.
	ErrInboxFull = errors.New("scheduler: inbox full")

	// ErrInboxEmpty is returned by Inbox.TryReceive when no item is there
	// for it.
	ErrInboxEmpty = errors.New("scheduler: inbox empty")

	// ErrInboxClosed is returned by an Inbox's Send and TrySend once it is
	// closed, and by Receive and TryReceive once it is closed and drained.
	// An inbox closes by Close, or when its loop ends.
	ErrInboxClosed = errors.New("scheduler: inbox closed")
)

// An Inbox carries values from goroutines to the tasks of one loop: a FIFO
// buffer of at most size items that any goroutine fills with Send or
// TrySend, and that the loop's tasks drain with Receive (which parks the
// task while it is empty) or TryReceive. It is the way in for libraries
// that deliver on goroutines: their callback or reader goroutine sends,
// tasks receive. A Go channel would block the loop's goroutine; an Inbox
// parks only the receiving task, and the loop runs the others meanwhile.
//
//	in := scheduler.NewInbox[*nats.Msg](scheduler.LoopOf(ctx), 256)
//	sub, _ := nc.Subscribe("orders", func(m *nats.Msg) {
//		in.Send(context.Background(), m) // on nats' goroutine: blocks it while the inbox is full
//	})
//	for {
//		m, err := in.Receive(ctx) // parks this task, not the loop
//		...
//	}
//
// # Calling context
//
// Send, TrySend, Close and Len are safe to call from any goroutine.
// Receive and TryReceive are called by the loop's tasks (TryReceive also
// from its callbacks): the receivers are the loop's. Send decides by its
// ctx how to wait when the inbox is full: a goroutine's ctx (one that
// carries no task) blocks the goroutine until there is room, ctx ends or
// the inbox is closed; a task's ctx parks the task (on its own loop, also
// when that is another loop), so that no loop's goroutine ever blocks; a
// callback's ctx, which cannot park, gets ErrNoTask. A goroutine must
// therefore not pass a task's context (nor one derived from it) to Send:
// it would be taken for that task.
//
// # Order, wake-ups and kills
//
// Items come out in the order they went in. Receivers are served in the
// order they parked: an item goes to the receiver that waited longest, and
// a task that calls Receive while others wait queues behind them. A
// receiver whose ctx ends (its deadline is Receive's timeout) leaves the
// queue and gets nothing. A receiver killed after an item was handed to it
// and before it took it loses nothing: the item goes back to the front of
// the inbox, to the next receiver. The inbox may then hold more than size
// items for a moment; senders wait until it holds fewer than size.
//
// A goroutine that sends into an inbox whose receiver is parked does not
// post once per item: the first such Send posts one wake-up to the loop,
// the ones after it see that a wake-up is on its way and only add their
// item, and the woken receiver drains what has come in the meantime without
// parking again. A burst of items costs one post. And a loop whose task
// has just parked in Receive spins a moment (yielding its thread) before
// it sleeps in the poller, as it does for work handed out by Loop.Expect:
// an item sent meanwhile wakes it with no system call on either side.
//
// # Deadlocks
//
// A task parked in Receive on an open inbox keeps the loop from reporting
// a deadlock: a goroutine may send at any time, and the loop cannot know
// whether one will. The loop counts it as it counts a task whose park
// watches a context the loop does not own (see the package doc), not as a
// post announced by Loop.Expect: the virtual clock still jumps to the next
// timer while receivers wait, so that a program with a long-lived receiver
// can run on it (a goroutine's item that arrives after the jump is
// received after it). Close ends this: once the inbox is closed, its
// receivers return, and a loop whose tasks all wait on other things
// reports the deadlock. A task parked in Send waits for the loop's own
// receivers, and counts as blocked. Close wakes it from any goroutine, and
// from the moment Close returns the loop waits for that wake-up; a
// goroutine that has yet to call Close is not waited for, unless it
// announced itself with Loop.Expect, as any goroutine must whose post a
// task waits for.
//
// # The loop's end
//
// When the inbox's loop ends, however it ends, the inbox is closed: its
// parked tasks were killed with the loop's other tasks, goroutines blocked
// in Send return ErrInboxClosed, and the items left in it are dropped with
// it.
//
// # The reverse direction
//
// A goroutine waiting for a task needs no bridge of its own. A task's
// context's Done channel (Task.Context().Done(), safe to use from any
// goroutine) is closed when the task ends or is killed; on a kill it is
// closed before the task's deferred calls run, so it means "ending", not
// "ended". The task's result, Task.Err, and every other object of the
// loop's are read on the loop: a goroutine asks for them with Loop.Post,
// posting a function that writes the answer to a Go channel the goroutine
// then reads. A task hands a value out the same way, writing to a Go
// channel that never blocks it: one buffered with room for every value it
// will write (capacity 1 for a single result), or a select with a default
// case. A futures.Future is not goroutine-safe and cannot be waited on from
// a goroutine (its Get parks a task): register, on the loop, an
// AddDoneCallback that writes its value to such a channel.
//
// An Inbox must not be copied after first use.
type Inbox[T any] struct {
	_    noCopy
	l    *Loop
	size int

	mu sync.Mutex
	// Guarded by mu. Senders on any goroutine read nrecv and posted to
	// decide whether to post; the loop changes the queues, and so nrecv.
	items  ring[T]
	closed bool
	nrecv  int           // len(recvq)
	posted bool          // deliver is posted and has not run yet
	space  chan struct{} // made by a goroutine that waits for room; closed when there is room
	recvq  inboxQueue[T] // tasks parked in Receive, in the order they parked
	sendq  inboxQueue[T] // tasks of the loop parked in Send, with their items

	// Owned by the loop.
	spare   *inboxWaiter[T]           // a waiter for the next park
	unhook  func() bool               // unregisters atEnd; nil once it ran
	deliver func(ctx context.Context) // i.settle as a posted callback, made once
}

// NewInbox returns an open inbox of l's that holds at most size items. It
// registers with l to be closed when l ends (see Loop.AtEnd): call it on
// l, from a task or a callback, or before l runs, on the goroutine that
// will run it. An inbox made for a loop that has ended is closed. It
// panics if size is less than 1 or l is nil. Never parks.
//
// It takes the loop rather than a task's ctx so that the code that wires a
// library to a loop can make the inbox before the loop runs, and hand it
// to the library's goroutines and to the tasks alike.
func NewInbox[T any](l *Loop, size int) *Inbox[T] {
	if l == nil {
		panic("scheduler: NewInbox with a nil loop")
	}
	if size < 1 {
		panic("scheduler: NewInbox with a size less than 1")
	}
	i := &Inbox[T]{l: l, size: size}
	i.items.init(size)
	i.deliver = i.settle
	if stop, err := l.AtEnd(i.atEnd); err != nil {
		i.closed = true
	} else {
		i.unhook = stop
	}
	return i
}

// Send adds v at the back of the inbox. When the inbox is full, Send waits
// for room: a goroutine blocks until there is room, ctx ends (Send returns
// ctx's error) or the inbox is closed; a task parks (May park the calling
// task); a callback gets ErrNoTask (see Calling context on Inbox). Send
// fails with ErrInboxClosed once the inbox is closed; if the inbox has
// room, v goes in even when ctx is done. Safe to call from any goroutine.
//
// A Send happens before the Receive that returns its item.
func (i *Inbox[T]) Send(ctx context.Context, v T) error {
	// Budget: BenchmarkInboxFromGoroutine, a goroutine sending to a task,
	// within 1.5× BenchmarkChanBetweenGoroutines per item. A Send with
	// room costs one uncontended lock and a copy into the ring; it posts
	// to the loop only when a receiver is parked and no wake-up is on its
	// way, which is once per time the receiver runs dry, however many items
	// follow. No allocation, no reading of ctx. Do not add work here.
	i.mu.Lock()
	if !i.closed && i.items.n < i.size {
		i.items.push(v)
		if i.nrecv > 0 && !i.posted {
			i.posted = true
			i.mu.Unlock()
			i.l.Post(i.deliver) // ErrClosed: the loop has ended, and the inbox with it
			return nil
		}
		i.mu.Unlock()
		return nil
	}
	closed := i.closed
	i.mu.Unlock()
	if closed {
		return ErrInboxClosed
	}
	return i.sendFull(ctx, v)
}

// TrySend adds v at the back of the inbox if it has room, and fails with
// ErrInboxFull if not, ErrInboxClosed once it is closed. Never parks. Safe
// to call from any goroutine.
func (i *Inbox[T]) TrySend(v T) error {
	ok, err := i.put(v)
	if !ok && err == nil {
		err = ErrInboxFull
	}
	return err
}

// put adds v if the inbox has room, and posts the wake-up its parked
// receivers need. It reports false, and the inbox's error if it is closed,
// when v did not go in. Safe to call from any goroutine.
func (i *Inbox[T]) put(v T) (bool, error) {
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		return false, ErrInboxClosed
	}
	if i.items.n >= i.size {
		i.mu.Unlock()
		return false, nil
	}
	i.items.push(v)
	post := i.nrecv > 0 && !i.posted
	if post {
		i.posted = true
	}
	i.mu.Unlock()
	if post {
		i.l.Post(i.deliver)
	}
	return true, nil
}

// sendFull is Send into a full inbox: it waits for room as ctx says.
func (i *Inbox[T]) sendFull(ctx context.Context, v T) error {
	t := taskOf(ctx)
	switch {
	case t != nil && t.l == i.l:
		return i.sendPark(ctx, t, v)
	case t == nil && LoopOf(ctx) != nil:
		return ErrNoTask // a callback: it may not park, and its goroutine must not block
	}
	for {
		ok, err := i.put(v)
		if ok || err != nil {
			return err
		}
		i.mu.Lock()
		if i.closed || i.items.n < i.size { // changed since put looked
			i.mu.Unlock()
			continue
		}
		if i.space == nil {
			i.space = make(chan struct{})
		}
		space := i.space
		i.mu.Unlock()
		if t != nil { // a task of another loop: it parks on its own loop
			if _, _, err := Recv(ctx, (<-chan struct{})(space)); err != nil {
				return err
			}
			continue
		}
		select {
		case <-space:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// sendPark is Send into a full inbox by t, a task of the inbox's loop: t
// parks until a receiver makes room (then its item goes in as it is woken),
// ctx ends or the inbox closes.
func (i *Inbox[T]) sendPark(ctx context.Context, t *Task, v T) error {
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		return ErrInboxClosed
	}
	if i.items.n < i.size { // room was made meanwhile
		i.items.push(v)
		i.settleLocked()
		i.mu.Unlock()
		return nil
	}
	w := i.waiter(t, false)
	w.v = v
	i.sendq.push(w)
	i.mu.Unlock()
	err := ParkWith(ctx, "Inbox.Send", &w.hook)
	sent, closed := w.got, w.closed
	if w.queued {
		i.mu.Lock()
		i.unlink(w)
		i.mu.Unlock()
	}
	i.free(w)
	switch {
	case sent:
		return nil
	case closed:
		return ErrInboxClosed
	}
	return err
}

// Receive takes the item at the front of the inbox, parking the calling
// task while the inbox is empty, behind the tasks parked before it. It
// returns ctx's error if ctx ends first (its deadline is Receive's timeout),
// and ErrInboxClosed once the inbox is closed and drained. It fails with
// ErrNoTask when ctx carries no task, and with ErrWrongLoop for a task of
// another loop. May park the calling task.
func (i *Inbox[T]) Receive(ctx context.Context) (T, error) {
	var zero T
	t := taskOf(ctx)
	if t == nil {
		return zero, ErrNoTask
	}
	if t.l != i.l {
		return zero, ErrWrongLoop
	}
	i.mu.Lock()
	if i.recvq.head != nil && i.items.n > 0 {
		i.settleLocked() // those who came first, first: the posted wake-up finds nothing to do
	}
	if i.items.n > 0 { // (and nobody else waits)
		v := i.items.pop()
		if i.sendq.head != nil || i.space != nil {
			i.settleLocked() // room for a waiting sender
		}
		i.mu.Unlock()
		return v, nil
	}
	if i.closed {
		i.mu.Unlock()
		return zero, ErrInboxClosed
	}
	w := i.waiter(t, true)
	i.recvq.push(w)
	i.nrecv++
	i.l.watches++ // a goroutine may send: no deadlock (see Deadlocks on Inbox)
	i.mu.Unlock()
	// As for work handed out by Expect: the loop spins a moment before it
	// sleeps in the poller, and a Send in that moment wakes it with no
	// eventfd write and no wake-up of a sleeping thread (see Loop.spin).
	i.l.handedOff = true
	err := ParkWith(ctx, "Inbox.Receive", &w.hook)
	if w.got {
		v := w.v
		i.free(w)
		return v, nil
	}
	closed := w.closed
	if w.queued { // its ctx ended, or the park was refused
		i.mu.Lock()
		i.unlink(w)
		i.mu.Unlock()
	}
	i.free(w)
	if closed {
		return zero, ErrInboxClosed
	}
	return zero, err
}

// TryReceive takes the item at the front of the inbox if there is one that
// no parked receiver waits for, and fails with ErrInboxEmpty if not (with
// ErrInboxClosed once the inbox is closed and drained). Never parks. Call
// it on the inbox's loop.
func (i *Inbox[T]) TryReceive() (T, error) {
	var zero T
	i.mu.Lock()
	defer i.mu.Unlock()
	if i.recvq.head != nil && i.items.n > 0 {
		i.settleLocked()
	}
	if i.items.n == 0 || i.recvq.head != nil {
		if i.closed && i.items.n == 0 {
			return zero, ErrInboxClosed
		}
		return zero, ErrInboxEmpty
	}
	v := i.items.pop()
	if i.sendq.head != nil || i.space != nil {
		i.settleLocked()
	}
	return v, nil
}

// Len returns the number of items in the inbox, those not yet handed to a
// receiver. Never parks. Safe to call from any goroutine.
func (i *Inbox[T]) Len() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return i.items.n
}

// Close closes the inbox: Send and TrySend fail with ErrInboxClosed from
// now on, and so do goroutines blocked in Send; tasks parked in Send and in
// Receive are woken (in the loop's next iteration) and return
// ErrInboxClosed. The items already in the inbox stay there for Receive
// and TryReceive, which return ErrInboxClosed once they are drained.
// Closing a closed inbox does nothing. Never parks. Safe to call from any
// goroutine.
func (i *Inbox[T]) Close() {
	i.mu.Lock()
	if i.closed {
		i.mu.Unlock()
		return
	}
	i.closed = true
	if i.space != nil {
		close(i.space)
		i.space = nil
	}
	i.posted = true
	i.mu.Unlock()
	// Wakes the parked tasks, and unregisters atEnd. Posted even when a
	// wake-up is on its way already: that one may be a goroutine's Send's,
	// which posts after it lets go of mu, possibly after Close returns.
	// Tasks parked in Send count as blocked, so only a post of Close's own
	// keeps the loop from reporting them in a deadlock meanwhile. A second
	// settle finds nothing to do.
	i.l.Post(i.deliver) // ErrClosed: the loop has ended, and its tasks with it
}

// settle is the posted wake-up: on the loop, it matches items with the
// parked receivers.
func (i *Inbox[T]) settle(context.Context) {
	i.mu.Lock()
	i.posted = false
	i.settleLocked()
	closed := i.closed
	i.mu.Unlock()
	if closed && i.unhook != nil {
		i.unhook()
		i.unhook = nil
	}
}

// atEnd closes the inbox as its loop ends. Its tasks were killed before.
func (i *Inbox[T]) atEnd() {
	i.unhook = nil
	i.mu.Lock()
	i.closed = true
	i.settleLocked()
	i.mu.Unlock()
}

// settleLocked hands the items at the front to the parked receivers, in the
// order they parked, moves the items of tasks parked in Send into the room
// made, and wakes goroutines waiting for room; once the inbox is closed, it
// wakes every parked task. It runs on the loop, with mu held. A waiter
// whose park ended otherwise (its ctx ended: its task is runnable, or
// killed) leaves the queue here and takes nothing.
func (i *Inbox[T]) settleLocked() {
	for {
		for w := i.recvq.head; w != nil && i.items.n > 0; w = i.recvq.head {
			i.unlink(w)
			if w.task.WakeWith(&w.hook) {
				w.v, w.got = i.items.pop(), true
			}
		}
		if i.closed || i.sendq.head == nil || i.items.n >= i.size {
			break
		}
		for w := i.sendq.head; w != nil && i.items.n < i.size; w = i.sendq.head {
			i.unlink(w)
			if w.task.WakeWith(&w.hook) {
				var zero T
				i.items.push(w.v)
				w.v, w.got = zero, true
			}
		}
		if i.recvq.head == nil {
			break
		}
	}
	if i.closed {
		for _, q := range [...]*inboxQueue[T]{&i.recvq, &i.sendq} {
			for w := q.head; w != nil; w = q.head {
				i.unlink(w)
				if w.task.WakeWith(&w.hook) {
					w.closed = true
				}
			}
		}
	}
	if i.space != nil && (i.closed || i.items.n < i.size) {
		close(i.space)
		i.space = nil
	}
}

// waiter returns a waiter for t's park, the spare one if there is one. On
// the loop.
func (i *Inbox[T]) waiter(t *Task, recv bool) *inboxWaiter[T] {
	w := i.spare
	if w != nil {
		i.spare = nil
	} else {
		w = &inboxWaiter[T]{inbox: i}
		w.hook.OnKill = w
	}
	w.task, w.recv = t, recv
	return w
}

// free keeps w, whose park is over, for the next one. On the loop.
func (i *Inbox[T]) free(w *inboxWaiter[T]) {
	var zero T
	w.task, w.v, w.got, w.closed = nil, zero, false, false
	i.spare = w
}

// unlink takes w out of its queue. On the loop, with mu held.
func (i *Inbox[T]) unlink(w *inboxWaiter[T]) {
	if w.recv {
		i.recvq.remove(w)
		i.nrecv--
		i.l.watches--
	} else {
		i.sendq.remove(w)
	}
}

// An inboxWaiter is a task parked in Receive or Send. Every field is
// owned by the loop; queued and the queue links change with mu held.
type inboxWaiter[T any] struct {
	inbox      *Inbox[T]
	task       *Task
	hook       ParkHook // OnKill: the waiter itself
	recv       bool     // in Receive (recvq), or in Send (sendq)
	v          T        // a receiver's item once got; a sender's item until got
	got        bool     // a receiver was handed v; a sender's v went in
	closed     bool     // woken by the inbox's closing
	queued     bool
	prev, next *inboxWaiter[T]
}

// Killed is told when w's task is killed before its park returned: w
// leaves its queue, and an item handed to a receiver that will never take
// it goes back to the front, to the next receiver. A sender's item that
// went in stays in.
func (w *inboxWaiter[T]) Killed() {
	i := w.inbox
	i.mu.Lock()
	defer i.mu.Unlock()
	if w.queued {
		i.unlink(w)
	}
	if w.recv && w.got {
		var zero T
		i.items.pushFront(w.v)
		w.v, w.got = zero, false
		i.settleLocked()
	}
}

// inboxQueue is a FIFO of waiters, linked through them.
type inboxQueue[T any] struct{ head, tail *inboxWaiter[T] }

func (q *inboxQueue[T]) push(w *inboxWaiter[T]) {
	w.queued, w.prev, w.next = true, q.tail, nil
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
}

func (q *inboxQueue[T]) remove(w *inboxWaiter[T]) {
	if w.prev == nil {
		q.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		q.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.queued, w.prev, w.next = false, nil, nil
}

// ring is a FIFO of items in a power-of-two circular buffer that grows as
// needed: up to an inbox's size, and past it for the items that killed
// receivers give back.
type ring[T any] struct {
	buf     []T
	head, n int
}

// init makes room for the first items: the whole bound if it is small,
// and the rest as it fills.
func (r *ring[T]) init(size int) {
	c := 1
	for c < size && c < 64 {
		c <<= 1
	}
	r.buf = make([]T, c)
}

func (r *ring[T]) grow() {
	buf := make([]T, 2*len(r.buf))
	k := copy(buf, r.buf[r.head:])
	copy(buf[k:], r.buf[:r.head])
	r.buf, r.head = buf, 0
}

func (r *ring[T]) push(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.buf[(r.head+r.n)&(len(r.buf)-1)] = v
	r.n++
}

func (r *ring[T]) pushFront(v T) {
	if r.n == len(r.buf) {
		r.grow()
	}
	r.head = (r.head - 1) & (len(r.buf) - 1)
	r.buf[r.head] = v
	r.n++
}

func (r *ring[T]) pop() T {
	var zero T
	v := r.buf[r.head]
	r.buf[r.head] = zero
	r.head = (r.head + 1) & (len(r.buf) - 1)
	r.n--
	return v
}

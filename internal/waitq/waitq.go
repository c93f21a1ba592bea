// Package waitq is the wait queue that evergo's synchronization primitives
// park tasks on: locks, semaphores, conditions, events, barriers, queues,
// channels and futures.
//
// A primitive that cannot grant a call at once parks the calling task with
// Queue.Wait. Whoever can grant it later (an Unlock, a Put, a Set) takes the
// first waiter that still waits with Queue.Front, decides what to hand it (a
// lock's ownership, an item, an error) and hands it over with Queue.Wake. The
// hand-off is direct: the woken task does not compete again for what it was
// handed, so waiters are served in the order they came (FIFO), and a task
// that arrives later cannot overtake one already woken.
//
// # Leaving without losing a wake-up
//
// A waiter leaves a queue in one of three ways, and none loses a wake-up
// meant for another:
//
//   - Woken: Wake took it out of the queue and handed it its value.
//   - Its ctx was done (deadline or cancellation): the loop made its task
//     runnable. From then on Front skips and drops it, so no wake-up can be
//     handed to a waiter that stopped waiting; Wait returns ctx's error.
//   - Its task was killed: the kill takes the waiter out (through the
//     scheduler.ParkHook the task parked with) and tells the primitive
//     through Killed, which hands on whatever the waiter had been handed but
//     never took (a lock's ownership goes to the next waiter, an item back to
//     the queue); then the task unwinds.
//
// # Calling context
//
// Not goroutine-safe: a Queue belongs to one loop and is used on it, from
// tasks and callbacks, like the primitive it is part of. Home binds a
// primitive to the loop that uses it first. Wait may park the calling task;
// nothing else here parks.
package waitq

import (
	"context"

	"github.com/evergo/evergo/scheduler"
)

// A Waiter is one parked call in a Queue. A primitive reads and writes its
// exported fields while the waiter is queued (between Enter and the Front
// that finds it), and reads them in its Killed; once the task has resumed,
// the waiter is its own again.
type Waiter[T any] struct {
	Task  *scheduler.Task // the parked task
	Tag   int             // the primitive's mark: reader or writer, say
	Value T               // what the waiter brought (Enter's v); Wake replaces it
	Err   error           // handed with the wake-up
	Woken bool            // Wake handed it Value and Err

	q          *Queue[T] // the queue it is in; nil once out
	home       *Queue[T] // the queue it waits on
	killed     Killed[T]
	hook       scheduler.ParkHook // OnKill: the waiter as a killedBy
	prev, next *Waiter[T]
}

// A Queue is a FIFO of parked waiters. The zero value is an empty queue.
// Waiters are reused: a Queue keeps a few spare ones, so that a parked call
// does not allocate in the steady state.
type Queue[T any] struct {
	head, tail *Waiter[T]
	spare      *Waiter[T] // linked through next
	nspare     int
}

// maxSpare bounds the waiters a queue keeps for reuse.
const maxSpare = 8

// Killed is told about a waiter whose task was killed before its wait
// returned. w is out of the queue; w.Woken reports whether Wake had handed
// it w.Value and w.Err, which the task will never take: the primitive
// passes them on. Killed runs in the call of scheduler.Task.Kill (or the
// loop's own kill of the tasks left when it ends), before the task unwinds;
// it must not park.
type Killed[T any] interface {
	Killed(w *Waiter[T])
}

// Wait parks the task that ctx carries at the back of q, as a waiter that
// brings v and tag, until Wake hands it a value and an error, which Wait
// returns. If ctx is done first, Wait returns ctx's error and the zero T,
// having left q. If the task is killed, the waiter leaves q and killed (if
// not nil) is told; the task unwinds from Wait. Only Wake ends the wait
// early: a scheduler.Task.Wake of the task does nothing. Wait fails at once
// with Park's errors (scheduler.ErrNoTask, scheduler.ErrNotCurrent,
// scheduler.ErrKilled in a dying task's deferred calls). May park the
// calling task.
//
// Wait is Enter, scheduler.ParkWith and Leave; a primitive's hot path makes
// those three calls itself, to keep a frame off the stack that every
// coroutine switch unwinds.
func (q *Queue[T]) Wait(ctx context.Context, what string, tag int, v T, killed Killed[T]) (T, error) {
	t := scheduler.Current(ctx)
	if t == nil {
		var zero T
		return zero, scheduler.ErrNoTask
	}
	w := q.Enter(t, tag, v, killed)
	return q.Leave(w, scheduler.ParkWith(ctx, what, w.Hook()))
}

// Enter puts task t, which is about to park, at the back of q as a waiter
// that brings v and tag, and returns the waiter. The caller parks t with
// scheduler.ParkWith(ctx, what, w.Hook()) and hands what that returns to
// Leave. If t is killed instead, the waiter leaves q and killed (if not nil)
// is told. Never parks.
func (q *Queue[T]) Enter(t *scheduler.Task, tag int, v T, killed Killed[T]) *Waiter[T] {
	w := q.alloc()
	w.Task, w.Tag, w.Value, w.home, w.killed = t, tag, v, q, killed
	w.hook.OnKill = (*killedBy[T])(w)
	q.push(w)
	return w
}

// Hook returns the key w's task parks with: only Wake of w ends the park,
// and a kill of the task is told to w's queue. Never parks.
func (w *Waiter[T]) Hook() *scheduler.ParkHook { return &w.hook }

// Leave ends the wait of w, whose scheduler.ParkWith returned err, and
// returns what Wait returns: the value and error that Wake handed w, or
// err (ctx's error, or a refused park) with w out of q. Never parks.
func (q *Queue[T]) Leave(w *Waiter[T], err error) (T, error) {
	var v T
	if w.Woken {
		v, err = w.Value, w.Err
	} else if w.q != nil {
		q.remove(w)
	}
	q.free(w)
	return v, err
}

// killedBy is a waiter seen by its task's kill.
type killedBy[T any] Waiter[T]

func (k *killedBy[T]) Killed() {
	w := (*Waiter[T])(k)
	q := w.home
	if w.q != nil {
		q.remove(w)
	}
	if w.killed != nil {
		w.killed.Killed(w)
	}
	q.free(w)
}

// Front returns the first waiter that still waits, or nil when none does.
// Waiters whose wait ended without a wake-up (their ctx is done and their
// task has not resumed yet) are dropped on the way. Never parks.
func (q *Queue[T]) Front() *Waiter[T] {
	for w := q.head; w != nil; w = q.head {
		if w.Task.State() == scheduler.StateParked {
			return w
		}
		q.remove(w)
	}
	return nil
}

// Wake takes w, which Front returned, out of q, hands it v and err and makes
// its task runnable. It reports false, handing nothing, if w's task no
// longer waits (which Front rules out). Never parks.
func (q *Queue[T]) Wake(w *Waiter[T], v T, err error) bool {
	if w.q != q {
		panic("waitq: Wake of a waiter that is not in this queue")
	}
	q.remove(w)
	if !w.Task.WakeWith(w.Hook()) {
		return false
	}
	w.Value, w.Err, w.Woken = v, err, true
	return true
}

// WakeAll hands v and err to every waiter that still waits, in order, and
// returns how many it woke. Never parks.
func (q *Queue[T]) WakeAll(v T, err error) int {
	n := 0
	for w := q.Front(); w != nil; w = q.Front() {
		if q.Wake(w, v, err) {
			n++
		}
	}
	return n
}

// Prune drops the waiters whose wait ended without a wake-up and returns
// the number still waiting. Never parks.
func (q *Queue[T]) Prune() int {
	n := 0
	for w := q.head; w != nil; {
		next := w.next
		if w.Task.State() == scheduler.StateParked {
			n++
		} else {
			q.remove(w)
		}
		w = next
	}
	return n
}

// Empty reports whether no waiter is queued. A queue that is not empty may
// still hold only waiters whose wait has ended: Front tells. Never parks.
func (q *Queue[T]) Empty() bool { return q.head == nil }

func (q *Queue[T]) push(w *Waiter[T]) {
	w.q, w.prev, w.next = q, q.tail, nil
	if q.tail == nil {
		q.head = w
	} else {
		q.tail.next = w
	}
	q.tail = w
}

func (q *Queue[T]) remove(w *Waiter[T]) {
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
	w.q, w.prev, w.next = nil, nil, nil
}

func (q *Queue[T]) alloc() *Waiter[T] {
	w := q.spare
	if w == nil {
		return new(Waiter[T])
	}
	q.spare, w.next = w.next, nil
	q.nspare--
	return w
}

// free keeps w for reuse, holding on to nothing it referred to.
func (q *Queue[T]) free(w *Waiter[T]) {
	*w = Waiter[T]{}
	if q.nspare < maxSpare {
		w.next = q.spare
		q.spare = w
		q.nspare++
	}
}

// Home binds a primitive to the loop that first uses it: an object bound to
// one loop refuses use from another. The zero value is unbound.
type Home struct{ loop *scheduler.Loop }

// Check vets the task a call that may park was given (the task its ctx
// carries): it fails with scheduler.ErrNoTask for none, with
// scheduler.ErrNotCurrent for a task that is not the one running, and with
// scheduler.ErrWrongLoop for a task of another loop than h's. It binds an
// unbound h to the task's loop. Never parks.
func (h *Home) Check(t *scheduler.Task) error {
	switch {
	case t == nil:
		return scheduler.ErrNoTask
	case t.State() != scheduler.StateRunning:
		return scheduler.ErrNotCurrent
	}
	l := t.Loop()
	if h.loop != l {
		if h.loop != nil {
			return scheduler.ErrWrongLoop
		}
		h.loop = l
	}
	return nil
}

// Is reports whether h is bound to l. Never parks.
func (h *Home) Is(l *scheduler.Loop) bool { return h.loop == l }

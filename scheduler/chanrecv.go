package scheduler

import (
	"context"
	"reflect"
	"sync"
)

// Recv receives from ch for the task that ctx carries, parking the task,
// not the loop, until ch delivers a value (ok is true), ch is closed (ok is
// false, v the zero T) or ctx ends (err is ctx's error). It is the task's
// `v, ok := <-ch`, for channels that goroutines fill: a library's events,
// a goroutine's results. Recv fails with ErrNoTask when ctx carries no
// task, and, when it would have to park, with Park's other errors
// (ErrNotCurrent; ErrKilled in a dying task's deferred calls). A nil ch
// never delivers: Recv waits for ctx, and the task counts as blocked in a
// deadlock report. May park the calling task.
//
// # How it waits
//
// A value ch holds already is taken at once, on the loop. Otherwise the
// task parks in a FIFO of the tasks that wait on ch on its loop, and one
// goroutine per loop, its watcher, receives for them all: it selects
// (reflect.Select) over every channel that tasks of the loop wait on, takes
// one value per waiting task, and posts each to the loop, which hands it to
// the task that has waited longest. There is no goroutine per waiting
// task. The watcher starts at the first Recv that parks on the loop and
// ends with the loop (Run returns once it has exited). A closed ch wakes
// every task waiting on it, with ok false. Values come to the tasks in the
// order ch delivered them. Each value that the watcher takes costs a post
// and a round of reflect.Select (and an allocation for most types): for a
// stream of many small items, an Inbox filled by the producing goroutine
// is cheaper (see BenchmarkInboxFromGoroutine).
//
// # Values of waiters that left
//
// The watcher may have taken a value for a task that stopped waiting
// meanwhile: its ctx ended, or it was killed (before or after the value
// was handed to it). Such a value is not lost: the loop keeps it for the
// next Recv on ch on the same loop, which returns it, before anything ch
// delivers later. Values kept so, and those the watcher takes as the loop
// ends, are dropped when the loop ends: ch never sees them again. (A
// receive cannot be taken back; a program for which that matters keeps a
// task waiting on ch until ch is closed, or stops its senders first.)
//
// # Deadlocks
//
// As with an Inbox, a task parked in Recv on a channel that is not nil
// keeps the loop from reporting a deadlock: a goroutine may send on ch at
// any time. The loop counts it as a task whose park watches a context the
// loop does not own, so the virtual clock still jumps to the next timer
// meanwhile. It stops counting when the task leaves, however it leaves.
//
// There is no cooperative send to a Go channel: a task that must hand
// values to goroutines uses a buffered channel with room for them, or a
// select with a default case, and never blocks the loop (see The reverse
// direction on Inbox). A watcher's send could not be taken back: a task
// whose ctx ended while the watcher sent for it would be told it failed
// when its value had gone out.
func Recv[T any](ctx context.Context, ch <-chan T) (v T, ok bool, err error) {
	t := taskOf(ctx)
	if t == nil {
		return v, false, ErrNoTask
	}
	l := t.l
	key := any(ch)
	h, _ := l.Value(hubKey{}).(*chanHub)
	var ws *chanWaits
	if h != nil {
		ws = h.waits[key]
	}
	switch {
	case ws != nil && len(ws.kept) > 0: // (nobody waits while values are kept)
		x := ws.kept[0]
		ws.kept[0] = nil
		ws.kept = ws.kept[1:]
		h.drop(ws)
		v, _ = x.(T)
		return v, true, nil
	case ws == nil && (h == nil || h.quiet(key)):
		// Nobody waits on ch on this loop and the watcher has taken nothing
		// from it: a value ch holds is the next one.
		select {
		case v, ok = <-ch:
			return v, ok, nil
		default:
		}
	}
	if t != l.cur || t.killed {
		return v, false, t.refuse()
	}
	if ch == nil {
		return v, false, ParkWith(ctx, "Recv nil channel", &ParkHook{})
	}
	if h == nil {
		if h, err = newChanHub(l); err != nil {
			return v, false, err
		}
	}
	w := h.enter(t, key, ch)
	l.handedOff = true // the loop spins a moment before it sleeps: see Inbox.Receive
	err = ParkWith(ctx, "Recv", &w.hook)
	if w.got {
		v, _ = w.v.(T)
		ok = w.ok
		h.free(w)
		return v, ok, nil
	}
	if w.queued { // its ctx ended, or the park was refused
		h.leave(w)
	}
	h.free(w)
	return v, false, err
}

// hubKey is the loop value (Loop.SetValue) under which a loop keeps its
// chanHub.
type hubKey struct{}

// A chanHub is a loop's side of Recv: the tasks waiting on each channel,
// the values kept for later Recvs, and the watcher goroutine.
//
// The loop and the watcher share, per channel, a chanWatch (under mu):
// want is how many values the watcher should take from the channel, which
// the loop sets to its waiters less the values on their way (taken and
// posted, not arrived yet: inflight), and the watcher lowers as it takes
// one. A value that arrives for no waiter (its waiter left while it was on
// its way) is kept. watching says that the channel is among the watcher's
// select cases: while it is, or values are on their way, a Recv does not
// receive from the channel itself, so that values are returned in the
// order the channel delivered them.
type chanHub struct {
	l *Loop

	// Owned by the loop.
	waits map[any]*chanWaits // by channel: its waiters and kept values
	spare *recvWaiter

	mu       sync.Mutex
	watch    map[any]*chanWatch // guarded by mu
	stopping bool               // guarded by mu: the loop ends, the watcher exits
	kick     chan struct{}      // capacity 1: watch changed, or stopping
	exited   chan struct{}      // closed by the watcher as it exits
}

// chanWatch is what the loop and the watcher share about one channel;
// guarded by chanHub.mu.
type chanWatch struct {
	ch       reflect.Value
	want     int  // values the watcher should take
	inflight int  // values taken and posted, not arrived on the loop yet
	watching bool // among the watcher's select cases
}

// chanWaits is the loop's side of one channel: the tasks parked on it, in
// the order they parked, and the values kept for the next Recvs. Owned by
// the loop; it exists while either is not empty.
type chanWaits struct {
	key        any
	ch         reflect.Value
	n          int // waiters
	head, tail *recvWaiter
	kept       []any
}

// newChanHub makes l's hub and starts its watcher, which ends with l. On
// the loop.
func newChanHub(l *Loop) (*chanHub, error) {
	h := &chanHub{
		l:      l,
		waits:  make(map[any]*chanWaits),
		watch:  make(map[any]*chanWatch),
		kick:   make(chan struct{}, 1),
		exited: make(chan struct{}),
	}
	if _, err := l.AtEnd(h.stop); err != nil {
		return nil, err
	}
	l.SetValue(hubKey{}, h)
	go h.run()
	return h, nil
}

// stop ends the watcher as the loop ends, and waits for its exit. The
// tasks were killed before: nobody waits any more.
func (h *chanHub) stop() {
	h.mu.Lock()
	h.stopping = true
	h.mu.Unlock()
	h.poke()
	<-h.exited
}

// poke tells the watcher to look at watch again. Never blocks.
func (h *chanHub) poke() {
	select {
	case h.kick <- struct{}{}:
	default: // a poke is pending already
	}
}

// quiet reports that the watcher neither watches the channel key nor has
// values of it on their way. On the loop.
func (h *chanHub) quiet(key any) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	cw := h.watch[key]
	return cw == nil || cw.want == 0 && cw.inflight == 0 && !cw.watching
}

// enter queues t as a waiter on ch (whose key is key) and has the watcher
// take a value for it. On the loop.
func (h *chanHub) enter(t *Task, key any, ch any) *recvWaiter {
	ws := h.waits[key]
	if ws == nil {
		ws = &chanWaits{key: key, ch: reflect.ValueOf(ch)}
		h.waits[key] = ws
	}
	w := h.spare
	if w != nil {
		h.spare = nil
	} else {
		w = &recvWaiter{hub: h}
		w.hook.OnKill = w
	}
	w.task, w.ws = t, ws
	w.queued, w.prev, w.next = true, ws.tail, nil
	if ws.tail == nil {
		ws.head = w
	} else {
		ws.tail.next = w
	}
	ws.tail = w
	ws.n++
	h.l.watches++ // a goroutine may send: no deadlock (see Recv)
	h.want(ws)
	return w
}

// want sets how many values the watcher is to take from ws's channel:
// one per waiter, less those on their way. On the loop.
func (h *chanHub) want(ws *chanWaits) {
	h.mu.Lock()
	cw := h.watch[ws.key]
	if cw == nil {
		if ws.n == 0 {
			h.mu.Unlock()
			return
		}
		cw = &chanWatch{ch: ws.ch}
		h.watch[ws.key] = cw
	}
	was := cw.want
	cw.want = max(0, ws.n-cw.inflight)
	if cw.want == 0 && cw.inflight == 0 && !cw.watching {
		delete(h.watch, ws.key)
	}
	poke := (was == 0) != (cw.want == 0)
	h.mu.Unlock()
	if poke {
		h.poke()
	}
}

// leave takes w, whose task stopped waiting, out of its channel's queue.
// On the loop.
func (h *chanHub) leave(w *recvWaiter) {
	h.unlink(w)
	h.want(w.ws)
	h.drop(w.ws)
}

// unlink takes w out of its channel's queue. On the loop.
func (h *chanHub) unlink(w *recvWaiter) {
	ws := w.ws
	if w.prev == nil {
		ws.head = w.next
	} else {
		w.prev.next = w.next
	}
	if w.next == nil {
		ws.tail = w.prev
	} else {
		w.next.prev = w.prev
	}
	w.queued, w.prev, w.next = false, nil, nil
	ws.n--
	h.l.watches--
}

// drop forgets ws once nobody waits on it and nothing is kept. On the loop.
func (h *chanHub) drop(ws *chanWaits) {
	if ws.n == 0 && len(ws.kept) == 0 && h.waits[ws.key] == ws {
		delete(h.waits, ws.key)
	}
}

// arrive is a value (or, !ok, the closing) that the watcher took from the
// channel key for the loop, posted by it: the value goes to the first task
// still waiting, or is kept; a closing wakes every waiter.
func (h *chanHub) arrive(key any, cw *chanWatch, v any, ok bool) {
	h.mu.Lock()
	cw.inflight--
	h.mu.Unlock()
	ws := h.waits[key]
	if ws == nil {
		ws = &chanWaits{key: key, ch: cw.ch}
		h.waits[key] = ws
	}
	if ok {
		if !h.give(ws, v) {
			ws.kept = append(ws.kept, v) // its waiter left: for the next Recv
		}
	} else {
		for w := ws.head; w != nil; w = ws.head {
			h.unlink(w)
			if w.task.WakeWith(&w.hook) {
				w.v, w.ok, w.got = nil, false, true
			}
		}
	}
	h.want(ws)
	h.drop(ws)
}

// give hands v to the first task still waiting on ws, and reports whether
// there was one. A waiter whose park ended otherwise (its ctx ended: it is
// runnable, not resumed yet) leaves the queue here and takes nothing. On
// the loop.
func (h *chanHub) give(ws *chanWaits, v any) bool {
	for w := ws.head; w != nil; w = ws.head {
		h.unlink(w)
		if w.task.WakeWith(&w.hook) {
			w.v, w.ok, w.got = v, true, true
			return true
		}
	}
	return false
}

// free keeps w, whose park is over, for the next one. On the loop.
func (h *chanHub) free(w *recvWaiter) {
	w.task, w.ws, w.v, w.ok, w.got = nil, nil, nil, false, false
	h.spare = w
}

// A recvWaiter is a task parked in Recv. Owned by the loop.
type recvWaiter struct {
	hub        *chanHub
	ws         *chanWaits
	task       *Task
	hook       ParkHook // OnKill: the waiter itself
	v          any      // what it was handed
	ok         bool     // v is a value, not the closing
	got        bool     // it was handed v and ok
	queued     bool
	prev, next *recvWaiter
}

// Killed is told when w's task is killed before its Recv returned: w
// leaves its queue, and a value handed to it that it will never take goes
// to the next waiter, or back to the front of the kept values, for the
// next Recv on its channel.
func (w *recvWaiter) Killed() {
	h, ws := w.hub, w.ws
	if w.queued {
		h.leave(w)
		return
	}
	if !w.got || !w.ok {
		return
	}
	v := w.v
	w.v, w.got = nil, false
	if cur := h.waits[ws.key]; cur != nil {
		ws = cur
	} else {
		h.waits[ws.key] = ws
	}
	if !h.give(ws, v) { // (values are kept only while nobody waits)
		ws.kept = append(ws.kept, nil)
		copy(ws.kept[1:], ws.kept)
		ws.kept[0] = v
	}
	h.want(ws)
	h.drop(ws)
}

// run is the watcher: it selects over the channels that tasks of the loop
// wait on, and posts each value it takes to the loop.
func (h *chanHub) run() {
	defer close(h.exited)
	cases := []reflect.SelectCase{{Dir: reflect.SelectRecv, Chan: reflect.ValueOf(h.kick)}}
	var keys []any
	var cws []*chanWatch
	for {
		h.mu.Lock()
		if h.stopping {
			h.mu.Unlock()
			return
		}
		cases, keys, cws = cases[:1], keys[:0], cws[:0]
		for key, cw := range h.watch {
			cw.watching = cw.want > 0
			switch {
			case cw.watching:
				cases = append(cases, reflect.SelectCase{Dir: reflect.SelectRecv, Chan: cw.ch})
				keys, cws = append(keys, key), append(cws, cw)
			case cw.inflight == 0:
				delete(h.watch, key)
			}
		}
		h.mu.Unlock()
		chosen, rv, ok := reflect.Select(cases)
		if chosen == 0 {
			continue // the watch changed
		}
		key, cw := keys[chosen-1], cws[chosen-1]
		var v any
		if ok {
			v = rv.Interface()
		}
		h.mu.Lock()
		if !ok {
			cw.want = 0 // closed: nothing more to take
		} else if cw.want > 0 {
			cw.want--
		}
		cw.inflight++
		h.mu.Unlock()
		// ErrClosed: the loop has ended, and the value is dropped with it.
		h.l.Post(func(context.Context) { h.arrive(key, cw, v, ok) })
	}
}

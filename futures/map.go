package futures

import (
	"context"
	"sync/atomic"

	"github.com/evergo/evergo/scheduler"
)

// Map runs fn on every item on e and returns the results in the order of
// items. It starts a worker in the first slot of e it gets (parking while e
// is full, as Submit does) and in every other slot free then, up to one per
// item; each worker runs fn on the next item not handed out yet until none
// is left: items run back to back, with no future and no task or goroutine
// per item, and while Map's workers hold e's slots, other Submits wait for
// them. When a call fails (returns an error or panics, or its task is
// killed), no item is handed out any more, and Map returns that error, the
// first in the order the calls ended; the calls running then end on their
// own, and their results are dropped. If ctx ends first, Map hands out no
// more items likewise and returns ctx's error; a kill of the task that
// called Map stops the handing out too. Map of no items returns an empty
// result at once. Map fails as Submit does. May park the calling task.
func Map[T, R any](ctx context.Context, e Executor, items []T, fn func(ctx context.Context, item T) (R, error)) ([]R, error) {
	if fn == nil {
		return nil, scheduler.ErrNilFunc
	}
	t := scheduler.Current(ctx)
	if t == nil {
		return nil, scheduler.ErrNoTask
	}
	m := &mapRun[T, R]{items: items, out: make([]R, len(items)), fn: fn, task: t}
	defer m.stop.Store(true) // on a failure, a ctx's end or a kill: hand out nothing more
	if len(items) > 0 {
		if err := e.slot(ctx, t); err != nil { // the first slot, parking for it
			return nil, err
		}
		for {
			if err := e.spread(ctx, m); err != nil {
				return nil, err
			}
			m.workers++
			if m.workers == min(e.size(), len(items)) || !e.trySlot() { // only slots free now
				break
			}
		}
	}
	for m.workers > 0 && m.err.Load() == nil {
		if err := scheduler.ParkWith(ctx, "futures.Map", &m.hook); err != nil {
			return nil, err
		}
	}
	if err := m.err.Load(); err != nil {
		return nil, *err
	}
	return m.out, nil
}

// A spreader is a Map seen by the executors: each worker calls work, on
// whatever goroutine the executor runs functions, then exited on the loop.
type spreader interface {
	work(ctx context.Context, inTask bool)
	exited()
}

// mapRun is one Map: its items, their results, and the workers running
// them. The atomics are what workers on a ThreadPool's goroutines share.
type mapRun[T, R any] struct {
	items []T
	out   []R // out[i] is written by the worker that took item i
	fn    func(ctx context.Context, item T) (R, error)
	next  atomic.Int64          // the next item to hand out
	stop  atomic.Bool           // Map has returned: hand out nothing more
	err   atomic.Pointer[error] // the first failure

	// On the loop.
	task    *scheduler.Task
	hook    scheduler.ParkHook
	workers int
}

func (m *mapRun[T, R]) work(ctx context.Context, inTask bool) {
	// Budget: BenchmarkTaskPoolMap against BenchmarkGoroutineMap. A few
	// atomics and a protected call per item; no allocation, no switch.
	for !m.stop.Load() && m.err.Load() == nil {
		i := int(m.next.Add(1) - 1)
		if i >= len(m.items) {
			return
		}
		v, err := protect(inTask, func() (R, error) { return m.fn(ctx, m.items[i]) }, m.fail)
		if err != nil {
			m.fail(err)
			return
		}
		m.out[i] = v
	}
}

// fail records err as the Map's failure, unless one came first.
func (m *mapRun[T, R]) fail(err error) {
	m.err.CompareAndSwap(nil, &err)
}

// exited is told on the loop that a worker has ended; the last one, or one
// that saw a failure, wakes the Map.
func (m *mapRun[T, R]) exited() {
	m.workers--
	if m.workers == 0 || m.err.Load() != nil {
		m.task.WakeWith(&m.hook)
	}
}

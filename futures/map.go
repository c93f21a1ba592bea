package futures

import (
	"context"

	"github.com/evergo/evergo/scheduler"
)

// Map runs fn on every item on e, as Submit does, and returns the results
// in the order of items. While e is full, Map parks until a function ends,
// and hands it the next item: no more than e's size run at once. When a
// call fails (returns an error or panics), Map stops handing out items,
// cancels the calls that have not started, and returns that error, the
// first in the order the calls ended; the calls running then end on their
// own, and their results are dropped. If ctx ends first, Map cancels what
// has not started likewise and returns ctx's error. Map fails as Submit
// does; Map of no items returns an empty result at once. May park the
// calling task.
func Map[T, R any](ctx context.Context, e Executor, items []T, fn func(ctx context.Context, item T) (R, error)) ([]R, error) {
	if fn == nil {
		return nil, scheduler.ErrNilFunc
	}
	t := scheduler.Current(ctx)
	if t == nil {
		return nil, scheduler.ErrNoTask
	}
	works := make([]itemWork[T, R], len(items))
	fs := make([]*Future[R], len(items))
	w := &waiter{task: t, onFail: true}
	w.hook.OnKill = w
	w.nodes = make([]watch, len(items))
	ok := false
	defer func() {
		w.leave()
		if !ok { // an error, or the task is being killed
			for _, f := range fs {
				if f != nil {
					f.Cancel()
				}
			}
		}
	}()
	cancel := func(err error) ([]R, error) { return nil, err }
	for i := range items {
		if err := e.slot(ctx, t); err != nil {
			return cancel(err)
		}
		if w.failed { // while Map waited for the slot
			e.free()
			return cancel(firstFailure(w, fs))
		}
		j := &works[i]
		j.fn, j.item = fn, items[i]
		if err := e.run(ctx, j); err != nil {
			return cancel(err)
		}
		j.f.home.Check(t) // binds it to the loop, which exec has vetted
		fs[i] = &j.f
		nd := &w.nodes[i]
		nd.w, nd.i = w, i
		j.f.watches.push(nd)
		w.wakeAt++
	}
	if w.unseen() < w.wakeAt && !w.failed {
		if err := scheduler.ParkWith(ctx, "futures.Map", &w.hook); err != nil {
			return cancel(err)
		}
	}
	if w.failed {
		return cancel(firstFailure(w, fs))
	}
	out := make([]R, len(items))
	for i := range works {
		out[i] = works[i].f.value
	}
	ok = true
	return out, nil
}

// firstFailure returns the error of the first of fs to fail.
func firstFailure[R any](w *waiter, fs []*Future[R]) error {
	for _, i := range w.fired {
		if f := fs[i]; f.failed() {
			return f.err
		}
	}
	panic("futures: internal error: Map woken for a failure it cannot find")
}

// itemWork is Map's job: fn on one item.
type itemWork[T, R any] struct {
	work[R]
	fn   func(ctx context.Context, item T) (R, error)
	item T
}

func (w *itemWork[T, R]) call(ctx context.Context, inTask bool) {
	w.keep(inTask, func() (R, error) { return w.fn(ctx, w.item) })
}

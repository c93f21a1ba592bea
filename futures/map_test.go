package futures_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func TestMapReturnsTheResultsInTheOrderOfTheItems(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 4)
		var ended []int
		out, err := futures.Map(ctx, p, []int{4, 1, 3, 2}, func(ctx context.Context, secs int) (int, error) {
			if err := scheduler.Sleep(ctx, time.Duration(secs)*time.Second); err != nil {
				return 0, err
			}
			ended = append(ended, secs)
			return secs * 10, nil
		})
		if err != nil {
			return err
		}
		if want := []int{1, 2, 3, 4}; !slices.Equal(ended, want) {
			t.Errorf("calls ended in order %v, want %v", ended, want)
		}
		if want := []int{40, 10, 30, 20}; !slices.Equal(out, want) {
			t.Errorf("Map = %v, want %v (the order of the items)", out, want)
		}
		return nil
	})
}

func TestMapReturnsTheErrorAndCancelsTheItemsNotStarted(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		boom := errors.New("boom")
		var called []int
		items := []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}
		out, err := futures.Map(ctx, p, items, func(ctx context.Context, i int) (int, error) {
			called = append(called, i)
			if i == 1 {
				return 0, boom
			}
			return i, scheduler.Sleep(ctx, time.Second)
		})
		if !errors.Is(err, boom) || out != nil {
			t.Errorf("Map = %v, %v; want nil, boom", out, err)
		}
		// Item 0's call was running when item 1 failed; it ends on its
		// own, and no item is handed out after it.
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if want := []int{0, 1}; !slices.Equal(called, want) {
			t.Errorf("the function was called for %v, want %v only", called, want)
		}
		return nil
	})
}

func TestMapReturnsTheFirstErrorInTimeNotInItemOrder(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 3)
		early, late := errors.New("early"), errors.New("late")
		type call struct {
			after time.Duration
			err   error
		}
		items := []call{{3 * time.Second, late}, {time.Second, nil}, {2 * time.Second, early}}
		ended := 0
		start := scheduler.Now(ctx)
		_, err := futures.Map(ctx, p, items, func(ctx context.Context, c call) (int, error) {
			if err := scheduler.Sleep(ctx, c.after); err != nil {
				return 0, err
			}
			ended++
			return 0, c.err
		})
		if err != early {
			t.Errorf("Map = %v, want early (the first to fail, at 2s)", err)
		}
		if d := since(ctx, start); d != 2*time.Second {
			t.Errorf("Map returned after %v, want 2s: at the first failure", d)
		}
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if ended != 3 {
			t.Errorf("%d calls ended, want 3: those running end on their own", ended)
		}
		return nil
	})
}

func TestMapOfAPanickingFunctionReturnsPanicError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		_, err := futures.Map(ctx, p, []int{0, 1, 2}, func(ctx context.Context, i int) (int, error) {
			if i == 1 {
				panic("boom")
			}
			return i, nil
		})
		var pe *futures.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" {
			t.Errorf("Map = %v, want a *PanicError of boom", err)
		}
		return nil
	})
}

func TestMapWhoseDeadlinePassesReturnsItAndHandsOutNoMoreItems(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		var called []int
		ended := 0
		start := scheduler.Now(ctx)
		short, cancel := scheduler.WithDeadline(ctx, start.Add(1500*time.Millisecond))
		defer cancel()
		out, err := futures.Map(short, p, []int{0, 1, 2, 3, 4, 5}, func(ctx context.Context, i int) (int, error) {
			called = append(called, i)
			if err := scheduler.Sleep(ctx, time.Second); err != nil {
				return 0, err
			}
			ended++
			return i, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) || out != nil {
			t.Errorf("Map = %v, %v; want nil, DeadlineExceeded", out, err)
		}
		if d := since(ctx, start); d != 1500*time.Millisecond {
			t.Errorf("Map returned after %v, want 1.5s (its deadline)", d)
		}
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		// 0 and 1 from 0s to 1s, 2 and 3 from 1s to 2s; at 1.5s Map waits
		// for a slot for 4.
		if want := []int{0, 1, 2, 3}; !slices.Equal(called, want) || ended != 4 {
			t.Errorf("called for %v, %d ended; want %v, all ended", called, ended, want)
		}
		return nil
	})
}

func TestMapWithAPassedDeadlineRunsNoItem(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 10)
		short, cancel := scheduler.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := scheduler.Sleep(ctx, 2*time.Second); err != nil { // past it, on the loop's clock
			return err
		}
		called := 0
		_, err := futures.Map(short, p, []int{0, 1, 2, 3, 4}, func(context.Context, int) (int, error) {
			called++
			return 0, nil
		})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Map = %v, want DeadlineExceeded", err)
		}
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if called != 0 {
			t.Errorf("%d functions ran, want none: Map hands out nothing once its ctx has ended", called)
		}
		return nil
	})
}

func TestMapOfNoItemsReturnsAnEmptyResult(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		called := false
		fn := func(context.Context, int) (int, error) {
			called = true
			return 0, nil
		}
		for _, items := range [][]int{nil, {}} {
			out, err := futures.Map(ctx, p, items, fn)
			if len(out) != 0 || err != nil {
				t.Errorf("Map of %#v = %v, %v; want an empty result, nil", items, out, err)
			}
		}
		if called {
			t.Error("the function ran without an item")
		}
		return nil
	})
}

func TestMapOnAThreadPoolReturnsTheResultsInOrder(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 4)
		items := make([]int, 16)
		for i := range items {
			items[i] = i
		}
		var running, peak atomic.Int32
		out, err := futures.Map(ctx, p, items, func(_ context.Context, i int) (int, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			runtime.Gosched() // the four goroutines interleave

			return i * i, nil
		})
		if err != nil {
			return err
		}
		for i, v := range out {
			if v != i*i {
				t.Errorf("Map = %v, want the squares of 0..%d in order", out, len(items)-1)
				break
			}
		}
		if len(out) != len(items) {
			t.Errorf("Map returned %d results for %d items", len(out), len(items))
		}
		if n := peak.Load(); n > 4 {
			t.Errorf("%d functions ran at once on a pool of 4", n)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestMapAfterShutdownFails(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		tasks := newTaskPool(t, 1)
		threads := newThreadPool(t, 1)
		for _, e := range []futures.Executor{tasks, threads} {
			if err := e.Shutdown(ctx, true); err != nil {
				return err
			}
			called := false
			out, err := futures.Map(ctx, e, []int{1, 2}, func(context.Context, int) (int, error) {
				called = true
				return 0, nil
			})
			if !errors.Is(err, futures.ErrShutdown) || out != nil {
				t.Errorf("Map on a %T after Shutdown = %v, %v; want nil, ErrShutdown", e, out, err)
			}
			if called {
				t.Errorf("Map on a %T after Shutdown ran the function", e)
			}
		}
		return nil
	})
}

// When a call fails while Map waits for a slot, the slot Map then gets
// still takes the next item to the pool (map.go checks w.failed only after
// exec): on a TaskPool a task is started for it, and cancelled before it
// runs.
func TestMapStartsNoTaskForAnItemAfterACallFailed(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		l := scheduler.LoopOf(ctx)
		before := l.Stats().Tasks
		boom := errors.New("boom")
		var called []int
		_, err := futures.Map(ctx, p, []int{0, 1, 2}, func(_ context.Context, i int) (int, error) {
			called = append(called, i)
			return 0, boom // item 0 fails: nothing more is handed out
		})
		if !errors.Is(err, boom) {
			t.Errorf("Map = %v, want boom", err)
		}
		if n := l.Stats().Tasks - before; n != 0 {
			t.Errorf("%d pool tasks alive once Map returned, want 0: an item was handed out after the failure", n)
		}
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if want := []int{0}; !slices.Equal(called, want) {
			t.Errorf("the function was called for %v, want %v only", called, want)
		}
		return nil
	})
}

// The same on a ThreadPool: a worker may claim the item handed out after
// the failure before Map's Cancel does, and its function runs. A race:
// each round gives the worker that chance (it wins in a few rounds in a
// hundred under -race, rarely without).
func TestMapOnAThreadPoolHandsOutNoItemAfterACallFailed(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		boom := errors.New("boom")
		const rounds = 1000
		var late atomic.Int32 // calls for item 1, handed out after item 0 failed
		for range rounds {
			p := newThreadPool(t, 1)
			_, err := futures.Map(ctx, p, []int{0, 1, 2}, func(_ context.Context, i int) (int, error) {
				if i == 0 {
					return 0, boom
				}
				late.Add(1)
				return i, nil
			})
			if !errors.Is(err, boom) {
				t.Fatalf("Map = %v, want boom", err)
			}
			if err := p.Shutdown(ctx, true); err != nil {
				return err
			}
		}
		if n := late.Load(); n != 0 {
			t.Errorf("in %d of %d rounds the function ran for an item Map handed out after a call had failed", n, rounds)
		}
		return nil
	})
}

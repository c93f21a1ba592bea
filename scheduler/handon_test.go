package scheduler_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

// pingPong runs two tasks that wake each other through Park and Wake n times
// each, and returns the loop's trace.
func pingPong(t *testing.T, n int, opts ...scheduler.Option) scheduler.Trace {
	t.Helper()
	var tr scheduler.Trace
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var a, b *scheduler.Task
		var order []string
		side := func(name string, other **scheduler.Task) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for range n {
					order = append(order, name)
					(*other).Wake()
					if err := scheduler.Park(ctx, "ping"); err != nil {
						return err
					}
				}
				(*other).Wake()
				return nil
			}
		}
		a, _ = scheduler.Spawn(ctx, "a", side("a", &b))
		b, _ = scheduler.Spawn(ctx, "b", side("b", &a))
		if err := a.Join(ctx); err != nil {
			return err
		}
		if err := b.Join(ctx); err != nil {
			return err
		}
		for i, name := range order {
			if want := "ab"[i%2 : i%2+1]; name != want {
				t.Errorf("turn %d went to %s, want %s (order %v)", i, name, want, order)
				break
			}
		}
		return nil
	}, append(opts, scheduler.WithTrace(&tr))...)
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestParkHandsTheBatonOnInTheLoopsOrder(t *testing.T) {
	// A parking task resumes the next runnable task itself when the loop
	// is quiet: the trace must be the one the loop would have made.
	got := pingPong(t, 50)
	want := scheduler.Trace{1, 2, 3}
	for range 50 {
		want = append(want, 2, 3)
	}
	want = append(want, 1)
	if !slices.Equal(got, want) {
		t.Fatalf("trace %v\nwant  %v", got, want)
	}
}

func TestHandOnYieldsToAPostFromAnotherGoroutine(t *testing.T) {
	// Two tasks that hand the baton to each other forever still let the
	// loop serve a post: handing on is only for a quiet loop.
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		var stop atomic.Bool
		var a, b *scheduler.Task
		side := func(other **scheduler.Task) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for !stop.Load() {
					(*other).Wake()
					if err := scheduler.Park(ctx, "ping"); err != nil {
						return err
					}
				}
				(*other).Wake()
				return nil
			}
		}
		a, _ = scheduler.Go(ctx, side(&b))
		b, _ = scheduler.Go(ctx, side(&a))
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.Post(func(context.Context) { stop.Store(true) })
		}()
		defer func() { <-done }()
		if err := a.Join(ctx); err != nil {
			return err
		}
		return b.Join(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

package futures_test

import (
	"context"
	"sync"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// BenchmarkThreadPoolRoundTrip submits a trivial function to a ThreadPool
// from a task and gets its result back: the slot, the hand-off to a pool
// goroutine, the post back to the loop and the wake-up of the task. Its
// baseline is BenchmarkGoChanRoundTrip.
func BenchmarkThreadPoolRoundTrip(b *testing.B) {
	b.ReportAllocs()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewThreadPool(1)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		one := func(context.Context) (int, error) { return 1, nil }
		b.ResetTimer()
		for b.Loop() {
			f, err := futures.Submit(ctx, pool, one)
			if err != nil {
				return err
			}
			if _, err := f.Get(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGoChanRoundTrip is what plain Go does for the same: a goroutine
// per call and a channel back, from a plain goroutine.
func BenchmarkGoChanRoundTrip(b *testing.B) {
	b.ReportAllocs()
	one := func(context.Context) (int, error) { return 1, nil }
	ctx := context.Background()
	for b.Loop() {
		ch := make(chan int, 1)
		go func() {
			v, _ := one(ctx)
			ch <- v
		}()
		<-ch
	}
}

const mapItems = 10_000

// BenchmarkTaskPoolMap maps a trivial function over 10k items on a
// TaskPool of 100 tasks. Its baseline is BenchmarkGoroutineMap.
func BenchmarkTaskPoolMap(b *testing.B) {
	b.ReportAllocs()
	items := make([]int, mapItems)
	for i := range items {
		items[i] = i
	}
	double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(100)
		if err != nil {
			return err
		}
		b.ResetTimer()
		for b.Loop() {
			out, err := futures.Map(ctx, pool, items, double)
			if err != nil {
				return err
			}
			if out[mapItems-1] != 2*(mapItems-1) {
				b.Fatalf("out[last] = %d", out[mapItems-1])
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkGoroutineMap is the same map in plain Go: a goroutine per item,
// at most 100 at a time, results in order.
func BenchmarkGoroutineMap(b *testing.B) {
	b.ReportAllocs()
	items := make([]int, mapItems)
	for i := range items {
		items[i] = i
	}
	double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
	ctx := context.Background()
	for b.Loop() {
		out := make([]int, len(items))
		sem := make(chan struct{}, 100)
		var wg sync.WaitGroup
		for i, it := range items {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				out[i], _ = double(ctx, it)
			})
		}
		wg.Wait()
		if out[mapItems-1] != 2*(mapItems-1) {
			b.Fatalf("out[last] = %d", out[mapItems-1])
		}
	}
}

package futures_test

import (
	"context"
	"iter"
	"slices"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// A mapper runs fn over items on e, n at a time, the way a benchmark
// compares: MapSeq, MapSeqUnordered, or Map of the whole slice.
type mapper func(ctx context.Context, e futures.Executor, n int, items []int, fn func(context.Context, int) (int, error)) iter.Seq2[int, error]

func streamed(mapSeq func(context.Context, futures.Executor, int, iter.Seq[int], func(context.Context, int) (int, error)) iter.Seq2[int, error]) mapper {
	return func(ctx context.Context, e futures.Executor, n int, items []int, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
		return mapSeq(ctx, e, n, slices.Values(items), fn)
	}
}

func sliced(ctx context.Context, e futures.Executor, _ int, items []int, fn func(context.Context, int) (int, error)) iter.Seq2[int, error] {
	return func(yield func(int, error) bool) {
		out, err := futures.Map(ctx, e, items, fn)
		if err != nil {
			yield(0, err)
			return
		}
		for _, r := range out {
			if !yield(r, nil) {
				return
			}
		}
	}
}

var (
	double         = func(_ context.Context, i int) (int, error) { return 2 * i, nil }
	doubleYielding = func(ctx context.Context, i int) (int, error) { return 2 * i, scheduler.Sleep(ctx, 0) }
	taskPool       = func() (futures.Executor, error) { return futures.NewTaskPool(100) }
	threadPool     = func() (futures.Executor, error) { return futures.NewThreadPool(8) }
)

// BenchmarkTaskPoolMapSeq streams the 10k items of BenchmarkTaskPoolMap
// through MapSeq, 100 at a time on a TaskPool of 100 tasks, results in
// order. Its baseline is BenchmarkTaskPoolMap: the same items and function
// with the whole slice known in advance.
func BenchmarkTaskPoolMapSeq(b *testing.B) {
	benchmarkMapping(b, taskPool, 100, double, streamed(futures.MapSeq[int, int]))
}

// BenchmarkTaskPoolMapSeqUnordered is BenchmarkTaskPoolMapSeq with the
// results in the order the calls end.
func BenchmarkTaskPoolMapSeqUnordered(b *testing.B) {
	benchmarkMapping(b, taskPool, 100, double, streamed(futures.MapSeqUnordered[int, int]))
}

// BenchmarkThreadPoolMapSeq streams the 10k items through MapSeq on a
// ThreadPool of 8 goroutines, 64 at a time. Its baseline is
// BenchmarkThreadPoolMapSlice, Map of the same slice on the same pool.
func BenchmarkThreadPoolMapSeq(b *testing.B) {
	benchmarkMapping(b, threadPool, 64, double, streamed(futures.MapSeq[int, int]))
}

// BenchmarkThreadPoolMapSlice is Map over BenchmarkThreadPoolMapSeq's items.
func BenchmarkThreadPoolMapSlice(b *testing.B) {
	benchmarkMapping(b, threadPool, 64, double, sliced)
}

// BenchmarkTaskPoolMapSeqYielding streams 10k items whose function yields
// once (Sleep(ctx, 0), the cheapest park: a stand-in for a network wait),
// 100 at a time on a TaskPool of 100. Its baseline is
// BenchmarkTaskPoolMapYielding, Map of the same items and function.
func BenchmarkTaskPoolMapSeqYielding(b *testing.B) {
	benchmarkMapping(b, taskPool, 100, doubleYielding, streamed(futures.MapSeq[int, int]))
}

// BenchmarkTaskPoolMapYielding is Map over BenchmarkTaskPoolMapSeqYielding's
// items.
func BenchmarkTaskPoolMapYielding(b *testing.B) {
	benchmarkMapping(b, taskPool, 100, doubleYielding, sliced)
}

// benchmarkMapping maps fn over mapItems items on a pool from newPool, n at
// a time, with m, and checks the sum of the results.
func benchmarkMapping(b *testing.B, newPool func() (futures.Executor, error), n int, fn func(context.Context, int) (int, error), m mapper) {
	b.ReportAllocs()
	items := make([]int, mapItems)
	for i := range items {
		items[i] = i
	}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := newPool()
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		b.ResetTimer()
		for b.Loop() {
			sum := 0
			for r, err := range m(ctx, pool, n, items, fn) {
				if err != nil {
					return err
				}
				sum += r
			}
			if sum != mapItems*(mapItems-1) {
				b.Fatalf("sum = %d", sum)
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

package futures_test

import (
	"context"
	"iter"
	"slices"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// BenchmarkTaskPoolMapSeq streams the 10k items of BenchmarkTaskPoolMap
// through MapSeq, 100 at a time on a TaskPool of 100 tasks, results in
// order. Its baseline is BenchmarkTaskPoolMap: the same items and function
// with the whole slice known in advance.
func BenchmarkTaskPoolMapSeq(b *testing.B) {
	benchmarkMapSeq(b, futures.MapSeq[int, int])
}

// BenchmarkTaskPoolMapSeqUnordered is BenchmarkTaskPoolMapSeq with the
// results in the order the calls end.
func BenchmarkTaskPoolMapSeqUnordered(b *testing.B) {
	benchmarkMapSeq(b, futures.MapSeqUnordered[int, int])
}

func benchmarkMapSeq(b *testing.B, mapSeq func(context.Context, futures.Executor, int, iter.Seq[int], func(context.Context, int) (int, error)) iter.Seq2[int, error]) {
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
			sum := 0
			for r, err := range mapSeq(ctx, pool, 100, slices.Values(items), double) {
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

// BenchmarkThreadPoolMapSeq streams the 10k items through MapSeq on a
// ThreadPool of 8 goroutines, 64 at a time. Its baseline is
// BenchmarkThreadPoolMapSlice, Map of the same slice on the same pool.
func BenchmarkThreadPoolMapSeq(b *testing.B) {
	benchmarkThreadPool(b, true)
}

// BenchmarkThreadPoolMapSlice is Map over BenchmarkThreadPoolMapSeq's items.
func BenchmarkThreadPoolMapSlice(b *testing.B) {
	benchmarkThreadPool(b, false)
}

func benchmarkThreadPool(b *testing.B, stream bool) {
	b.ReportAllocs()
	items := make([]int, mapItems)
	for i := range items {
		items[i] = i
	}
	double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewThreadPool(8)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		b.ResetTimer()
		for b.Loop() {
			sum := 0
			if stream {
				for r, err := range futures.MapSeq(ctx, pool, 64, slices.Values(items), double) {
					if err != nil {
						return err
					}
					sum += r
				}
			} else {
				out, err := futures.Map(ctx, pool, items, double)
				if err != nil {
					return err
				}
				for _, r := range out {
					sum += r
				}
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

// BenchmarkTaskPoolMapSeqYielding streams 10k items whose function yields
// once (Sleep(ctx, 0), the cheapest park: a stand-in for a network wait),
// 100 at a time on a TaskPool of 100. Its baseline is
// BenchmarkTaskPoolMapYielding, Map of the same items and function.
func BenchmarkTaskPoolMapSeqYielding(b *testing.B) {
	benchmarkYielding(b, true)
}

// BenchmarkTaskPoolMapYielding is Map over BenchmarkTaskPoolMapSeqYielding's
// items.
func BenchmarkTaskPoolMapYielding(b *testing.B) {
	benchmarkYielding(b, false)
}

func benchmarkYielding(b *testing.B, stream bool) {
	b.ReportAllocs()
	items := make([]int, mapItems)
	for i := range items {
		items[i] = i
	}
	double := func(ctx context.Context, i int) (int, error) { return 2 * i, scheduler.Sleep(ctx, 0) }
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(100)
		if err != nil {
			return err
		}
		b.ResetTimer()
		for b.Loop() {
			sum := 0
			if stream {
				for r, err := range futures.MapSeq(ctx, pool, 100, slices.Values(items), double) {
					if err != nil {
						return err
					}
					sum += r
				}
			} else {
				out, err := futures.Map(ctx, pool, items, double)
				if err != nil {
					return err
				}
				for _, r := range out {
					sum += r
				}
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

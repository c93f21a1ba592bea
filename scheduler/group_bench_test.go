package scheduler_test

import (
	"context"
	"testing"

	"github.com/evergo/evergo/scheduler"
	"golang.org/x/sync/errgroup"
)

// BenchmarkGroupGoWait starts eight trivial members and waits for them,
// beside BenchmarkErrgroupGoWait, the same with x/sync/errgroup's
// goroutines.
func BenchmarkGroupGoWait(b *testing.B) {
	nop := func(context.Context) error { return nil }
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var g scheduler.Group
		b.ReportAllocs()
		for b.Loop() {
			for range 8 {
				g.Go(ctx, nop)
			}
			g.Wait(ctx)
		}
		return nil
	})
}

func BenchmarkErrgroupGoWait(b *testing.B) {
	nop := func() error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		var g errgroup.Group
		for range 8 {
			g.Go(nop)
		}
		g.Wait()
	}
}

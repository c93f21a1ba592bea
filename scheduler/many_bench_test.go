package scheduler_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

// What a switch costs once the tasks' state no longer fits in the caches:
// n tasks yield in turn, each from a few frames down (as a server's
// connection task parks inside its Read), so that every switch resumes a
// task whose stack, goroutine and bookkeeping the other n-1 have pushed
// out. The time per op is per switch. At 50 tasks all of it stays in the
// L1 and L2 caches; at 5,000 (an echo server's connections) it does not.
// This is what grows with the echo server's connections (internal/bench/echo,
// user CPU per message): a task switch grows from 50 to 5,000 tasks
// several times as much as a hand-off between goroutines of the same shape
// (BenchmarkManyGoroutinesRoundRobin), and varies far more from one process
// to the next. The profile puts the extra time on the resumed task's first
// touches of its own stack and in the coroutine switch. Run it many times:
//
//	go test ./scheduler -run '^$' -bench 'Many' -cpu 1 -count 6
func BenchmarkManyTasksRoundRobin(b *testing.B) {
	for _, n := range []int{50, 5000} {
		b.Run("tasks="+strconv.Itoa(n), func(b *testing.B) {
			rounds := b.N/n + 1
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				for range n {
					scheduler.Go(ctx, func(ctx context.Context) error {
						for range rounds {
							if err := yieldDown(ctx, 4); err != nil {
								return err
							}
						}
						return nil
					})
				}
				b.ResetTimer()
				return nil
			})
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*n), "ns/switch")
		})
	}
}

// The baseline: n goroutines at GOMAXPROCS=1 (-cpu 1) passing a token
// round a ring of channels, each from the same depth: every hand-off
// resumes a goroutine the others have pushed out of the caches.
func BenchmarkManyGoroutinesRoundRobin(b *testing.B) {
	for _, n := range []int{50, 5000} {
		b.Run("goroutines="+strconv.Itoa(n), func(b *testing.B) {
			rounds := b.N/n + 1
			ring := make([]chan struct{}, n)
			for i := range ring {
				ring[i] = make(chan struct{}, 1)
			}
			done := make(chan struct{})
			for i := range n {
				go func() {
					for r := range rounds {
						recvDown(ring[i], 4)
						if i == n-1 && r == rounds-1 {
							close(done)
							return
						}
						ring[(i+1)%n] <- struct{}{}
					}
				}()
			}
			b.ResetTimer()
			ring[0] <- struct{}{}
			<-done
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*n), "ns/switch")
		})
	}
}

// yieldDown yields from d frames of 64 bytes down.
//
//go:noinline
func yieldDown(ctx context.Context, d int) error {
	var pad [64]byte
	pad[d] = byte(d)
	if d == 0 {
		return scheduler.Sleep(ctx, 0)
	}
	err := yieldDown(ctx, d-1)
	if pad[0] != 0 {
		return nil
	}
	return err
}

// recvDown receives from c from d frames of 64 bytes down.
//
//go:noinline
func recvDown(c chan struct{}, d int) {
	var pad [64]byte
	pad[d] = byte(d)
	if d == 0 {
		<-c
		return
	}
	recvDown(c, d-1)
	if pad[0] != 0 {
		println()
	}
}

package scheduler_test

import (
	"context"
	"iter"
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
// user CPU per message). Beside it, the same shape with goroutines
// (BenchmarkManyGoroutinesRoundRobin) and with bare coroutines
// (BenchmarkManyCoroutinesRoundRobin): all three grow, the memory system
// being what it is, and the figures swing from one run to the next. Run it
// several times:
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

// Bare coroutines, the mechanism under a task: n iter.Pull coroutines
// resumed in turn, each yielding from the same depth as the tasks above.
func BenchmarkManyCoroutinesRoundRobin(b *testing.B) {
	for _, n := range []int{50, 5000} {
		b.Run("coroutines="+strconv.Itoa(n), func(b *testing.B) {
			rounds := b.N/n + 1
			nexts := make([]func() (struct{}, bool), n)
			stops := make([]func(), n)
			for i := range nexts {
				nexts[i], stops[i] = iter.Pull(func(yield func(struct{}) bool) {
					for yieldDownPull(yield, 4) {
					}
				})
			}
			defer func() {
				for _, stop := range stops {
					stop()
				}
			}()
			b.ResetTimer()
			for range rounds {
				for _, next := range nexts {
					next()
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(rounds*n), "ns/switch")
		})
	}
}

// yieldDownPull yields from d frames of 64 bytes down.
//
//go:noinline
func yieldDownPull(yield func(struct{}) bool, d int) bool {
	var pad [64]byte
	pad[d] = byte(d)
	if d == 0 {
		return yield(struct{}{})
	}
	more := yieldDownPull(yield, d-1)
	return more && pad[0] == 0
}

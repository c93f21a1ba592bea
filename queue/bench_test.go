package queue_test

import (
	"context"
	"runtime"
	"testing"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// Budgets (../DESIGN.md), each benchmark beside its baseline in this file:
//
//	QueuePingPong  ≤ 0.6× ChanPingPong (both at GOMAXPROCS=1), 0 allocs/op

// Baseline: two goroutines at GOMAXPROCS=1; one op is a send and a receive
// each way over unbuffered channels.
func BenchmarkChanPingPong(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.ReportAllocs()
	ping, pong := make(chan int), make(chan int)
	go func() {
		for v := range ping {
			pong <- v
		}
		close(pong)
	}()
	for i := 0; b.Loop(); i++ {
		ping <- i
		<-pong
	}
	close(ping)
	<-pong
}

// Two tasks at GOMAXPROCS=1; one op is a Put and a Get each way over two
// queues.
func BenchmarkQueuePingPong(b *testing.B) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	b.ReportAllocs()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ping, pong := queue.New[int](0), queue.New[int](0)
		echo, _ := scheduler.Go(ctx, func(ctx context.Context) error {
			for {
				v, err := ping.Get(ctx)
				if err != nil {
					return nil // shut down
				}
				if err := pong.Put(ctx, v); err != nil {
					return err
				}
			}
		})
		for i := 0; b.Loop(); i++ {
			if err := ping.Put(ctx, i); err != nil {
				return err
			}
			if _, err := pong.Get(ctx); err != nil {
				return err
			}
		}
		ping.Shutdown()
		return echo.Join(ctx)
	})
	if err != nil {
		b.Fatal(err)
	}
}

package scheduler_test

import (
	"context"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

// Budget (../DESIGN.md, the cross-goroutine bridge), beside its baseline in
// this file:
//
//	InboxFromGoroutine  ≤ 1.5× ChanBetweenGoroutines (ns per item)
//
// Both hand b.N items from one goroutine to one receiver through a buffer
// of bridgeBenchSize: a task on a loop receiving from an Inbox, against a
// goroutine receiving from a buffered channel. Compare them in alternating
// runs:
//
//	go test -run '^$' -bench 'InboxFromGoroutine|ChanBetweenGoroutines' -count 1 ./scheduler

const bridgeBenchSize = 128

func BenchmarkInboxFromGoroutine(b *testing.B) {
	b.ReportAllocs()
	done := make(chan error, 1)
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), bridgeBenchSize)
		b.ResetTimer()
		go func() {
			bg := context.Background()
			for i := range b.N {
				if err := in.Send(bg, i); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for i := range b.N {
			v, err := in.Receive(ctx)
			if err != nil {
				return err
			}
			if v != i {
				b.Fatalf("received %d, want %d", v, i)
			}
		}
		b.StopTimer()
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if err := <-done; err != nil {
		b.Fatal(err)
	}
}

// Baseline: a buffered channel of the same capacity between two goroutines.
func BenchmarkChanBetweenGoroutines(b *testing.B) {
	b.ReportAllocs()
	ch := make(chan int, bridgeBenchSize)
	done := make(chan struct{})
	b.ResetTimer()
	go func() {
		defer close(done)
		for i := range b.N {
			ch <- i
		}
	}()
	for i := range b.N {
		if v := <-ch; v != i {
			b.Fatalf("received %d, want %d", v, i)
		}
	}
	b.StopTimer()
	<-done
}

package locks_test

import (
	"context"
	"runtime"
	"sync"
	"testing"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// Budgets (../DESIGN.md), each benchmark beside its baseline in this file:
//
//	LockUnlock  ≤ 1.0× SyncMutex, 0 allocs/op
//
// SemaphoreHandoff (100 tasks contending for one permit) has no budget; it is
// measured beside the same contention among goroutines on a channel used as
// a semaphore.

// inTask runs fn as a loop's main task and fails b on an error.
func inTask(b *testing.B, fn func(ctx context.Context) error) {
	b.Helper()
	if err := scheduler.Run(context.Background(), fn); err != nil {
		b.Fatal(err)
	}
}

// Baseline: an uncontended sync.Mutex Lock and Unlock.
func BenchmarkSyncMutex(b *testing.B) {
	b.ReportAllocs()
	var m sync.Mutex
	for b.Loop() {
		m.Lock()
		m.Unlock()
	}
}

// One op: an uncontended Lock and Unlock inside a task.
func BenchmarkLockUnlock(b *testing.B) {
	b.ReportAllocs()
	inTask(b, func(ctx context.Context) error {
		var m locks.Lock
		for b.Loop() {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			m.Unlock(ctx)
		}
		return nil
	})
}

const contenders = 100

// Baseline: 100 goroutines take turns holding a one-slot channel semaphore,
// yielding while they hold it. One op: one acquire and release.
func BenchmarkChanSemaphoreHandoff(b *testing.B) {
	b.ReportAllocs()
	sem := make(chan struct{}, 1)
	var wg sync.WaitGroup
	b.ResetTimer()
	for i := range contenders {
		wg.Go(func() {
			for range share(b.N, i) {
				sem <- struct{}{}
				runtime.Gosched()
				<-sem
			}
		})
	}
	wg.Wait()
}

// One op: one of 100 tasks takes the permit of a one-permit Semaphore,
// yields while it holds it (so that the others queue up), and releases it.
func BenchmarkSemaphoreHandoff(b *testing.B) {
	b.ReportAllocs()
	inTask(b, func(ctx context.Context) error {
		sem, err := locks.NewSemaphore(1)
		if err != nil {
			return err
		}
		ts := make([]*scheduler.Task, contenders)
		b.ResetTimer()
		for i := range ts {
			ts[i], _ = scheduler.Go(ctx, func(ctx context.Context) error {
				for range share(b.N, i) {
					if err := sem.Acquire(ctx); err != nil {
						return err
					}
					scheduler.Sleep(ctx, 0)
					sem.Release()
				}
				return nil
			})
		}
		for _, t := range ts {
			if err := t.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

// share is worker i's share of n operations among contenders.
func share(n, i int) int {
	s := n / contenders
	if i < n%contenders {
		s++
	}
	return s
}

package scheduler_test

import (
	"context"
	"iter"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// Budgets (../DESIGN.md), each benchmark beside its baseline in this file:
//
//	YieldPingPong     ≤ 1.5× IterPullRoundTrip, 0 allocs/op
//	SpawnJoin         ≤ 0.7× GoChanJoin
//	ParkedTaskMemory  ≤ 1.3× ParkedGoroutineMemory (B/task against B/goroutine),
//	                  each measured in a process of its own
//
// CallLater (10,000 timers scheduled and fired per op) has no budget; it is
// measured beside time.AfterFunc.

// Baseline: one next + yield of an iter.Pull coroutine.
func BenchmarkIterPullRoundTrip(b *testing.B) {
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		next()
	}
}

// One op: one task yields (Sleep(ctx, 0)) and the loop resumes the other.
func BenchmarkYieldPingPong(b *testing.B) { benchmarkYieldPingPong(b) }

// BenchmarkYieldPingPongWatched is BenchmarkYieldPingPong with a block
// watch on: its budget is 1.05× the unwatched one.
func BenchmarkYieldPingPongWatched(b *testing.B) {
	benchmarkYieldPingPong(b, scheduler.WithBlockWatch(time.Second, func(scheduler.LoopBlocked) {}))
}

func benchmarkYieldPingPong(b *testing.B, opts ...scheduler.Option) {
	b.ReportAllocs()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var ts [2]*scheduler.Task
		for i := range ts {
			ts[i], _ = scheduler.Go(ctx, func(ctx context.Context) error {
				for range b.N / 2 {
					if err := scheduler.Sleep(ctx, 0); err != nil {
						return err
					}
				}
				return nil
			})
		}
		scheduler.Sleep(ctx, 0) // both tasks are running now
		b.ResetTimer()
		for _, t := range ts {
			if err := t.Join(ctx); err != nil {
				return err
			}
		}
		b.StopTimer()
		return nil
	}, opts...)
	if err != nil {
		b.Fatal(err)
	}
}

// Baseline: start a goroutine and receive its end on a channel.
func BenchmarkGoChanJoin(b *testing.B) {
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		go func() { done <- struct{}{} }()
		<-done
	}
}

// One op: a task starts a trivial task and joins it.
func BenchmarkSpawnJoin(b *testing.B) {
	b.ReportAllocs()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		nop := func(context.Context) error { return nil }
		for b.Loop() {
			t, err := scheduler.Go(ctx, nop)
			if err != nil {
				return err
			}
			if err := t.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

const timers = 10_000

// delay spreads the timers over 100 µs.
func delay(i int) time.Duration { return time.Duration(i%100) * time.Microsecond }

// Baseline: 10,000 time.AfterFunc timers scheduled and fired.
func BenchmarkTimeAfterFunc(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		var wg sync.WaitGroup
		wg.Add(timers)
		for i := range timers {
			time.AfterFunc(delay(i), wg.Done)
		}
		wg.Wait()
	}
}

// One op: 10,000 CallLater timers scheduled and fired on the loop.
func BenchmarkCallLater(b *testing.B) {
	b.ReportAllocs()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		me := scheduler.Current(ctx)
		for b.Loop() {
			left := timers
			for i := range timers {
				l.CallLater(delay(i), func(context.Context) {
					if left--; left == 0 {
						me.Wake()
					}
				})
			}
			if err := scheduler.Park(ctx, "timers"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

const parked = 100_000

// inUse is the memory the runtime holds for the heap and goroutine stacks.
func inUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse + m.StackInuse
}

// memoryChild names, in the environment of a process of its own, the
// memory benchmark that process is to measure (see inOwnProcess).
const memoryChild = "EVERGO_BENCH_MEMORY_CHILD"

// inOwnProcess reports the memory per parked task or goroutine that
// measure returns (B/task), measured in a process of its own: this test
// binary, run again for the one benchmark. A process that ran the other
// memory benchmark first has its stack spans and heap grown already, and
// would read low.
func inOwnProcess(b *testing.B, measure func() float64) {
	name := strings.TrimPrefix(b.Name(), "Benchmark")
	if os.Getenv(memoryChild) == name {
		for b.Loop() {
			b.ReportMetric(measure(), "B/task")
		}
		return
	}
	for b.Loop() {
		cmd := exec.Command(os.Args[0], "-test.run", "^$", "-test.bench", "^"+b.Name()+"$",
			"-test.benchtime", "1x", "-test.count", "1")
		cmd.Env = append(os.Environ(), memoryChild+"="+name)
		out, err := cmd.CombinedOutput()
		if err != nil {
			b.Fatalf("%s in a process of its own: %v\n%s", b.Name(), err, out)
		}
		v, ok := 0.0, false
		for line := range strings.Lines(string(out)) {
			f := strings.Fields(line)
			if len(f) == 6 && strings.HasPrefix(f[0], b.Name()) && f[5] == "B/task" {
				v, err = strconv.ParseFloat(f[4], 64)
				ok = err == nil
			}
		}
		if !ok {
			b.Fatalf("%s in a process of its own reported no B/task:\n%s", b.Name(), out)
		}
		b.ReportMetric(v, "B/task")
	}
}

// Baseline: the memory of 100,000 goroutines parked on a channel, per
// goroutine (B/task), measured in a process of its own. Run with
// -benchtime=1x.
func BenchmarkParkedGoroutineMemory(b *testing.B) {
	inOwnProcess(b, func() float64 {
		before := inUse()
		release := make(chan struct{})
		var wg sync.WaitGroup
		for range parked {
			wg.Go(func() { <-release })
		}
		after := inUse()
		close(release)
		wg.Wait()
		return float64(after-before) / parked
	})
}

// The memory of 100,000 parked tasks, per task (B/task), measured in a
// process of its own. Run with -benchtime=1x.
func BenchmarkParkedTaskMemory(b *testing.B) {
	inOwnProcess(b, func() float64 {
		var before, after uint64
		err := scheduler.Run(context.Background(), func(ctx context.Context) error {
			ts := make([]*scheduler.Task, parked)
			before = inUse()
			for i := range ts {
				ts[i], _ = scheduler.Go(ctx, func(ctx context.Context) error {
					return scheduler.Park(ctx, "benchmark")
				})
			}
			scheduler.Sleep(ctx, 0) // every task runs and parks
			after = inUse()
			for _, t := range ts {
				t.Wake()
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
		return float64(after-before) / parked
	})
}

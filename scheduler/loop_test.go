package scheduler_test

import (
	"context"
	"errors"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// forever runs a new loop with RunForever on a goroutine, runs setup on it,
// and returns the loop and a channel that yields RunForever's result.
func forever(t *testing.T, setup func(ctx context.Context, l *scheduler.Loop), opts ...scheduler.Option) (*scheduler.Loop, <-chan error) {
	t.Helper()
	l := scheduler.New(opts...)
	if err := l.Post(func(ctx context.Context) { setup(ctx, l) }); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- l.RunForever(context.Background()) }()
	return l, done
}

func TestCallSoonRuns(t *testing.T) {
	var got []string
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		l.CallSoon(func(context.Context) { got = append(got, "soon") })
		got = append(got, "task")
		return scheduler.Sleep(ctx, 0)
	})
	if want := []string{"task", "soon"}; !slices.Equal(got, want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

func TestCancelledCallSoonDoesNotRun(t *testing.T) {
	ran := false
	run(t, func(ctx context.Context) error {
		h := scheduler.LoopOf(ctx).CallSoon(func(context.Context) { ran = true })
		if !h.Cancel() {
			t.Error("Cancel of a pending callback reported false")
		}
		if h.Cancel() {
			t.Error("second Cancel reported true")
		}
		return scheduler.Sleep(ctx, 0)
	})
	if ran {
		t.Fatal("a cancelled CallSoon ran")
	}
}

func TestCallLaterRunsInDeadlineOrder(t *testing.T) {
	var got []int
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		start := l.Now()
		for _, d := range []int{3, 1, 2, 1} {
			l.CallLater(time.Duration(d)*time.Second, func(ctx context.Context) {
				got = append(got, d)
				if since := scheduler.Now(ctx).Sub(start); since != time.Duration(d)*time.Second {
					t.Errorf("timer of %ds ran at %v", d, since)
				}
			})
		}
		return scheduler.Sleep(ctx, 4*time.Second)
	}, scheduler.WithVirtualClock())
	if want := []int{1, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("timers ran as %v, want %v", got, want)
	}
}

func TestCancelledTimerDoesNotRun(t *testing.T) {
	ran := false
	run(t, func(ctx context.Context) error {
		h := scheduler.LoopOf(ctx).CallLater(time.Second, func(context.Context) { ran = true })
		h.Cancel()
		return scheduler.Sleep(ctx, 2*time.Second)
	}, scheduler.WithVirtualClock())
	if ran {
		t.Fatal("a cancelled timer ran")
	}
}

func TestTimerCancelledByEarlierTimerInSameTickDoesNotRun(t *testing.T) {
	ran := false
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		var second *scheduler.Handle
		l.CallLater(time.Second, func(context.Context) { second.Cancel() })
		second = l.CallLater(time.Second, func(context.Context) { ran = true })
		return scheduler.Sleep(ctx, 2*time.Second)
	}, scheduler.WithVirtualClock())
	if ran {
		t.Fatal("a timer cancelled by an earlier one of the same tick ran")
	}
}

func TestPanickingCallbackEndsRun(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		scheduler.LoopOf(ctx).CallSoon(func(context.Context) { panic("callback fell over") })
		return scheduler.Park(ctx, "forever")
	})
	var pe *scheduler.PanicError
	if !errors.As(err, &pe) || pe.Value != "callback fell over" {
		t.Fatalf("Run = %v, want the callback's *PanicError", err)
	}
}

func TestStopEndsRunPromptlyWithLongTimerPending(t *testing.T) {
	armed := make(chan struct{})
	l, done := forever(t, func(ctx context.Context, l *scheduler.Loop) {
		l.CallLater(100*time.Second, func(context.Context) { t.Error("the 100 s timer ran") })
		close(armed)
	})
	<-armed
	if err := l.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatalf("RunForever = %v, want nil after Stop", err)
	}
	if err := l.Stop(); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Errorf("Stop after the loop ended = %v, want ErrNotRunning", err)
	}
}

func TestStopBeforeRunErrors(t *testing.T) {
	if err := scheduler.New().Stop(); !errors.Is(err, scheduler.ErrNotRunning) {
		t.Fatalf("Stop = %v, want ErrNotRunning", err)
	}
}

func TestRunTwiceErrors(t *testing.T) {
	l := scheduler.New()
	if err := l.Run(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if err := l.Run(context.Background(), func(context.Context) error { return nil }); !errors.Is(err, scheduler.ErrClosed) {
		t.Fatalf("second Run = %v, want ErrClosed", err)
	}
	if err := l.Post(func(context.Context) {}); !errors.Is(err, scheduler.ErrClosed) {
		t.Fatalf("Post after Run = %v, want ErrClosed", err)
	}
}

func TestStopKillsTasksAndRunReturnsErrStopped(t *testing.T) {
	deferred := false
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		defer func() { deferred = true }()
		scheduler.LoopOf(ctx).Stop()
		return scheduler.Sleep(ctx, time.Hour)
	})
	if !errors.Is(err, scheduler.ErrStopped) || !deferred {
		t.Fatalf("Run = %v, deferred ran %v; want ErrStopped and true", err, deferred)
	}
}

func TestPostWakesIdleLoop(t *testing.T) {
	l, done := forever(t, func(context.Context, *scheduler.Loop) {})
	ran := make(chan struct{})
	if err := l.Post(func(context.Context) { close(ran) }); err != nil {
		t.Fatal(err)
	}
	<-ran
	l.Stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

func TestPostsMadeWhileLoopIsBusyWakeNothing(t *testing.T) {
	var order []int
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		before := l.Stats().Wakeups
		post := l.Expect()
		var wg sync.WaitGroup
		wg.Go(func() {
			for i := range 100 {
				l.Post(func(context.Context) { order = append(order, i) })
			}
		})
		wg.Wait() // the loop is busy in this task all along
		post(nil)
		if err := scheduler.Sleep(ctx, 0); err != nil {
			return err
		}
		if n := l.Stats().Wakeups - before; n != 0 {
			t.Errorf("101 posts to a busy loop woke it %d times, want 0", n)
		}
		return nil
	})
	if len(order) != 100 || !slices.IsSorted(order) {
		t.Fatalf("posts ran as %v, want 0..99 in order", order)
	}
}

func TestPostFromEightGoroutinesLosesNothing(t *testing.T) {
	const goroutines, each = 8, 2000
	got := make([]int, goroutines)
	total := 0
	start := make(chan struct{})
	l, done := forever(t, func(context.Context, *scheduler.Loop) {})
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			<-start
			for range each {
				l.Post(func(context.Context) {
					got[g]++
					if total++; total == goroutines*each {
						l.Stop()
					}
				})
			}
		})
	}
	close(start)
	wg.Wait()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	for g, n := range got {
		if n != each {
			t.Errorf("goroutine %d: %d posts ran, want %d", g, n, each)
		}
	}
}

func TestSignalHandlersRunAndRemovedOneDoesNot(t *testing.T) {
	var got []string
	l, done := forever(t, func(ctx context.Context, l *scheduler.Loop) {
		add := func(name string, last bool) *scheduler.SignalHandler {
			h, err := l.AddSignalHandler(syscall.SIGUSR1, func(_ context.Context, sig os.Signal) {
				got = append(got, name)
				if last {
					l.Stop()
				}
			})
			if err != nil {
				t.Fatal(err)
			}
			return h
		}
		first := add("first", false)
		removed := add("removed", false)
		add("last", true)
		_ = first
		if !removed.Remove() {
			t.Error("Remove reported false")
		}
		if removed.Remove() {
			t.Error("second Remove reported true")
		}
		if err := syscall.Kill(os.Getpid(), syscall.SIGUSR1); err != nil {
			t.Error(err)
			l.Stop()
		}
	})
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	_ = l
	if want := []string{"first", "last"}; !slices.Equal(got, want) {
		t.Fatalf("handlers ran: %v, want %v", got, want)
	}
}

func TestAddSignalHandlerBeforeRunErrors(t *testing.T) {
	_, err := scheduler.New().AddSignalHandler(syscall.SIGUSR1, func(context.Context, os.Signal) {})
	if !errors.Is(err, scheduler.ErrNotRunning) {
		t.Fatalf("AddSignalHandler = %v, want ErrNotRunning", err)
	}
}

func TestDeadlockReportNamesEachTaskWhatItWaitsOnAndWhere(t *testing.T) {
	deferred := false
	_, file, line, _ := runtime.Caller(0)
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		worker, _ := scheduler.Spawn(ctx, "worker", func(ctx context.Context) error {
			defer func() { deferred = true }()
			return scheduler.Park(ctx, "queue.Get") // line+4
		})
		return worker.Join(ctx) // line+6
	})
	var de *scheduler.DeadlockError
	if !errors.Is(err, scheduler.ErrDeadlock) || !errors.As(err, &de) {
		t.Fatalf("Run = %v, want a *DeadlockError", err)
	}
	want := []scheduler.Blocked{
		{ID: 1, Name: "main", What: `Join task 2 "worker"`, Where: file + ":" + strconv.Itoa(line+6)},
		{ID: 2, Name: "worker", What: "queue.Get", Where: file + ":" + strconv.Itoa(line+4)},
	}
	if !slices.Equal(de.Tasks, want) {
		t.Errorf("report %+v, want %+v", de.Tasks, want)
	}
	if !deferred {
		t.Error("the deadlocked tasks were not unwound")
	}
	t.Log(err)
}

func TestStatsCountsTasksAndTimers(t *testing.T) {
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		sleeper := mustGo(t, ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Second) })
		mustGo(t, ctx, func(context.Context) error { return nil })
		l.CallLater(time.Second, func(context.Context) {})
		s := l.Stats()
		if s.Tasks != 3 || s.Runnable != 2 || s.Parked != 0 || s.Timers != 1 {
			t.Errorf("before yielding: %+v", s)
		}
		scheduler.Sleep(ctx, 0)
		s = l.Stats()
		if s.Tasks != 2 || s.Runnable != 0 || s.Parked != 1 || s.Timers != 2 || s.Iterations == 0 {
			t.Errorf("after yielding: %+v", s)
		}
		return sleeper.Join(ctx)
	}, scheduler.WithVirtualClock())
}

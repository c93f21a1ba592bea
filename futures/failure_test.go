package futures_test

import (
	"context"
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// How failures that no function returns travel: kills, runtime.Goexit,
// done callbacks that panic, and a Shutdown that races a hand-over.

func TestMapWhoseWorkerIsKilledFailsWithErrKilled(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		var victim *scheduler.Task
		spawnTask(t, ctx, "killer", func(ctx context.Context) error {
			if err := scheduler.Sleep(ctx, time.Second); err != nil {
				return err
			}
			return victim.Kill(ctx)
		})
		out, err := futures.Map(ctx, p, []int{1, 2, 3, 4}, func(ctx context.Context, i int) (int, error) {
			if i == 2 {
				victim = scheduler.Current(ctx)
				if err := scheduler.Sleep(ctx, time.Hour); err != nil {
					return 0, err
				}
			}
			return i * 10, nil
		})
		if !errors.Is(err, scheduler.ErrKilled) || out != nil {
			t.Errorf("Map whose worker was killed mid-item = %v, %v; want nil, ErrKilled", out, err)
		}
		return nil
	})
}

func TestMapDoesNotWaitForASlotItNoLongerNeeds(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		sleep := func(d time.Duration) func(ctx context.Context) (int, error) {
			return func(ctx context.Context) (int, error) { return 0, scheduler.Sleep(ctx, d) }
		}
		for _, d := range []time.Duration{time.Hour, time.Second} { // both slots busy
			if _, err := futures.Submit(ctx, p, sleep(d)); err != nil {
				return err
			}
		}
		spawnTask(t, ctx, "queued behind Map", func(ctx context.Context) error {
			letRun(ctx) // Map parks in the gate first
			_, err := futures.Submit(ctx, p, sleep(time.Hour))
			return err
		})
		start := scheduler.Now(ctx)
		out, err := futures.Map(ctx, p, []int{1, 2, 3}, func(_ context.Context, i int) (int, error) {
			return i * 10, nil
		})
		if err != nil || len(out) != 3 || out[2] != 30 {
			t.Errorf("Map = %v, %v; want [10 20 30], nil", out, err)
		}
		if d := since(ctx, start); d != time.Second {
			t.Errorf("Map took %v on the loop clock, want 1s: the first free slot ran every item", d)
		}
		return p.Shutdown(ctx, false)
	})
}

func TestSubmitHandedASlotAfterShutdownFails(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		if _, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			return 0, scheduler.Sleep(ctx, time.Second)
		}); err != nil {
			return err
		}
		ran := false
		var submitErr error
		submitter := spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
			_, submitErr = futures.Submit(ctx, p, func(context.Context) (int, error) {
				ran = true
				return 1, nil
			})
			return nil
		})
		// The first function ends at 1s and hands its slot to the parked
		// submitter, which is runnable but has not run when Shutdown comes:
		// the function's timer was set before this task's.
		letRun(ctx)
		if err := scheduler.Sleep(ctx, time.Second); err != nil {
			return err
		}
		if err := p.Shutdown(ctx, false); err != nil {
			return err
		}
		if err := submitter.Join(ctx); err != nil {
			return err
		}
		if !errors.Is(submitErr, futures.ErrShutdown) || ran {
			t.Errorf("Submit handed a slot before Shutdown = %v (ran=%v); want ErrShutdown", submitErr, ran)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestPanickingDoneCallbackOfAnExecutorsFutureEndsTheLoop(t *testing.T) {
	for name, newExecutor := range map[string]func() futures.Executor{
		"TaskPool":   func() futures.Executor { return newTaskPool(t, 1) },
		"ThreadPool": func() futures.Executor { return newThreadPool(t, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				p := newExecutor()
				f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 42, nil })
				if err != nil {
					return err
				}
				f.AddDoneCallback(func(*futures.Future[int]) { panic("callback boom") })
				if _, err := f.Get(ctx); err != nil {
					return err
				}
				return scheduler.Park(ctx, "the loop's end") // the panic ends the loop
			})
			var pe *futures.PanicError
			if !errors.As(err, &pe) || !strings.Contains(err.Error(), "callback boom") {
				t.Fatalf("Run = %v, want the callback's panic", err)
			}
		})
	}
}

func TestThreadPoolFunctionThatCallsGoexitFailsItsFuture(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
			runtime.Goexit()
			return 1, nil
		})
		if err != nil {
			return err
		}
		if v, err := f.Get(ctx); err == nil || !strings.Contains(err.Error(), "Goexit") {
			t.Errorf("Get = %v, %v; want an error that names runtime.Goexit", v, err)
		}
		out, err := futures.Map(ctx, p, []int{1, 2}, func(context.Context, int) (int, error) {
			runtime.Goexit()
			return 0, nil
		})
		if err == nil || !strings.Contains(err.Error(), "Goexit") {
			t.Errorf("Map = %v, %v; want an error that names runtime.Goexit", out, err)
		}
		return p.Shutdown(ctx, true) // the slots came back
	})
}

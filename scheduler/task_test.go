package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
	"go.uber.org/goleak"
)

// run runs main on a new loop and fails the test on an unexpected error.
func run(t *testing.T, main func(ctx context.Context) error, opts ...scheduler.Option) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main, opts...); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

func mustGo(t *testing.T, ctx context.Context, fn func(ctx context.Context) error) *scheduler.Task {
	t.Helper()
	task, err := scheduler.Go(ctx, fn)
	if err != nil {
		t.Fatalf("Go: %v", err)
	}
	return task
}

func TestSpawnOrderIsFIFO(t *testing.T) {
	var got []int
	run(t, func(ctx context.Context) error {
		for i := range 5 {
			mustGo(t, ctx, func(context.Context) error { got = append(got, i); return nil })
		}
		return nil
	})
	if want := []int{0, 1, 2, 3, 4}; !slices.Equal(got, want) {
		t.Fatalf("run order %v, want %v", got, want)
	}
}

func TestYieldingTasksAlternate(t *testing.T) {
	var got []int
	run(t, func(ctx context.Context) error {
		for i := 1; i <= 3; i++ {
			mustGo(t, ctx, func(ctx context.Context) error {
				for range 2 {
					got = append(got, i)
					if err := scheduler.Sleep(ctx, 0); err != nil {
						return err
					}
				}
				return nil
			})
		}
		return nil
	})
	if want := []int{1, 2, 3, 1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("run order %v, want %v", got, want)
	}
}

func TestRunReturnsMainsErrorAfterAllTasksEnd(t *testing.T) {
	boom := errors.New("boom")
	done := false
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Millisecond)
			done = true
			return nil
		})
		return boom
	})
	if !errors.Is(err, boom) || !done {
		t.Fatalf("Run = %v with the other task done=%v, want boom after it", err, done)
	}
}

func TestJoinBeforeStartErrors(t *testing.T) {
	run(t, func(ctx context.Context) error {
		task := scheduler.NewTask("never", func(context.Context) error { return nil })
		if err := task.Join(ctx); !errors.Is(err, scheduler.ErrNotStarted) {
			t.Errorf("Join = %v, want ErrNotStarted", err)
		}
		return nil
	})
}

func TestStartTwiceErrors(t *testing.T) {
	run(t, func(ctx context.Context) error {
		task := scheduler.NewTask("once", func(context.Context) error { return nil })
		if err := task.Start(ctx); err != nil {
			t.Fatal(err)
		}
		if err := task.Start(ctx); !errors.Is(err, scheduler.ErrStarted) {
			t.Errorf("second Start = %v, want ErrStarted", err)
		}
		return task.Join(ctx)
	})
}

func TestJoinReturnsTaskResult(t *testing.T) {
	want := errors.New("task result")
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, 0)
			return want
		})
		if err := task.Join(ctx); err != want {
			t.Errorf("Join = %v, want %v", err, want)
		}
		if err := task.Join(ctx); err != want {
			t.Errorf("second Join = %v, want %v", err, want)
		}
		return nil
	})
}

func TestJoinSelfErrors(t *testing.T) {
	run(t, func(ctx context.Context) error {
		if err := scheduler.Current(ctx).Join(ctx); !errors.Is(err, scheduler.ErrJoinSelf) {
			t.Errorf("Join = %v, want ErrJoinSelf", err)
		}
		return nil
	})
}

// The deadline is package context's, a wall-clock time: the loop runs on
// the real clock, and the task waits on nothing that has a time.
func TestJoinWithDeadlineReturnsDeadlineErrorTaskLivesOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			return scheduler.Park(ctx, "nothing")
		})
		jctx, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		if err := waiter.Join(jctx); err != context.DeadlineExceeded {
			t.Errorf("Join = %v, want context.DeadlineExceeded", err)
		}
		if jctx.Err() == nil {
			t.Error("Join returned DeadlineExceeded before its context said so")
		}
		if s := waiter.State(); s != scheduler.StateParked {
			t.Errorf("waiter is %v after the Join timed out, want parked", s)
		}
		return waiter.Kill(ctx)
	})
}

func TestKillBeforeStartBodyNeverRuns(t *testing.T) {
	ran := false
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(context.Context) error { ran = true; return nil })
		if err := task.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if err := task.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("Join = %v, want ErrKilled", err)
		}
		return nil
	})
	if ran {
		t.Fatal("the body of a task killed before it started ran")
	}
}

func TestKillAfterFirstYieldDoesNoMoreWork(t *testing.T) {
	work, deferred := 0, false
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { deferred = true }()
			for {
				work++
				scheduler.Sleep(ctx, 0)
			}
		})
		scheduler.Sleep(ctx, 0) // the task runs once and yields
		if err := task.Kill(ctx); err != nil {
			t.Fatal(err)
		}
		if task.State() != scheduler.StateEnded {
			t.Errorf("task is %v after Kill returned", task.State())
		}
		scheduler.Sleep(ctx, 0)
		return nil
	})
	if work != 1 || !deferred {
		t.Fatalf("work=%d deferred=%v, want 1 and true", work, deferred)
	}
}

func TestKilledParkedTaskUnwindsWithErrKilledAndCancelledContext(t *testing.T) {
	var recovered any
	var ctxErr error
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			defer func() {
				ctxErr = ctx.Err()
				recovered = recover()
				panic(recovered)
			}()
			return scheduler.Sleep(ctx, time.Hour)
		})
		scheduler.Sleep(ctx, 0)
		task.Kill(ctx)
		if err := task.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("Join = %v, want ErrKilled", err)
		}
		return nil
	}, scheduler.WithVirtualClock())
	if recovered != scheduler.ErrKilled || ctxErr != context.Canceled {
		t.Fatalf("parked task saw panic %v and ctx error %v, want ErrKilled and context.Canceled", recovered, ctxErr)
	}
}

func TestKillCancelsDerivedContextsOnTheLoop(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var child context.Context
		task := mustGo(t, ctx, func(ctx context.Context) error {
			var cancel context.CancelFunc
			child, cancel = context.WithCancel(ctx)
			defer cancel()
			return scheduler.Sleep(ctx, time.Hour)
		})
		scheduler.Sleep(ctx, 0)
		task.Kill(ctx)
		select {
		case <-child.Done():
		default:
			t.Error("a context derived from a killed task's is not done when Kill returns")
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestTaskKillingItselfEndsWithErrKilled(t *testing.T) {
	after := false
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Current(ctx).Kill(ctx)
			after = true
			return nil
		})
		if err := task.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("Join = %v, want ErrKilled", err)
		}
		return nil
	})
	if after {
		t.Fatal("a task went on after killing itself")
	}
}

func TestPanickingTaskJoinReturnsPanicErrorOthersContinue(t *testing.T) {
	other := 0
	run(t, func(ctx context.Context) error {
		bad := mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, 0)
			panic("task fell over")
		})
		good := mustGo(t, ctx, func(ctx context.Context) error {
			for range 3 {
				other++
				scheduler.Sleep(ctx, 0)
			}
			return nil
		})
		var pe *scheduler.PanicError
		if err := bad.Join(ctx); !errors.As(err, &pe) || pe.Value != "task fell over" || len(pe.Stack) == 0 {
			t.Errorf("Join = %v, want *PanicError with the value and a stack", err)
		}
		return good.Join(ctx)
	})
	if other != 3 {
		t.Fatalf("the other task ran %d times, want 3", other)
	}
}

func TestParkingWithoutTaskReturnsErrNoTask(t *testing.T) {
	if err := scheduler.Sleep(context.Background(), 0); err != scheduler.ErrNoTask {
		t.Errorf("Sleep outside a loop = %v, want ErrNoTask", err)
	}
	if err := scheduler.Park(context.Background(), "x"); err != scheduler.ErrNoTask {
		t.Errorf("Park outside a loop = %v, want ErrNoTask", err)
	}
	run(t, func(ctx context.Context) error {
		var cbErr error
		l := scheduler.LoopOf(ctx)
		l.CallSoon(func(ctx context.Context) { cbErr = scheduler.Sleep(ctx, 0) })
		scheduler.Sleep(ctx, 0)
		if cbErr != scheduler.ErrNoTask {
			t.Errorf("Sleep in a callback = %v, want ErrNoTask", cbErr)
		}
		return nil
	})
}

func TestContextCarriesTaskAndValues(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	err := scheduler.Run(ctx, func(ctx context.Context) error {
		me := scheduler.Current(ctx)
		if me == nil || me.ID() != 1 || me.Name() != "main" {
			t.Errorf("Current = %v, want the main task", me)
		}
		child := mustGo(t, ctx, func(ctx context.Context) error {
			if ctx.Value(key{}) != "v" {
				t.Error("a spawned task's context lost Run's values")
			}
			if scheduler.Current(ctx).Name() != "task-2" {
				t.Errorf("unnamed task is called %q", scheduler.Current(ctx).Name())
			}
			return nil
		})
		return child.Join(ctx)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestParkAndWake(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var parked *scheduler.Task
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			parked = scheduler.Current(ctx)
			return scheduler.Park(ctx, "test")
		})
		scheduler.Sleep(ctx, 0)
		if !parked.Wake() {
			t.Error("Wake of a parked task reported false")
		}
		if parked.Wake() {
			t.Error("a second Wake reported true")
		}
		return waiter.Join(ctx)
	})
}

func TestRunCancelledContextKillsTasks(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	deferred := false
	err := scheduler.Run(ctx, func(ctx context.Context) error {
		mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { deferred = true }()
			return scheduler.Park(ctx, "forever")
		})
		scheduler.Sleep(ctx, 0)
		cancel()
		return scheduler.Park(ctx, "forever")
	})
	if err != context.Canceled || !deferred {
		t.Fatalf("Run = %v (deferred ran: %v), want context.Canceled and the deferred call run", err, deferred)
	}
	goleak.VerifyNone(t)
}

// A task's context carries the values of the context it was spawned from,
// not its cancellation: the cause given to the spawner's context is not
// the task's when the task is killed (context.Cause looks the cancellable
// context up by a key the task's context does not pass on), and a value
// lookup allocates nothing.
func TestTaskContextCarriesItsSpawnersValuesNotItsCancellation(t *testing.T) {
	type key struct{}
	cause := errors.New("the spawner's end")
	run(t, func(ctx context.Context) error {
		spawner, cancel := context.WithCancelCause(context.WithValue(ctx, key{}, "v"))
		defer cancel(nil)
		var got string
		var killedCause error
		var allocs float64
		child, err := scheduler.Spawn(spawner, "child", func(ctx context.Context) error {
			defer func() { killedCause = context.Cause(ctx) }()
			got, _ = ctx.Value(key{}).(string)
			allocs = testing.AllocsPerRun(100, func() { _ = ctx.Value(key{}) })
			return scheduler.Park(ctx, "a Kill")
		})
		if err != nil {
			return err
		}
		scheduler.Sleep(ctx, 0) // the child parks
		cancel(cause)
		child.Kill(ctx)
		child.Join(ctx)
		if got != "v" || allocs != 0 {
			t.Errorf("the spawner's value through the task's context: %q, %v allocations; want v, none", got, allocs)
		}
		if killedCause != context.Canceled {
			t.Errorf("Cause of the killed task's context = %v, want context.Canceled, not its spawner's cause", killedCause)
		}
		return nil
	})
}

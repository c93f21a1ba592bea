package futures_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func newTaskPool(t *testing.T, n int) *futures.TaskPool {
	t.Helper()
	p, err := futures.NewTaskPool(n)
	if err != nil {
		t.Fatalf("NewTaskPool(%d): %v", n, err)
	}
	return p
}

func TestTaskPoolSubmitReturnsTheValueAndGetReturnsTheFunctionsError(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		answer, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			if scheduler.Current(ctx) == nil {
				return 0, errors.New("the function ran without a task")
			}
			return 42, nil
		})
		if err != nil {
			return err
		}
		boom := errors.New("boom")
		failing, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 7, boom })
		if err != nil {
			return err
		}
		if v, err := answer.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get = %d, %v; want 42, nil", v, err)
		}
		if _, err := failing.Get(ctx); !errors.Is(err, boom) {
			t.Errorf("Get of the failing function = %v, want boom", err)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestTaskPoolPanicInTheFunctionComesBackAsPanicError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { panic("boom") })
		if err != nil {
			return err
		}
		_, err = f.Get(ctx)
		var pe *futures.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
			t.Errorf("Get = %v, want a *PanicError of boom with a stack", err)
		}
		// The panic freed its slot: the pool of one takes more work.
		g, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 1, nil })
		if err != nil {
			return err
		}
		if v, err := g.Get(ctx); v != 1 || err != nil {
			t.Errorf("Get after the panic = %d, %v; want 1, nil", v, err)
		}
		return nil
	})
}

func TestTaskPoolRunsAtMostNFunctionsAtOnceAndServesParkedSubmittersInOrder(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		const n = 3
		p := newTaskPool(t, n)
		running, peak := 0, 0
		work := func(ctx context.Context) (int, error) {
			running++
			peak = max(peak, running)
			defer func() { running-- }()
			return 0, scheduler.Sleep(ctx, time.Second)
		}
		start := scheduler.Now(ctx)
		var fs []*futures.Future[int]
		for range n {
			f, err := futures.Submit(ctx, p, work)
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		var served []int
		var servedAt []time.Duration
		var submitters []*scheduler.Task
		for i := range 5 {
			submitters = append(submitters, spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
				f, err := futures.Submit(ctx, p, work)
				if err != nil {
					return err
				}
				served = append(served, i)
				servedAt = append(servedAt, since(ctx, start))
				_, err = f.Get(ctx)
				return err
			}))
		}
		letRun(ctx)
		if running != n {
			t.Errorf("%d functions run with the pool full, want %d", running, n)
		}
		for i, s := range submitters {
			if s.State() != scheduler.StateParked {
				t.Errorf("submitter %d is %v while the pool is full, want parked in Submit", i, s.State())
			}
		}
		if len(served) != 0 {
			t.Errorf("Submit returned to submitters %v while the pool was full", served)
		}
		for _, s := range submitters {
			if err := s.Join(ctx); err != nil {
				return err
			}
		}
		for _, f := range fs {
			if _, err := f.Get(ctx); err != nil {
				return err
			}
		}
		if want := []int{0, 1, 2, 3, 4}; !slices.Equal(served, want) {
			t.Errorf("submitters served in order %v, want %v", served, want)
		}
		s := time.Second
		if want := []time.Duration{s, s, s, 2 * s, 2 * s}; !slices.Equal(servedAt, want) {
			t.Errorf("submitters served at %v, want %v", servedAt, want)
		}
		if peak != n {
			t.Errorf("at most %d functions ran at once, want %d", peak, n)
		}
		return nil
	})
}

func TestTaskPoolStartsATaskPerFunctionOnlyWhenSubmitted(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		before := l.Stats().Tasks
		p := newTaskPool(t, 4)
		if got := l.Stats().Tasks; got != before {
			t.Errorf("%d tasks after NewTaskPool, want %d: an idle pool has none", got, before)
		}
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 1, nil })
		if err != nil {
			return err
		}
		if got := l.Stats().Tasks; got != before+1 {
			t.Errorf("%d tasks after one Submit, want %d", got, before+1)
		}
		if _, err := f.Get(ctx); err != nil {
			return err
		}
		letRun(ctx)
		if got := l.Stats().Tasks; got != before {
			t.Errorf("%d tasks once the function ended, want %d", got, before)
		}
		return nil
	})
}

func TestTaskPoolCancelBeforeTheTaskRanMeansTheFunctionNeverRuns(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		ran := false
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
			ran = true
			return 1, nil
		})
		if err != nil {
			return err
		}
		if !f.Cancel() || !f.Cancelled() {
			t.Fatal("Cancel of a function whose task has not run failed")
		}
		letRun(ctx)
		if ran {
			t.Error("the cancelled function ran")
		}
		if _, err := f.Get(ctx); !errors.Is(err, futures.ErrCancelled) {
			t.Errorf("Get of the cancelled future = %v, want ErrCancelled", err)
		}
		// Its slot is free again.
		g, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 2, nil })
		if err != nil {
			return err
		}
		if v, err := g.Get(ctx); v != 2 || err != nil {
			t.Errorf("Get after the cancel = %d, %v; want 2, nil", v, err)
		}
		return nil
	})
}

func TestTaskPoolSubmitAfterShutdownFails(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 1, nil })
		if !errors.Is(err, futures.ErrShutdown) || f != nil {
			t.Errorf("Submit after Shutdown = %v, %v; want nil, ErrShutdown", f, err)
		}
		if err := p.Shutdown(ctx, true); err != nil {
			t.Errorf("a second Shutdown = %v, want nil", err)
		}
		return nil
	})
}

func TestTaskPoolShutdownWithWaitParksUntilThePendingWorkEnded(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		var fs []*futures.Future[int]
		for i := 1; i <= 2; i++ {
			f, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
				return i, scheduler.Sleep(ctx, time.Duration(i)*time.Second)
			})
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		start := scheduler.Now(ctx)
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if d := since(ctx, start); d != 2*time.Second {
			t.Errorf("Shutdown(wait) returned after %v, want 2s (the longer function)", d)
		}
		for i, f := range fs {
			if v, err := f.TryGet(); v != i+1 || err != nil {
				t.Errorf("future %d once Shutdown returned: %d, %v; want %d, nil", i, v, err, i+1)
			}
		}
		return nil
	})
}

func TestTaskPoolShutdownWithoutWaitReturnsAtOnceAndTheWorkStillCompletes(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		f, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			return 42, scheduler.Sleep(ctx, time.Second)
		})
		if err != nil {
			return err
		}
		start := scheduler.Now(ctx)
		if err := p.Shutdown(ctx, false); err != nil {
			return err
		}
		if d := since(ctx, start); d != 0 || f.Done() {
			t.Errorf("Shutdown(no wait) returned after %v with the work done=%v, want at once, pending", d, f.Done())
		}
		if v, err := f.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get after Shutdown(no wait) = %d, %v; want 42, nil", v, err)
		}
		if d := since(ctx, start); d != time.Second {
			t.Errorf("the work ended after %v, want 1s", d)
		}
		return nil
	})
}

func TestTaskPoolSubmitParkedOnAFullPoolFailsWhenThePoolShutsDown(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		first, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			return 1, scheduler.Sleep(ctx, time.Second)
		})
		if err != nil {
			return err
		}
		ran := false
		var parkedErr error
		submitter := spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
			_, parkedErr = futures.Submit(ctx, p, func(context.Context) (int, error) {
				ran = true
				return 2, nil
			})
			return nil
		})
		letRun(ctx)
		if submitter.State() != scheduler.StateParked {
			t.Fatalf("submitter is %v with the pool full, want parked", submitter.State())
		}
		if err := p.Shutdown(ctx, false); err != nil {
			return err
		}
		if err := submitter.Join(ctx); err != nil {
			return err
		}
		if !errors.Is(parkedErr, futures.ErrShutdown) {
			t.Errorf("the parked Submit returned %v, want ErrShutdown", parkedErr)
		}
		if v, err := first.Get(ctx); v != 1 || err != nil {
			t.Errorf("the work submitted before Shutdown: %d, %v; want 1, nil", v, err)
		}
		if ran {
			t.Error("the function of the refused Submit ran")
		}
		return nil
	})
}

func TestNewTaskPoolRefusesASizeBelowOne(t *testing.T) {
	for _, n := range []int{0, -1} {
		if p, err := futures.NewTaskPool(n); !errors.Is(err, futures.ErrInvalid) || p != nil {
			t.Errorf("NewTaskPool(%d) = %v, %v; want nil, an error wrapping ErrInvalid", n, p, err)
		}
	}
}

func TestTaskPoolSubmitWithoutATaskOrAFunctionFails(t *testing.T) {
	p := newTaskPool(t, 1)
	one := func(context.Context) (int, error) { return 1, nil }
	if _, err := futures.Submit(context.Background(), p, one); !errors.Is(err, scheduler.ErrNoTask) {
		t.Errorf("Submit without a task = %v, want ErrNoTask", err)
	}
	runLoop(t, func(ctx context.Context) error {
		if _, err := futures.Submit[int](ctx, p, nil); !errors.Is(err, scheduler.ErrNilFunc) {
			t.Errorf("Submit of a nil function = %v, want ErrNilFunc", err)
		}
		return nil
	})
}

func TestTaskPoolKilledSubmitterHandedASlotPassesItOn(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		var release futures.Future[struct{}]
		first, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			_, err := release.Get(ctx)
			return 0, err
		})
		if err != nil {
			return err
		}
		var got []string
		submit := func(name string) *scheduler.Task {
			return spawnTask(t, ctx, name, func(ctx context.Context) error {
				f, err := futures.Submit(ctx, p, func(context.Context) (string, error) { return name, nil })
				if err != nil {
					return err
				}
				v, err := f.Get(ctx)
				got = append(got, v)
				return err
			})
		}
		a, b := submit("a"), submit("b")
		letRun(ctx)
		release.SetResult(struct{}{})
		scheduler.Sleep(ctx, 0) // the first function ends and hands its slot to a
		if _, err := first.TryGet(); err != nil {
			t.Fatalf("the first function: %v, want it done", err)
		}
		if a.State() != scheduler.StateRunnable {
			t.Fatalf("a is %v once the slot was freed, want runnable (handed the slot)", a.State())
		}
		a.Kill(ctx)
		letRun(ctx)
		if b.State() != scheduler.StateEnded {
			b.Kill(ctx) // so that the loop ends
			t.Fatalf("b never got the slot that the killed a was handed")
		}
		if err := b.Join(ctx); err != nil {
			return err
		}
		if want := []string{"b"}; !slices.Equal(got, want) {
			t.Errorf("functions run %v, want %v", got, want)
		}
		return p.Shutdown(ctx, true)
	})
}

// A killed submitter's slot goes back through gate.leave, not through the
// pool's leave: a Shutdown(wait) parked meanwhile is never told that the
// pool went idle.
func TestTaskPoolShutdownWithWaitReturnsWhenTheLastSlotHolderIsAKilledSubmitter(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		var release futures.Future[struct{}]
		if _, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			_, err := release.Get(ctx)
			return 0, err
		}); err != nil {
			return err
		}
		ran := false
		a := spawnTask(t, ctx, "a", func(ctx context.Context) error {
			_, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
				ran = true
				return 1, nil
			})
			return err
		})
		shuttingDown := false
		killed := false
		spawnTask(t, ctx, "killer", func(ctx context.Context) error {
			// Kills a once it holds the slot and Shutdown parks: it runs
			// between the two, ahead of a in the run queue.
			for range 1000 {
				if shuttingDown && a.State() == scheduler.StateRunnable {
					killed = true
					return a.Kill(ctx)
				}
				scheduler.Sleep(ctx, 0)
			}
			return nil
		})
		letRun(ctx)
		release.SetResult(struct{}{})
		for range 1000 { // until the first function has handed its slot to a
			if a.State() == scheduler.StateRunnable {
				break
			}
			scheduler.Sleep(ctx, 0)
		}
		shuttingDown = true
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if !killed {
			t.Error("the killer never saw a holding the slot: the test set-up is off")
		}
		if ran {
			t.Error("the killed submitter's function ran")
		}
		return nil
	})
}

func TestExecutorUsedFromASecondLoopFails(t *testing.T) {
	for name, newExecutor := range map[string]func() futures.Executor{
		"TaskPool":   func() futures.Executor { return newTaskPool(t, 1) },
		"ThreadPool": func() futures.Executor { return newThreadPool(t, 1) },
	} {
		t.Run(name, func(t *testing.T) {
			p := newExecutor()
			one := func(context.Context) (int, error) { return 1, nil }
			runLoop(t, func(ctx context.Context) error {
				f, err := futures.Submit(ctx, p, one)
				if err != nil {
					return err
				}
				_, err = f.Get(ctx)
				return err
			})
			runLoop(t, func(ctx context.Context) error {
				if _, err := futures.Submit(ctx, p, one); !errors.Is(err, scheduler.ErrWrongLoop) {
					t.Errorf("Submit from a second loop = %v, want ErrWrongLoop", err)
				}
				return nil
			})
		})
	}
}

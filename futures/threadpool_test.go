package futures_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func newThreadPool(t *testing.T, n int) *futures.ThreadPool {
	t.Helper()
	p, err := futures.NewThreadPool(n)
	if err != nil {
		t.Fatalf("NewThreadPool(%d): %v", n, err)
	}
	return p
}

// A latch is a channel that a task opens (once, however often it is told
// to) and that a thread-pool function waits on.
type latch struct {
	ch   chan struct{}
	once sync.Once
}

func newLatch() *latch { return &latch{ch: make(chan struct{})} }

func (l *latch) open() { l.once.Do(func() { close(l.ch) }) }

// wait blocks a thread-pool function until the latch opens and reports
// true; after 10 s it gives up and reports false, so that a broken test
// fails instead of hanging.
func (l *latch) wait() bool {
	select {
	case <-l.ch:
		return true
	case <-time.After(10 * time.Second):
		return false
	}
}

var errGaveUp = errors.New("the latch never opened")

// then returns a thread-pool function that waits for the latch and then
// returns v.
func (l *latch) then(v int) func(context.Context) (int, error) {
	return func(context.Context) (int, error) {
		if !l.wait() { // blocks a goroutine of the pool
			return 0, errGaveUp
		}
		return v, nil
	}
}

// startSignal returns a future and the function that completes it through
// a post to ctx's loop: a thread-pool function calls signal to say that it
// runs, and a task waits for that with Get.
func startSignal(ctx context.Context) (started *futures.Future[struct{}], signal func()) {
	loop := scheduler.LoopOf(ctx)
	started = new(futures.Future[struct{}])
	return started, func() {
		loop.Post(func(context.Context) { started.SetResult(struct{}{}) })
	}
}

func TestThreadPoolReturnsTheValueOfABlockingFunctionWhileOtherTasksRun(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 2)
		release := newLatch()
		defer release.open()
		f, err := futures.Submit(ctx, p, release.then(42))
		if err != nil {
			return err
		}
		boom := errors.New("boom")
		failing, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 0, boom })
		if err != nil {
			return err
		}
		// Only a task of the loop opens the latch: the function can end
		// only if the loop went on running tasks while it blocked.
		beats := 0
		spawnTask(t, ctx, "other", func(ctx context.Context) error {
			for range 10 {
				beats++
				scheduler.Sleep(ctx, 0)
			}
			release.open()
			return nil
		})
		if v, err := f.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get = %d, %v; want 42, nil", v, err)
		}
		if beats != 10 {
			t.Errorf("the other task ran %d times, want 10", beats)
		}
		if _, err := failing.Get(ctx); !errors.Is(err, boom) {
			t.Errorf("Get of the failing function = %v, want boom", err)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestThreadPoolThousandBlockingCallsCompleteWhileATickerKeepsItsCadence(t *testing.T) {
	const calls = 1000
	var running, peak atomic.Int64
	var ticks []time.Time // on the loop's (wall) clock
	var tickerStart time.Time
	ticksOut := 0 // ticks with calls still out
	release := make(chan struct{})
	var elapsed time.Duration
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		p, err := futures.NewThreadPool(calls)
		if err != nil {
			return err
		}
		out := calls // calls not delivered yet
		fs := make([]*futures.Future[int], calls)
		start := time.Now()
		for i := range fs {
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
				n := running.Add(1)
				for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
				}
				<-release // the blocking work, which ends once the ticker has ticked
				running.Add(-1)
				return 2 * i, nil
			})
			if err != nil {
				return err
			}
			f.AddDoneCallback(func(*futures.Future[int]) { out-- })
			fs[i] = f
		}
		ticker := spawnTask(t, ctx, "ticker", func(ctx context.Context) error {
			tickerStart = scheduler.Now(ctx)
			for out > 0 {
				if err := scheduler.Sleep(ctx, time.Millisecond); err != nil {
					return err
				}
				ticks = append(ticks, scheduler.Now(ctx))
				if out > 0 {
					ticksOut++
				}
				if len(ticks) == 3 {
					close(release)
				}
			}
			return nil
		})
		if _, _, err := futures.Wait(ctx, fs, futures.AllCompleted); err != nil {
			return err
		}
		elapsed = time.Since(start)
		for i, f := range fs {
			if v, err := f.TryGet(); v != 2*i || err != nil {
				t.Errorf("call %d: %d, %v; want %d, nil", i, v, err, 2*i)
			}
		}
		if err := ticker.Join(ctx); err != nil {
			return err
		}
		return p.Shutdown(ctx, true)
	})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if ticksOut < 3 {
		t.Errorf("the ticker ticked %d times while the %d calls were out, want 3: the loop blocked", ticksOut, calls)
	}
	var gaps []time.Duration
	prev := tickerStart
	for _, tick := range ticks {
		gaps = append(gaps, tick.Sub(prev))
		prev = tick
	}
	slices.Sort(gaps)
	var maxGap, medianGap time.Duration
	if len(gaps) > 0 {
		maxGap, medianGap = gaps[len(gaps)-1], gaps[len(gaps)/2]
	}
	t.Logf("%d blocking calls on a pool of %d: all back in %v; ticker (1ms): %d ticks, %d while calls were out, gap max %v, median %v; peak %d functions running at once",
		calls, calls, elapsed, len(ticks), ticksOut, maxGap, medianGap, peak.Load())
}

func TestThreadPoolPanicInTheFunctionComesBackAsPanicError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { panic("boom") })
		if err != nil {
			return err
		}
		_, err = f.Get(ctx)
		var pe *futures.PanicError
		if !errors.As(err, &pe) || pe.Value != "boom" || len(pe.Stack) == 0 {
			t.Errorf("Get = %v, want a *PanicError of boom with a stack", err)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestThreadPoolCancelFailsOnceTheFunctionRuns(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		started, signal := startSignal(ctx)
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
			signal()
			if !release.wait() {
				return 0, errGaveUp
			}
			return 7, nil
		})
		if err != nil {
			return err
		}
		if _, err := started.Get(ctx); err != nil {
			return err
		}
		if f.Cancel() || f.Cancelled() {
			t.Error("Cancel of a running function succeeded")
		}
		release.open()
		if v, err := f.Get(ctx); v != 7 || err != nil {
			t.Errorf("Get after a failed Cancel = %d, %v; want 7, nil", v, err)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestThreadPoolCancelRightAfterSubmitEitherStopsTheFunctionOrLetsItComplete(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 8)
		const n = 300
		var ran [n]atomic.Bool
		fs := make([]*futures.Future[int], n)
		cancelled := make([]bool, n)
		for i := range n {
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
				ran[i].Store(true)
				return i, nil
			})
			if err != nil {
				return err
			}
			cancelled[i] = f.Cancel() // no switch point since Submit returned
			fs[i] = f
		}
		if err := p.Shutdown(ctx, true); err != nil { // every function is back
			return err
		}
		stopped := 0
		for i, f := range fs {
			v, err := f.TryGet()
			switch {
			case cancelled[i]:
				stopped++
				if ran[i].Load() || !errors.Is(err, futures.ErrCancelled) || !f.Cancelled() {
					t.Errorf("call %d: Cancel reported true, yet ran=%v, Get = %d, %v", i, ran[i].Load(), v, err)
				}
			case !ran[i].Load() || v != i || err != nil || f.Cancelled():
				t.Errorf("call %d: Cancel reported false, yet ran=%v, Get = %d, %v", i, ran[i].Load(), v, err)
			}
		}
		t.Logf("%d of %d functions stopped by a Cancel right after Submit, %d ran", stopped, n, n-stopped)
		return nil
	})
}

func TestThreadPoolKeepsTheLoopAliveUntilTheResultIsDelivered(t *testing.T) {
	got, gotErr := 0, errors.New("never delivered")
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := make(chan struct{})
		defer close(release) // the function ends only once this task has
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
			<-release // the blocking work
			return 42, nil
		})
		if err != nil {
			return err
		}
		f.AddDoneCallback(func(f *futures.Future[int]) { got, gotErr = f.TryGet() })
		return nil // no Get, no Shutdown
	})
	if got != 42 || gotErr != nil {
		t.Errorf("after Run: %d, %v delivered; want 42, nil", got, gotErr)
	}
}

func TestThreadPoolFunctionMayPostToTheLoopAheadOfItsResult(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		loop := scheduler.LoopOf(ctx)
		var order []string
		f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
			if err := loop.Post(func(context.Context) { order = append(order, "posted") }); err != nil {
				return 0, err
			}
			return 42, nil
		})
		if err != nil {
			return err
		}
		f.AddDoneCallback(func(*futures.Future[int]) { order = append(order, "delivered") })
		if v, err := f.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get = %d, %v; want 42, nil", v, err)
		}
		if want := []string{"posted", "delivered"}; !slices.Equal(order, want) {
			t.Errorf("ran on the loop in order %v, want %v", order, want)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestThreadPoolShutdownWithWaitWaitsForThePendingWorkAndLeavesNoGoroutine(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		release := make(chan struct{})
		var shuttingDown futures.Future[struct{}]
		spawnTask(t, ctx, "releaser", func(ctx context.Context) error {
			if _, err := shuttingDown.Get(ctx); err != nil {
				return err
			}
			close(release) // runs once this task has parked in Shutdown
			return nil
		})
		letRun(ctx)                      // the releaser's fiber exists and waits
		before := goleak.IgnoreCurrent() // the loop's, its tasks' and the test's goroutines
		p := newThreadPool(t, 4)
		var fs []*futures.Future[int]
		for i := range 4 {
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
				<-release // the blocking work
				return i, nil
			})
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		shuttingDown.SetResult(struct{}{})
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		for i, f := range fs {
			if v, err := f.TryGet(); v != i || err != nil {
				t.Errorf("call %d once Shutdown(wait) returned: %d, %v; want %d, nil", i, v, err, i)
			}
		}
		if err := goleak.Find(before); err != nil {
			t.Errorf("goroutines left once Shutdown(wait) returned: %v", err)
		}
		return nil
	})
	goleak.VerifyNone(t)
}

func TestThreadPoolShutdownWithoutWaitReturnsAtOnceAndTheWorkStillCompletes(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		f, err := futures.Submit(ctx, p, release.then(42))
		if err != nil {
			return err
		}
		if err := p.Shutdown(ctx, false); err != nil { // the function waits for us
			return err
		}
		if f.Done() {
			t.Error("the work was done when Shutdown(no wait) returned")
		}
		release.open()
		if v, err := f.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get after Shutdown(no wait) = %d, %v; want 42, nil", v, err)
		}
		return nil
	})
	goleak.VerifyNone(t)
}

func TestThreadPoolLoopStoppedWhileAFunctionRunsWaitsForIt(t *testing.T) {
	var finished atomic.Bool
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		started, signal := startSignal(ctx)
		f, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			signal()
			<-ctx.Done() // the loop is ending: Run must still wait for what follows
			runtime.Gosched()
			finished.Store(true)
			return 1, nil
		})
		if err != nil {
			return err
		}
		if _, err := started.Get(ctx); err != nil {
			return err
		}
		scheduler.LoopOf(ctx).Stop()
		_, err = f.Get(ctx) // the loop ends here
		return err
	}, scheduler.WithVirtualClock())
	if !errors.Is(err, scheduler.ErrStopped) {
		t.Errorf("Run = %v, want ErrStopped", err)
	}
	if !finished.Load() {
		t.Error("Run returned while the function still ran")
	}
	goleak.VerifyNone(t)
}

func TestThreadPoolFunctionContextIsCancelledWhenTheLoopEnds(t *testing.T) {
	seen := make(chan error, 1)
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		started, signal := startSignal(ctx)
		f, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			signal()
			select {
			case <-ctx.Done():
				seen <- ctx.Err()
				return 0, ctx.Err()
			case <-time.After(10 * time.Second):
				seen <- errGaveUp
				return 0, errGaveUp
			}
		})
		if err != nil {
			return err
		}
		if _, err := started.Get(ctx); err != nil {
			return err
		}
		scheduler.LoopOf(ctx).Stop()
		_, err = f.Get(ctx)
		return err
	}, scheduler.WithVirtualClock())
	if !errors.Is(err, scheduler.ErrStopped) {
		t.Errorf("Run = %v, want ErrStopped", err)
	}
	select {
	case err := <-seen:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("the function's ctx ended with %v, want context.Canceled", err)
		}
	default:
		t.Error("Run returned before the function did")
	}
	goleak.VerifyNone(t)
}

func TestThreadPoolSubmitParksWhileThePoolIsFullAndTheLoopRunsOn(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		first, err := futures.Submit(ctx, p, release.then(1))
		if err != nil {
			return err
		}
		var second *futures.Future[int]
		submitter := spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 2, nil })
			second = f
			return err
		})
		beats := 0
		beater := spawnTask(t, ctx, "beater", func(ctx context.Context) error {
			for submitter.State() != scheduler.StateEnded && beats < 1000 {
				beats++
				scheduler.Sleep(ctx, 0)
			}
			return nil
		})
		letRun(ctx)
		if submitter.State() != scheduler.StateParked || second != nil {
			t.Errorf("submitter is %v with the pool full, want parked in Submit", submitter.State())
		}
		if beats == 0 {
			t.Error("no other task ran while Submit was parked")
		}
		release.open()
		if err := submitter.Join(ctx); err != nil {
			return err
		}
		if v, err := first.Get(ctx); v != 1 || err != nil {
			t.Errorf("first: %d, %v; want 1, nil", v, err)
		}
		if v, err := second.Get(ctx); v != 2 || err != nil {
			t.Errorf("second: %d, %v; want 2, nil", v, err)
		}
		if err := beater.Join(ctx); err != nil {
			return err
		}
		return p.Shutdown(ctx, true)
	})
}

func TestThreadPoolSubmitParkedOnAFullPoolFailsWhenThePoolShutsDown(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		first, err := futures.Submit(ctx, p, release.then(1))
		if err != nil {
			return err
		}
		var parkedErr error
		submitter := spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
			_, parkedErr = futures.Submit(ctx, p, func(context.Context) (int, error) { return 2, nil })
			return nil
		})
		letRun(ctx)
		if err := p.Shutdown(ctx, false); err != nil {
			return err
		}
		if err := submitter.Join(ctx); err != nil {
			return err
		}
		if !errors.Is(parkedErr, futures.ErrShutdown) {
			t.Errorf("the parked Submit returned %v, want ErrShutdown", parkedErr)
		}
		release.open()
		if v, err := first.Get(ctx); v != 1 || err != nil {
			t.Errorf("the work submitted before Shutdown: %d, %v; want 1, nil", v, err)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestNewThreadPoolRefusesASizeBelowOne(t *testing.T) {
	for _, n := range []int{0, -1} {
		if p, err := futures.NewThreadPool(n); !errors.Is(err, futures.ErrInvalid) || p != nil {
			t.Errorf("NewThreadPool(%d) = %v, %v; want nil, an error wrapping ErrInvalid", n, p, err)
		}
	}
}

func TestThreadPoolSubmitAfterShutdownFails(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		unused, used := newThreadPool(t, 1), newThreadPool(t, 1)
		f, err := futures.Submit(ctx, used, func(context.Context) (int, error) { return 1, nil })
		if err != nil {
			return err
		}
		if _, err := f.Get(ctx); err != nil {
			return err
		}
		for _, p := range []*futures.ThreadPool{unused, used} {
			if err := p.Shutdown(ctx, true); err != nil {
				return err
			}
			ran := false
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) {
				ran = true
				return 1, nil
			})
			if !errors.Is(err, futures.ErrShutdown) || f != nil || ran {
				t.Errorf("Submit after Shutdown = %v, %v (ran=%v); want nil, ErrShutdown", f, err, ran)
			}
		}
		return nil
	})
}

func TestThreadPoolGetWaitingForWorkIsNoDeadlock(t *testing.T) {
	runLoop(t, func(ctx context.Context) error { // fails on a *DeadlockError
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		f, err := futures.Submit(ctx, p, release.then(42)) // the blocking work
		if err != nil {
			return err
		}
		// Opened once the Get below has parked: the loop then waits with no
		// task ready, no timer and no fd, only the work out on the pool.
		scheduler.LoopOf(ctx).CallSoon(func(context.Context) { release.open() })
		if v, err := f.Get(ctx); v != 42 || err != nil {
			t.Errorf("Get = %d, %v; want 42, nil", v, err)
		}
		return p.Shutdown(ctx, true)
	})
}

// A submitter handed a slot and killed before it took it gives the slot
// back through gate.leave, which neither releases a shut pool that went
// idle nor wakes its Shutdown(wait): that waits forever (Run reports a
// deadlock) and the pool's goroutines live on until the loop ends.
func TestThreadPoolShutdownWithWaitReturnsWhenTheLastSlotHolderIsAKilledSubmitter(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 1)
		release := newLatch()
		defer release.open()
		if _, err := futures.Submit(ctx, p, release.then(0)); err != nil {
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
		letRun(ctx)
		release.open()
		// The result's post hands the slot to a; this task keeps its place
		// in the run queue ahead of a, yielding until then.
		for deadline := time.Now().Add(10 * time.Second); a.State() != scheduler.StateRunnable; {
			if time.Now().After(deadline) {
				t.Fatal("a was never handed the slot")
			}
			scheduler.Sleep(ctx, 0)
		}
		if err := p.Shutdown(ctx, false); err != nil {
			return err
		}
		a.Kill(ctx)
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		if ran {
			t.Error("the killed submitter's function ran")
		}
		return nil
	})
}

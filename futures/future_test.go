package futures_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

var errWorkFailed = errors.New("boom")

// startGetter starts a task that records in got what Get returned.
func startGetter(t *testing.T, ctx context.Context, f *futures.Future[int], name string, got *[]string) *scheduler.Task {
	t.Helper()
	return spawnTask(t, ctx, name, func(ctx context.Context) error {
		v, err := f.Get(ctx)
		*got = append(*got, fmt.Sprintf("%s:%d:%v", name, v, err))
		return nil
	})
}

func TestGetParksUntilSetResult(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got []string
		g := startGetter(t, ctx, &f, "g", &got)
		letRun(ctx)
		if g.State() != scheduler.StateParked || len(got) != 0 {
			t.Fatalf("getter %v with %v before SetResult, want parked with nothing", g.State(), got)
		}
		if !f.SetResult(42) {
			t.Fatal("SetResult of a pending future reported false")
		}
		letRun(ctx)
		if want := []string{"g:42:<nil>"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestGetParksUntilSetError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got []string
		g := startGetter(t, ctx, &f, "g", &got)
		letRun(ctx)
		if g.State() != scheduler.StateParked {
			t.Fatalf("getter %v before SetError, want parked", g.State())
		}
		f.SetError(errWorkFailed)
		letRun(ctx)
		if want := []string{"g:0:boom"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if _, err := f.Get(ctx); err != errWorkFailed {
			t.Errorf("Get = %v, want the very error SetError was given", err)
		}
		return nil
	})
}

func TestGetReturnsErrCancelledAfterCancel(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got []string
		g := startGetter(t, ctx, &f, "g", &got)
		letRun(ctx)
		if g.State() != scheduler.StateParked {
			t.Fatalf("getter %v before Cancel, want parked", g.State())
		}
		if !f.Cancel() {
			t.Fatal("Cancel of a pending future reported false")
		}
		letRun(ctx)
		if want := []string{"g:0:" + futures.ErrCancelled.Error()}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if _, err := f.Get(ctx); err != futures.ErrCancelled {
			t.Errorf("Get of a cancelled future = %v, want ErrCancelled", err)
		}
		return nil
	})
}

func TestGetWithDeadlineReturnsCtxErrorAndLeavesFuturePending(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		short, cancel := loopDeadline(ctx, time.Second)
		defer cancel()
		start := scheduler.Now(ctx)
		v, err := f.Get(short)
		if !errors.Is(err, context.DeadlineExceeded) || v != 0 {
			t.Errorf("Get past its deadline = %d, %v, want 0, DeadlineExceeded", v, err)
		}
		if waited := scheduler.Now(ctx).Sub(start); waited != time.Second {
			t.Errorf("Get waited %v on the loop's clock, want its 1s deadline", waited)
		}
		if f.Done() || f.Cancelled() {
			t.Errorf("a timed-out Get changed the future: Done %v, Cancelled %v", f.Done(), f.Cancelled())
		}
		if _, err := f.TryGet(); err != futures.ErrNotDone {
			t.Errorf("TryGet after a timed-out Get = %v, want ErrNotDone", err)
		}
		var got []string
		startGetter(t, ctx, &f, "later", &got)
		letRun(ctx)
		if !f.SetResult(7) {
			t.Fatal("SetResult after a timed-out Get reported false")
		}
		letRun(ctx)
		if want := []string{"later:7:<nil>"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestGetOfDoneFutureReturnsAtOnceEvenWithCancelledCtx(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		f.SetResult(5)
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		ran := false
		spawnTask(t, ctx, "other", func(context.Context) error { ran = true; return nil })
		if v, err := f.Get(cctx); v != 5 || err != nil {
			t.Errorf("Get of a done future with a cancelled ctx = %d, %v, want 5, nil", v, err)
		}
		if ran {
			t.Error("Get of a done future let another task run: it parked")
		}
		var pending futures.Future[int]
		if _, err := pending.Get(cctx); err != context.Canceled {
			t.Errorf("Get of a pending future with a cancelled ctx = %v, want context.Canceled", err)
		}
		if pending.Done() {
			t.Error("Get with a cancelled ctx completed the future")
		}
		return nil
	})
}

func TestGetWithoutTaskFailsWithErrNoTask(t *testing.T) {
	var f futures.Future[int]
	if _, err := f.Get(context.Background()); err != scheduler.ErrNoTask {
		t.Errorf("Get with a plain context = %v, want ErrNoTask", err)
	}
	runLoop(t, func(ctx context.Context) error {
		inCallback := errors.New("callback did not run")
		scheduler.LoopOf(ctx).CallSoon(func(ctx context.Context) {
			_, inCallback = f.Get(ctx)
		})
		letRun(ctx)
		if inCallback != scheduler.ErrNoTask {
			t.Errorf("Get in a callback = %v, want ErrNoTask", inCallback)
		}
		return nil
	})
}

func TestGetFromTaskOfAnotherLoopFailsWithErrWrongLoop(t *testing.T) {
	var f futures.Future[int]
	runLoop(t, func(ctx context.Context) error {
		cctx, cancel := context.WithCancel(ctx)
		cancel()
		f.Get(cctx) // binds the future to this loop
		return nil
	})
	runLoop(t, func(ctx context.Context) error {
		// Were the future not refused, Get would park for good and Run
		// would report a deadlock.
		if _, err := f.Get(ctx); err != scheduler.ErrWrongLoop {
			t.Errorf("Get from a second loop = %v, want ErrWrongLoop", err)
		}
		return nil
	})
}

func TestTryGetReportsErrNotDoneThenTheValue(t *testing.T) {
	var f futures.Future[string]
	if v, err := f.TryGet(); v != "" || err != futures.ErrNotDone {
		t.Errorf("TryGet of a pending future = %q, %v, want \"\", ErrNotDone", v, err)
	}
	f.SetRunning()
	if _, err := f.TryGet(); err != futures.ErrNotDone {
		t.Errorf("TryGet of a running future = %v, want ErrNotDone", err)
	}
	f.SetResult("v")
	if v, err := f.TryGet(); v != "v" || err != nil {
		t.Errorf("TryGet of a done future = %q, %v, want \"v\", nil", v, err)
	}
	var failed futures.Future[string]
	failed.SetError(errWorkFailed)
	if _, err := failed.TryGet(); err != errWorkFailed {
		t.Errorf("TryGet of a failed future = %v, want its error", err)
	}
}

func TestDoneAndCancelledFollowTheFuturesLife(t *testing.T) {
	check := func(name string, f *futures.Future[int], done, cancelled bool) {
		t.Helper()
		if f.Done() != done || f.Cancelled() != cancelled {
			t.Errorf("%s: Done %v, Cancelled %v; want %v, %v", name, f.Done(), f.Cancelled(), done, cancelled)
		}
	}
	var a, b, c futures.Future[int]
	check("pending", &a, false, false)
	a.SetRunning()
	check("running", &a, false, false)
	a.SetResult(1)
	check("with a value", &a, true, false)
	b.SetError(errWorkFailed)
	check("with an error", &b, true, false)
	c.Cancel()
	check("cancelled", &c, true, true)
}

func TestCancelOfPendingFutureSucceedsAndAgainReportsTrue(t *testing.T) {
	var f futures.Future[int]
	if !f.Cancel() {
		t.Fatal("Cancel of a pending future = false")
	}
	if !f.Cancel() {
		t.Error("second Cancel of a cancelled future = false, want true")
	}
	if f.SetResult(1) || f.SetError(errWorkFailed) {
		t.Error("SetResult or SetError of a cancelled future reported true")
	}
	if _, err := f.TryGet(); err != futures.ErrCancelled {
		t.Errorf("TryGet of a cancelled future = %v, want ErrCancelled", err)
	}
}

func TestCancelOfRunningFutureFailsAndLeavesItRunning(t *testing.T) {
	var f futures.Future[int]
	if !f.SetRunning() {
		t.Fatal("SetRunning of a pending future = false")
	}
	if f.Cancel() {
		t.Error("Cancel of a running future = true, want false")
	}
	if f.Done() || f.Cancelled() {
		t.Error("a failed Cancel changed the running future")
	}
	if !f.SetResult(3) {
		t.Fatal("SetResult of a running future = false")
	}
	if v, err := f.TryGet(); v != 3 || err != nil {
		t.Errorf("TryGet = %d, %v, want 3, nil", v, err)
	}
}

func TestCancelOfDoneFutureFailsAndKeepsItsResult(t *testing.T) {
	var ok, failed futures.Future[int]
	ok.SetResult(3)
	failed.SetError(errWorkFailed)
	if ok.Cancel() || failed.Cancel() {
		t.Error("Cancel of a done future = true, want false")
	}
	if ok.Cancelled() || failed.Cancelled() {
		t.Error("a failed Cancel marked a done future cancelled")
	}
	if v, err := ok.TryGet(); v != 3 || err != nil {
		t.Errorf("TryGet after Cancel = %d, %v, want 3, nil", v, err)
	}
	if _, err := failed.TryGet(); err != errWorkFailed {
		t.Errorf("TryGet after Cancel = %v, want boom", err)
	}
}

func TestSetRunningOfCancelledFutureReportsFalse(t *testing.T) {
	var f futures.Future[int]
	f.Cancel()
	if f.SetRunning() {
		t.Error("SetRunning of a cancelled future = true, want false")
	}
	if !f.Cancelled() {
		t.Error("SetRunning un-cancelled the future")
	}
}

func TestSetRunningOfRunningOrDoneFuturePanics(t *testing.T) {
	var running, done, failed futures.Future[int]
	running.SetRunning()
	panicsWith(t, "futures: ", func() { running.SetRunning() })
	if running.Cancel() {
		t.Error("the running future became cancellable after the panic")
	}
	done.SetResult(1)
	panicsWith(t, "futures: ", func() { done.SetRunning() })
	failed.SetError(errWorkFailed)
	panicsWith(t, "futures: ", func() { failed.SetRunning() })
	if v, err := done.TryGet(); v != 1 || err != nil {
		t.Errorf("done future after the panic: %d, %v, want 1, nil", v, err)
	}
}

func TestFirstCompletionWins(t *testing.T) {
	var f, g futures.Future[int]
	if !f.SetResult(1) {
		t.Fatal("first SetResult = false")
	}
	if f.SetResult(2) || f.SetError(errWorkFailed) {
		t.Error("a second completion reported true")
	}
	if v, err := f.TryGet(); v != 1 || err != nil {
		t.Errorf("TryGet = %d, %v, want the first result 1, nil", v, err)
	}
	if !g.SetError(errWorkFailed) {
		t.Fatal("first SetError = false")
	}
	if g.SetResult(2) || g.SetError(errors.New("other")) {
		t.Error("a second completion reported true")
	}
	if v, err := g.TryGet(); v != 0 || err != errWorkFailed {
		t.Errorf("TryGet = %d, %v, want the first error", v, err)
	}
}

func TestSetErrorWithNilPanicsAndLeavesFuturePending(t *testing.T) {
	var f futures.Future[int]
	panicsWith(t, "futures: ", func() { f.SetError(nil) })
	if f.Done() {
		t.Error("SetError(nil) completed the future")
	}
	var done futures.Future[int]
	done.SetResult(1)
	panicsWith(t, "futures: ", func() { done.SetError(nil) })
}

func TestAddDoneCallbackOnDoneFutureRunsAtOnce(t *testing.T) {
	var f futures.Future[int]
	f.SetResult(9)
	var seen *futures.Future[int]
	f.AddDoneCallback(func(g *futures.Future[int]) { seen = g })
	if seen != &f {
		t.Errorf("callback on a done future had not run with it when AddDoneCallback returned (got %p)", seen)
	}
	var c futures.Future[int]
	c.Cancel()
	ran := false
	c.AddDoneCallback(func(*futures.Future[int]) { ran = true })
	if !ran {
		t.Error("callback on a cancelled future did not run at once")
	}
}

func TestAddDoneCallbackWithNilPanics(t *testing.T) {
	var f futures.Future[int]
	panicsWith(t, "futures: ", func() { f.AddDoneCallback(nil) })
}

func TestDoneCallbacksRunInOrderAfterGettersAreRunnable(t *testing.T) {
	completions := map[string]func(*futures.Future[int]){
		"SetResult": func(f *futures.Future[int]) { f.SetResult(1) },
		"SetError":  func(f *futures.Future[int]) { f.SetError(errWorkFailed) },
		"Cancel":    func(f *futures.Future[int]) { f.Cancel() },
	}
	for name, complete := range completions {
		t.Run(name, func(t *testing.T) {
			runLoop(t, func(ctx context.Context) error {
				var f futures.Future[int]
				var got, calls []string
				g := startGetter(t, ctx, &f, "g", &got)
				letRun(ctx)
				for _, cb := range []string{"a", "b", "c"} {
					f.AddDoneCallback(func(h *futures.Future[int]) {
						if !h.Done() || h != &f {
							t.Errorf("callback %s ran with %p, Done %v", cb, h, h.Done())
						}
						if g.State() != scheduler.StateRunnable || len(got) != 0 {
							t.Errorf("callback %s: getter %v with %v, want runnable and not run", cb, g.State(), got)
						}
						calls = append(calls, cb)
					})
				}
				if len(calls) != 0 {
					t.Fatalf("callbacks %v ran before the future was done", calls)
				}
				complete(&f)
				if want := []string{"a", "b", "c"}; !slices.Equal(calls, want) {
					t.Errorf("callbacks ran %v in the completing call, want %v", calls, want)
				}
				letRun(ctx)
				if len(got) != 1 {
					t.Errorf("getter got %v, want one result", got)
				}
				return nil
			})
		})
	}
}

func TestPanickingCallbackPanicsSetResultAfterTheOtherCallbacksRan(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got, calls []string
		startGetter(t, ctx, &f, "g", &got)
		letRun(ctx)
		f.AddDoneCallback(func(*futures.Future[int]) { calls = append(calls, "a") })
		f.AddDoneCallback(func(*futures.Future[int]) { panic("callback b") })
		f.AddDoneCallback(func(*futures.Future[int]) { calls = append(calls, "c") })
		var r any
		func() {
			defer func() { r = recover() }()
			f.SetResult(4)
		}()
		if r != "callback b" {
			t.Errorf("SetResult panicked with %v, want the callback's panic", r)
		}
		if want := []string{"a", "c"}; !slices.Equal(calls, want) {
			t.Errorf("callbacks ran %v, want %v", calls, want)
		}
		if v, err := f.TryGet(); v != 4 || err != nil {
			t.Errorf("TryGet = %d, %v, want 4, nil", v, err)
		}
		letRun(ctx)
		if want := []string{"g:4:<nil>"}; !slices.Equal(got, want) {
			t.Errorf("getter got %v, want %v", got, want)
		}
		late := false
		f.AddDoneCallback(func(*futures.Future[int]) { late = true })
		if !late {
			t.Error("a callback added after the panic did not run at once")
		}
		return nil
	})
}

func TestGettersWakeInTheOrderTheyParked(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got []string
		// Spawned a, b, c, they park c, b, a: wake-ups follow the parking.
		for i, name := range []string{"a", "b", "c"} {
			spawnTask(t, ctx, name, func(ctx context.Context) error {
				scheduler.Sleep(ctx, time.Duration(3-i)*time.Millisecond)
				v, err := f.Get(ctx)
				got = append(got, fmt.Sprintf("%s:%d:%v", name, v, err))
				return nil
			})
		}
		scheduler.Sleep(ctx, time.Second)
		f.SetResult(1)
		letRun(ctx)
		if want := []string{"c:1:<nil>", "b:1:<nil>", "a:1:<nil>"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestGetterKilledWhileParkedUnwindsAndTheOthersStillWake(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var got []string
		startGetter(t, ctx, &f, "a", &got)
		b := spawnTask(t, ctx, "b", func(ctx context.Context) error {
			defer func() { got = append(got, "b:unwound") }()
			v, err := f.Get(ctx)
			got = append(got, fmt.Sprintf("b:%d:%v", v, err))
			return nil
		})
		startGetter(t, ctx, &f, "c", &got)
		letRun(ctx)
		if err := b.Kill(ctx); err != nil {
			t.Fatalf("Kill: %v", err)
		}
		if err := b.Join(ctx); err != scheduler.ErrKilled {
			t.Errorf("b ended with %v, want ErrKilled", err)
		}
		if f.Done() {
			t.Error("killing a getter completed the future")
		}
		f.SetResult(2)
		letRun(ctx)
		if want := []string{"b:unwound", "a:2:<nil>", "c:2:<nil>"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestWhatIsWrittenBeforeSetResultIsSeenAfterGet(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[int]
		var events []string
		shared := "unset"
		reader := spawnTask(t, ctx, "reader", func(ctx context.Context) error {
			v, err := f.Get(ctx)
			events = append(events, fmt.Sprintf("got %d %v, saw %q", v, err, shared))
			return nil
		})
		spawnTask(t, ctx, "writer", func(ctx context.Context) error {
			shared = "written"
			events = append(events, "set")
			f.SetResult(1) // never parks: the reader runs after this task
			events = append(events, "writer on")
			return nil
		})
		if err := reader.Join(ctx); err != nil {
			return err
		}
		want := []string{"set", "writer on", `got 1 <nil>, saw "written"`}
		if !slices.Equal(events, want) {
			t.Errorf("events %v, want %v", events, want)
		}
		return nil
	})
}

func TestWhatAnotherGoroutineWritesBeforeItsPostedSetResultIsSeenAfterGet(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var f futures.Future[[]int]
		data := make([]int, 3) // written off the loop, read on it: -race checks the ordering
		post := scheduler.LoopOf(ctx).Expect()
		go func() {
			for i := range data {
				data[i] = i + 1
			}
			post(func(context.Context) { f.SetResult(data) })
		}()
		v, err := f.Get(ctx)
		if err != nil || !slices.Equal(v, []int{1, 2, 3}) || !slices.Equal(data, []int{1, 2, 3}) {
			t.Errorf("Get = %v, %v with data %v, want [1 2 3] seen", v, err, data)
		}
		return nil
	})
}

func TestGetInADyingTasksDeferredCallFailsWithErrKilled(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var pending, done futures.Future[int]
		done.SetResult(8)
		var got []string
		task := spawnTask(t, ctx, "dying", func(ctx context.Context) error {
			defer func() {
				v, err := done.Get(ctx)
				got = append(got, fmt.Sprintf("done:%d:%v", v, err))
				v, err = pending.Get(ctx)
				got = append(got, fmt.Sprintf("pending:%d:%v", v, err))
			}()
			return scheduler.Park(ctx, "test") // only the kill ends it
		})
		letRun(ctx)
		task.Kill(ctx)
		if want := []string{"done:8:<nil>", "pending:0:" + scheduler.ErrKilled.Error()}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if pending.Done() {
			t.Error("a refused Get completed the future")
		}
		startGetter(t, ctx, &pending, "g", &got)
		letRun(ctx)
		pending.SetResult(1) // the refused Get left no waiter behind to trip on
		letRun(ctx)
		if last := got[len(got)-1]; last != "g:1:<nil>" {
			t.Errorf("getter got %q, want g:1:<nil>", last)
		}
		return nil
	})
}

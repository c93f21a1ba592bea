package futures_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"testing"
	"time"
	"weak"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// pendingFutures returns n pending futures.
func pendingFutures(n int) []*futures.Future[int] {
	fs := make([]*futures.Future[int], n)
	for i := range fs {
		fs[i] = new(futures.Future[int])
	}
	return fs
}

// completeLater sets fs[i] to i, d from now on the loop's clock.
func completeLater(ctx context.Context, d time.Duration, fs []*futures.Future[int], i int) {
	scheduler.LoopOf(ctx).CallLater(d, func(context.Context) { fs[i].SetResult(i) })
}

// futureIndexes returns the index in all of each future of some (-1 for nil).
func futureIndexes(all, some []*futures.Future[int]) []int {
	out := []int{}
	for _, f := range some {
		out = append(out, slices.Index(all, f))
	}
	return out
}

// checkWaitSplit fails t unless Wait's split of fs is wantDone and wantPending
// (indexes into fs) and its error is nil.
func checkWaitSplit(t *testing.T, fs, done, pending []*futures.Future[int], err error, wantDone, wantPending []int) {
	t.Helper()
	if err != nil {
		t.Errorf("Wait: %v", err)
	}
	if d, p := futureIndexes(fs, done), futureIndexes(fs, pending); !slices.Equal(d, wantDone) || !slices.Equal(p, wantPending) {
		t.Errorf("Wait split done %v, pending %v; want %v, %v", d, p, wantDone, wantPending)
	}
}

func TestWaitAllCompletedReturnsEveryFutureInInputOrder(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(4)
		for i, d := range []time.Duration{3, 1, 4, 2} {
			completeLater(ctx, d*time.Millisecond, fs, i)
		}
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, fs, futures.AllCompleted)
		checkWaitSplit(t, fs, done, pending, err, []int{0, 1, 2, 3}, []int{})
		if waited := since(ctx, start); waited != 4*time.Millisecond {
			t.Errorf("Wait returned after %v, want 4ms: when the last future completed", waited)
		}
		return nil
	})
}

func TestWaitCountsAFutureListedTwiceTwice(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		twice := []*futures.Future[int]{fs[0], fs[1], fs[0]}
		completeLater(ctx, time.Millisecond, fs, 0)
		completeLater(ctx, 2*time.Millisecond, fs, 1)
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, twice, futures.AllCompleted)
		checkWaitSplit(t, fs, done, pending, err, []int{0, 1, 0}, []int{})
		if waited := since(ctx, start); waited != 2*time.Millisecond {
			t.Errorf("Wait returned after %v, want 2ms", waited)
		}
		return nil
	})
}

func TestWaitFirstCompletedWithOneDoneAndHundredPendingReturnsAtOnce(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(101)
		fs[50].SetResult(50)
		ran := false
		spawnTask(t, ctx, "other", func(context.Context) error { ran = true; return nil })
		done, pending, err := futures.Wait(ctx, fs, futures.FirstCompleted)
		if ran {
			t.Error("Wait let another task run: it parked")
		}
		if err != nil || len(done) != 1 || done[0] != fs[50] || len(pending) != 100 {
			t.Fatalf("Wait = %d done, %d pending, %v; want fs[50] done, 100 pending", len(done), len(pending), err)
		}
		if want := slices.Delete(slices.Clone(fs), 50, 51); !slices.Equal(pending, want) {
			t.Error("pending futures not in the order of fs")
		}
		return nil
	})
}

func TestWaitFirstCompletedParksUntilOneCompletes(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(3)
		completeLater(ctx, 5*time.Millisecond, fs, 1)
		completeLater(ctx, 6*time.Millisecond, fs, 2)
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, fs, futures.FirstCompleted)
		checkWaitSplit(t, fs, done, pending, err, []int{1}, []int{0, 2})
		if waited := since(ctx, start); waited != 5*time.Millisecond {
			t.Errorf("Wait returned after %v, want 5ms", waited)
		}
		scheduler.Sleep(ctx, time.Second) // fs[2] completes with nobody waiting
		return nil
	})
}

func TestWaitFirstCompletedIsWokenByACancel(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		scheduler.LoopOf(ctx).CallLater(time.Millisecond, func(context.Context) { fs[1].Cancel() })
		done, pending, err := futures.Wait(ctx, fs, futures.FirstCompleted)
		checkWaitSplit(t, fs, done, pending, err, []int{1}, []int{0})
		return nil
	})
}

func TestFirstErrorPutsFailingFutureInDone(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(4)
		completeLater(ctx, time.Millisecond, fs, 0)
		scheduler.LoopOf(ctx).CallLater(2*time.Millisecond, func(context.Context) { fs[2].SetError(errWorkFailed) })
		completeLater(ctx, 3*time.Millisecond, fs, 3)
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, fs, futures.FirstError)
		checkWaitSplit(t, fs, done, pending, err, []int{0, 2}, []int{1, 3})
		if waited := since(ctx, start); waited != 2*time.Millisecond {
			t.Errorf("Wait returned after %v, want 2ms: when fs[2] failed", waited)
		}
		scheduler.Sleep(ctx, time.Second)
		return nil
	})
}

func TestFirstErrorWithAFutureFailedAlreadyReturnsAtOnce(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(3)
		fs[1].SetError(errWorkFailed)
		ran := false
		spawnTask(t, ctx, "other", func(context.Context) error { ran = true; return nil })
		done, pending, err := futures.Wait(ctx, fs, futures.FirstError)
		checkWaitSplit(t, fs, done, pending, err, []int{1}, []int{0, 2})
		if ran {
			t.Error("Wait let another task run: it parked")
		}
		return nil
	})
}

func TestFirstErrorWithoutFailureWaitsForEveryFuture(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(3)
		for i, d := range []time.Duration{2, 3, 1} {
			completeLater(ctx, d*time.Millisecond, fs, i)
		}
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, fs, futures.FirstError)
		checkWaitSplit(t, fs, done, pending, err, []int{0, 1, 2}, []int{})
		if waited := since(ctx, start); waited != 3*time.Millisecond {
			t.Errorf("Wait returned after %v, want 3ms: when the last future completed", waited)
		}
		return nil
	})
}

func TestFirstErrorDoesNotCountACancelledFutureAsAnError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(3)
		fs[0].Cancel() // before Wait
		scheduler.LoopOf(ctx).CallLater(time.Millisecond, func(context.Context) { fs[1].Cancel() })
		completeLater(ctx, 2*time.Millisecond, fs, 2)
		start := scheduler.Now(ctx)
		done, pending, err := futures.Wait(ctx, fs, futures.FirstError)
		checkWaitSplit(t, fs, done, pending, err, []int{0, 1, 2}, []int{})
		if waited := since(ctx, start); waited != 2*time.Millisecond {
			t.Errorf("Wait returned after %v, want 2ms: a cancel is no error", waited)
		}
		return nil
	})
}

func TestWaitWithDeadlineReturnsUnfinishedError(t *testing.T) {
	for _, mode := range []futures.WaitMode{futures.AllCompleted, futures.FirstError} {
		t.Run(mode.String(), func(t *testing.T) {
			runLoop(t, func(ctx context.Context) error {
				fs := pendingFutures(3)
				fs[0].SetResult(0)
				completeLater(ctx, 2*time.Second, fs, 1)
				short, cancel := loopDeadline(ctx, time.Second)
				defer cancel()
				done, pending, err := futures.Wait(short, fs, mode)
				if d, p := futureIndexes(fs, done), futureIndexes(fs, pending); !slices.Equal(d, []int{0}) || !slices.Equal(p, []int{1, 2}) {
					t.Errorf("Wait split done %v, pending %v; want [0], [1 2]", d, p)
				}
				var ue *futures.UnfinishedError
				if !errors.As(err, &ue) {
					t.Fatalf("Wait past its deadline = %v (%T), want an *UnfinishedError", err, err)
				}
				if ue.Unfinished != 2 || ue.Total != 3 || !errors.Is(err, context.DeadlineExceeded) {
					t.Errorf("Wait = %+v, want 2 of 3 unfinished, unwrapping to DeadlineExceeded", ue)
				}
				scheduler.Sleep(ctx, 2*time.Second) // fs[1] completes with nobody waiting
				return nil
			})
		})
	}
}

func TestWaitEndedByCancellingItsCtxReturnsUnfinishedError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		scheduler.LoopOf(ctx).CallLater(time.Millisecond, func(context.Context) { cancel() })
		done, pending, err := futures.Wait(cctx, fs, futures.AllCompleted)
		var ue *futures.UnfinishedError
		if !errors.As(err, &ue) || ue.Unfinished != 2 || ue.Total != 2 || !errors.Is(err, context.Canceled) {
			t.Errorf("Wait with its ctx cancelled = %v, want 2 of 2 unfinished, unwrapping to Canceled", err)
		}
		if len(done) != 0 || len(pending) != 2 {
			t.Errorf("Wait split %d done, %d pending; want 0, 2", len(done), len(pending))
		}
		fs[0].SetResult(0)
		return nil
	})
}

func TestWaitWithoutTaskFailsWithErrNoTask(t *testing.T) {
	fs := pendingFutures(1)
	if _, _, err := futures.Wait(context.Background(), fs, futures.AllCompleted); err != scheduler.ErrNoTask {
		t.Errorf("Wait with a plain context = %v, want ErrNoTask", err)
	}
	for _, err := range futures.AsCompleted(context.Background(), fs) {
		if err != scheduler.ErrNoTask {
			t.Errorf("AsCompleted with a plain context yielded %v, want ErrNoTask", err)
		}
	}
}

func TestWaitForFutureOfAnotherLoopFailsWithErrWrongLoop(t *testing.T) {
	fs := pendingFutures(2)
	runLoop(t, func(ctx context.Context) error {
		fs[1].SetResult(1)
		fs[1].Get(ctx) // binds fs[1] to this loop
		return nil
	})
	runLoop(t, func(ctx context.Context) error {
		if _, _, err := futures.Wait(ctx, fs, futures.AllCompleted); err != scheduler.ErrWrongLoop {
			t.Errorf("Wait from a second loop = %v, want ErrWrongLoop", err)
		}
		var got []error
		for f, err := range futures.AsCompleted(ctx, fs) {
			if f != nil {
				t.Errorf("AsCompleted yielded a future from a second loop")
			}
			got = append(got, err)
		}
		if !slices.Equal(got, []error{scheduler.ErrWrongLoop}) {
			t.Errorf("AsCompleted from a second loop yielded %v, want ErrWrongLoop once", got)
		}
		return nil
	})
}

func TestWaitForNilFuturePanics(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := []*futures.Future[int]{new(futures.Future[int]), nil}
		panicsWith(t, "futures: ", func() { futures.Wait(ctx, fs, futures.AllCompleted) })
		return nil
	})
}

func TestWaitWithUnknownModePanics(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		fs[0].SetResult(0)
		panicsWith(t, "futures: ", func() { futures.Wait(ctx, fs, futures.WaitMode(3)) })
		return nil
	})
}

func TestWaitModeString(t *testing.T) {
	for mode, want := range map[futures.WaitMode]string{
		futures.AllCompleted:   "AllCompleted",
		futures.FirstCompleted: "FirstCompleted",
		futures.FirstError:     "FirstError",
		futures.WaitMode(7):    "WaitMode(7)",
	} {
		if got := mode.String(); got != want {
			t.Errorf("WaitMode(%d).String() = %q, want %q", uint8(mode), got, want)
		}
	}
}

// collectAsCompleted ranges over AsCompleted(ctx, fs) and returns the index of each
// future it yields (-1 for nil) and the errors.
func collectAsCompleted(ctx context.Context, fs []*futures.Future[int]) ([]int, []error) {
	got, errs := []int{}, []error(nil)
	for f, err := range futures.AsCompleted(ctx, fs) {
		got = append(got, slices.Index(fs, f))
		if err != nil {
			errs = append(errs, err)
		}
	}
	return got, errs
}

func TestAsCompletedYieldsDoneFuturesFirstThenInCompletionOrder(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(6)
		fs[3].SetResult(3)
		fs[1].SetError(errWorkFailed)
		fs[5].Cancel()
		for i, d := range map[int]time.Duration{4: 1, 0: 2, 2: 3} {
			completeLater(ctx, d*time.Millisecond, fs, i)
		}
		start := scheduler.Now(ctx)
		got, errs := collectAsCompleted(ctx, fs)
		if want := []int{1, 3, 5, 4, 0, 2}; !slices.Equal(got, want) || errs != nil {
			t.Errorf("AsCompleted yielded %v, %v; want %v, no error", got, errs, want)
		}
		if waited := since(ctx, start); waited != 3*time.Millisecond {
			t.Errorf("AsCompleted ended after %v, want 3ms", waited)
		}
		return nil
	})
}

func TestAsCompletedYieldsEveryFutureListedTwice(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		completeLater(ctx, time.Millisecond, fs, 0)
		fs[1].SetResult(1)
		got, errs := collectAsCompleted(ctx, []*futures.Future[int]{fs[0], fs[1], fs[0]})
		if want := []int{1, 0, 0}; !slices.Equal(got, want) || errs != nil {
			t.Errorf("AsCompleted yielded %v, %v; want %v", got, errs, want)
		}
		return nil
	})
}

func TestAsCompletedWithDeadlineYieldsUnfinishedError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(4)
		fs[2].SetResult(2)
		completeLater(ctx, 500*time.Millisecond, fs, 0)
		completeLater(ctx, 2*time.Second, fs, 1)
		short, cancel := loopDeadline(ctx, time.Second)
		defer cancel()
		got, errs := collectAsCompleted(short, fs)
		if want := []int{2, 0, -1}; !slices.Equal(got, want) || len(errs) != 1 {
			t.Fatalf("AsCompleted yielded %v, %v; want %v with one error", got, errs, want)
		}
		var ue *futures.UnfinishedError
		if !errors.As(errs[0], &ue) {
			t.Fatalf("AsCompleted past its deadline yielded %v (%T), want an *UnfinishedError", errs[0], errs[0])
		}
		if ue.Unfinished != 2 || ue.Total != 4 || !errors.Is(errs[0], context.DeadlineExceeded) {
			t.Errorf("AsCompleted yielded %+v, want 2 of 4 unfinished, unwrapping to DeadlineExceeded", ue)
		}
		scheduler.Sleep(ctx, 2*time.Second) // fs[1] completes with nobody waiting
		return nil
	})
}

func TestBreakingOutOfAsCompletedLeavesNoWatcherBehind(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(3)
		completeLater(ctx, time.Millisecond, fs, 1)
		for f := range futures.AsCompleted(ctx, fs) {
			if f != fs[1] {
				t.Errorf("AsCompleted yielded fs[%d] first, want fs[1]", slices.Index(fs, f))
			}
			break
		}
		// The task now parks elsewhere; the futures it no longer waits for
		// complete meanwhile and must neither wake it nor be yielded.
		completeLater(ctx, time.Millisecond, fs, 0)
		completeLater(ctx, 2*time.Millisecond, fs, 2)
		var later futures.Future[int]
		scheduler.LoopOf(ctx).CallLater(3*time.Millisecond, func(context.Context) { later.SetResult(3) })
		start := scheduler.Now(ctx)
		if v, err := later.Get(ctx); v != 3 || err != nil {
			t.Errorf("Get = %d, %v, want 3, nil", v, err)
		}
		if waited := since(ctx, start); waited != 3*time.Millisecond {
			t.Errorf("Get returned after %v, want 3ms", waited)
		}
		got, errs := collectAsCompleted(ctx, fs)
		if want := []int{0, 1, 2}; !slices.Equal(got, want) || errs != nil {
			t.Errorf("a second AsCompleted yielded %v, %v; want %v", got, errs, want)
		}
		return nil
	})
}

func TestAsCompletedBodyMayParkAndFuturesCompletingMeanwhileAreYielded(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(4)
		fs[3].SetResult(3)
		completeLater(ctx, time.Millisecond, fs, 0)
		completeLater(ctx, 2*time.Millisecond, fs, 2)
		completeLater(ctx, 3*time.Millisecond, fs, 1)
		start := scheduler.Now(ctx)
		var got []int
		var at []time.Duration
		for f := range futures.AsCompleted(ctx, fs) {
			got = append(got, slices.Index(fs, f))
			at = append(at, since(ctx, start))
			if len(got) == 1 {
				scheduler.Sleep(ctx, 10*time.Millisecond) // everything completes meanwhile
			}
		}
		ms := time.Millisecond
		if want := []int{3, 0, 2, 1}; !slices.Equal(got, want) {
			t.Errorf("AsCompleted yielded %v, want %v", got, want)
		}
		if want := []time.Duration{0, 10 * ms, 10 * ms, 10 * ms}; !slices.Equal(at, want) {
			t.Errorf("AsCompleted yielded at %v, want %v", at, want)
		}
		return nil
	})
}

// startUnwindingWaiter starts a task that waits for fs with wait, recording in log
// whether wait returned and that the task unwound.
func startUnwindingWaiter(t *testing.T, ctx context.Context, log *[]string, wait func(ctx context.Context)) *scheduler.Task {
	t.Helper()
	return spawnTask(t, ctx, "waiter", func(ctx context.Context) error {
		defer func() { *log = append(*log, "unwound") }()
		wait(ctx)
		*log = append(*log, "returned")
		return nil
	})
}

// killWaiterThenComplete kills task, then completes every future of fs.
func killWaiterThenComplete(t *testing.T, ctx context.Context, task *scheduler.Task, fs []*futures.Future[int]) {
	t.Helper()
	letRun(ctx)
	if task.State() != scheduler.StateParked {
		t.Fatalf("waiter %v, want parked", task.State())
	}
	if err := task.Kill(ctx); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if err := task.Join(ctx); err != scheduler.ErrKilled {
		t.Errorf("waiter ended with %v, want ErrKilled", err)
	}
	for i, f := range fs {
		if !f.Done() && !f.SetResult(i) {
			t.Errorf("SetResult of fs[%d] after the kill = false", i)
		}
	}
	letRun(ctx)
}

func TestTaskKilledWhileParkedInWaitUnwinds(t *testing.T) {
	for _, mode := range []futures.WaitMode{futures.AllCompleted, futures.FirstCompleted, futures.FirstError} {
		t.Run(mode.String(), func(t *testing.T) {
			runLoop(t, func(ctx context.Context) error {
				fs := pendingFutures(3)
				var log []string
				task := startUnwindingWaiter(t, ctx, &log, func(ctx context.Context) { futures.Wait(ctx, fs, mode) })
				killWaiterThenComplete(t, ctx, task, fs)
				if want := []string{"unwound"}; !slices.Equal(log, want) {
					t.Errorf("log %v, want %v", log, want)
				}
				done, pending, err := futures.Wait(ctx, fs, mode)
				checkWaitSplit(t, fs, done, pending, err, []int{0, 1, 2}, []int{})
				return nil
			})
		})
	}
}

func TestTaskKilledWhileParkedInAsCompletedUnwinds(t *testing.T) {
	for name, parkInBody := range map[string]bool{"in the iterator": false, "in the loop's body": true} {
		t.Run(name, func(t *testing.T) {
			runLoop(t, func(ctx context.Context) error {
				fs := pendingFutures(3)
				fs[1].SetResult(1)
				var log []string
				var yielded []int
				task := startUnwindingWaiter(t, ctx, &log, func(ctx context.Context) {
					for f := range futures.AsCompleted(ctx, fs) {
						yielded = append(yielded, slices.Index(fs, f))
						if parkInBody {
							scheduler.Park(ctx, "test") // nothing wakes it: only the kill ends it
						}
					}
				})
				killWaiterThenComplete(t, ctx, task, fs)
				if want := []string{"unwound"}; !slices.Equal(log, want) || !slices.Equal(yielded, []int{1}) {
					t.Errorf("log %v, yielded %v; want %v, [1]", log, yielded, want)
				}
				return nil
			})
		})
	}
}

func TestWaitAndAsCompletedInADyingTasksDeferredCallFailWithErrKilled(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		fs := pendingFutures(2)
		fs[0].SetResult(0)
		var waitErr error
		var yielded []int
		var errs []error
		task := spawnTask(t, ctx, "dying", func(ctx context.Context) error {
			defer func() {
				_, _, waitErr = futures.Wait(ctx, fs, futures.AllCompleted)
				yielded, errs = collectAsCompleted(ctx, fs)
			}()
			return scheduler.Park(ctx, "test") // only the kill ends it
		})
		letRun(ctx)
		task.Kill(ctx)
		if waitErr != scheduler.ErrKilled {
			t.Errorf("Wait in a dying task = %v, want ErrKilled", waitErr)
		}
		if !slices.Equal(yielded, []int{0, -1}) || !slices.Equal(errs, []error{scheduler.ErrKilled}) {
			t.Errorf("AsCompleted in a dying task yielded %v, %v; want [0 -1], [ErrKilled]", yielded, errs)
		}
		fs[1].SetResult(1) // nothing left watching it
		return nil
	})
}

// A waiter that a task leaves behind in a future's watch list keeps the task
// reachable for as long as the future lives: a task that ended must be
// garbage while the futures it waited for are still pending.
func TestWaitsLeaveNothingBehindThatKeepsTheirTaskAlive(t *testing.T) {
	waits := map[string]struct {
		kill bool
		wait func(ctx context.Context, fs []*futures.Future[int])
	}{
		"killed in Wait": {true, func(ctx context.Context, fs []*futures.Future[int]) {
			futures.Wait(ctx, fs, futures.AllCompleted)
		}},
		"killed in AsCompleted": {true, func(ctx context.Context, fs []*futures.Future[int]) {
			for range futures.AsCompleted(ctx, fs) {
			}
		}},
		"broke out of AsCompleted": {false, func(ctx context.Context, fs []*futures.Future[int]) {
			for range futures.AsCompleted(ctx, append(fs, completedFuture())) {
				break
			}
		}},
	}
	for name, c := range waits {
		t.Run(name, func(t *testing.T) {
			runLoop(t, func(ctx context.Context) error {
				fs := pendingFutures(2)
				ended := func() weak.Pointer[scheduler.Task] {
					task := spawnTask(t, ctx, "waiter", func(ctx context.Context) error {
						c.wait(ctx, fs)
						return nil
					})
					letRun(ctx)
					if c.kill {
						task.Kill(ctx)
					}
					if err := task.Join(ctx); c.kill != (err == scheduler.ErrKilled) {
						t.Errorf("waiter ended with %v", err)
					}
					return weak.Make(task)
				}()
				// The loop hands an ended task's fiber to the next task, which
				// drops what the fiber last held of the one before.
				spawnTask(t, ctx, "next", func(context.Context) error { return nil }).Join(ctx)
				runtime.GC()
				runtime.GC()
				if ended.Value() != nil {
					t.Error("the ended task is still reachable: a watcher of a pending future holds it")
				}
				for i, f := range fs {
					f.SetResult(i)
				}
				return nil
			})
		})
	}
}

// completedFuture returns a future done with -1.
func completedFuture() *futures.Future[int] {
	f := new(futures.Future[int])
	f.SetResult(-1)
	return f
}

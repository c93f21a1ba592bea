package waitq_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main, scheduler.WithVirtualClock()); err != nil {
		t.Fatal(err)
	}
}

// waiters starts one task per name that waits in q and records what it got.
func waiters(ctx context.Context, q *waitq.Queue[string], got *[]string, names ...string) []*scheduler.Task {
	var ts []*scheduler.Task
	for _, name := range names {
		task, _ := scheduler.Spawn(ctx, name, func(ctx context.Context) error {
			v, err := q.Wait(ctx, "test", 0, name, nil)
			if err != nil {
				*got = append(*got, name+":"+err.Error())
				return err
			}
			*got = append(*got, name+":"+v)
			return nil
		})
		ts = append(ts, task)
	}
	return ts
}

func TestWaitersAreWokenInArrivalOrder(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var got []string
		waiters(ctx, &q, &got, "a", "b", "c")
		scheduler.Sleep(ctx, 0)
		for i := 0; ; i++ {
			w := q.Front()
			if w == nil {
				break
			}
			if w.Value != string(rune('a'+i)) {
				t.Errorf("waiter %d brought %q", i, w.Value)
			}
			q.Wake(w, "v"+w.Value, nil)
		}
		scheduler.Sleep(ctx, 0)
		if want := []string{"a:va", "b:vb", "c:vc"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestTimedOutWaiterIsSkippedAndNeverHandedAWakeUp(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var got []string
		timed, _ := scheduler.Go(ctx, func(ctx context.Context) error {
			ctx, cancel := scheduler.WithTimeout(ctx, time.Second)
			defer cancel()
			_, err := q.Wait(ctx, "test", 0, "timed", nil)
			got = append(got, "timed:"+err.Error())
			return nil
		})
		waiters(ctx, &q, &got, "b")
		scheduler.Sleep(ctx, 2*time.Second) // the deadline passes: timed is runnable, not run
		if w := q.Front(); w == nil || w.Value != "b" {
			t.Fatalf("Front = %v, want the waiter that still waits", w)
		} else {
			q.Wake(w, "x", nil)
		}
		timed.Join(ctx)
		scheduler.Sleep(ctx, 0)
		if want := []string{"timed:context deadline exceeded", "b:x"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

type recorder struct{ seen []string }

func (r *recorder) Killed(w *waitq.Waiter[string]) {
	r.seen = append(r.seen, w.Value+" woken="+map[bool]string{true: "yes", false: "no"}[w.Woken])
}

func TestKilledWaiterTellsWhatItWasHanded(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var r recorder
		start := func(name string) *scheduler.Task {
			task, _ := scheduler.Go(ctx, func(ctx context.Context) error {
				_, err := q.Wait(ctx, "test", 0, name, &r)
				return err
			})
			return task
		}
		a, b := start("a"), start("b")
		scheduler.Sleep(ctx, 0)
		q.Wake(q.Front(), "for a", nil) // a is runnable, not run yet
		a.Kill(ctx)
		b.Kill(ctx)
		if want := []string{"for a woken=yes", "b woken=no"}; !slices.Equal(r.seen, want) {
			t.Errorf("Killed saw %v, want %v", r.seen, want)
		}
		if !q.Empty() {
			t.Error("a killed waiter stayed in the queue")
		}
		return nil
	})
}

func TestStrayWakeDoesNotEndTheWait(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var got []string
		ts := waiters(ctx, &q, &got, "a", "b")
		scheduler.Sleep(ctx, 0)
		if ts[1].Wake() { // not through q: does nothing
			t.Error("a scheduler Wake ended a wait in a Queue")
		}
		q.WakeAll("all", nil)
		scheduler.Sleep(ctx, 0)
		if want := []string{"a:all", "b:all"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestWaitWithoutATaskFails(t *testing.T) {
	var q waitq.Queue[int]
	if _, err := q.Wait(context.Background(), "test", 0, 0, nil); !errors.Is(err, scheduler.ErrNoTask) {
		t.Fatalf("Wait = %v, want ErrNoTask", err)
	}
	if !q.Empty() {
		t.Fatal("a failed Wait left a waiter behind")
	}
}

func TestHomeRefusesAnotherLoop(t *testing.T) {
	var h waitq.Home
	run(t, func(ctx context.Context) error {
		if err := h.Check(scheduler.Current(ctx)); err != nil {
			t.Errorf("first use: %v", err)
		}
		if !h.Is(scheduler.LoopOf(ctx)) {
			t.Error("Home is not bound to the loop that used it first")
		}
		return nil
	})
	run(t, func(ctx context.Context) error {
		if err := h.Check(scheduler.Current(ctx)); !errors.Is(err, scheduler.ErrWrongLoop) {
			t.Errorf("use from another loop: %v, want ErrWrongLoop", err)
		}
		return nil
	})
}

func TestHomeRefusesNoTaskAndATaskThatIsNotRunning(t *testing.T) {
	var h waitq.Home
	if err := h.Check(nil); !errors.Is(err, scheduler.ErrNoTask) {
		t.Errorf("Check(nil) = %v, want ErrNoTask", err)
	}
	run(t, func(ctx context.Context) error {
		other, _ := scheduler.Go(ctx, func(ctx context.Context) error { return nil })
		if err := h.Check(other); !errors.Is(err, scheduler.ErrNotCurrent) {
			t.Errorf("Check(a runnable task) = %v, want ErrNotCurrent", err)
		}
		return other.Join(ctx)
	})
}

func TestPruneDropsWaitersThatAreNotParked(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var got []string
		var cancel context.CancelFunc
		waiters(ctx, &q, &got, "a")
		b, _ := scheduler.Go(ctx, func(ctx context.Context) error {
			ctx, cancel = context.WithCancel(ctx)
			_, err := q.Wait(ctx, "test", 0, "b", nil)
			got = append(got, "b:"+err.Error())
			return nil
		})
		waiters(ctx, &q, &got, "c")
		scheduler.Sleep(ctx, 0)
		cancel()
		for b.State() != scheduler.StateRunnable { // cancelled, not yet resumed
			scheduler.Sleep(ctx, 0)
		}
		if n := q.Prune(); n != 2 {
			t.Errorf("Prune = %d, want 2 still waiting", n)
		}
		q.WakeAll("all", nil)
		scheduler.Sleep(ctx, 0)
		if want := []string{"b:" + context.Canceled.Error(), "a:all", "c:all"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestEnterParkLeaveIsWait(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var q waitq.Queue[string]
		var r recorder
		var got []string
		wait := func(ctx context.Context, name string) error {
			w := q.Enter(scheduler.Current(ctx), 0, name, &r)
			v, err := q.Leave(w, scheduler.ParkWith(ctx, "test", w.Hook()))
			if err == nil {
				got = append(got, name+":"+v)
			}
			return err
		}
		a, _ := scheduler.Go(ctx, func(ctx context.Context) error { return wait(ctx, "a") })
		b, _ := scheduler.Go(ctx, func(ctx context.Context) error { return wait(ctx, "b") })
		scheduler.Sleep(ctx, 0)
		b.Kill(ctx)
		q.WakeAll("all", nil)
		if err := a.Join(ctx); err != nil {
			return err
		}
		if want := []string{"a:all"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		if want := []string{"b woken=no"}; !slices.Equal(r.seen, want) {
			t.Errorf("Killed saw %v, want %v", r.seen, want)
		}
		return nil
	})
}

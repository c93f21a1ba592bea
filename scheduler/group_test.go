package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
	"github.com/evergo/evergo/scheduler/schedtest"
	"golang.org/x/sync/errgroup"
)

// Group's behaviour, after x/sync/errgroup's tests (first error, limit,
// TryGo, zero Group) and trio's nursery tests (a failure cancels the
// siblings, the nursery's owner cancelled takes its children down, nested
// nurseries).

// parkForever parks its task until it is killed.
func parkForever(ctx context.Context) error { return scheduler.Park(ctx, "forever") }

// tasksLeft is the number of tasks alive on ctx's loop.
func tasksLeft(ctx context.Context) int { return scheduler.LoopOf(ctx).Stats().Tasks }

func TestGroupWaitReturnsFirstErrorAndKillsTheRest(t *testing.T) {
	first, second := errors.New("first"), errors.New("second")
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		var unwound []string
		start := scheduler.Now(ctx)
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { unwound = append(unwound, "parked") }()
			return parkForever(ctx)
		})
		g.Go(ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Second)
			return first
		})
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { unwound = append(unwound, "sleeping") }()
			scheduler.Sleep(ctx, time.Hour)
			return second
		})
		err := g.Wait(ctx)
		if err != first {
			t.Errorf("Wait = %v, want %v", err, first)
		}
		if took := scheduler.Now(ctx).Sub(start); took != time.Second {
			t.Errorf("Wait returned after %v, want 1s: the others were not killed", took)
		}
		if want := []string{"parked", "sleeping"}; !slices.Equal(unwound, want) {
			t.Errorf("deferred calls run before Wait returned: %v, want %v (oldest first)", unwound, want)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive after Wait, want main only", n)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupKilledMembersDeferredCallsRunBeforeWaitReturns(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		var events []string
		for i := range 3 {
			g.Go(ctx, func(ctx context.Context) error {
				defer func() {
					events = append(events, fmt.Sprint("unwound ", i))
					// A killed task's parking calls fail at once.
					if err := scheduler.Sleep(ctx, time.Second); i != 1 && !errors.Is(err, scheduler.ErrKilled) {
						t.Errorf("Sleep in a killed member's deferred call = %v, want ErrKilled", err)
					}
				}()
				if i == 1 {
					scheduler.Sleep(ctx, 0)
					return errors.New("boom")
				}
				return parkForever(ctx)
			})
		}
		err := g.Wait(ctx)
		events = append(events, "Wait returned")
		if err == nil || err.Error() != "boom" {
			t.Errorf("Wait = %v, want boom", err)
		}
		// The failing member's own deferred calls run as it returns, before
		// the group hears of its end; then it kills the others.
		if want := []string{"unwound 1", "unwound 0", "unwound 2", "Wait returned"}; !slices.Equal(events, want) {
			t.Errorf("events %v, want %v", events, want)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupPanicReachesWaitAsPanicError(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		killed := false
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { killed = true }()
			return parkForever(ctx)
		})
		g.Go(ctx, func(ctx context.Context) error { panic("member panicked") })
		err := g.Wait(ctx)
		var pe *scheduler.PanicError
		if !errors.As(err, &pe) || pe.Value != "member panicked" {
			t.Fatalf("Wait = %v, want a *PanicError of the member's panic", err)
		}
		if !strings.Contains(string(pe.Stack), "group_test.go") {
			t.Errorf("the panic's stack does not show where it came from:\n%s", pe.Stack)
		}
		if !killed {
			t.Error("the panic did not kill the other member")
		}
		return nil
	})
}

func TestGroupWithNoMembersWaitReturnsNilAtOnce(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		other := false
		mustGo(t, ctx, func(context.Context) error { other = true; return nil })
		if err := g.Wait(ctx); err != nil {
			t.Errorf("Wait = %v, want nil", err)
		}
		if other {
			t.Error("Wait of an empty group let another task run")
		}
		return nil
	})
}

func TestGroupMembersAreNamedGroup(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, func(ctx context.Context) error {
			if name := scheduler.Current(ctx).Name(); name != "group" {
				t.Errorf("member named %q, want group", name)
			}
			return nil
		})
		return g.Wait(ctx)
	})
}

// limited runs six tasks that each start a member of a group limited to
// two. It checks that no more than two members run at once and that the
// free slots go to the tasks parked in Go first come, first served: when
// one's member starts, every task that parked before it has been handed a
// slot (it is no longer parked). Under FIFO the members start in that order
// too; under a seed, tasks handed slots at once may resume in any order.
func limited(ctx context.Context, inOrder bool) error {
	var g scheduler.Group
	g.SetLimit(2)
	var parked, started []int
	running, most := 0, 0
	starters := make([]*scheduler.Task, 6)
	var bad error
	for i := range starters {
		starters[i], _ = scheduler.Go(ctx, func(ctx context.Context) error {
			parked = append(parked, i) // Go parks (or starts) before anything else runs
			g.Go(ctx, func(ctx context.Context) error {
				started = append(started, i)
				running++
				most = max(most, running)
				defer func() { running-- }()
				return scheduler.Sleep(ctx, time.Duration(1+i%3)*time.Millisecond)
			})
			for _, j := range parked[:slices.Index(parked, i)] {
				if starters[j].State() == scheduler.StateParked && bad == nil {
					bad = fmt.Errorf("task %d started its member while task %d, parked before it, still waits", i, j)
				}
			}
			return nil
		})
	}
	for _, s := range starters {
		s.Join(ctx)
	}
	switch err := g.Wait(ctx); {
	case err != nil:
		return err
	case bad != nil:
		return bad
	case most != 2:
		return fmt.Errorf("%d members ran at once under SetLimit(2)", most)
	case inOrder && !slices.Equal(started, parked):
		return fmt.Errorf("members started in the order %v, their starters came %v", started, parked)
	}
	return nil
}

func TestGroupSetLimitParksStartersInFIFOOrder(t *testing.T) {
	run(t, func(ctx context.Context) error { return limited(ctx, true) }, scheduler.WithVirtualClock())
	schedtest.Explore(t, 200, func(ctx context.Context) error { return limited(ctx, false) })
}

func TestGroupTryGoFailsAtTheLimitAndBehindParkedStarters(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.SetLimit(1)
		nop := func(context.Context) error { return nil }
		if !g.TryGo(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, 0) }) {
			t.Fatal("TryGo on an empty group failed")
		}
		if g.TryGo(ctx, nop) {
			t.Error("TryGo beyond the limit started its function")
		}
		ran := false
		mustGo(t, ctx, func(ctx context.Context) error {
			g.Go(ctx, func(context.Context) error { ran = true; return nil }) // parks: the slot is taken
			return nil
		})
		mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, 0) // the member ends meanwhile: its slot goes to the parked Go
			if g.TryGo(ctx, nop) {
				t.Error("TryGo took the slot handed to the task parked in Go")
			}
			return nil
		})
		if err := g.Wait(ctx); err != nil || !ran {
			t.Errorf("Wait = %v, the parked Go's function ran: %v", err, ran)
		}
		if !g.TryGo(ctx, nop) {
			t.Error("TryGo after Wait failed")
		}
		return g.Wait(ctx)
	})
}

func TestGroupSetLimitWhileActivePanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, 0) })
		func() {
			defer func() {
				if r := recover(); r == nil || !strings.Contains(fmt.Sprint(r), "SetLimit") {
					t.Errorf("SetLimit with a member running: recovered %v, want a panic", r)
				}
			}()
			g.SetLimit(1)
		}()
		if err := g.Wait(ctx); err != nil {
			return err
		}
		g.SetLimit(1) // no member left
		g.SetLimit(-1)
		return nil
	})
}

func TestGroupWaitContextDeadlineKillsMembers(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		unwound := 0
		for range 3 {
			g.Go(ctx, func(ctx context.Context) error {
				defer func() { unwound++ }()
				return scheduler.Sleep(ctx, time.Hour)
			})
		}
		start := scheduler.Now(ctx)
		c, cancel := scheduler.WithTimeout(ctx, time.Minute)
		defer cancel()
		err := g.Wait(c)
		if err != context.DeadlineExceeded {
			t.Errorf("Wait = %v, want DeadlineExceeded", err)
		}
		if took := scheduler.Now(ctx).Sub(start); took != time.Minute || unwound != 3 {
			t.Errorf("Wait returned after %v with %d members unwound, want 1m and 3", took, unwound)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive after Wait, want main only", n)
		}
		if err := g.Wait(ctx); err != nil {
			t.Errorf("second Wait = %v, want nil: the first reported the failure", err)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupKillingTheWaiterKillsTheMembersFirst(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var events []string
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { events = append(events, "waiter") }()
			var g scheduler.Group
			for i := range 2 {
				g.Go(ctx, func(ctx context.Context) error {
					defer func() { events = append(events, fmt.Sprint("member ", i)) }()
					return parkForever(ctx)
				})
			}
			return g.Wait(ctx)
		})
		scheduler.Sleep(ctx, time.Second)
		if err := waiter.Kill(ctx); err != nil {
			return err
		}
		if want := []string{"member 0", "member 1", "waiter"}; !slices.Equal(events, want) {
			t.Errorf("unwound %v, want %v", events, want)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive after the kill, want main only", n)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// nested starts a member of outer that runs a group of its own with two
// members parked forever, and waits for it; each task notes its unwinding.
func nested(ctx context.Context, outer *scheduler.Group, events *[]string) {
	outer.Go(ctx, func(ctx context.Context) error {
		defer func() { *events = append(*events, "inner waiter") }()
		var inner scheduler.Group
		for i := range 2 {
			inner.Go(ctx, func(ctx context.Context) error {
				defer func() { *events = append(*events, fmt.Sprint("inner ", i)) }()
				return parkForever(ctx)
			})
		}
		return inner.Wait(ctx)
	})
}

func TestGroupKillingTheWaiterKillsNestedGroups(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var events []string
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { events = append(events, "waiter") }()
			var g scheduler.Group
			nested(ctx, &g, &events)
			return g.Wait(ctx)
		})
		scheduler.Sleep(ctx, time.Second)
		waiter.Kill(ctx)
		if want := []string{"inner 0", "inner 1", "inner waiter", "waiter"}; !slices.Equal(events, want) {
			t.Errorf("unwound %v, want %v", events, want)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive after the kill, want main only", n)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupFailureKillsNestedGroupsMembers(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		var events []string
		var g scheduler.Group
		nested(ctx, &g, &events)
		g.Go(ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Second)
			return boom
		})
		if err := g.Wait(ctx); err != boom {
			t.Errorf("Wait = %v, want boom", err)
		}
		if want := []string{"inner 0", "inner 1", "inner waiter"}; !slices.Equal(events, want) {
			t.Errorf("unwound %v, want %v", events, want)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive after Wait, want main only", n)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupMemberKilledFromOutsideDoesNotFailTheGroup(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		var victim *scheduler.Task
		g.Go(ctx, func(ctx context.Context) error {
			victim = scheduler.Current(ctx)
			return parkForever(ctx)
		})
		finished := false
		g.Go(ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Second)
			finished = true
			return nil
		})
		mustGo(t, ctx, func(ctx context.Context) error { return victim.Kill(ctx) })
		if err := g.Wait(ctx); err != nil || !finished {
			t.Errorf("Wait = %v with the other member finished: %v; want nil, true", err, finished)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupIsReusableAfterWait(t *testing.T) {
	boom := errors.New("boom")
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, func(context.Context) error { return boom })
		scheduler.Sleep(ctx, 0)
		refused := true
		g.Go(ctx, func(context.Context) error { refused = false; return nil })
		if g.TryGo(ctx, func(context.Context) error { refused = false; return nil }) {
			t.Error("TryGo on a failed group reported a start")
		}
		if err := g.Wait(ctx); err != boom {
			t.Errorf("Wait = %v, want boom", err)
		}
		if !refused {
			t.Error("a failed group started a function before Wait reported the failure")
		}
		ran := false
		g.Go(ctx, func(context.Context) error { ran = true; return nil })
		if err := g.Wait(ctx); err != nil || !ran {
			t.Errorf("second round: Wait = %v, ran %v; want nil, true", err, ran)
		}
		return nil
	})
}

func TestGroupGoContextEndingWhileWaitingForASlotFailsTheGroup(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.SetLimit(1)
		killed := false
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { killed = true }()
			return parkForever(ctx)
		})
		c, cancel := scheduler.WithTimeout(ctx, time.Minute)
		defer cancel()
		ran := false
		g.Go(c, func(context.Context) error { ran = true; return nil })
		if ran || !killed {
			t.Errorf("after Go's deadline: its function ran %v, the member was killed %v; want false, true", ran, killed)
		}
		if err := g.Wait(ctx); err != context.DeadlineExceeded {
			t.Errorf("Wait = %v, want DeadlineExceeded", err)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupKilledStarterHandsItsSlotOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.SetLimit(1)
		var ran []string
		var first *scheduler.Task
		mustGo(t, ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Second)
			scheduler.Sleep(ctx, 0) // behind the member, ahead of the starter it wakes
			if first.State() != scheduler.StateRunnable {
				t.Errorf("the first starter is %v, want runnable: handed the slot", first.State())
			}
			return first.Kill(ctx)
		})
		g.Go(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Second) })
		first = mustGo(t, ctx, func(ctx context.Context) error {
			g.Go(ctx, func(context.Context) error { ran = append(ran, "first"); return nil })
			return nil
		})
		mustGo(t, ctx, func(ctx context.Context) error {
			g.Go(ctx, func(context.Context) error { ran = append(ran, "second"); return nil })
			return nil
		})
		if err := g.Wait(ctx); err != nil {
			t.Errorf("Wait = %v, want nil", err)
		}
		if !slices.Equal(ran, []string{"second"}) {
			t.Errorf("ran %v, want the second starter's function only", ran)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupMultipleWaitersGetTheSameResult(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, parkForever)
		var other error
		waiter := mustGo(t, ctx, func(ctx context.Context) error { other = g.Wait(ctx); return nil })
		c, cancel := scheduler.WithTimeout(ctx, time.Minute)
		defer cancel()
		if err := g.Wait(c); err != context.DeadlineExceeded {
			t.Errorf("Wait = %v, want DeadlineExceeded", err)
		}
		waiter.Join(ctx)
		if other != context.DeadlineExceeded {
			t.Errorf("the other Wait = %v, want DeadlineExceeded", other)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupDeferredWaitOfAKilledTaskKillsTheMembers(t *testing.T) {
	run(t, func(ctx context.Context) error {
		unwound := 0
		var waitErr error
		owner := mustGo(t, ctx, func(ctx context.Context) error {
			var g scheduler.Group
			defer func() { waitErr = g.Wait(ctx) }()
			for range 2 {
				g.Go(ctx, func(ctx context.Context) error {
					defer func() { unwound++ }()
					return parkForever(ctx)
				})
			}
			return parkForever(ctx) // killed here, before it reaches Wait
		})
		scheduler.Sleep(ctx, time.Second)
		owner.Kill(ctx)
		if !errors.Is(waitErr, scheduler.ErrKilled) {
			t.Errorf("deferred Wait = %v, want ErrKilled", waitErr)
		}
		scheduler.Sleep(ctx, 0) // the kills are a callback's: a dying task may not switch
		if unwound != 2 || tasksLeft(ctx) != 1 {
			t.Errorf("%d members unwound, %d tasks left; want 2 and main only", unwound, tasksLeft(ctx))
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupMisuseFromAnotherLoopPanics(t *testing.T) {
	var g scheduler.Group
	run(t, func(ctx context.Context) error {
		g.Go(ctx, func(ctx context.Context) error { return nil })
		return g.Wait(ctx)
	})
	run(t, func(ctx context.Context) error {
		for name, call := range map[string]func(){
			"Go":    func() { g.Go(ctx, parkForever) },
			"TryGo": func() { g.TryGo(ctx, parkForever) },
		} {
			func() {
				defer func() {
					if err, _ := recover().(error); !errors.Is(err, scheduler.ErrWrongLoop) {
						t.Errorf("%s from another loop: recovered %v, want ErrWrongLoop", name, err)
					}
				}()
				call()
			}()
		}
		if err := g.Wait(ctx); !errors.Is(err, scheduler.ErrWrongLoop) {
			t.Errorf("Wait from another loop = %v, want ErrWrongLoop", err)
		}
		return nil
	})
}

func TestGroupGoWithoutATaskFailsTheGroup(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		killed, ran, tried := false, false, false
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { killed = true }()
			return parkForever(ctx)
		})
		scheduler.LoopOf(ctx).CallSoon(func(ctx context.Context) {
			// A callback's context carries the loop but no task.
			g.Go(ctx, func(context.Context) error { ran = true; return nil })
		})
		if err := g.Wait(ctx); !errors.Is(err, scheduler.ErrNoTask) {
			t.Errorf("Wait = %v, want ErrNoTask", err)
		}
		if ran || !killed {
			t.Errorf("Go from a callback: its function ran %v, the member was killed %v; want false, true", ran, killed)
		}
		// TryGo never parks: a callback may start a member.
		scheduler.LoopOf(ctx).CallSoon(func(ctx context.Context) {
			if !g.TryGo(ctx, func(context.Context) error { tried = true; return nil }) {
				t.Error("TryGo from a callback failed")
			}
		})
		scheduler.Sleep(ctx, 0)
		if err := g.Wait(ctx); err != nil || !tried {
			t.Errorf("Wait = %v, TryGo's function ran %v; want nil, true", err, tried)
		}
		return nil
	})
}

func TestGroupMistakesPanic(t *testing.T) {
	var g scheduler.Group
	for name, c := range map[string]struct {
		call func(ctx context.Context)
		want error
	}{
		"Go without a loop": {func(context.Context) { g.Go(context.Background(), parkForever) }, scheduler.ErrNoLoop},
		"TryGo of nil":      {func(ctx context.Context) { g.TryGo(ctx, nil) }, scheduler.ErrNilFunc},
		"Go of nil":         {func(ctx context.Context) { g.Go(ctx, nil) }, scheduler.ErrNilFunc},
	} {
		t.Run(name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				defer func() {
					if err, _ := recover().(error); !errors.Is(err, c.want) {
						t.Errorf("recovered %v, want %v", err, c.want)
					}
				}()
				c.call(ctx)
				return nil
			})
		})
	}
}

func TestGroupWaitByAMemberPanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, func(ctx context.Context) error { return g.Wait(ctx) })
		var pe *scheduler.PanicError
		if err := g.Wait(ctx); !errors.As(err, &pe) || !strings.Contains(fmt.Sprint(pe.Value), "member") {
			t.Errorf("Wait = %v, want the member's panic", err)
		}
		return nil
	})
}

func TestGroupDeadlockWithAMemberWaitingForeverReports(t *testing.T) {
	unwound := false
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var g scheduler.Group
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { unwound = true }()
			return scheduler.Park(ctx, "nothing")
		})
		return g.Wait(ctx)
	}, scheduler.WithVirtualClock())
	var de *scheduler.DeadlockError
	if !errors.As(err, &de) || len(de.Tasks) != 2 {
		t.Fatalf("Run = %v, want a *DeadlockError naming two tasks", err)
	}
	if b := de.Tasks[0]; b.Name != "main" || !strings.Contains(b.What, "Group.Wait") {
		t.Errorf("first task %+v, want main in Group.Wait", b)
	}
	if b := de.Tasks[1]; b.Name != "group" || !strings.Contains(b.What, "nothing") {
		t.Errorf("second task %+v, want the member, named group, parked on nothing", b)
	}
	if !unwound {
		t.Error("the member was not unwound")
	}
}

// A failure under every seed: the first error is Wait's, every other member
// is unwound before Wait returns, and none is left.
func TestGroupFailureUnderSeeds(t *testing.T) {
	schedtest.Explore(t, 200, func(ctx context.Context) error {
		var g scheduler.Group
		g.SetLimit(3)
		started, unwound, failures := 0, 0, 0
		var first error
		for i := range 8 {
			g.Go(ctx, func(ctx context.Context) error {
				started++
				defer func() { unwound++ }()
				for range i % 4 {
					scheduler.Sleep(ctx, 0)
				}
				if i%3 == 2 {
					err := fmt.Errorf("member %d failed", i)
					if failures++; first == nil {
						first = err
					}
					return err
				}
				return scheduler.Sleep(ctx, time.Duration(i)*time.Millisecond)
			})
		}
		err := g.Wait(ctx)
		switch {
		case err == nil || err != first:
			return fmt.Errorf("Wait = %v, want the first failure %v", err, first)
		case failures != 1:
			return fmt.Errorf("%d members failed: the first did not kill the rest", failures)
		case unwound != started || tasksLeft(ctx) != 1:
			return fmt.Errorf("%d of %d members unwound, %d tasks alive after Wait", unwound, started, tasksLeft(ctx))
		}
		return nil
	})
}

// BenchmarkGroupGoWait starts eight trivial members and waits for them,
// beside BenchmarkErrgroupGoWait, the same with x/sync/errgroup's
// goroutines.
func BenchmarkGroupGoWait(b *testing.B) {
	nop := func(context.Context) error { return nil }
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var g scheduler.Group
		b.ReportAllocs()
		for b.Loop() {
			for range 8 {
				g.Go(ctx, nop)
			}
			g.Wait(ctx)
		}
		return nil
	})
}

func BenchmarkErrgroupGoWait(b *testing.B) {
	nop := func() error { return nil }
	b.ReportAllocs()
	for b.Loop() {
		var g errgroup.Group
		for range 8 {
			g.Go(nop)
		}
		g.Wait()
	}
}

func TestGroupMemberKillingTheWaiterKillsTheOthersAndLivesOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var events []string
		var g scheduler.Group
		var waiter *scheduler.Task
		waiter = mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { events = append(events, "waiter") }()
			g.Go(ctx, func(ctx context.Context) error {
				defer func() { events = append(events, "other") }()
				return parkForever(ctx)
			})
			g.Go(ctx, func(ctx context.Context) error {
				scheduler.Sleep(ctx, time.Second)
				waiter.Kill(ctx)
				events = append(events, "killer goes on")
				return nil
			})
			return g.Wait(ctx)
		})
		waiter.Join(ctx)
		scheduler.Sleep(ctx, time.Second)
		if want := []string{"other", "waiter", "killer goes on"}; !slices.Equal(events, want) {
			t.Errorf("events %v, want %v", events, want)
		}
		if n := tasksLeft(ctx); n != 1 {
			t.Errorf("%d tasks alive, want main only", n)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestGroupStoppedLoopUnwindsMembersBeforeTheWaiter(t *testing.T) {
	var events []string
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		defer func() { events = append(events, "main") }()
		var g scheduler.Group
		g.Go(ctx, func(ctx context.Context) error {
			defer func() { events = append(events, "member") }()
			return parkForever(ctx)
		})
		g.Go(ctx, func(ctx context.Context) error {
			scheduler.Sleep(ctx, time.Second)
			return scheduler.LoopOf(ctx).Stop()
		})
		return g.Wait(ctx)
	}, scheduler.WithVirtualClock())
	if !errors.Is(err, scheduler.ErrStopped) {
		t.Errorf("Run = %v, want ErrStopped", err)
	}
	if want := []string{"member", "main"}; !slices.Equal(events, want) {
		t.Errorf("unwound %v, want %v", events, want)
	}
}

// The waiter's kill comes at any point of the nested groups' lives: the
// inner members always unwind before their waiter, it before the outer
// waiter, and nothing is left.
func TestGroupKillingTheWaiterKillsNestedGroupsUnderSeeds(t *testing.T) {
	schedtest.Explore(t, 200, func(ctx context.Context) error {
		var events []string
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			defer func() { events = append(events, "waiter") }()
			var g scheduler.Group
			nested(ctx, &g, &events)
			g.Go(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, 0) })
			return g.Wait(ctx)
		})
		scheduler.Sleep(ctx, 0)
		scheduler.Sleep(ctx, 0)
		waiter.Kill(ctx)
		if n := len(events); n > 0 && events[n-1] != "waiter" { // none: killed before it ran
			return fmt.Errorf("unwound %v: the waiter not last", events)
		}
		// (Inner members killed before they ran have no deferred calls.)
		if i := slices.Index(events, "inner waiter"); i >= 0 && slices.ContainsFunc(events[i:], func(e string) bool {
			return strings.HasPrefix(e, "inner ") && e != "inner waiter"
		}) {
			return fmt.Errorf("unwound %v: the inner waiter before its members", events)
		}
		if n := tasksLeft(ctx); n != 1 {
			return fmt.Errorf("%d tasks alive after the kill (unwound %v)", n, events)
		}
		return nil
	})
}

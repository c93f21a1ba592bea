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

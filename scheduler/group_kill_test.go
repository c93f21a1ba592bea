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

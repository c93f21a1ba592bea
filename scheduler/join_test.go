package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// Join of the task the loop would run next runs it directly; these are the
// cases where that task does something other than end quietly.

func TestJoinedTaskKillingItsJoinerThenEndingIsFinished(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var joiner *scheduler.Task
		var child *scheduler.Task
		joiner = mustGo(t, ctx, func(ctx context.Context) error {
			child = mustGo(t, ctx, func(ctx context.Context) error {
				return joiner.Kill(ctx)
			})
			return child.Join(ctx)
		})
		if err := joiner.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("joiner's Join = %v, want ErrKilled", err)
		}
		if err := child.Join(ctx); err != nil {
			t.Errorf("child's Join = %v, want nil", err)
		}
		if s := scheduler.LoopOf(ctx).Stats(); s.Tasks != 1 {
			t.Errorf("%d tasks alive, want main only", s.Tasks)
		}
		return nil
	})
}

func TestWakeDoesNotEndAJoin(t *testing.T) {
	run(t, func(ctx context.Context) error {
		me := scheduler.Current(ctx)
		child := mustGo(t, ctx, func(ctx context.Context) error {
			if me.Wake() {
				t.Error("Wake ended a Join")
			}
			scheduler.Sleep(ctx, 0)
			return errors.New("child's result")
		})
		if err := child.Join(ctx); err == nil || child.State() != scheduler.StateEnded {
			t.Errorf("Join = %v with the child %v", err, child.State())
		}
		return nil
	})
}

func TestSpawnJoinInALoopDoesNotStarveTimers(t *testing.T) {
	run(t, func(ctx context.Context) error {
		fired := false
		scheduler.LoopOf(ctx).CallLater(time.Millisecond, func(context.Context) { fired = true })
		nop := func(context.Context) error { return nil }
		for !fired {
			child, err := scheduler.Go(ctx, nop)
			if err != nil {
				return err
			}
			if err := child.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
}

func TestParkWithAnotherTasksContextLeavesItAlone(t *testing.T) {
	run(t, func(ctx context.Context) error {
		sleeper := mustGo(t, ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Second) })
		target := mustGo(t, ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Second) })
		scheduler.Sleep(ctx, 0)
		other := sleeper.Context()
		if err := scheduler.Park(other, "x"); !errors.Is(err, scheduler.ErrNotCurrent) {
			t.Errorf("Park = %v, want ErrNotCurrent", err)
		}
		if err := target.Join(other); !errors.Is(err, scheduler.ErrNotCurrent) {
			t.Errorf("Join = %v, want ErrNotCurrent", err)
		}
		target.Join(ctx)
		return sleeper.Join(ctx) // its timer is intact: no deadlock
	}, scheduler.WithVirtualClock())
}

func TestTaskOutlivingItsKilledJoinerEndsIntoTheLoopAfterReuse(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var joiner, child *scheduler.Task
		joiner = mustGo(t, ctx, func(ctx context.Context) error {
			child = mustGo(t, ctx, func(ctx context.Context) error {
				joiner.Kill(ctx)
				for range 5 { // tasks that take over ended tasks' fibers
					n := mustGo(t, ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, 0) })
					scheduler.Sleep(ctx, 0)
					n.Join(ctx)
				}
				return errors.New("child's end")
			})
			return child.Join(ctx)
		})
		joiner.Join(ctx)
		if err := child.Join(ctx); err == nil || err.Error() != "child's end" {
			t.Errorf("child's Join = %v", err)
		}
		return nil
	})
}

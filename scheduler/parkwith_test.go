package scheduler_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// hookLog records its Killed calls, with the state of the task then.
type hookLog struct {
	task   *scheduler.Task
	states []scheduler.State
	hook   scheduler.ParkHook
}

func newHookLog() *hookLog {
	h := new(hookLog)
	h.hook.OnKill = h
	return h
}

func (h *hookLog) Killed() { h.states = append(h.states, h.task.State()) }

func TestParkWithHookToldOnceWhenParkedTaskIsKilled(t *testing.T) {
	h := newHookLog()
	returned := false
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			h.task = scheduler.Current(ctx)
			scheduler.ParkWith(ctx, "test", &h.hook)
			returned = true
			return nil
		})
		scheduler.Sleep(ctx, 0)
		if len(h.states) != 0 {
			t.Fatalf("hook told %d times before the kill", len(h.states))
		}
		task.Kill(ctx)
		if err := task.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
			t.Errorf("Join = %v, want ErrKilled", err)
		}
		return nil
	})
	if len(h.states) != 1 || returned {
		t.Fatalf("hook told %d times, ParkWith returned: %v; want once, and no return", len(h.states), returned)
	}
}

func TestParkWithHookToldWhenWokenTaskIsKilledBeforeItResumes(t *testing.T) {
	h := newHookLog()
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			h.task = scheduler.Current(ctx)
			return scheduler.ParkWith(ctx, "test", &h.hook)
		})
		scheduler.Sleep(ctx, 0)
		task.WakeWith(&h.hook)
		task.Kill(ctx)
		return nil
	})
	if len(h.states) != 1 || h.states[0] != scheduler.StateRunnable {
		t.Fatalf("hook saw states %v, want one call, on the runnable task", h.states)
	}
}

func TestParkWithHookNotToldWhenParkReturns(t *testing.T) {
	h := newHookLog()
	run(t, func(ctx context.Context) error {
		main := scheduler.Current(ctx)
		var cancel context.CancelFunc
		task := mustGo(t, ctx, func(ctx context.Context) error {
			h.task = scheduler.Current(ctx)
			if err := scheduler.ParkWith(ctx, "test", &h.hook); err != nil {
				return err
			}
			short, cancelShort := context.WithCancel(ctx)
			defer cancelShort()
			cancel = cancelShort
			if err := scheduler.ParkWith(short, "test", &h.hook); !errors.Is(err, context.Canceled) {
				t.Errorf("ParkWith with a cancelled context = %v, want Canceled", err)
			}
			main.Wake()
			return scheduler.Sleep(ctx, time.Hour) // killed here, outside ParkWith
		})
		scheduler.Sleep(ctx, 0)
		task.WakeWith(&h.hook)
		scheduler.Sleep(ctx, 0) // the task parks again, on short
		cancel()
		if err := scheduler.Park(ctx, "the task's second ParkWith to return"); err != nil {
			return err
		}
		task.Kill(ctx)
		return nil
	}, scheduler.WithVirtualClock())
	if len(h.states) != 0 {
		t.Fatalf("hook told %d times, want none: every park returned", len(h.states))
	}
}

func TestParkWithIsEndedOnlyByWakeWithItsOwnHook(t *testing.T) {
	h, other := newHookLog(), newHookLog()
	run(t, func(ctx context.Context) error {
		task := mustGo(t, ctx, func(ctx context.Context) error {
			return scheduler.ParkWith(ctx, "test", &h.hook)
		})
		scheduler.Sleep(ctx, 0)
		if task.Wake() {
			t.Error("Wake ended a park with a hook")
		}
		if task.WakeWith(&other.hook) {
			t.Error("WakeWith of another hook ended the park")
		}
		if task.State() != scheduler.StateParked {
			t.Fatalf("task is %v, want still parked", task.State())
		}
		if !task.WakeWith(&h.hook) {
			t.Error("WakeWith of the park's own hook reported false")
		}
		if task.WakeWith(&h.hook) {
			t.Error("a second WakeWith reported true")
		}
		return task.Join(ctx)
	})
}

type panickingHook struct{}

func (panickingHook) Killed() { panic("hook failed") }

func TestParkHookPanicComesBackFromJoinAndTheKillGoesOn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		h := &scheduler.ParkHook{OnKill: panickingHook{}}
		task := mustGo(t, ctx, func(ctx context.Context) error {
			return scheduler.ParkWith(ctx, "test", h)
		})
		scheduler.Sleep(ctx, 0)
		if err := task.Kill(ctx); err != nil {
			t.Fatalf("Kill = %v", err)
		}
		var pe *scheduler.PanicError
		err := task.Join(ctx)
		if !errors.Is(err, scheduler.ErrKilled) || !errors.As(err, &pe) || pe.Value != "hook failed" {
			t.Errorf("Join = %v, want ErrKilled joined with the hook's panic", err)
		}
		if task.State() != scheduler.StateEnded {
			t.Errorf("the killed task is %v, want ended", task.State())
		}
		return nil
	})
}

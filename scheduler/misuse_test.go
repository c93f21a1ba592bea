package scheduler_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// parkingCalls are the parking calls of this package, each made with ctx
// by a task of its own loop, on something that never wakes it by itself.
func parkingCalls(t *testing.T) map[string]func(ctx context.Context) error {
	return map[string]func(ctx context.Context) error{
		"Sleep": func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Hour) },
		"Park":  func(ctx context.Context) error { return scheduler.Park(ctx, "nothing") },
		"ParkWith": func(ctx context.Context) error {
			return scheduler.ParkWith(ctx, "nothing", &scheduler.ParkHook{})
		},
		"Join": func(ctx context.Context) error {
			waiter, err := scheduler.Go(ctx, func(ctx context.Context) error {
				return scheduler.Park(ctx, "nothing")
			})
			if err != nil {
				return err
			}
			defer scheduler.LoopOf(ctx).CallSoon(func(ctx context.Context) { waiter.Kill(ctx) })
			return waiter.Join(ctx)
		},
		"FD.Wait": func(ctx context.Context) error {
			a, _ := socketpair(t)
			fd, err := scheduler.Register(ctx, a)
			if err != nil {
				return err
			}
			defer fd.Close()
			return fd.Wait(ctx, scheduler.Read)
		},
	}
}

var errCause = errors.New("the cause")

// A parking call that ends because of its ctx's deadline returns only what
// ctx itself reports then: its Err is set, and Cause gives the cause. The
// loop's clock must not end the wait before the context's own timer does.
func TestParkingCallsReturnOnlyWhatTheirContextReports(t *testing.T) {
	timeouts := map[string]func(context.Context, time.Duration, error) (context.Context, context.CancelFunc){
		"context":   context.WithTimeoutCause,
		"scheduler": scheduler.WithTimeoutCause,
	}
	for kind, withTimeout := range timeouts {
		for name, call := range parkingCalls(t) {
			t.Run(kind+"/"+name, func(t *testing.T) {
				run(t, func(ctx context.Context) error {
					for range 20 {
						c, cancel := withTimeout(ctx, 50*time.Microsecond, errCause)
						err := call(c)
						cerr := c.Err()
						cancel()
						if err == nil || err != cerr {
							t.Fatalf("%s returned %v while its context's Err was %v", name, err, cerr)
						}
						if cause := context.Cause(c); cause != errCause {
							t.Fatalf("%s returned %v; Cause = %v, want %v", name, err, cause, errCause)
						}
					}
					return nil
				})
			})
		}
	}
}

// Under a virtual clock, a context of package context keeps its own,
// wall-clock deadline: a park on it ends when the context says so, not when
// the virtual clock passes that time.
func TestVirtualClockDoesNotEndAWallClockDeadlineEarly(t *testing.T) {
	run(t, func(ctx context.Context) error {
		if err := scheduler.Sleep(ctx, 24*time.Hour); err != nil {
			return err
		}
		c, cancel := context.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		err := scheduler.Park(c, "nothing")
		if !errors.Is(err, context.DeadlineExceeded) || c.Err() == nil {
			t.Fatalf("Park = %v with the context's Err %v, want both DeadlineExceeded", err, c.Err())
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// A killed task's deferred calls may not park: every parking call returns
// ErrKilled at once, not the cancelled context's error.
func TestParkingCallsOfADyingTaskReturnErrKilled(t *testing.T) {
	calls := parkingCalls(t)
	calls["Sleep(0)"] = func(ctx context.Context) error { return scheduler.Sleep(ctx, 0) }
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			var got error
			run(t, func(ctx context.Context) error {
				victim := mustGo(t, ctx, func(ctx context.Context) error {
					defer func() { got = call(ctx) }()
					return scheduler.Park(ctx, "the kill")
				})
				scheduler.Sleep(ctx, 0)
				return victim.Kill(ctx)
			})
			if !errors.Is(got, scheduler.ErrKilled) {
				t.Fatalf("%s in a dying task's deferred call = %v, want ErrKilled", name, got)
			}
		})
	}
}

func TestCallbackOfNilFunctionPanicsAtTheCall(t *testing.T) {
	for name, call := range map[string]func(l *scheduler.Loop){
		"CallSoon":  func(l *scheduler.Loop) { l.CallSoon(nil) },
		"CallLater": func(l *scheduler.Loop) { l.CallLater(time.Second, nil) },
		"CallAt":    func(l *scheduler.Loop) { l.CallAt(l.Now(), nil) },
	} {
		t.Run(name, func(t *testing.T) {
			ran := false
			run(t, func(ctx context.Context) error {
				l := scheduler.LoopOf(ctx)
				func() {
					defer func() {
						err, _ := recover().(error)
						if !errors.Is(err, scheduler.ErrNilFunc) || !strings.HasPrefix(err.Error(), "scheduler: "+name) {
							t.Errorf("%s(nil) panicked with %v, want an error wrapping ErrNilFunc", name, err)
						}
					}()
					call(l)
				}()
				l.CallSoon(func(context.Context) { ran = true })
				return scheduler.Sleep(ctx, 0)
			})
			if !ran {
				t.Fatal("the loop did not go on after the refused callback")
			}
		})
	}
}

// A task handed to a task of another loop is refused before anything its
// own loop owns is read: the race detector watches, while its own loop keeps
// changing its state.
func TestTaskOfAnotherLoopIsRefusedWithoutRace(t *testing.T) {
	handed := make(chan *scheduler.Task)
	var done atomic.Bool
	loopA := make(chan error)
	go func() {
		loopA <- scheduler.Run(context.Background(), func(ctx context.Context) error {
			busy, err := scheduler.Go(ctx, func(ctx context.Context) error {
				for !done.Load() {
					if err := scheduler.Sleep(ctx, 0); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				return err
			}
			handed <- busy
			return busy.Join(ctx)
		})
	}()
	run(t, func(ctx context.Context) error {
		defer done.Store(true)
		foreign := <-handed
		if err := foreign.Join(ctx); err != scheduler.ErrWrongLoop {
			t.Errorf("Join of another loop's task = %v, want ErrWrongLoop", err)
		}
		if err := foreign.Kill(ctx); err != scheduler.ErrWrongLoop {
			t.Errorf("Kill of another loop's task = %v, want ErrWrongLoop", err)
		}
		if err := foreign.Start(ctx); err != scheduler.ErrStarted {
			t.Errorf("Start of another loop's task = %v, want ErrStarted", err)
		}
		return nil
	})
	if err := <-loopA; err != nil {
		t.Fatalf("the other loop: %v", err)
	}
}

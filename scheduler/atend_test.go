package scheduler_test

import (
	"context"
	"errors"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

func TestRunWaitsForExpectedPostAfterLastTaskEnds(t *testing.T) {
	release := make(chan struct{})
	done := make(chan struct{})
	arrived := false
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		post := scheduler.LoopOf(ctx).Expect()
		go func() {
			defer close(done)
			<-release // only once main is about to end
			if err := post(func(context.Context) { arrived = true }); err != nil {
				t.Errorf("expected post = %v, want nil", err)
			}
		}()
		close(release)
		return nil
	})
	<-done
	if err != nil {
		t.Fatalf("Run = %v, want nil", err)
	}
	if !arrived {
		t.Fatal("Run returned before the expected post arrived")
	}
}

func TestAtEndFunctionsRunAfterKillsInReverseOrder(t *testing.T) {
	var order []string
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		for _, name := range []string{"first", "second", "dropped"} {
			stop, err := l.AtEnd(func() { order = append(order, name) })
			if err != nil {
				return err
			}
			if name == "dropped" && !stop() {
				t.Error("stop of a registered function = false, want true")
			}
			if name == "dropped" && stop() {
				t.Error("second stop = true, want false")
			}
		}
		scheduler.Go(ctx, func(ctx context.Context) error {
			defer func() { order = append(order, "killed task unwound") }()
			return scheduler.Park(ctx, "forever")
		})
		if err := scheduler.Sleep(ctx, 0); err != nil { // the task parks
			return err
		}
		return scheduler.LoopOf(ctx).Stop()
	})
	if !errors.Is(err, scheduler.ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	want := []string{"killed task unwound", "second", "first"}
	if len(order) != len(want) {
		t.Fatalf("order = %q, want %q", order, want)
	}
	for i := range want {
		if order[i] != want[i] {
			t.Fatalf("order = %q, want %q", order, want)
		}
	}
}

func TestPanickingAtEndFunctionIsRunsErrorAndOthersStillRun(t *testing.T) {
	ran := false
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		if _, err := l.AtEnd(func() { ran = true }); err != nil {
			return err
		}
		_, err := l.AtEnd(func() { panic("boom") })
		return err
	})
	var pe *scheduler.PanicError
	if !errors.As(err, &pe) || pe.Value != "boom" {
		t.Fatalf("Run = %v, want the AtEnd panic", err)
	}
	if !ran {
		t.Fatal("the function registered before the panicking one did not run")
	}
}

func TestAtEndRefusesNilAndEndedLoop(t *testing.T) {
	l := scheduler.New()
	if _, err := l.AtEnd(nil); !errors.Is(err, scheduler.ErrNilFunc) {
		t.Errorf("AtEnd(nil) = %v, want ErrNilFunc", err)
	}
	if err := l.Run(context.Background(), func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := l.AtEnd(func() {}); !errors.Is(err, scheduler.ErrClosed) {
		t.Errorf("AtEnd on an ended loop = %v, want ErrClosed", err)
	}
}

func TestLoopValuesAreKeptPerLoop(t *testing.T) {
	type key struct{}
	var seen []any
	for range 2 {
		err := scheduler.Run(context.Background(), func(ctx context.Context) error {
			l := scheduler.LoopOf(ctx)
			seen = append(seen, l.Value(key{})) // nil: a new loop has none
			l.SetValue(key{}, "kept")
			seen = append(seen, l.Value(key{}))
			l.SetValue(key{}, nil)
			seen = append(seen, l.Value(key{}))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	want := []any{nil, "kept", nil, nil, "kept", nil}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("values seen = %v, want %v", seen, want)
		}
	}
}

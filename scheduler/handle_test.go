package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

// An ended task's fiber and bookkeeping go to the tasks started after it;
// its handle does not. Handles kept past many such reuses still tell their
// own task's id, name, state, result and context, and no two alias.
func TestKeptHandlesOfEndedTasksKeepTheirOwnTask(t *testing.T) {
	type key struct{}
	errOdd := errors.New("odd")
	const n = 600 // more than a loop keeps lives for reuse
	ctx := context.WithValue(context.Background(), key{}, "run")
	var ts []*scheduler.Task
	err := scheduler.Run(ctx, func(ctx context.Context) error {
		for i := range n {
			name := ""
			if i%3 == 0 {
				name = fmt.Sprint("w", i)
			}
			task, err := scheduler.Spawn(ctx, name, func(ctx context.Context) error {
				if i%5 == 0 {
					return scheduler.Park(ctx, "killed here")
				}
				if i%2 == 1 {
					return fmt.Errorf("task %d: %w", i, errOdd)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if i%5 == 0 {
				scheduler.Sleep(ctx, 0) // it parks
				if err := task.Kill(ctx); err != nil {
					return err
				}
			}
			task.Join(ctx)
			ts = append(ts, task)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[*scheduler.Task]bool{}
	for i, task := range ts {
		if seen[task] {
			t.Fatalf("task %d's handle is another's too", i)
		}
		seen[task] = true
		if got, want := task.ID(), uint64(i+2); got != want {
			t.Errorf("task %d: ID = %d, want %d", i, got, want)
		}
		want := fmt.Sprint("task-", i+2)
		if i%3 == 0 {
			want = fmt.Sprint("w", i)
		}
		if got := task.Name(); got != want {
			t.Errorf("task %d: Name = %q, want %q", i, got, want)
		}
		if task.State() != scheduler.StateEnded {
			t.Errorf("task %d: State = %v, want ended", i, task.State())
		}
		err := task.Err()
		switch {
		case i%5 == 0:
			if err != scheduler.ErrKilled {
				t.Errorf("task %d: Err = %v, want ErrKilled", i, err)
			}
		case i%2 == 1:
			if !errors.Is(err, errOdd) || err.Error() != fmt.Sprintf("task %d: odd", i) {
				t.Errorf("task %d: Err = %v, want its own error", i, err)
			}
		case err != nil:
			t.Errorf("task %d: Err = %v, want nil", i, err)
		}
		c := task.Context()
		if c.Err() != context.Canceled || c.Value(key{}) != "run" || scheduler.Current(c) != task {
			t.Errorf("task %d: its context (Err %v, values %v, task %v) is not its own", i,
				c.Err(), c.Value(key{}), scheduler.Current(c))
		}
	}
}

// A task spawned from a context derived from a task's carries the values
// of the derived context, and passes them on to the tasks it spawns; a task
// spawned from the task's own context does not see them.
func TestSpawnFromDerivedContextCarriesItsValues(t *testing.T) {
	type runKey struct{}
	type reqKey struct{}
	ctx := context.WithValue(context.Background(), runKey{}, "run")
	run := func(ctx context.Context) error {
		values := func(ctx context.Context) string {
			return fmt.Sprint(ctx.Value(runKey{}), " ", ctx.Value(reqKey{}))
		}
		var child, grandchild, sibling string
		req := context.WithValue(ctx, reqKey{}, "req")
		c, err := scheduler.Go(req, func(ctx context.Context) error {
			child = values(ctx)
			g, err := scheduler.Go(ctx, func(ctx context.Context) error {
				grandchild = values(ctx)
				return nil
			})
			if err != nil {
				return err
			}
			return g.Join(ctx)
		})
		if err != nil {
			return err
		}
		s, err := scheduler.Go(ctx, func(ctx context.Context) error {
			sibling = values(ctx)
			return nil
		})
		if err != nil {
			return err
		}
		if err := c.Join(ctx); err != nil {
			return err
		}
		if err := s.Join(ctx); err != nil {
			return err
		}
		if child != "run req" || grandchild != "run req" || sibling != "run <nil>" {
			t.Errorf("values: child %q, grandchild %q, sibling %q; want %q, %q, %q",
				child, grandchild, sibling, "run req", "run req", "run <nil>")
		}
		if got := values(c.Context()); got != "run req" {
			t.Errorf("an ended child's context carries %q, want %q", got, "run req")
		}
		return nil
	}
	if err := scheduler.Run(ctx, run); err != nil {
		t.Fatal(err)
	}
}

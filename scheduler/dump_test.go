package scheduler_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// Dump names every live task with its state, what a parked one waits on,
// and the line it is suspended at.
func TestDumpSaysWhatEachTaskWaitsOnAndWhere(t *testing.T) {
	_, file, line, _ := runtime.Caller(0)
	here := func(n int) string { return fmt.Sprintf("(%s:%d)", file[strings.LastIndexByte(file, '/')+1:], line+n) }
	run(t, func(ctx context.Context) error {
		sleeper, _ := scheduler.Spawn(ctx, "sleeper", func(ctx context.Context) error {
			return scheduler.Sleep(ctx, time.Hour) // line+4
		})
		parker, _ := scheduler.Spawn(ctx, "parker", func(ctx context.Context) error {
			return scheduler.Park(ctx, "queue.Get") // line+7
		})
		if err := scheduler.Sleep(ctx, 0); err != nil { // both park now
			return err
		}
		fresh, _ := scheduler.Spawn(ctx, "fresh", func(ctx context.Context) error { return nil })
		var b strings.Builder
		if err := scheduler.LoopOf(ctx).Dump(&b); err != nil { // line+14
			return err
		}
		want := []string{
			"loop: 4 tasks (1 runnable, 2 parked), 1 timer, 0 fds, 0 posts expected",
			`task 1 "main" running`,
			"\tat scheduler_test.TestDumpSaysWhatEachTaskWaitsOnAndWhere.func2 " + here(14),
			`task 2 "sleeper" parked on Sleep`,
			"\tat scheduler_test.TestDumpSaysWhatEachTaskWaitsOnAndWhere.func2.1 " + here(4),
			`task 3 "parker" parked on queue.Get`,
			"\tat scheduler_test.TestDumpSaysWhatEachTaskWaitsOnAndWhere.func2.2 " + here(7),
			`task 4 "fresh" runnable`,
			"\tnot started",
		}
		if got := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n"); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("Dump wrote\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		for _, task := range []*scheduler.Task{sleeper, parker, fresh} {
			task.Kill(ctx)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// From a callback, no task is running, and a task that waits for another
// says which.
func TestDumpFromACallbackShowsAJoiner(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var b strings.Builder
		l := scheduler.LoopOf(ctx)
		worker, _ := scheduler.Spawn(ctx, "worker", func(ctx context.Context) error {
			return scheduler.Sleep(ctx, time.Second)
		})
		l.CallLater(time.Millisecond, func(context.Context) { l.Dump(&b) })
		if err := worker.Join(ctx); err != nil {
			return err
		}
		out := b.String()
		if !strings.Contains(out, `task 1 "main" parked on Join task 2 "worker"`) || strings.Contains(out, "running") {
			t.Errorf("Dump from a callback wrote\n%s\nwant main joining worker and no task running", out)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

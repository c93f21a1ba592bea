package ioco_test

import (
	"context"
	"errors"
	"strings"
	"syscall"
	"testing"

	"github.com/evergo/evergo/internal/fdtest"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A countingWriter counts the bytes written to it, and keeps none.
type countingWriter struct{ n int64 }

func (w *countingWriter) Write(p []byte) (int, error) { w.n += int64(len(p)); return len(p), nil }

func TestCommandWritingMoreThanAPipeHoldsDoesNotDeadlock(t *testing.T) {
	// os/exec's rule: a Stdout that is no *os.File is copied while the
	// child runs, so a child writing 100 MB never waits for Wait. (Read
	// a StdoutPipe to its end before Wait: Wait closes it.)
	const size = 100 << 20
	runLoop(t, func(ctx context.Context) error {
		var out countingWriter
		cmd := ioco.CommandContext(ctx, "head", "-c", "104857600", "/dev/zero")
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil || out.n != size {
			t.Errorf("100 MB from a child = %d bytes, %v", out.n, err)
		}
		return nil
	})
}

func TestCommandsStartedAtOnceFromManyTasksAreAllReaped(t *testing.T) {
	const n = 300
	before := openFDs(t)
	var pids []int
	runLoop(t, func(ctx context.Context) error {
		var tasks []*scheduler.Task
		for range n {
			task, err := scheduler.Spawn(ctx, "child", func(ctx context.Context) error {
				cmd := ioco.CommandContext(ctx, "true")
				if err := cmd.Start(); err != nil {
					return err
				}
				pids = append(pids, cmd.Process.Pid)
				return cmd.Wait()
			})
			if err != nil {
				return err
			}
			tasks = append(tasks, task)
		}
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				t.Errorf("a child: %v", err)
			}
		}
		return nil
	})
	for _, pid := range pids {
		if !reaped(pid) {
			t.Errorf("child %d is still in the process table", pid)
		}
	}
	if got := openFDs(t); got != before {
		t.Errorf("%d fds open after %d children, %d before", got, n, before)
	}
}

func TestCommandOutOfDescriptorsFailsClearlyAndLeaksNothing(t *testing.T) {
	if !fdtest.InChild(t) {
		return
	}
	runLoop(t, func(ctx context.Context) error {
		before := openFDs(t)
		release := fdtest.UseUp(t)
		for _, withPipe := range []bool{false, true} {
			cmd := ioco.CommandContext(ctx, "true")
			if withPipe {
				cmd.Stdout = new(strings.Builder)
			}
			err := cmd.Run()
			if !errors.Is(err, syscall.EMFILE) {
				t.Errorf("Run with no descriptor left (a pipe: %v) = %v; want EMFILE", withPipe, err)
			}
		}
		release()
		if got := openFDs(t); got != before {
			t.Errorf("%d fds open after the failed starts, %d before", got, before)
		}
		out, err := ioco.CommandContext(ctx, "echo", "again").Output()
		if string(out) != "again\n" || err != nil {
			t.Errorf("once descriptors are free: %q, %v", out, err)
		}
		return nil
	})
}

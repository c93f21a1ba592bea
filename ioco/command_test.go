package ioco_test

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// reaped reports whether the process pid is gone: no zombie left.
func reaped(pid int) bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d", pid))
	return os.IsNotExist(err)
}

func TestCommandRunReportsTheExitAsOsExecDoes(t *testing.T) {
	before := openFDs(t)
	runLoop(t, func(ctx context.Context) error {
		if err := ioco.CommandContext(ctx, "true").Run(); err != nil {
			t.Errorf("true: %v", err)
		}
		cmd := ioco.CommandContext(ctx, "sh", "-c", "exit 3")
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 3 || cmd.ProcessState.ExitCode() != 3 {
			t.Errorf("exit 3: %v; want an *exec.ExitError with code 3", err)
		}
		if !reaped(cmd.Process.Pid) {
			t.Errorf("the child %d is still in the process table after Wait", cmd.Process.Pid)
		}
		if err := cmd.Wait(); err == nil {
			t.Error("a second Wait succeeded")
		}
		missing := ioco.CommandContext(ctx, "evergo-no-such-command")
		if err := missing.Run(); !errors.Is(err, exec.ErrNotFound) {
			t.Errorf("a missing command: %v; want exec.ErrNotFound", err)
		}
		return nil
	})
	if n := openFDs(t); n != before {
		t.Errorf("%d fds open after, %d before", n, before)
	}
}

func TestCommandOutputAndCombinedOutput(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		out, err := ioco.CommandContext(ctx, "echo", "hello").Output()
		if string(out) != "hello\n" || err != nil {
			t.Errorf("Output of echo = %q, %v", out, err)
		}
		_, err = ioco.CommandContext(ctx, "sh", "-c", "echo why >&2; exit 1").Output()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || string(ee.Stderr) != "why\n" {
			t.Errorf("Output of a failing command = %v; want an *exec.ExitError with its stderr", err)
		}
		both, err := ioco.CommandContext(ctx, "sh", "-c", "echo out; echo err >&2").CombinedOutput()
		if string(both) != "out\nerr\n" || err != nil {
			t.Errorf("CombinedOutput = %q, %v", both, err)
		}
		return nil
	})
}

func TestCommandStreamsThroughItsPipesWhileOtherTasksRun(t *testing.T) {
	// The child echoes each line it reads: the task feeding it and the
	// task reading it go line by line, so neither Write nor Read may
	// block the loop.
	runLoop(t, func(ctx context.Context) error {
		cmd := ioco.CommandContext(ctx, "sh", "-c", `while read l; do echo "got $l"; done`)
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		lines := bufio.NewScanner(out)
		for i := range 3 {
			fmt.Fprintf(in, "%d\n", i)
			if !lines.Scan() || lines.Text() != fmt.Sprintf("got %d", i) {
				t.Errorf("line %d back: %q, %v", i, lines.Text(), lines.Err())
			}
		}
		in.Close()
		if lines.Scan() {
			t.Errorf("after end of input: %q, want the end", lines.Text())
		}
		return cmd.Wait()
	})
}

func TestCommandCopiesBetweenItsReadersAndWriters(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		var out bytes.Buffer
		cmd := ioco.CommandContext(ctx, "cat")
		cmd.Stdin = strings.NewReader(strings.Repeat("x", 1<<20)) // more than a pipe holds
		cmd.Stdout = &out
		if err := cmd.Run(); err != nil || out.Len() != 1<<20 {
			t.Errorf("cat of 1 MiB = %d bytes, %v", out.Len(), err)
		}
		// A child that never reads its input: no error for the copy.
		early := ioco.CommandContext(ctx, "true")
		early.Stdin = strings.NewReader(strings.Repeat("y", 1<<20))
		if err := early.Run(); err != nil {
			t.Errorf("a child that closes its stdin early: %v", err)
		}
		return nil
	})
}

func TestCommandContextEndKillsTheChild(t *testing.T) {
	var pid int
	runLoop(t, func(ctx context.Context) error {
		cctx, cancel := context.WithCancel(ctx)
		cmd := ioco.CommandContext(cctx, "sleep", "60")
		if err := cmd.Start(); err != nil {
			cancel()
			return err
		}
		pid = cmd.Process.Pid
		cancel()
		err := cmd.Wait()
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(interface{ Signaled() bool }).Signaled() == false {
			t.Errorf("Wait after the ctx ended = %v; want the kill's *exec.ExitError", err)
		}
		return nil
	})
	if !reaped(pid) {
		t.Errorf("the killed child %d is still in the process table", pid)
	}
}

func TestCommandWaitParksOnlyItsTaskOnThePidfd(t *testing.T) {
	// While one task waits for a child that reads its stdin, another
	// writes that stdin: the loop runs it, and the child exits. The wait
	// is on the child's pidfd: no goroutine (a thread pool's worker) is
	// started for it.
	runLoop(t, func(ctx context.Context) error {
		cmd := ioco.CommandContext(ctx, "sh", "-c", "read x; exit 0")
		in, err := cmd.StdinPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		var before, during int
		if _, err := scheduler.Spawn(ctx, "feeder", func(ctx context.Context) error {
			before = runtime.NumGoroutine()
			scheduler.Sleep(ctx, 0) // the main task calls Wait, and parks
			during = runtime.NumGoroutine()
			_, err := io.WriteString(in, "go\n")
			return err
		}); err != nil {
			return err
		}
		scheduler.Sleep(ctx, 0) // the feeder counts, and yields
		if err := cmd.Wait(); err != nil {
			return err
		}
		if during != before {
			t.Errorf("%d goroutines while a task waits for the child, %d before it did", during, before)
		}
		return nil
	})
}

func TestCommandWaitDelayBoundsAPipeAGrandchildHolds(t *testing.T) {
	// The child exits at once, but a grandchild it left behind holds its
	// stdout open: WaitDelay ends the wait for the copy, as os/exec's
	// does. The grandchild is in the child's process group, killed after.
	runLoop(t, func(ctx context.Context) error {
		var out bytes.Buffer
		cmd := ioco.CommandContext(ctx, "sh", "-c", "sleep 60 & echo started")
		cmd.Stdout = &out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.WaitDelay = 50 * time.Millisecond
		if err := cmd.Start(); err != nil {
			return err
		}
		defer syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		if err := cmd.Wait(); !errors.Is(err, exec.ErrWaitDelay) || out.String() != "started\n" {
			t.Errorf("Wait with a grandchild holding stdout = %v, output %q; want exec.ErrWaitDelay after the output", err, out.String())
		}
		return nil
	})
}

// A command's output read line by line as it comes, from a task.
func ExampleCommandContext() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		cmd := ioco.CommandContext(ctx, "printf", `one\ntwo\n`)
		out, err := cmd.StdoutPipe()
		if err != nil {
			return err
		}
		if err := cmd.Start(); err != nil {
			return err
		}
		lines := bufio.NewScanner(out)
		for lines.Scan() {
			fmt.Println("line:", lines.Text())
		}
		return cmd.Wait()
	})
	// Output:
	// line: one
	// line: two
}

package main_test

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/internal/cmdtest"
)

// parallel is the command's binary, built once by TestMain.
var parallel string

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, cmdtest.Build(&parallel)) }

// runParallel runs the command with input and returns its output lines,
// sorted (commands run at once print in any order), and its exit status.
func runParallel(t *testing.T, input string, args ...string) (stdout, stderr []string, status int) {
	t.Helper()
	cmd := exec.Command(parallel, args...)
	cmd.Stdin = strings.NewReader(input)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	lines := func(b *bytes.Buffer) []string {
		l := strings.Split(strings.TrimSpace(b.String()), "\n")
		slices.Sort(l)
		return l
	}
	return lines(&out), lines(&errOut), cmd.ProcessState.ExitCode()
}

func TestParallelRunsTheCommandForEachLine(t *testing.T) {
	out, errOut, status := runParallel(t, "a\nb\n\nc\n", "-P", "2", "echo", "hello")
	if want := []string{"a: hello a", "b: hello b", "c: hello c"}; !slices.Equal(out, want) || status != 0 {
		t.Errorf("output %q (stderr %q), status %d; want %q, 0", out, errOut, status, want)
	}
	out, _, _ = runParallel(t, "x\n", "sh", "-c", "echo got {}; echo oops {} >&2")
	if want := []string{"x: got x"}; !slices.Equal(out, want) {
		t.Errorf("with {}: %q, want %q", out, want)
	}
}

func TestParallelReportsFailuresAsXargsDoes(t *testing.T) {
	_, errOut, status := runParallel(t, "ok\nbad\n", "sh", "-c", `test {} = ok`)
	if status != 123 || !slices.Contains(errOut, "bad: exit status 1") || !slices.Contains(errOut, "parallel: 1 of 2 commands failed") {
		t.Errorf("stderr %q, status %d; want bad's failure listed, status 123", errOut, status)
	}
	_, errOut, status = runParallel(t, "a\n", "evergo-no-such-command")
	if status != 123 || len(errOut) < 2 || !strings.Contains(errOut[0], "executable file not found") {
		t.Errorf("a missing command: stderr %q, status %d; want its error, 123", errOut, status)
	}
	if _, _, status := runParallel(t, "a\n"); status != 2 {
		t.Errorf("no command: status %d, want 2", status)
	}
}

// startParallel starts the command with input, its stdout read by lines
// on a channel, and stops it when the test ends.
func startParallel(t *testing.T, input string, args ...string) (*exec.Cmd, <-chan string) {
	t.Helper()
	cmd := exec.Command(parallel, args...)
	cmd.Stdin = strings.NewReader(input)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		defer close(lines)
		s := bufio.NewScanner(out)
		for s.Scan() {
			lines <- s.Text()
		}
		io.Copy(io.Discard, out)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, lines
}

// expectLines reads n lines from lines, or fails t after a bound (on a
// failure, not on success: a command that never prints).
func expectLines(t *testing.T, lines <-chan string, n int) []string {
	t.Helper()
	var got []string
	timeout := time.After(20 * time.Second)
	for len(got) < n {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("output ended after %q, want %d lines", got, n)
			}
			got = append(got, l)
		case <-timeout:
			t.Fatalf("got %q, want %d lines", got, n)
		}
	}
	return got
}

// childrenOf returns the pids of the processes whose parent is pid.
func childrenOf(pid int) []string {
	var kids []string
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, _ := os.ReadFile(p)
		// pid (comm) state ppid ...; comm has no spaces here.
		if f := strings.Fields(string(b)); len(f) > 3 && f[3] == fmt.Sprint(pid) {
			kids = append(kids, f[0])
		}
	}
	return kids
}

func TestParallelCtrlCStopsEveryChild(t *testing.T) {
	cmd, lines := startParallel(t, "a\nb\n", "sh", "-c", "echo started; exec sleep 60")
	expectLines(t, lines, 2) // both children run, each a sleep now
	kids := childrenOf(cmd.Process.Pid)
	if len(kids) != 2 {
		t.Fatalf("children of parallel: %v, want the two sleeps", kids)
	}
	cmd.Process.Signal(os.Interrupt)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Fatalf("after Ctrl-C: %v; want exit status 130", err)
	}
	for _, pid := range kids {
		if _, err := os.Stat("/proc/" + pid); !os.IsNotExist(err) {
			t.Errorf("child %s is left after Ctrl-C", pid)
		}
	}
}

func TestParallelWatchRunsAgainOnAChange(t *testing.T) {
	dir := t.TempDir()
	cmd, lines := startParallel(t, "x\n", "-watch", dir, "echo", "run")
	if got := expectLines(t, lines, 1); got[0] != "x: run x" {
		t.Fatalf("first run: %q", got)
	}
	if err := os.WriteFile(filepath.Join(dir, "changed"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if got := expectLines(t, lines, 1); got[0] != "x: run x" {
		t.Fatalf("after a change: %q", got)
	}
	cmd.Process.Signal(syscall.SIGINT)
	var ee *exec.ExitError
	if err := cmd.Wait(); !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("after Ctrl-C while watching: %v; want exit status 130", err)
	}
}

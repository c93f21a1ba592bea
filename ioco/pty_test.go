package ioco_test

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// readUntil reads r until what it read holds want, or a read fails.
func readUntil(r io.Reader, want string) (string, error) {
	var b strings.Builder
	buf := make([]byte, 512)
	for !strings.Contains(b.String(), want) {
		n, err := r.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), err
		}
	}
	return b.String(), nil
}

func TestStartPTYDrivesAnInteractiveShell(t *testing.T) {
	before := openFDs(t)
	runLoop(t, func(ctx context.Context) error {
		cmd := ioco.CommandContext(ctx, "sh", "-i")
		cmd.Env = append(os.Environ(), "PS1=prompt$ ", "TERM=dumb", "ENV=")
		master, err := ioco.StartPTY(cmd)
		if err != nil {
			return err
		}
		defer master.Close()
		// A bound on a failure, not on success: a shell that never answers.
		master.SetDeadline(scheduler.Now(ctx).Add(10 * time.Second))
		if err := master.SetWinsize(30, 100); err != nil {
			return err
		}
		if rows, cols, err := master.Winsize(); rows != 30 || cols != 100 || err != nil {
			t.Errorf("Winsize = %d×%d, %v; want 30×100", rows, cols, err)
		}
		if out, err := readUntil(master, "prompt$ "); err != nil {
			t.Fatalf("waiting for the prompt: %q, %v", out, err)
		}
		// (the marker is computed, so that the echo of the line is not it)
		io.WriteString(master, "stty size; echo $((6*7))\n")
		if out, err := readUntil(master, "42\r\n"); err != nil || !strings.Contains(out, "30 100\r\n") {
			t.Errorf("the shell's answer on its terminal: %q, %v; want the size set, 30 100", out, err)
		}
		io.WriteString(master, "exit 7\n")
		// The shell gone, the master reads the hang-up: EIO on Linux.
		if out, err := io.ReadAll(master); !errors.Is(err, syscall.EIO) {
			t.Errorf("reading after exit: %q, %v; want EIO", out, err)
		}
		if err := cmd.Wait(); cmd.ProcessState == nil || cmd.ProcessState.ExitCode() != 7 {
			t.Errorf("Wait = %v; want the shell's exit status 7", err)
		}
		return nil
	})
	if n := openFDs(t); n != before {
		t.Errorf("%d fds open after, %d before", n, before)
	}
}

func TestForwardWinsizeFollowsTheProcessTerminal(t *testing.T) {
	// The process's terminal is a pty of the test's own; a SIGWINCH the
	// process gets carries its new size to the program's terminal.
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	runLoop(t, func(ctx context.Context) error {
		pty.Setsize(ptmx, &pty.Winsize{Rows: 40, Cols: 120})
		cmd := ioco.CommandContext(ctx, "sh", "-c", "read x")
		master, err := ioco.StartPTY(cmd)
		if err != nil {
			return err
		}
		defer cmd.Wait()
		defer master.Close()
		stop, err := ioco.ForwardWinsize(ctx, master, tty)
		if err != nil {
			return err
		}
		defer stop()
		if rows, cols, _ := master.Winsize(); rows != 40 || cols != 120 {
			t.Errorf("size at once: %d×%d, want the process terminal's, 40×120", rows, cols)
		}
		// A handler added after ForwardWinsize's runs after it: it wakes
		// this task once the size has been carried over.
		self := scheduler.Current(ctx)
		h, err := scheduler.LoopOf(ctx).AddSignalHandler(syscall.SIGWINCH, func(context.Context, os.Signal) { self.Wake() })
		if err != nil {
			return err
		}
		defer h.Remove()
		pty.Setsize(ptmx, &pty.Winsize{Rows: 50, Cols: 132})
		syscall.Kill(os.Getpid(), syscall.SIGWINCH)
		if err := scheduler.Park(ctx, "SIGWINCH"); err != nil {
			return err
		}
		if rows, cols, _ := master.Winsize(); rows != 50 || cols != 132 {
			t.Errorf("size after SIGWINCH: %d×%d, want 50×132", rows, cols)
		}
		return nil
	})
}

func TestMakeRawAndRestore(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Skip(err)
	}
	defer ptmx.Close()
	defer tty.Close()
	canonical := func() bool {
		tio, err := unix.IoctlGetTermios(int(tty.Fd()), unix.TCGETS)
		if err != nil {
			t.Fatal(err)
		}
		return tio.Lflag&unix.ICANON != 0 && tio.Lflag&unix.ECHO != 0
	}
	if !canonical() {
		t.Fatal("a new terminal is not in canonical mode with echo")
	}
	restore, err := ioco.MakeRaw(tty)
	if err != nil {
		t.Fatal(err)
	}
	if canonical() {
		t.Error("after MakeRaw the terminal still edits lines or echoes")
	}
	if err := restore(); err != nil || !canonical() {
		t.Errorf("restore = %v; the terminal canonical again: %v, want true", err, canonical())
	}
}

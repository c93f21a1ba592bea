package ioco_test

import (
	"context"
	"errors"
	"os"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// sysfd returns the file descriptor behind c.
func sysfd(t *testing.T, c syscall.Conn) int {
	t.Helper()
	raw, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	fd := -1
	raw.Control(func(s uintptr) { fd = int(s) })
	return fd
}

func TestSocketReusingAClosedConnsNumberGetsNoneOfItsReadiness(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		ln := echoServer(t, ctx)
		defer ln.Close()
		a, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		num := sysfd(t, a.(syscall.Conn))
		// Keep a's socket open under another number, so that its peer
		// goes on talking to it after a is closed.
		keep, err := unix.Dup(num)
		if err != nil {
			return err
		}
		defer unix.Close(keep)
		if err := a.Close(); err != nil {
			return err
		}
		b, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer b.Close()
		if got := sysfd(t, b.(syscall.Conn)); got != num {
			t.Skipf("the new socket got number %d, not the closed conn's %d", got, num)
		}
		// The old socket becomes readable: the echo of what goes out
		// through the kept number.
		if _, err := unix.Write(keep, []byte("stale")); err != nil {
			return err
		}
		b.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		raw, err := b.(syscall.Conn).SyscallConn()
		if err != nil {
			return err
		}
		tries := 0
		err = raw.Read(func(uintptr) bool { tries++; return false })
		if !errors.Is(err, os.ErrDeadlineExceeded) || tries != 1 {
			t.Errorf("raw Read on the reused number = %v after %d tries, want the deadline after 1: no wake-up from the old socket", err, tries)
		}
		return nil
	})
}

func TestWaitReadableParksUntilAFdOfTheCallersOwnIsReadable(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	runLoop(t, func(ctx context.Context) error {
		wrote := false
		scheduler.Spawn(ctx, "writer", func(ctx context.Context) error {
			wrote = true
			_, err := unix.Write(fds[1], []byte("x"))
			return err
		})
		if err := ioco.WaitReadable(ctx, fds[0]); err != nil {
			return err
		}
		if !wrote {
			t.Error("WaitReadable returned before anything was written")
		}
		if err := ioco.WaitWritable(ctx, fds[0]); err != nil {
			return err
		}
		short, cancel := scheduler.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		buf := make([]byte, 1)
		unix.Read(fds[0], buf) // drained: not readable any more
		if err := ioco.WaitReadable(short, fds[0]); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("WaitReadable with nothing to read = %v, want the ctx deadline", err)
		}
		return nil
	})
}

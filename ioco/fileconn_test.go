package ioco_test

import (
	"bytes"
	"context"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// socketFiles returns the two ends of a connected Unix stream socket pair
// as files, in blocking mode, as a caller would hand them over.
func socketFiles(t *testing.T) (mine, theirs *os.File) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(os.NewSyscallError("socketpair", err))
	}
	return os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
}

// fileConns wraps both files with FileConn on the loop of ctx.
func fileConns(ctx context.Context, mine, theirs *os.File) (a, b net.Conn, err error) {
	if a, err = ioco.FileConn(ctx, mine); err != nil {
		return nil, nil, err
	}
	if b, err = ioco.FileConn(ctx, theirs); err != nil {
		a.Close()
		return nil, nil, err
	}
	return a, b, nil
}

func TestFileConnWrapsASocketOfTheCallersOwn(t *testing.T) {
	mine, theirs := socketFiles(t)
	runLoop(t, func(ctx context.Context) error {
		a, b, err := fileConns(ctx, mine, theirs)
		if err != nil {
			return err
		}
		defer a.Close()
		defer b.Close()
		if _, ok := a.(*ioco.UnixConn); !ok {
			t.Errorf("FileConn of a Unix stream socket = %T, want *ioco.UnixConn", a)
		}
		reader, _ := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			got, err := io.ReadAll(b) // parks: nothing written yet
			if err != nil {
				return err
			}
			if string(got) != "through a wrapped fd" {
				t.Errorf("read %q", got)
			}
			return nil
		})
		if _, err := a.Write([]byte("through a wrapped fd")); err != nil {
			return err
		}
		if err := a.(*ioco.UnixConn).CloseWrite(); err != nil {
			return err
		}
		return reader.Join(ctx)
	})
	// The conns had duplicates: the files are still open, and close.
	if err := mine.Close(); err != nil {
		t.Errorf("closing the original file: %v", err)
	}
	theirs.Close()
}

func TestFileConnKeepsParkingWhenTheCallerMakesTheSocketBlocking(t *testing.T) {
	mine, theirs := socketFiles(t)
	defer mine.Close()
	defer theirs.Close()
	payload := bytes.Repeat([]byte("0123456789abcdef"), 1<<19) // 8 MiB: more than the buffers hold
	runLoop(t, func(ctx context.Context) error {
		a, b, err := fileConns(ctx, mine, theirs)
		if err != nil {
			return err
		}
		defer a.Close()
		defer b.Close()
		// The files share the sockets' open file descriptions with the
		// conns' duplicates: blocking mode set through them is the conns'
		// too. A read or write that blocked would stop the loop's thread,
		// and with it the other task, for good.
		for _, f := range []*os.File{mine, theirs} {
			if err := unix.SetNonblock(int(f.Fd()), false); err != nil {
				return err
			}
		}
		reader, _ := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			got, err := io.ReadAll(b) // drains the buffer, then parks on it
			if err != nil {
				return err
			}
			if !bytes.Equal(got, payload) {
				t.Errorf("read %d bytes, want the %d written", len(got), len(payload))
			}
			return nil
		})
		if _, err := a.Write(payload); err != nil { // parks while the buffer is full
			return err
		}
		if err := a.(*ioco.UnixConn).CloseWrite(); err != nil {
			return err
		}
		return reader.Join(ctx)
	})
}

func TestFileConnOfARegularFileFails(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "plain")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	runLoop(t, func(ctx context.Context) error {
		if c, err := ioco.FileConn(ctx, f); err == nil {
			c.Close()
			t.Error("FileConn of a regular file succeeded")
		}
		return nil
	})
}

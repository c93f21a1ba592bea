package ioco_test

import (
	"context"
	"io"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestFileConnWrapsASocketOfTheCallersOwn(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0) // blocking, as handed over
	if err != nil {
		t.Fatal(err)
	}
	mine, theirs := os.NewFile(uintptr(fds[0]), "mine"), os.NewFile(uintptr(fds[1]), "theirs")
	runLoop(t, func(ctx context.Context) error {
		a, err := ioco.FileConn(ctx, mine)
		if err != nil {
			return err
		}
		defer a.Close()
		b, err := ioco.FileConn(ctx, theirs)
		if err != nil {
			return err
		}
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

package ioco_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestPipeCarriesMoreThanItHoldsBetweenTasks(t *testing.T) {
	// 4 MiB through a pipe that holds 64 KiB: the writer parks while it
	// is full, the reader while it is empty, and the loop runs the other.
	const size = 4 << 20
	data := bytes.Repeat([]byte("0123456789abcdef"), size/16)
	before := openFDs(t)
	var got []byte
	runLoop(t, func(ctx context.Context) error {
		r, w, err := ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		defer r.Close()
		writer, err := scheduler.Spawn(ctx, "writer", func(ctx context.Context) error {
			defer w.Close()
			_, err := w.Write(data)
			return err
		})
		if err != nil {
			return err
		}
		if got, err = io.ReadAll(r); err != nil {
			return err
		}
		return writer.Join(ctx)
	})
	if !bytes.Equal(got, data) {
		t.Errorf("read %d bytes through the pipe, want the %d written", len(got), size)
	}
	if n := openFDs(t); n != before {
		t.Errorf("%d fds open after, %d before", n, before)
	}
}

func TestPipeReadDeadlineEndsAWaitForBytesThatNeverCome(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		r, w, err := ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		defer r.Close()
		defer w.Close()
		start := scheduler.Now(ctx)
		r.SetReadDeadline(start.Add(20 * time.Millisecond))
		var b [1]byte
		n, err := r.Read(b[:])
		if !errors.Is(err, os.ErrDeadlineExceeded) || n != 0 {
			t.Errorf("Read of an empty pipe with a deadline = %d, %v; want os.ErrDeadlineExceeded", n, err)
		}
		if waited := scheduler.Now(ctx).Sub(start); waited < 20*time.Millisecond {
			t.Errorf("Read returned %v before its deadline", 20*time.Millisecond-waited)
		}
		// Cleared, the deadline stops nothing: bytes written are read.
		r.SetReadDeadline(time.Time{})
		io.WriteString(w, "x")
		if n, err := r.Read(b[:]); n != 1 || err != nil {
			t.Errorf("Read after the deadline was cleared = %d, %v; want the byte written", n, err)
		}
		return nil
	})
}

func TestPipeEndsTellWhenTheOtherEndIsGone(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		r, w, err := ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		io.WriteString(w, "last")
		w.Close()
		if b, err := io.ReadAll(r); string(b) != "last" || err != nil {
			t.Errorf("reading after the writer closed: %q, %v; want what it wrote, then end of file", b, err)
		}
		r.Close()

		r, w, err = ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		r.Close()
		if _, err := io.WriteString(w, "nobody reads"); !errors.Is(err, syscall.EPIPE) {
			t.Errorf("writing after the reader closed: %v; want EPIPE (and no signal)", err)
		}
		return w.Close()
	})
}

func TestPipeCloseWakesATaskParkedOnIt(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		r, w, err := ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		var readErr error
		reader, err := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			var b [1]byte
			_, readErr = r.Read(b[:])
			return nil
		})
		if err != nil {
			return err
		}
		scheduler.Sleep(ctx, 0) // the reader parks
		if err := r.Close(); err != nil {
			return err
		}
		reader.Join(ctx)
		if !errors.Is(readErr, os.ErrClosed) {
			t.Errorf("Read parked when the file was closed = %v; want os.ErrClosed", readErr)
		}
		if err := r.Close(); !errors.Is(err, os.ErrClosed) {
			t.Errorf("a second Close = %v; want os.ErrClosed", err)
		}
		return nil
	})
}

func TestNewFileRefusesARegularFile(t *testing.T) {
	name := filepath.Join(t.TempDir(), "plain")
	if err := os.WriteFile(name, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	osf, err := os.Open(name)
	if err != nil {
		t.Fatal(err)
	}
	defer osf.Close()
	runLoop(t, func(ctx context.Context) error {
		f, err := ioco.NewFile(ctx, osf.Fd(), name)
		if !errors.Is(err, ioco.ErrNotPollable) || f != nil {
			t.Errorf("NewFile of a regular file = %v, %v; want ErrNotPollable", f, err)
		}
		return nil
	})
	// The descriptor is still the caller's, and open.
	if _, err := osf.Stat(); err != nil {
		t.Errorf("the refused descriptor: %v; want it open", err)
	}
}

func TestNewFileWaitsOnAnEventfd(t *testing.T) {
	// Any descriptor epoll waits on: an eventfd, written by another task.
	runLoop(t, func(ctx context.Context) error {
		efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC)
		if err != nil {
			return err
		}
		f, err := ioco.NewFile(ctx, uintptr(efd), "eventfd")
		if err != nil {
			unix.Close(efd)
			return err
		}
		defer f.Close()
		if _, err := scheduler.Spawn(ctx, "signaller", func(ctx context.Context) error {
			_, err := f.Write(binary.NativeEndian.AppendUint64(nil, 3))
			return err
		}); err != nil {
			return err
		}
		var b [8]byte
		if n, err := f.Read(b[:]); n != 8 || err != nil || binary.NativeEndian.Uint64(b[:]) != 3 {
			t.Errorf("Read of the eventfd = %d %v, %v; want the count written, 3", n, b, err)
		}
		return nil
	})
}

func TestNewFilePutsTheDescriptorBackInBlockingModeOnClose(t *testing.T) {
	// The mode belongs to the open file description, which a duplicate
	// shares: it shows what NewFile did to it, and what Close undid.
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		t.Fatal(err)
	}
	defer unix.Close(p[1])
	dup, err := unix.Dup(p[0])
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(dup)
	nonblocking := func() bool {
		fl, err := unix.FcntlInt(uintptr(dup), unix.F_GETFL, 0)
		if err != nil {
			t.Fatal(err)
		}
		return fl&unix.O_NONBLOCK != 0
	}
	var during bool
	runLoop(t, func(ctx context.Context) error {
		f, err := ioco.NewFile(ctx, uintptr(p[0]), "pipe")
		if err != nil {
			return err
		}
		during = nonblocking()
		return f.Close()
	})
	if !during || nonblocking() {
		t.Errorf("non-blocking while the File was open: %v, after Close: %v; want true, then false", during, nonblocking())
	}
}

func TestFileOfOpenHasNoDeadline(t *testing.T) {
	name := filepath.Join(t.TempDir(), "plain")
	runLoop(t, func(ctx context.Context) error {
		f, err := ioco.Create(ctx, name)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := f.SetDeadline(time.Now()); !errors.Is(err, os.ErrNoDeadline) {
			t.Errorf("SetDeadline of a regular file = %v; want os.ErrNoDeadline", err)
		}
		return nil
	})
}

// A pipe between two tasks: the writer's lines come out at the reader as
// they are written, and its Close is the reader's end of file.
func ExamplePipe() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		r, w, err := ioco.Pipe(ctx)
		if err != nil {
			return err
		}
		defer r.Close()
		scheduler.Spawn(ctx, "writer", func(ctx context.Context) error {
			defer w.Close()
			for i := range 3 {
				fmt.Fprintf(w, "line %d\n", i)
				scheduler.Sleep(ctx, time.Millisecond)
			}
			return nil
		})
		b, err := io.ReadAll(r)
		fmt.Print(string(b))
		return err
	})
	// Output:
	// line 0
	// line 1
	// line 2
}

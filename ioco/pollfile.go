package ioco

// Files that epoll can wait on: pipes, FIFOs, terminals, character
// devices, eventfds. Their reads and writes park the calling task on the
// loop's poller, as a conn's do, where a regular file's go to the thread
// pool (a disk is always "ready" to epoll).

import (
	"context"
	"errors"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// ErrNotPollable is the error of NewFile given a descriptor epoll cannot
// wait on: a regular file or a directory. Such a file is read with Open
// (or OpenFile), on the loop's thread pool.
var ErrNotPollable = errors.New("ioco: not a pollable file (a regular file or a directory: epoll cannot wait on it; use ioco.Open)")

// Pipe returns a connected pair of Files, on the loop of ctx: reads from r
// return the bytes written to w, as os.Pipe's. Both ends are non-blocking
// descriptors on the loop's poller: a Read of an empty pipe and a Write to
// a full one park only the calling task, until the other end moves or a
// deadline passes (SetDeadline). Reading after every writer closed gives
// io.EOF; writing after every reader closed fails with EPIPE (and raises
// no signal). Both are close-on-exec. Never parks.
func Pipe(ctx context.Context) (r, w *File, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	if r, err = NewFile(ctx, uintptr(p[0]), "|0"); err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, err
	}
	if w, err = NewFile(ctx, uintptr(p[1]), "|1"); err != nil {
		r.Close()
		unix.Close(p[1])
		return nil, nil, err
	}
	return r, w, nil
}

// NewFile returns a File for fd, a descriptor the caller hands over that
// epoll can wait on (a pipe, a FIFO, a terminal, a character device, an
// eventfd), on the loop of ctx, named name, as os.NewFile does. Its Read
// and Write park only the calling task, with deadlines on the loop's
// clock; Close closes fd. A regular file or a directory is refused with
// ErrNotPollable, and fd is then left to the caller, as it is on any
// error. Never parks.
//
// fd is put in non-blocking mode, which belongs to the open file
// description: another descriptor of the same description (a dup, the
// terminal a shell shares) sees it too until Close puts it back. A holder
// of such a descriptor that makes it blocking again would make this
// File's calls block the loop.
func NewFile(ctx context.Context, fd uintptr, name string) (*File, error) {
	loop := scheduler.LoopOf(ctx)
	if loop == nil {
		return nil, &os.PathError{Op: "newfile", Path: name, Err: scheduler.ErrNoLoop}
	}
	var st unix.Stat_t
	if err := unix.Fstat(int(fd), &st); err != nil {
		return nil, &os.PathError{Op: "newfile", Path: name, Err: os.NewSyscallError("fstat", err)}
	}
	if mode := st.Mode & unix.S_IFMT; mode == unix.S_IFREG || mode == unix.S_IFDIR {
		return nil, &os.PathError{Op: "newfile", Path: name, Err: ErrNotPollable}
	}
	fl, err := unix.FcntlInt(fd, unix.F_GETFL, 0)
	if err != nil {
		return nil, &os.PathError{Op: "newfile", Path: name, Err: os.NewSyscallError("fcntl", err)}
	}
	blocking := fl&unix.O_NONBLOCK == 0
	// The *os.File is made while fd is blocking, so that package os does
	// not put it on the runtime's poller as well; it serves Name, Stat and
	// Close. It is made last, as it owns fd from then on.
	if blocking {
		if err := unix.SetNonblock(int(fd), true); err != nil {
			return nil, &os.PathError{Op: "newfile", Path: name, Err: os.NewSyscallError("fcntl", err)}
		}
	}
	pfd, err := scheduler.Register(ctx, int(fd))
	if err != nil {
		if blocking {
			unix.SetNonblock(int(fd), false)
		}
		return nil, &os.PathError{Op: "newfile", Path: name, Err: err}
	}
	if blocking {
		// os.NewFile looks at the flag: put it back for that moment.
		unix.SetNonblock(int(fd), false)
	}
	osf := os.NewFile(fd, name)
	if blocking {
		unix.SetNonblock(int(fd), true)
	}
	return &File{f: osf, loop: loop, pfd: pfd, sysfd: int(fd), restore: blocking}, nil
}

// pollable reports whether f is on the loop's poller (NewFile, Pipe)
// rather than the thread pool (Open).
func (f *File) pollable() bool { return f.pfd != nil }

// wait parks the running task until f is ready for mode, its deadline
// passes or it is closed.
func (f *File) wait(op string, mode scheduler.Mode) error {
	t := f.loop.Running()
	if t == nil {
		return f.pathError(op, errNoTask)
	}
	if err := f.pfd.Wait(t.Context(), mode); err != nil {
		return f.pathError(op, err)
	}
	return nil
}

// pathError wraps err as package os does, os.ErrClosed for a closed file.
func (f *File) pathError(op string, err error) error {
	if f.closed {
		err = os.ErrClosed
	}
	return &os.PathError{Op: op, Path: f.f.Name(), Err: err}
}

// readPoll is Read on the poller.
func (f *File) readPoll(b []byte) (int, error) {
	for {
		switch {
		case f.closed:
			return 0, f.pathError("read", os.ErrClosed)
		case len(b) == 0:
			return 0, nil
		case f.pfd.Expired(scheduler.Read):
			return 0, f.pathError("read", os.ErrDeadlineExceeded)
		}
		n, err := unix.Read(f.sysfd, b)
		switch err {
		case nil:
			if n == 0 {
				return 0, io.EOF
			}
			return n, nil
		case unix.EINTR:
		case unix.EAGAIN:
			if err := f.wait("read", scheduler.Read); err != nil {
				return 0, err
			}
		default:
			return 0, f.pathError("read", err)
		}
	}
}

// writePoll is Write on the poller: all of b, parking while the other end
// is full.
func (f *File) writePoll(b []byte) (int, error) {
	written := 0
	for written < len(b) {
		switch {
		case f.closed:
			return written, f.pathError("write", os.ErrClosed)
		case f.pfd.Expired(scheduler.Write):
			return written, f.pathError("write", os.ErrDeadlineExceeded)
		}
		n, err := unix.Write(f.sysfd, b[written:])
		switch err {
		case nil:
			written += n
		case unix.EINTR:
		case unix.EAGAIN:
			if err := f.wait("write", scheduler.Write); err != nil {
				return written, err
			}
		default:
			return written, f.pathError("write", err)
		}
	}
	return written, nil
}

// closePoll wakes the tasks parked on f with os.ErrClosed, takes it off
// the poller, puts its descriptor back in the mode NewFile found it in,
// and closes it.
func (f *File) closePoll() error {
	if f.closed {
		return f.pathError("close", os.ErrClosed)
	}
	f.closed = true
	f.pfd.Close() // before close(2): the number must not be reused while registered
	if f.restore {
		unix.SetNonblock(f.sysfd, false)
	}
	return f.f.Close()
}

// SetDeadline sets the read and write deadlines of a File on the poller
// (NewFile, Pipe): a Read or Write parked then, or made later, fails with
// os.ErrDeadlineExceeded once the loop's clock reaches t; a zero t means
// none. A File of Open's has none: os.ErrNoDeadline, as package os says
// of a regular file. Never parks.
func (f *File) SetDeadline(t time.Time) error {
	return f.setDeadline(scheduler.Read|scheduler.Write, t)
}

// SetReadDeadline sets the read deadline; see SetDeadline. Never parks.
func (f *File) SetReadDeadline(t time.Time) error { return f.setDeadline(scheduler.Read, t) }

// SetWriteDeadline sets the write deadline; see SetDeadline. Never parks.
func (f *File) SetWriteDeadline(t time.Time) error { return f.setDeadline(scheduler.Write, t) }

func (f *File) setDeadline(mode scheduler.Mode, t time.Time) error {
	switch {
	case !f.pollable():
		return &os.PathError{Op: "setdeadline", Path: f.Name(), Err: os.ErrNoDeadline}
	case f.closed:
		return f.pathError("setdeadline", os.ErrClosed)
	}
	f.pfd.SetDeadline(mode, t)
	return nil
}

// Fd returns the file's descriptor (for a File on the poller, still
// non-blocking). It stays f's: closing it, or making it blocking, breaks
// f. Never parks.
func (f *File) Fd() uintptr {
	if f.pollable() {
		return uintptr(f.sysfd)
	}
	return f.f.Fd()
}

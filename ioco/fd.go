package ioco

import (
	"context"
	"io"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// A netFD is a non-blocking socket registered with its loop's poller: the
// part that every conn and listener of this package shares. Its methods
// that may park park the task running on the loop (scheduler.Loop.Running)
// with that task's own context, as a net.Conn's methods take no ctx.
type netFD struct {
	sysfd  int
	pfd    *scheduler.FD
	loop   *scheduler.Loop
	net    string // "tcp", "tcp4", "unix"...
	family int    // unix.AF_INET, AF_INET6 or AF_UNIX; 0 where nothing needs it
	laddr  net.Addr
	raddr  net.Addr
	closed bool
	// drained is set by a stream read that returned less than it was
	// asked for: the receive queue was empty then, so the next read waits
	// for the poller's next readable edge before it tries (data that
	// comes later makes one), sparing the read(2) that would fail with
	// EAGAIN. A hang-up (end of file, an error) makes no further edge, so
	// once the poller has reported one (scheduler.FD.HungUp), reads try at
	// once. A stale edge costs one read that finds nothing, as before.
	drained bool
}

// expired returns os.ErrDeadlineExceeded, as an *net.OpError of op, if the
// deadline of mode has passed on the loop's clock, and nil otherwise: a
// call made after its deadline fails at once, even when it would not have
// to wait, as package net's calls do.
func (fd *netFD) expired(op string, mode scheduler.Mode) error {
	if fd.pfd.Expired(mode) {
		return fd.opError(op, os.ErrDeadlineExceeded)
	}
	return nil
}

// newFD registers the non-blocking socket sysfd with the loop of ctx. On
// failure it closes sysfd.
func newFD(ctx context.Context, sysfd int, network string) (*netFD, error) {
	pfd, err := scheduler.Register(ctx, sysfd)
	if err != nil {
		unix.Close(sysfd)
		return nil, err
	}
	return &netFD{sysfd: sysfd, pfd: pfd, loop: scheduler.LoopOf(ctx), net: network}, nil
}

// wait parks the running task until the socket is ready for mode, or its
// deadline passes, or it is closed.
func (fd *netFD) wait(mode scheduler.Mode) error {
	t := fd.loop.Running()
	if t == nil {
		return errNoTask
	}
	return fd.pfd.Wait(t.Context(), mode)
}

// opError wraps err as package net does.
func (fd *netFD) opError(op string, err error) error {
	return &net.OpError{Op: op, Net: fd.net, Source: fd.laddr, Addr: fd.raddr, Err: err}
}

func (fd *netFD) Read(b []byte) (int, error) {
	// Budget: the echo benchmark against Go's net at GOMAXPROCS=1: one
	// read(2) when data is there; one park on the poller when it is not.
	if fd.closed {
		return 0, fd.opError("read", net.ErrClosed)
	}
	if len(b) == 0 {
		return 0, nil
	}
	if err := fd.expired("read", scheduler.Read); err != nil {
		return 0, err
	}
	if fd.drained && !fd.pfd.HungUp() {
		fd.drained = false
		if err := fd.wait(scheduler.Read); err != nil {
			return 0, fd.opError("read", err)
		}
	}
	for {
		n, err := sysRead(fd.sysfd, b)
		switch err {
		case nil:
			if n == 0 {
				return 0, io.EOF
			}
			fd.drained = n < len(b)
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := fd.wait(scheduler.Read); err != nil {
				return 0, fd.opError("read", err)
			}
			continue
		}
		return 0, fd.opError("read", os.NewSyscallError("read", err))
	}
}

// Write writes all of b, parking while the socket's send buffer is full,
// and returns len(b) or the error that stopped it with what was written.
func (fd *netFD) Write(b []byte) (int, error) {
	if fd.closed {
		return 0, fd.opError("write", net.ErrClosed)
	}
	if err := fd.expired("write", scheduler.Write); err != nil {
		return 0, err
	}
	written := 0
	for written < len(b) {
		n, err := sysWrite(fd.sysfd, b[written:])
		if err == nil {
			written += n
		} else if err := fd.retry("write", "write", scheduler.Write, err); err != nil {
			return written, err
		}
	}
	return written, nil
}

// retry handles the error of a system call made for op: it returns nil
// when the call is to be made again (it was interrupted, or the socket was
// not ready and now is, the task having parked until it was ready for
// mode), and otherwise the error to return, as an *net.OpError. May park
// the calling task.
func (fd *netFD) retry(op, syscall string, mode scheduler.Mode, err error) error {
	switch err {
	case unix.EINTR:
		return nil
	case unix.EAGAIN:
		if err := fd.wait(mode); err != nil {
			return fd.opError(op, err)
		}
		return nil
	}
	return fd.opError(op, os.NewSyscallError(syscall, err))
}

// Close wakes the tasks parked on the socket with net.ErrClosed, removes it
// from the poller and closes it. A second Close returns net.ErrClosed.
// Never parks.
func (fd *netFD) Close() error {
	if fd.closed {
		return fd.opError("close", net.ErrClosed)
	}
	fd.closed = true
	fd.pfd.Close() // before close(2): the number must not be reused while registered
	if err := unix.Close(fd.sysfd); err != nil {
		return fd.opError("close", os.NewSyscallError("close", err))
	}
	return nil
}

// shutdown shuts down one or both directions of the socket.
func (fd *netFD) shutdown(how int, op string) error {
	if fd.closed {
		return fd.opError(op, net.ErrClosed)
	}
	if err := unix.Shutdown(fd.sysfd, how); err != nil {
		return fd.opError(op, os.NewSyscallError("shutdown", err))
	}
	return nil
}

func (fd *netFD) LocalAddr() net.Addr  { return fd.laddr }
func (fd *netFD) RemoteAddr() net.Addr { return fd.raddr }

// SetDeadline sets the read and write deadlines: a Read or Write parked
// then, or made later, fails with os.ErrDeadlineExceeded once the loop's
// clock reaches t; moving the deadline applies to calls already parked. A
// zero t means none. Never parks.
func (fd *netFD) SetDeadline(t time.Time) error {
	return fd.setDeadline(scheduler.Read|scheduler.Write, t)
}

// SetReadDeadline sets the read deadline; see SetDeadline. Never parks.
func (fd *netFD) SetReadDeadline(t time.Time) error { return fd.setDeadline(scheduler.Read, t) }

// SetWriteDeadline sets the write deadline; see SetDeadline. Never parks.
func (fd *netFD) SetWriteDeadline(t time.Time) error { return fd.setDeadline(scheduler.Write, t) }

func (fd *netFD) setDeadline(mode scheduler.Mode, t time.Time) error {
	if fd.closed {
		return fd.opError("set", net.ErrClosed)
	}
	fd.pfd.SetDeadline(mode, t)
	return nil
}

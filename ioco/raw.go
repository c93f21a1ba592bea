package ioco

import (
	"context"
	"net"
	"syscall"

	"github.com/evergo/evergo/scheduler"
)

// SyscallConn returns the socket as a syscall.RawConn, for socket options
// and system calls of the caller's own. Its Read and Write park the running
// task while f reports that the socket is not ready (returns false, as
// after EAGAIN). Never parks.
func (fd *netFD) SyscallConn() (syscall.RawConn, error) {
	if fd.closed {
		return nil, fd.opError("raw-conn", net.ErrClosed)
	}
	return rawConn{fd}, nil
}

type rawConn struct{ fd *netFD }

func (c rawConn) Control(f func(fd uintptr)) error {
	if c.fd.closed {
		return c.fd.opError("raw-control", net.ErrClosed)
	}
	f(uintptr(c.fd.sysfd))
	return nil
}

func (c rawConn) Read(f func(fd uintptr) bool) error { return c.loop("raw-read", scheduler.Read, f) }

func (c rawConn) Write(f func(fd uintptr) bool) error { return c.loop("raw-write", scheduler.Write, f) }

func (c rawConn) loop(op string, mode scheduler.Mode, f func(fd uintptr) bool) error {
	for {
		if c.fd.closed {
			return c.fd.opError(op, net.ErrClosed)
		}
		if err := c.fd.expired(op, mode); err != nil {
			return err
		}
		if f(uintptr(c.fd.sysfd)) {
			return nil
		}
		if err := c.fd.wait(mode); err != nil {
			return c.fd.opError(op, err)
		}
	}
}

// WaitReadable parks the task that ctx carries until fd, a file descriptor
// of the caller's own that no conn of this package holds, is readable (or
// at end of file, or failed). ctx's deadline is the timeout. The fd is
// registered with the loop's poller for the wait only. May park the
// calling task.
func WaitReadable(ctx context.Context, fd int) error { return waitFD(ctx, fd, scheduler.Read) }

// WaitWritable is WaitReadable for writing. May park the calling task.
func WaitWritable(ctx context.Context, fd int) error { return waitFD(ctx, fd, scheduler.Write) }

func waitFD(ctx context.Context, fd int, mode scheduler.Mode) error {
	p, err := scheduler.Register(ctx, fd)
	if err != nil {
		return err
	}
	defer p.Close()
	return p.Wait(ctx, mode)
}

package ioco

import (
	"context"
	"net"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// A UnixConn is a connection over a Unix stream socket on a loop: a
// net.Conn whose Read and Write park the running task.
type UnixConn struct{ netFD }

// CloseWrite shuts down the writing side: the peer reads end of file, and
// may still write back. Never parks.
func (c *UnixConn) CloseWrite() error { return c.shutdown(unix.SHUT_WR, "close") }

// CloseRead shuts down the reading side. Never parks.
func (c *UnixConn) CloseRead() error { return c.shutdown(unix.SHUT_RD, "close") }

// dialUnix connects to the Unix socket at path.
func dialUnix(ctx context.Context, path string) (*UnixConn, error) {
	sysfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fd, err := newFD(ctx, sysfd, "unix")
	if err != nil {
		return nil, err
	}
	c := &UnixConn{*fd}
	c.raddr = &net.UnixAddr{Name: path, Net: "unix"}
	if err := c.connect(ctx, &unix.SockaddrUnix{Name: path}); err != nil {
		c.Close()
		return nil, err
	}
	c.laddr = &net.UnixAddr{Net: "unix"}
	return c, nil
}

// A UnixListener accepts connections on a Unix stream socket on a loop. Its
// Close removes the socket's file, as package net's does.
type UnixListener struct {
	fd   netFD
	path string
}

// listenUnix binds a Unix stream socket to path and listens on it.
func listenUnix(ctx context.Context, path string) (*UnixListener, error) {
	sysfd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	addr := &net.UnixAddr{Name: path, Net: "unix"}
	if err := unix.Bind(sysfd, &unix.SockaddrUnix{Name: path}); err != nil {
		unix.Close(sysfd)
		return nil, &net.OpError{Op: "listen", Net: "unix", Addr: addr, Err: os.NewSyscallError("bind", err)}
	}
	if err := unix.Listen(sysfd, listenBacklog); err != nil {
		unix.Close(sysfd)
		os.Remove(path)
		return nil, &net.OpError{Op: "listen", Net: "unix", Addr: addr, Err: os.NewSyscallError("listen", err)}
	}
	fd, err := newFD(ctx, sysfd, "unix")
	if err != nil {
		os.Remove(path)
		return nil, err
	}
	fd.laddr = addr
	return &UnixListener{fd: *fd, path: path}, nil
}

// Accept parks the running task until a connection comes, and returns it.
// May park the running task.
func (l *UnixListener) Accept() (net.Conn, error) {
	fd, _, err := l.fd.accept()
	if err != nil {
		return nil, err
	}
	fd.raddr = &net.UnixAddr{Net: "unix"}
	return &UnixConn{*fd}, nil
}

// Close stops the listener, wakes a task parked in Accept with
// net.ErrClosed, and removes the socket's file. Never parks.
func (l *UnixListener) Close() error {
	err := l.fd.Close()
	if err == nil && l.path != "" && l.path[0] != '@' { // '@': the abstract namespace has no file
		os.Remove(l.path)
	}
	return err
}

// Addr returns the listener's address. Never parks.
func (l *UnixListener) Addr() net.Addr { return l.fd.laddr }

// SetDeadline sets the deadline for Accept; a zero t means none. Never
// parks.
func (l *UnixListener) SetDeadline(t time.Time) error {
	return l.fd.setDeadline(scheduler.Read, t)
}

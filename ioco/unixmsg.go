package ioco

// Messages with ancillary data over a Unix socket: how one process hands
// another a descriptor (SCM_RIGHTS), a listening socket or a connection
// included (File gives its descriptor), which the receiver adopts with
// FileListener or FileConn.

import (
	"io"
	"net"
	"os"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// ReadMsgUnix reads one message from c, as net.UnixConn's does: its data
// into b and its ancillary data into oob, parking the running task until
// one comes. Parse oob with unix.ParseSocketControlMessage and
// unix.ParseUnixRights; descriptors received are close-on-exec and the
// caller's to close. flags are the message's (unix.MSG_CTRUNC: oob was too
// small, and the descriptors that did not fit were closed). addr is nil:
// the socket is connected. At the end of the stream it returns io.EOF.
// May park the running task.
func (c *UnixConn) ReadMsgUnix(b, oob []byte) (n, oobn, flags int, addr *net.UnixAddr, err error) {
	for {
		if c.closed {
			return 0, 0, 0, nil, c.opError("read", net.ErrClosed)
		}
		if err := c.expired("read", scheduler.Read); err != nil {
			return 0, 0, 0, nil, err
		}
		n, oobn, flags, _, err = unix.Recvmsg(c.sysfd, b, oob, unix.MSG_DONTWAIT|unix.MSG_CMSG_CLOEXEC)
		if err == nil {
			if n == 0 && oobn == 0 && len(b) > 0 {
				return 0, 0, flags, nil, io.EOF
			}
			return n, oobn, flags, nil, nil
		}
		if err := c.retry("read", "recvmsg", scheduler.Read, err); err != nil {
			return 0, 0, 0, nil, err
		}
	}
}

// WriteMsgUnix writes b and the ancillary data oob as one message, as
// net.UnixConn's does; unix.UnixRights(fds...) makes the oob that hands
// descriptors over (the sender keeps its own, to close). addr must be nil:
// the socket is connected. It parks the running task while the socket's
// buffer is full; like package net's, it makes one sendmsg(2), which may
// send less than all of b on a stream socket: n says how much went (the
// ancillary data goes with the first byte). May park the running task.
func (c *UnixConn) WriteMsgUnix(b, oob []byte, addr *net.UnixAddr) (n, oobn int, err error) {
	if addr != nil {
		return 0, 0, c.opError("write", net.ErrWriteToConnected)
	}
	for {
		if c.closed {
			return 0, 0, c.opError("write", net.ErrClosed)
		}
		if err := c.expired("write", scheduler.Write); err != nil {
			return 0, 0, err
		}
		n, err = unix.SendmsgN(c.sysfd, b, oob, nil, unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
		if err == nil {
			return n, len(oob), nil
		}
		if err := c.retry("write", "sendmsg", scheduler.Write, err); err != nil {
			return 0, 0, err
		}
	}
}

// File returns a duplicate of the socket's descriptor as an *os.File, as
// package net's File does: to hand the socket to another process (through
// exec.Cmd's ExtraFiles, or WriteMsgUnix with unix.UnixRights). It is the
// caller's to close; closing either leaves the other open. The two share
// the socket and its non-blocking mode. Never parks.
func (fd *netFD) File() (*os.File, error) {
	if fd.closed {
		return nil, fd.opError("file", net.ErrClosed)
	}
	ns, err := unix.FcntlInt(uintptr(fd.sysfd), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fd.opError("file", os.NewSyscallError("fcntl", err))
	}
	name := fd.net
	if fd.laddr != nil {
		name += ":" + fd.laddr.String()
	}
	return os.NewFile(uintptr(ns), name), nil
}

// File returns a duplicate of the listening socket's descriptor; see
// TCPConn.File. Never parks.
func (l *TCPListener) File() (*os.File, error) { return l.fd.File() }

// File returns a duplicate of the listening socket's descriptor; see
// TCPConn.File. Never parks.
func (l *UnixListener) File() (*os.File, error) { return l.fd.File() }

package ioco

import (
	"net"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// WriteBuffers writes the buffers of v one after another, as a Write of
// their concatenation would, in as few system calls as the socket takes
// (sendmsg(2) with several buffers: a response's header and its body go
// out together). It returns the bytes written and the error that stopped
// it, as Write does, and leaves v as it was (net.Buffers.WriteTo consumes
// its receiver; package net's conns are the only writers it can hand them
// to whole, so this is the method to call for a conn of this package).
// May park the calling task.
func (c *TCPConn) WriteBuffers(v net.Buffers) (int64, error) { return c.writeBuffers(v) }

// WriteBuffers is TCPConn.WriteBuffers for a Unix stream socket. May park
// the calling task.
func (c *UnixConn) WriteBuffers(v net.Buffers) (int64, error) { return c.writeBuffers(v) }

// maxIovecs is how many buffers one sendmsg takes here; more go in as many
// calls as they need.
const maxIovecs = 8

func (fd *netFD) writeBuffers(v net.Buffers) (int64, error) {
	// Budget: one sendmsg for a header and a body (httpco's 16 KiB
	// response, internal/bench/http), no allocation.
	if fd.closed {
		return 0, fd.opError("write", net.ErrClosed)
	}
	if err := fd.expired("write", scheduler.Write); err != nil {
		return 0, err
	}
	var iov [maxIovecs]unix.Iovec
	written := int64(0)
	i, off := 0, 0 // the first byte not yet written: v[i][off]
	for {
		for i < len(v) && off == len(v[i]) {
			i, off = i+1, 0
		}
		if i == len(v) {
			return written, nil
		}
		n := 0
		for j, o := i, off; j < len(v) && n < maxIovecs; j, o = j+1, 0 {
			if b := v[j][o:]; len(b) > 0 {
				iov[n].Base = &b[0]
				iov[n].SetLen(len(b))
				n++
			}
		}
		sent, err := sendmsg(fd.sysfd, iov[:n])
		if err != nil {
			if err := fd.retry("write", "sendmsg", scheduler.Write, err); err != nil {
				return written, err
			}
			continue
		}
		written += int64(sent)
		for sent > 0 {
			k := min(sent, len(v[i])-off)
			sent -= k
			if off += k; off == len(v[i]) {
				i, off = i+1, 0
			}
		}
	}
}

// sendmsg makes sendmsg(2) of iov on fd, with MSG_DONTWAIT and
// MSG_NOSIGNAL, as a raw system call (see sysWrite).
func sendmsg(fd int, iov []unix.Iovec) (int, error) {
	var msg unix.Msghdr
	msg.Iov = &iov[0]
	msg.SetIovlen(len(iov))
	n, _, e := unix.RawSyscall(unix.SYS_SENDMSG, uintptr(fd), uintptr(unsafe.Pointer(&msg)), unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
	if e != 0 {
		return -1, e
	}
	return int(n), nil
}

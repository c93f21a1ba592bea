package ioco

import (
	"crypto/tls"
	"net"

	"github.com/evergo/evergo/scheduler"
)

// OnHangUp registers fn to be called once, on the loop, when the peer of
// c (a stream conn of this package, or a *tls.Conn over one) stops
// writing or the connection fails, as the poller reports it; at once if it
// has already. A later call replaces fn; nil removes it. fn runs in the
// loop's poller step, not in a task, and must not park: cancelling a
// context is what it is for (a server's request whose client went away).
// It reports false, and does nothing, for a conn that is not this
// package's. Never parks.
func OnHangUp(c net.Conn, fn func()) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	switch c := c.(type) {
	case *TCPConn:
		c.pfd.OnHangUp(fn)
	case *UnixConn:
		c.pfd.OnHangUp(fn)
	default:
		return false
	}
	return true
}

// Quiet reports whether c, a stream conn of this package (or a *tls.Conn
// over one), had nothing to read as far as the loop knows: its last read
// found the receive queue empty, and the poller has reported nothing for
// it since (no data, no end of file, no error). What came after the loop
// last asked the poller is not known until it asks again, and a
// *tls.Conn's own buffered records are not seen. False means that is not
// known, not that something came. A client reusing a kept-alive
// connection asks this first and looks with a system call only when it
// must, accepting that window as net/http's does. Never parks.
func Quiet(c net.Conn) bool {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	var fd *netFD
	switch c := c.(type) {
	case *TCPConn:
		fd = &c.netFD
	case *UnixConn:
		fd = &c.netFD
	default:
		return false
	}
	return !fd.closed && fd.drained && !fd.pfd.Pending(scheduler.Read) && !fd.pfd.HungUp()
}

package ioco

import (
	"context"
	"net"
	"net/netip"
	"os"
	"strconv"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// A TCPConn is a TCP connection on a loop: a net.Conn whose Read and Write
// park the running task rather than the thread. Nagle's algorithm is off
// (TCP_NODELAY), as in package net.
type TCPConn struct{ netFD }

// CloseWrite shuts down the writing side: the peer reads end of file, and
// may still write back. Never parks.
func (c *TCPConn) CloseWrite() error { return c.shutdown(unix.SHUT_WR, "close") }

// CloseRead shuts down the reading side. Never parks.
func (c *TCPConn) CloseRead() error { return c.shutdown(unix.SHUT_RD, "close") }

// SetNoDelay turns Nagle's algorithm off (true, the default) or on. Never
// parks.
func (c *TCPConn) SetNoDelay(noDelay bool) error {
	return c.setsockopt("set", unix.IPPROTO_TCP, unix.TCP_NODELAY, boolint(noDelay))
}

// SetKeepAlive turns TCP keep-alive probes on or off. Never parks.
func (c *TCPConn) SetKeepAlive(keepalive bool) error {
	return c.setsockopt("set", unix.SOL_SOCKET, unix.SO_KEEPALIVE, boolint(keepalive))
}

// SetKeepAlivePeriod sets the idle time before keep-alive probes start and
// the interval between them, rounded up to whole seconds. Never parks.
func (c *TCPConn) SetKeepAlivePeriod(d time.Duration) error {
	secs := int((d + time.Second - 1) / time.Second)
	if err := c.setsockopt("set", unix.IPPROTO_TCP, unix.TCP_KEEPIDLE, secs); err != nil {
		return err
	}
	return c.setsockopt("set", unix.IPPROTO_TCP, unix.TCP_KEEPINTVL, secs)
}

func (fd *netFD) setsockopt(op string, level, opt, v int) error {
	if fd.closed {
		return fd.opError(op, net.ErrClosed)
	}
	if err := unix.SetsockoptInt(fd.sysfd, level, opt, v); err != nil {
		return fd.opError(op, os.NewSyscallError("setsockopt", err))
	}
	return nil
}

func boolint(b bool) int {
	if b {
		return 1
	}
	return 0
}

// dialTCP connects to ip:port from the task that ctx carries, parking it
// until the connection is made, refused, or ctx ends.
func dialTCP(ctx context.Context, network string, ip netip.Addr, port int, zone string) (*TCPConn, error) {
	fam := family(network, ip)
	sysfd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fd, err := newFD(ctx, sysfd, network)
	if err != nil {
		return nil, err
	}
	c := &TCPConn{*fd}
	c.raddr = &net.TCPAddr{IP: net.IP(ip.AsSlice()), Port: port, Zone: zone}
	if err := c.connect(ctx, sockaddr(fam, ip, port, zone)); err != nil {
		c.Close()
		return nil, err
	}
	if sa, err := unix.Getsockname(sysfd); err == nil {
		c.laddr = tcpAddr(sa)
	}
	unix.SetsockoptInt(sysfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	return c, nil
}

// connect starts a non-blocking connect and parks until it is done.
func (fd *netFD) connect(ctx context.Context, sa unix.Sockaddr) error {
	for {
		err := unix.Connect(fd.sysfd, sa)
		switch err {
		case nil, unix.EISCONN:
			return nil
		case unix.EINTR:
			continue
		case unix.EINPROGRESS, unix.EALREADY:
		default:
			return fd.opError("dial", os.NewSyscallError("connect", err))
		}
		break
	}
	for {
		if err := fd.pfd.Wait(ctx, scheduler.Write); err != nil {
			return fd.opError("dial", err)
		}
		soerr, err := unix.GetsockoptInt(fd.sysfd, unix.SOL_SOCKET, unix.SO_ERROR)
		if err != nil {
			return fd.opError("dial", os.NewSyscallError("getsockopt", err))
		}
		switch e := unix.Errno(soerr); e {
		case 0:
			return nil
		case unix.EINPROGRESS, unix.EALREADY, unix.EINTR:
			continue // a stale edge
		default:
			return fd.opError("dial", os.NewSyscallError("connect", e))
		}
	}
}

// A TCPListener accepts TCP connections on a loop: a net.Listener whose
// Accept parks the running task.
type TCPListener struct{ fd netFD }

// listenTCP binds and listens on ip:port.
func listenTCP(ctx context.Context, network string, ip netip.Addr, port int, zone string, reusePort bool) (*TCPListener, error) {
	fam := family(network, ip)
	sysfd, err := unix.Socket(fam, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, os.NewSyscallError("socket", err)
	}
	fail := func(call string, err error) (*TCPListener, error) {
		unix.Close(sysfd)
		addr := &net.TCPAddr{IP: net.IP(ip.AsSlice()), Port: port, Zone: zone}
		return nil, &net.OpError{Op: "listen", Net: network, Addr: addr, Err: os.NewSyscallError(call, err)}
	}
	if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		return fail("setsockopt", err)
	}
	if reusePort {
		if err := unix.SetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("setsockopt", err)
		}
	}
	if fam == unix.AF_INET6 && !ip.IsUnspecified() || network == "tcp6" {
		unix.SetsockoptInt(sysfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolint(network == "tcp6"))
	}
	if err := unix.Bind(sysfd, sockaddr(fam, ip, port, zone)); err != nil {
		return fail("bind", err)
	}
	if err := unix.Listen(sysfd, listenBacklog); err != nil {
		return fail("listen", err)
	}
	fd, err := newFD(ctx, sysfd, network)
	if err != nil {
		return nil, err
	}
	if sa, err := unix.Getsockname(sysfd); err == nil {
		fd.laddr = tcpAddr(sa)
	}
	return &TCPListener{fd: *fd}, nil
}

// listenBacklog is the backlog passed to listen(2); the kernel caps it at
// net.core.somaxconn.
const listenBacklog = 4096

// Accept parks the running task until a connection comes, and returns it.
// It returns net.ErrClosed (in a *net.OpError) once the listener is closed,
// and os.ErrDeadlineExceeded after SetDeadline's time. May park the running
// task.
func (l *TCPListener) Accept() (net.Conn, error) { return l.AcceptTCP() }

// AcceptTCP is Accept with the connection's type. May park the running task.
func (l *TCPListener) AcceptTCP() (*TCPConn, error) {
	fd, sa, err := l.fd.accept()
	if err != nil {
		return nil, err
	}
	unix.SetsockoptInt(fd.sysfd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	fd.raddr = tcpAddr(sa)
	return &TCPConn{*fd}, nil
}

// accept parks the running task until a connection comes on the listening
// socket fd, and returns it registered, with fd's local address.
func (fd *netFD) accept() (*netFD, unix.Sockaddr, error) {
	if fd.closed {
		return nil, nil, fd.opError("accept", net.ErrClosed)
	}
	if err := fd.expired("accept", scheduler.Read); err != nil {
		return nil, nil, err
	}
	for {
		nfd, sa, err := unix.Accept4(fd.sysfd, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EAGAIN:
			if err := fd.wait(scheduler.Read); err != nil {
				return nil, nil, fd.opError("accept", err)
			}
			continue
		default:
			return nil, nil, fd.opError("accept", os.NewSyscallError("accept4", err))
		}
		t := fd.loop.Running()
		if t == nil {
			unix.Close(nfd)
			return nil, nil, fd.opError("accept", errNoTask)
		}
		cfd, err := newFD(t.Context(), nfd, fd.net)
		if err != nil {
			return nil, nil, fd.opError("accept", err)
		}
		cfd.laddr = fd.laddr
		return cfd, sa, nil
	}
}

// Close stops the listener: a task parked in Accept wakes with
// net.ErrClosed. Never parks.
func (l *TCPListener) Close() error { return l.fd.Close() }

// Addr returns the address the listener is bound to. Never parks.
func (l *TCPListener) Addr() net.Addr { return l.fd.laddr }

// SetDeadline sets the deadline for Accept; a zero t means none. Never
// parks.
func (l *TCPListener) SetDeadline(t time.Time) error {
	return l.fd.setDeadline(scheduler.Read, t)
}

// splitHostPort parses a "host:port" address with a numeric or "localhost"
// host (empty means any address) and a numeric port or service name.
func splitHostPort(network, addr string) (host string, port int, err error) {
	h, p, err := net.SplitHostPort(addr)
	if err != nil {
		return "", 0, err
	}
	port, err = strconv.Atoi(p)
	if err != nil {
		if port, err = net.LookupPort(network, p); err != nil {
			return "", 0, err
		}
	}
	if port < 0 || port > 65535 {
		return "", 0, &net.AddrError{Err: "invalid port", Addr: addr}
	}
	return h, port, nil
}

package ioco

import (
	"context"
	"net"
	"os"

	"golang.org/x/sys/unix"
)

// FileConn returns a conn on the loop of ctx for the socket that f holds,
// as net.FileConn does: a *TCPConn, *UnixConn or *UDPConn by the socket's
// kind. The conn has a duplicate of f's descriptor, in non-blocking mode;
// closing one leaves the other open. The two share the socket's flags, so
// f's holder may put it back into blocking mode (os.File.Fd does): the
// conn's reads and writes pass MSG_DONTWAIT and park all the same. Never
// parks.
func FileConn(ctx context.Context, f *os.File) (net.Conn, error) {
	raw, err := f.SyscallConn()
	if err != nil {
		return nil, err
	}
	sysfd, derr := -1, error(nil)
	if err := raw.Control(func(fd uintptr) {
		sysfd, derr = unix.FcntlInt(fd, unix.F_DUPFD_CLOEXEC, 0)
	}); err != nil {
		return nil, err
	}
	if derr != nil {
		return nil, os.NewSyscallError("fcntl", derr)
	}
	fail := func(call string, err error) (net.Conn, error) {
		unix.Close(sysfd)
		return nil, &net.OpError{Op: "file", Net: "file+net", Err: os.NewSyscallError(call, err)}
	}
	if err := unix.SetNonblock(sysfd, true); err != nil {
		return fail("setnonblock", err)
	}
	sotype, err := unix.GetsockoptInt(sysfd, unix.SOL_SOCKET, unix.SO_TYPE)
	if err != nil {
		return fail("getsockopt", err)
	}
	lsa, err := unix.Getsockname(sysfd)
	if err != nil {
		return fail("getsockname", err)
	}
	rsa, _ := unix.Getpeername(sysfd) // none for an unconnected datagram socket
	var network string
	switch lsa.(type) {
	case *unix.SockaddrInet4, *unix.SockaddrInet6:
		network = map[int]string{unix.SOCK_STREAM: "tcp", unix.SOCK_DGRAM: "udp"}[sotype]
	case *unix.SockaddrUnix:
		if sotype == unix.SOCK_STREAM {
			network = "unix"
		}
	}
	if network == "" {
		return fail("getsockopt", unix.EPROTONOSUPPORT)
	}
	fd, err := newFD(ctx, sysfd, network)
	if err != nil {
		return nil, err
	}
	switch network {
	case "tcp":
		fd.laddr, fd.raddr = tcpAddr(lsa), addrOrNil(tcpAddr(rsa))
		return &TCPConn{*fd}, nil
	case "udp":
		fd.laddr = udpAddr(lsa)
		if _, v4 := lsa.(*unix.SockaddrInet4); v4 {
			fd.family = unix.AF_INET
		} else {
			fd.family = unix.AF_INET6
		}
		if rsa != nil {
			fd.raddr = udpAddr(rsa)
		}
		return &UDPConn{*fd}, nil
	}
	fd.laddr, fd.raddr = unixAddr(lsa), unixAddr(rsa)
	return &UnixConn{*fd}, nil
}

// addrOrNil keeps a nil *net.TCPAddr from becoming a non-nil net.Addr.
func addrOrNil(a *net.TCPAddr) net.Addr {
	if a == nil {
		return nil
	}
	return a
}

// unixAddr turns a socket address into a *net.UnixAddr.
func unixAddr(sa unix.Sockaddr) net.Addr {
	if u, ok := sa.(*unix.SockaddrUnix); ok {
		return &net.UnixAddr{Name: u.Name, Net: "unix"}
	}
	return &net.UnixAddr{Net: "unix"}
}

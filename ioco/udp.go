package ioco

import (
	"context"
	"net"
	"net/netip"
	"os"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// A UDPConn is a UDP socket on a loop: a net.PacketConn (ReadFrom,
// WriteTo) and, when dialed, a net.Conn (Read, Write) to its one peer.
// Reads park the running task until a datagram comes; writes send one
// datagram each. A datagram larger than the buffer given to a read is cut
// to fit, as with package net.
type UDPConn struct{ netFD }

// Read reads one datagram from the peer of a dialed UDPConn. An empty
// datagram reads as 0 and no error. May park the running task.
func (c *UDPConn) Read(b []byte) (int, error) {
	n, _, err := c.recv("read", b)
	return n, err
}

// ReadFrom reads one datagram and returns its size and sender. May park
// the running task.
func (c *UDPConn) ReadFrom(b []byte) (int, net.Addr, error) {
	n, sa, err := c.recv("read", b)
	if err != nil {
		return n, nil, err
	}
	return n, udpAddr(sa), nil
}

func (c *UDPConn) recv(op string, b []byte) (int, unix.Sockaddr, error) {
	if c.closed {
		return 0, nil, c.opError(op, net.ErrClosed)
	}
	if err := c.expired(op, scheduler.Read); err != nil {
		return 0, nil, err
	}
	for {
		n, sa, err := unix.Recvfrom(c.sysfd, b, unix.MSG_DONTWAIT) // see sysRead
		switch err {
		case nil:
			return n, sa, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := c.wait(scheduler.Read); err != nil {
				return 0, nil, c.opError(op, err)
			}
			continue
		}
		return 0, nil, c.opError(op, os.NewSyscallError("recvfrom", err))
	}
}

// Write sends b as one datagram to the peer of a dialed UDPConn. May park
// the running task.
func (c *UDPConn) Write(b []byte) (int, error) { return c.send("write", b, nil) }

// WriteTo sends b as one datagram to addr, a *net.UDPAddr. May park the
// running task.
func (c *UDPConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	ua, ok := addr.(*net.UDPAddr)
	if !ok || ua == nil {
		return 0, c.opError("write", &net.AddrError{Err: "not a *net.UDPAddr", Addr: addrString(addr)})
	}
	ip, ok := netip.AddrFromSlice(ua.IP)
	if !ok {
		return 0, c.opError("write", &net.AddrError{Err: "invalid IP", Addr: ua.String()})
	}
	return c.send("write", b, sockaddr(c.family, ip, ua.Port, ua.Zone))
}

func (c *UDPConn) send(op string, b []byte, to unix.Sockaddr) (int, error) {
	if c.closed {
		return 0, c.opError(op, net.ErrClosed)
	}
	if err := c.expired(op, scheduler.Write); err != nil {
		return 0, err
	}
	for {
		err := unix.Sendto(c.sysfd, b, unix.MSG_DONTWAIT, to)
		switch err {
		case nil:
			return len(b), nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := c.wait(scheduler.Write); err != nil {
				return 0, c.opError(op, err)
			}
			continue
		}
		return 0, c.opError(op, os.NewSyscallError("sendto", err))
	}
}

func addrString(a net.Addr) string {
	if a == nil {
		return "<nil>"
	}
	return a.String()
}

// udpAddr turns a socket address into a *net.UDPAddr.
func udpAddr(sa unix.Sockaddr) *net.UDPAddr {
	if a := tcpAddr(sa); a != nil {
		return &net.UDPAddr{IP: a.IP, Port: a.Port, Zone: a.Zone}
	}
	return nil
}

// udpSocket makes a UDP socket of the family fit for ip on network.
func udpSocket(ctx context.Context, network string, ip netip.Addr) (*UDPConn, int, error) {
	fam := family(network, ip)
	sysfd, err := unix.Socket(fam, unix.SOCK_DGRAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, 0, os.NewSyscallError("socket", err)
	}
	fd, err := newFD(ctx, sysfd, network)
	if err != nil {
		return nil, 0, err
	}
	fd.family = fam
	return &UDPConn{*fd}, fam, nil
}

// dialUDP makes a UDP socket connected to ip:port.
func dialUDP(ctx context.Context, network string, ip netip.Addr, port int, zone string) (*UDPConn, error) {
	c, fam, err := udpSocket(ctx, network, ip)
	if err != nil {
		return nil, err
	}
	c.raddr = &net.UDPAddr{IP: net.IP(ip.AsSlice()), Port: port, Zone: zone}
	if err := c.connect(ctx, sockaddr(fam, ip, port, zone)); err != nil {
		c.Close()
		return nil, err
	}
	if sa, err := unix.Getsockname(c.sysfd); err == nil {
		c.laddr = udpAddr(sa)
	}
	return c, nil
}

// listenUDP binds a UDP socket to ip:port.
func listenUDP(ctx context.Context, network string, ip netip.Addr, port int, zone string, reusePort bool) (*UDPConn, error) {
	c, fam, err := udpSocket(ctx, network, ip)
	if err != nil {
		return nil, err
	}
	fail := func(call string, err error) (*UDPConn, error) {
		c.Close()
		addr := &net.UDPAddr{IP: net.IP(ip.AsSlice()), Port: port, Zone: zone}
		return nil, &net.OpError{Op: "listen", Net: network, Addr: addr, Err: os.NewSyscallError(call, err)}
	}
	if reusePort {
		if err := unix.SetsockoptInt(c.sysfd, unix.SOL_SOCKET, unix.SO_REUSEPORT, 1); err != nil {
			return fail("setsockopt", err)
		}
	}
	if fam == unix.AF_INET6 {
		unix.SetsockoptInt(c.sysfd, unix.IPPROTO_IPV6, unix.IPV6_V6ONLY, boolint(network == "udp6"))
	}
	if err := unix.Bind(c.sysfd, sockaddr(fam, ip, port, zone)); err != nil {
		return fail("bind", err)
	}
	if sa, err := unix.Getsockname(c.sysfd); err == nil {
		c.laddr = udpAddr(sa)
	}
	return c, nil
}

package ioco

import (
	"net"
	"net/netip"

	"golang.org/x/sys/unix"
)

// tcpSockaddr turns a resolved address into a socket address of family.
func sockaddr(family int, ip netip.Addr, port int, zone string) unix.Sockaddr {
	if family == unix.AF_INET {
		return &unix.SockaddrInet4{Port: port, Addr: ip.Unmap().As4()}
	}
	sa := &unix.SockaddrInet6{Port: port, Addr: ip.As16()}
	if zone != "" {
		if ifi, err := net.InterfaceByName(zone); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa
}

// tcpAddr turns a socket address into a *net.TCPAddr.
func tcpAddr(sa unix.Sockaddr) *net.TCPAddr {
	switch sa := sa.(type) {
	case *unix.SockaddrInet4:
		return &net.TCPAddr{IP: net.IP(sa.Addr[:]).To16(), Port: sa.Port}
	case *unix.SockaddrInet6:
		a := &net.TCPAddr{IP: net.IP(sa.Addr[:]), Port: sa.Port}
		if sa.ZoneId != 0 {
			if ifi, err := net.InterfaceByIndex(int(sa.ZoneId)); err == nil {
				a.Zone = ifi.Name
			}
		}
		return a
	}
	return nil
}

// family picks the address family for network and ip: tcp4 and IPv4
// addresses (mapped ones too) are AF_INET, the rest AF_INET6.
func family(network string, ip netip.Addr) int {
	switch {
	case network == "tcp4" || network == "udp4":
		return unix.AF_INET
	case network == "tcp6" || network == "udp6":
		return unix.AF_INET6
	case ip.Unmap().Is4():
		return unix.AF_INET
	}
	return unix.AF_INET6
}

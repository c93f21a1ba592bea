package ioco

import (
	"context"
	"net"
	"net/netip"
	"strings"
)

// Dial connects to addr on network from the task that ctx carries, parking
// it until the connection is made; ctx's deadline bounds the whole dial.
// Networks: "tcp", "tcp4", "tcp6" (a *TCPConn), "udp", "udp4", "udp6" (a
// *UDPConn to one peer) and "unix" (a *UnixConn; addr is the socket's
// path). A host that is not an IP address is resolved by the loop's
// Resolver (LoopResolver: DNS over this package's conns, parking only the
// calling task, or the system's resolver on the loop's thread pool where
// nsswitch.conf names other sources); every address it returns is tried
// in order, and the last error is returned. Errors are
// *net.OpError as in package net, with a *net.DNSError inside for a name
// that does not resolve. May park the calling task.
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6", "udp", "udp4", "udp6":
	case "unix":
		c, err := dialUnix(ctx, addr)
		if err != nil {
			return nil, err
		}
		return c, nil
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	host, port, err := splitHostPort(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	ips, err := resolve(ctx, network, host)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	for _, ip := range ips {
		var c net.Conn
		if network[0] == 'u' {
			c, err = dialUDP(ctx, network, ip.WithZone(""), port, ip.Zone())
		} else {
			c, err = dialTCP(ctx, network, ip.WithZone(""), port, ip.Zone())
		}
		if err == nil {
			return c, nil
		}
	}
	return nil, err
}

// resolve returns the addresses of host for network: the host itself if it
// is an IP address, the loopback address for "localhost" (and for no host),
// and otherwise the loop's Resolver's answer.
func resolve(ctx context.Context, network, host string) ([]netip.Addr, error) {
	if ip, err := netip.ParseAddr(host); err == nil {
		return []netip.Addr{ip}, nil
	}
	if h := strings.ToLower(strings.TrimSuffix(host, ".")); h == "" || h == "localhost" {
		return []netip.Addr{loopback(network)}, nil
	}
	r, err := LoopResolver(ctx)
	if err != nil {
		return nil, err
	}
	ips, err := r.LookupNetIP(ctx, ipNetwork(network), host)
	if err != nil {
		return nil, err
	}
	if len(ips) == 0 {
		return nil, &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
	}
	return ips, nil
}

// ipNetwork is the resolver's network for a dial network.
func ipNetwork(network string) string {
	switch network {
	case "tcp4", "udp4":
		return "ip4"
	case "tcp6", "udp6":
		return "ip6"
	}
	return "ip"
}

// A ListenConfig holds the options for listening.
type ListenConfig struct {
	// ReusePort sets SO_REUSEPORT: several loops (one per core, say) may
	// listen on the same port, and the kernel spreads connections among
	// them.
	ReusePort bool
}

// Listen is ListenConfig{}.Listen. Never parks.
func Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	return ListenConfig{}.Listen(ctx, network, addr)
}

// Listen listens on addr on network for the loop that ctx carries:
// "tcp", "tcp4" or "tcp6" (a *TCPListener; an empty host listens on every
// address, and port 0 picks a free port: see Addr), or "unix" (a
// *UnixListener; addr is the socket's path). Never parks.
func (lc ListenConfig) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	case "unix":
		l, err := listenUnix(ctx, addr)
		if err != nil {
			return nil, err
		}
		return l, nil
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ip, port, zone, err := listenAddr(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	l, err := listenTCP(ctx, network, ip, port, zone, lc.ReusePort)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// ListenPacket is ListenConfig{}.ListenPacket. Never parks.
func ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	return ListenConfig{}.ListenPacket(ctx, network, addr)
}

// ListenPacket binds a UDP socket ("udp", "udp4" or "udp6") to addr for the
// loop that ctx carries, and returns it as a *UDPConn. Never parks.
func (lc ListenConfig) ListenPacket(ctx context.Context, network, addr string) (net.PacketConn, error) {
	switch network {
	case "udp", "udp4", "udp6":
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ip, port, zone, err := listenAddr(network, addr)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	c, err := listenUDP(ctx, network, ip, port, zone, lc.ReusePort)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// listenAddr parses a listener's addr, whose host is an IP address,
// "localhost", or empty for every address.
func listenAddr(network, addr string) (ip netip.Addr, port int, zone string, err error) {
	host, port, err := splitHostPort(network, addr)
	if err != nil {
		return ip, 0, "", err
	}
	switch host {
	case "":
		if strings.HasSuffix(network, "4") {
			return netip.IPv4Unspecified(), port, "", nil
		}
		return netip.IPv6Unspecified(), port, "", nil
	case "localhost":
		return loopback(network), port, "", nil
	}
	ip, err = netip.ParseAddr(host)
	if err != nil {
		return ip, 0, "", &net.AddrError{Err: "a listener's host must be an IP address or localhost", Addr: host}
	}
	return ip.WithZone(""), port, ip.Zone(), nil
}

// loopback is the loopback address for network: ::1 for the "6" networks,
// 127.0.0.1 for the others.
func loopback(network string) netip.Addr {
	if strings.HasSuffix(network, "6") {
		return netip.IPv6Loopback()
	}
	return netip.AddrFrom4([4]byte{127, 0, 0, 1})
}

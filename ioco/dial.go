package ioco

import (
	"context"
	"net"
	"net/netip"
)

// Dial connects to addr on network ("tcp", "tcp4" or "tcp6") from the task
// that ctx carries, parking it until the connection is made; ctx's deadline
// bounds the wait. The host must be an IP address or "localhost" (names
// are resolved by a Dialer with a resolver; see Dialer). Errors are
// *net.OpError as in package net. May park the calling task.
func Dial(ctx context.Context, network, addr string) (net.Conn, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ip, port, zone, err := numericAddr(network, addr, false)
	if err != nil {
		return nil, &net.OpError{Op: "dial", Net: network, Err: err}
	}
	c, err := dialTCP(ctx, network, ip, port, zone)
	if err != nil {
		return nil, err
	}
	return c, nil
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

// Listen listens on addr on network ("tcp", "tcp4" or "tcp6") for the loop
// that ctx carries. An empty host listens on every address; port 0 picks a
// free port (see the listener's Addr). Never parks.
func (lc ListenConfig) Listen(ctx context.Context, network, addr string) (net.Listener, error) {
	switch network {
	case "tcp", "tcp4", "tcp6":
	default:
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	ip, port, zone, err := numericAddr(network, addr, true)
	if err != nil {
		return nil, &net.OpError{Op: "listen", Net: network, Err: err}
	}
	l, err := listenTCP(ctx, network, ip, port, zone, lc.ReusePort)
	if err != nil {
		return nil, err
	}
	return l, nil
}

// numericAddr parses addr, whose host is an IP address, "localhost", or
// (for a listener) empty.
func numericAddr(network, addr string, listen bool) (ip netip.Addr, port int, zone string, err error) {
	host, port, err := splitHostPort(network, addr)
	if err != nil {
		return ip, 0, "", err
	}
	switch host {
	case "":
		if !listen {
			host = "localhost"
			break
		}
		if network == "tcp4" {
			return netip.IPv4Unspecified(), port, "", nil
		}
		return netip.IPv6Unspecified(), port, "", nil
	}
	if host == "localhost" {
		if network == "tcp6" {
			return netip.IPv6Loopback(), port, "", nil
		}
		return netip.AddrFrom4([4]byte{127, 0, 0, 1}), port, "", nil
	}
	ip, err = netip.ParseAddr(host)
	if err != nil {
		return ip, 0, "", &net.DNSError{Err: "not an IP address (names need a Dialer with a resolver)", Name: host}
	}
	return ip.WithZone(""), port, ip.Zone(), nil
}

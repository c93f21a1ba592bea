package ioco

import (
	"context"
	"crypto/tls"
	"net"
	"time"
)

// DialTLS dials addr on network as Dial does and runs a TLS client
// handshake over the connection (crypto/tls), parking the calling task
// while it waits for the server. A config without ServerName gets the
// host of addr. ctx's deadline bounds the dial and the handshake. May park
// the calling task.
func DialTLS(ctx context.Context, network, addr string, config *tls.Config) (*tls.Conn, error) {
	raw, err := Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	cfg := config.Clone()
	if cfg == nil {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		host, _, err := net.SplitHostPort(addr)
		if err != nil {
			host = addr
		}
		cfg.ServerName = host
	}
	c := tls.Client(raw, cfg)
	// The deadline comes from ctx, and Handshake is called without it:
	// HandshakeContext would watch ctx from a goroutine of its own and close
	// the conn from there, off the loop.
	if dl, ok := ctx.Deadline(); ok {
		raw.SetDeadline(dl)
	}
	if err := c.Handshake(); err != nil {
		raw.Close()
		return nil, err
	}
	raw.SetDeadline(time.Time{})
	return c, nil
}

// ListenTLS listens on addr on network as Listen does, and returns a
// listener whose Accept returns TLS server connections (crypto/tls) that
// make their handshake on their first Read or Write. config must hold a
// certificate. Never parks.
func ListenTLS(ctx context.Context, network, addr string, config *tls.Config) (net.Listener, error) {
	ln, err := Listen(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return tls.NewListener(ln, config), nil
}

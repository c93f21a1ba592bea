package ioco

import (
	"context"
	"crypto/tls"
	"net"
	"time"

	"github.com/evergo/evergo/scheduler"
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
	if err := handshake(ctx, c, raw); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// Handshake runs the handshake of c, a TLS client or server over a conn of
// this package, until it ends or ctx is done, as tls.Conn.HandshakeContext
// does but without the goroutine HandshakeContext starts to watch ctx
// (which would close the conn off the loop): ctx's end comes to the loop
// instead and fails the handshake with ctx's error. May park the calling
// task.
func Handshake(ctx context.Context, c *tls.Conn) error { return handshake(ctx, c, c.NetConn()) }

// handshake runs c's handshake over raw until it ends or ctx is done; it
// then returns ctx's error, as tls.Conn.HandshakeContext does. Handshake is
// called without ctx: HandshakeContext would watch ctx from a goroutine of
// its own and close the conn from there, off the loop. Here ctx's end comes
// to the loop as a post that moves raw's deadline into the past, so a
// timeout is returned only once ctx itself reports it (and a wall-clock
// deadline is not compared with a virtual clock).
func handshake(ctx context.Context, c *tls.Conn, raw net.Conn) error {
	l := scheduler.LoopOf(ctx)
	if l == nil {
		return scheduler.ErrNoLoop
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	// On the loop: busy while the handshake runs (a kill in it included),
	// ended once ctx's end has moved raw's deadline.
	busy, ended := true, false
	defer func() { busy = false }()
	stop := context.AfterFunc(ctx, func() {
		l.Post(func(context.Context) {
			if busy {
				ended = true
				raw.SetDeadline(aLongTimeAgo)
			}
		})
	})
	defer stop()
	err := c.Handshake()
	busy = false
	switch {
	case err != nil && ended:
		return ctx.Err() // the deadline moved by ctx's end failed it
	case err == nil && ended:
		raw.SetDeadline(time.Time{})
	}
	return err
}

// aLongTimeAgo is a deadline that has passed: it wakes a parked call.
var aLongTimeAgo = time.Unix(1, 0)

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

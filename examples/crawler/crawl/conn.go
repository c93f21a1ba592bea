package crawl

// The Fetcher's connections: a pconn per connection to a server, the idle
// pool they wait in between requests (bounded per server and in all, the
// one idle longest closed first), the check right before reuse that an
// idle connection received nothing, and the reader under each
// connection's buffer that bounds what a response may send.

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A pconn is a connection to one server, with its buffers.
type pconn struct {
	key    string
	c      net.Conn
	r      *connReader // what br reads from: c, bounded
	br     *bufio.Reader
	bw     *bufio.Writer
	reused bool // it served a request before this one

	older, newer *pconn // in the Fetcher's list of idle connections
}

// connKey returns the key of u's server in the idle pool, and the address
// to dial for it.
func connKey(u *url.URL) (key, addr string, err error) {
	port := u.Port()
	switch u.Scheme {
	case "http":
		if port == "" {
			port = "80"
		}
	case "https":
		if port == "" {
			port = "443"
		}
	default:
		return "", "", fmt.Errorf("crawl: cannot fetch %s: %w", u, ErrNotHTTP)
	}
	if u.Hostname() == "" {
		return "", "", fmt.Errorf("crawl: cannot fetch %s: no host", u)
	}
	addr = net.JoinHostPort(u.Hostname(), port)
	return u.Scheme + "://" + addr, addr, nil
}

// takeIdle returns the connection to key's server used last, out of the
// idle pool, or nil. A connection that received bytes while it sat idle
// (a response nobody asked for, or the server's end of file) is closed
// and passed over: read as the next request's response, an unsolicited
// one would be taken for it. net/http's Transport closes such a
// connection too ("Unsolicited response received on idle HTTP channel").
// Never parks.
func (f *Fetcher) takeIdle(key string) *pconn {
	for {
		conns := f.idle[key]
		if len(conns) == 0 {
			return nil
		}
		pc := conns[len(conns)-1]
		conns[len(conns)-1] = nil
		f.idle[key] = conns[:len(conns)-1]
		f.unlink(pc)
		if !pc.quiet() {
			pc.c.Close()
			continue
		}
		pc.reused = true
		return pc
	}
}

// putIdle keeps pc for a later request to its server, or closes it when
// its server has MaxIdlePerHost kept already; when MaxIdle are kept in
// all, the one idle longest is closed to make room. Never parks.
func (f *Fetcher) putIdle(pc *pconn) {
	perHost, max := f.MaxIdlePerHost, f.MaxIdle
	if perHost == 0 {
		perHost = 64
	}
	if max == 0 {
		max = 256
	}
	if f.closed || max < 0 || len(f.idle[pc.key]) >= perHost {
		pc.c.Close()
		return
	}
	if f.idle == nil {
		f.idle = map[string][]*pconn{}
	}
	for f.nidle >= max {
		f.evict()
	}
	f.idle[pc.key] = append(f.idle[pc.key], pc)
	pc.older, pc.newer = f.newest, nil
	if f.newest != nil {
		f.newest.newer = pc
	} else {
		f.oldest = pc
	}
	f.newest = pc
	f.nidle++
}

// evict closes the connection idle longest. It is the first of its
// server's, as both lists are in the order the connections went idle.
// Never parks.
func (f *Fetcher) evict() {
	pc := f.oldest
	f.unlink(pc)
	conns := f.idle[pc.key]
	n := copy(conns, conns[1:])
	conns[n] = nil
	if n == 0 {
		delete(f.idle, pc.key)
	} else {
		f.idle[pc.key] = conns[:n]
	}
	pc.c.Close()
}

func (f *Fetcher) unlink(pc *pconn) {
	if pc.older != nil {
		pc.older.newer = pc.newer
	} else {
		f.oldest = pc.newer
	}
	if pc.newer != nil {
		pc.newer.older = pc.older
	} else {
		f.newest = pc.older
	}
	pc.older, pc.newer = nil, nil
	f.nidle--
}

func (f *Fetcher) dial(ctx context.Context, u *url.URL, key, addr string, deadline time.Time) (*pconn, error) {
	if !deadline.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, deadline)
		defer cancel()
	}
	var c net.Conn
	var err error
	if u.Scheme == "https" {
		// The Fetcher speaks HTTP/1.1 only, so it offers only that in
		// ALPN: a server must not pick h2.
		var cfg *tls.Config
		if f.TLSConfig != nil {
			cfg = f.TLSConfig.Clone()
		} else {
			cfg = &tls.Config{}
		}
		cfg.NextProtos = []string{"http/1.1"}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		c, err = ioco.DialTLS(ctx, "tcp", addr, cfg)
	} else if f.dialHook != nil {
		c, err = f.dialHook(ctx, "tcp", addr)
	} else {
		c, err = ioco.Dial(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, err
	}
	f.dials++
	r := &connReader{c: c, loop: scheduler.LoopOf(ctx), limit: -1}
	return &pconn{key: key, c: c, r: r, br: bufio.NewReaderSize(r, 16<<10), bw: bufio.NewWriterSize(c, 4<<10)}, nil
}

// A connReader is what a connection's bufio.Reader reads from: the conn,
// with the fetch's deadline checked at each read on the loop's clock (a
// read that finds bytes waiting never parks, and so never meets the conn's
// own deadline), the header's bytes bounded while one is read, and the
// first error kept and returned from then on, so that bufio cannot drop
// it. A connection whose reader failed is never kept.
type connReader struct {
	c        net.Conn
	loop     *scheduler.Loop
	deadline time.Time // of the fetch under way; zero: none
	limit    int64     // bytes of the header left to read; less than 0: no limit
	max      int64     // the header's limit, for the error
	err      error
}

func (r *connReader) Read(p []byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	if !r.deadline.IsZero() && !r.loop.Now().Before(r.deadline) {
		r.err = &net.OpError{Op: "read", Net: "tcp", Addr: r.c.RemoteAddr(), Err: os.ErrDeadlineExceeded}
		return 0, r.err
	}
	if r.limit == 0 {
		r.err = fmt.Errorf("%w: more than %d bytes", ErrHeaderTooLarge, r.max)
		return 0, r.err
	}
	if r.limit > 0 && int64(len(p)) > r.limit {
		p = p[:r.limit]
	}
	n, err := r.c.Read(p)
	if r.limit > 0 {
		r.limit -= int64(n)
	}
	if err != nil {
		r.err = err
	}
	return n, err
}

// quiet reports whether pc, idle, has nothing to read: no byte buffered,
// none waiting in the socket, no end of file. It asks the socket with a
// peek that does not wait (recv with MSG_PEEK and MSG_DONTWAIT), right
// before the connection is reused; over TLS it also reads the TLS
// layer's own buffer with a deadline already passed, which fails at once
// when there is nothing. Never parks: a read whose deadline has passed
// returns without waiting.
func (pc *pconn) quiet() bool {
	if pc.br.Buffered() > 0 || pc.r.err != nil {
		return false
	}
	raw := pc.c
	tc, isTLS := pc.c.(*tls.Conn)
	if isTLS {
		raw = tc.NetConn()
	}
	if !socketQuiet(raw) {
		return false
	}
	if !isTLS {
		return true
	}
	// Records already read from the socket may wait in crypto/tls.
	pc.r.deadline = time.Time{}
	if err := pc.c.SetReadDeadline(time.Unix(1, 0)); err != nil {
		return false
	}
	_, err := pc.br.Peek(1)
	if pc.br.Buffered() > 0 || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	pc.r.err = nil // the timeout was the probe's own
	return true
}

// socketQuiet reports whether the socket under c has nothing to read and
// no end of file. A conn that is no socket of the loop's is taken as quiet.
func socketQuiet(c net.Conn) bool {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return true
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return false
	}
	quiet := false
	err = raw.Control(func(fd uintptr) {
		var b [1]byte
		for {
			_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			if err == unix.EINTR {
				continue
			}
			quiet = err == unix.EAGAIN // not a byte, an end of file or an error
			return
		}
	})
	return err == nil && quiet
}

// Package serve holds the echo server on package net (a goroutine per
// connection, with its accept loop) and the echo that it and the evergo
// server, an ioco.Server, run on each connection.
//
// The accept loop does not end on the first error. Some errors say the
// process or the kernel is short of something for now: out of file
// descriptors (EMFILE, ENFILE), of socket buffers (ENOBUFS), or a
// connection reset by its peer before it was taken (ECONNABORTED). Then the
// loop waits and tries again, as net/http's Server.Serve does (and
// ioco.Server on the loop's clock): 5 ms after the first, twice as long
// after each one that follows, never more than 1 s, and back to 5 ms after
// a connection is accepted. Any other error ends the loop; a closed
// listener's (net.ErrClosed) is the usual one.
package serve

import (
	"context"
	"errors"
	"io"
	"net"
	"sync"
	"syscall"
	"time"
)

// The backoff of an accept loop, as in net/http's Server.Serve.
const (
	FirstDelay = 5 * time.Millisecond
	MaxDelay   = 1 * time.Second
)

// Temporary reports whether err, returned by a listener's Accept, is one
// that an accept loop waits out: EMFILE, ENFILE, ENOBUFS or ECONNABORTED,
// found by errors.Is anywhere in err's chain (ioco and package net wrap
// them in a *net.OpError around an *os.SyscallError).
func Temporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ECONNABORTED)
}

// Backoff is the wait of an accept loop between a temporary error and the
// next Accept. The zero value is ready to use.
type Backoff struct {
	delay time.Duration // the last wait Next returned; 0 after Reset
}

// Next returns the wait after one more temporary error: FirstDelay, then
// twice the last, at most MaxDelay.
func (b *Backoff) Next() time.Duration {
	b.delay = min(max(2*b.delay, FirstDelay), MaxDelay)
	return b.delay
}

// Reset starts the backoff over, after a connection was accepted.
func (b *Backoff) Reset() { b.delay = 0 }

// wait takes the error of an Accept. A temporary one (see Temporary) it
// reports through logf, when not nil, and waits out with sleep for Next's
// delay, returning sleep's error; any other it returns.
func (b *Backoff) wait(ctx context.Context, err error, sleep func(context.Context, time.Duration) error, logf func(format string, args ...any)) error {
	if !Temporary(err) {
		return err
	}
	d := b.Next()
	if logf != nil {
		logf("echo: accept error: %v; retrying in %v", err, d)
	}
	return sleep(ctx, d)
}

// Net accepts connections on ln, a listener of package net, and runs
// handle on each in a goroutine of its own, which closes the connection
// when handle returns. On a temporary error (see Temporary) it reports it
// through logf, when not nil, and calls sleep with ctx and the wait; a nil
// sleep waits on a timer that ctx cuts short. It returns the first other
// error of Accept, or the error of sleep, once every handle has returned.
// Close ln to end it.
func Net(ctx context.Context, ln net.Listener, handle func(net.Conn) error, sleep func(context.Context, time.Duration) error, logf func(format string, args ...any)) error {
	if sleep == nil {
		sleep = sleepCtx
	}
	var wg sync.WaitGroup
	defer wg.Wait()
	var b Backoff
	for {
		c, err := ln.Accept()
		if err != nil {
			if err := b.wait(ctx, err, sleep, logf); err != nil {
				return err
			}
			continue
		}
		b.Reset()
		wg.Go(func() {
			defer c.Close()
			handle(c)
		})
	}
}

// sleepCtx waits for d, or until ctx is done (it then returns ctx's error).
func sleepCtx(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Echo writes back what c reads until end of file. May park the calling
// task when c is ioco's.
func Echo(c net.Conn) error {
	buf := make([]byte, 16<<10)
	for {
		n, err := c.Read(buf)
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if _, err := c.Write(buf[:n]); err != nil {
			return err
		}
	}
}

package ioco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// withResettingPeer dials a listener on the loop of ctx whose side of the
// connection resets it (SO_LINGER 0 and close: an RST) once reset is
// called, runs fn on the dialed conn, and waits for the reset to be done.
func withResettingPeer(ctx context.Context, fn func(c net.Conn, reset func()) error) error {
	ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	var ready futures.Future[struct{}]
	resetter, err := scheduler.Spawn(ctx, "resetter", func(ctx context.Context) error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		if _, err := ready.Get(ctx); err != nil {
			return err
		}
		raw, err := c.(syscall.Conn).SyscallConn()
		if err != nil {
			return err
		}
		raw.Control(func(fd uintptr) {
			unix.SetsockoptLinger(int(fd), unix.SOL_SOCKET, unix.SO_LINGER, &unix.Linger{Onoff: 1, Linger: 0})
		})
		return c.Close()
	})
	if err != nil {
		return err
	}
	c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		return err
	}
	defer c.Close()
	if err := fn(c, func() { ready.SetResult(struct{}{}) }); err != nil {
		return err
	}
	return resetter.Join(ctx)
}

func TestPeerResetMidReadFailsTheParkedRead(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		return withResettingPeer(ctx, func(c net.Conn, reset func()) error {
			reset() // the reset comes while the Read below waits
			if _, err := c.Read(make([]byte, 8)); !errors.Is(err, syscall.ECONNRESET) {
				t.Errorf("Read when the peer reset = %v, want ECONNRESET", err)
			}
			return nil
		})
	})
}

func TestPeerResetMidWriteFailsTheParkedWrite(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		return withResettingPeer(ctx, func(c net.Conn, reset func()) error {
			scheduler.Spawn(ctx, "trigger", func(ctx context.Context) error {
				reset() // runs once the writer has parked on a full buffer
				return nil
			})
			_, err := c.Write(make([]byte, 64<<20)) // more than the buffers hold
			if !errors.Is(err, syscall.ECONNRESET) && !errors.Is(err, syscall.EPIPE) {
				t.Errorf("Write when the peer reset = %v, want ECONNRESET or EPIPE", err)
			}
			return nil
		})
	})
}

func TestHalfCloseBothWays(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		server, _ := scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			if _, err := c.Write([]byte("from server")); err != nil {
				return err
			}
			if err := c.(*ioco.TCPConn).CloseWrite(); err != nil {
				return err
			}
			got, err := io.ReadAll(c) // the client writes on after our CloseWrite
			if err != nil {
				return err
			}
			if string(got) != "from client" {
				t.Errorf("server read %q", got)
			}
			return nil
		})
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		got, err := io.ReadAll(c) // until the server's CloseWrite
		if err != nil {
			return err
		}
		if string(got) != "from server" {
			t.Errorf("client read %q", got)
		}
		if _, err := c.Write([]byte("from client")); err != nil {
			return err
		}
		if err := c.(*ioco.TCPConn).CloseWrite(); err != nil {
			return err
		}
		return server.Join(ctx)
	})
}

func TestASlowReaderDoesNotHoldUpOtherConnections(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln := echoServer(t, ctx)
		defer ln.Close()
		slow, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		// The slow client writes far more than it reads: the echo task
		// serving it parks on a full send buffer, and so does this writer.
		writer, _ := scheduler.Spawn(ctx, "slow writer", func(ctx context.Context) error {
			_, err := slow.Write(make([]byte, 32<<20))
			if errors.Is(err, net.ErrClosed) {
				return nil
			}
			return err
		})
		fast, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer fast.Close()
		buf := make([]byte, 4)
		for i := range 100 {
			if _, err := fast.Write([]byte("ping")); err != nil {
				return err
			}
			if _, err := io.ReadFull(fast, buf); err != nil {
				return err
			}
			if string(buf) != "ping" {
				t.Fatalf("echo %d = %q", i, buf)
			}
		}
		slow.Close() // wakes the parked writer
		return writer.Join(ctx)
	})
}

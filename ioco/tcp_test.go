package ioco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// runLoop runs main as a loop's main task and fails the test on an error.
func runLoop(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main); err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// echoServer listens on a free loopback port and echoes every connection
// back, one task per connection, until the loop ends.
func echoServer(t *testing.T, ctx context.Context) net.Listener {
	t.Helper()
	ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("Listen: %v", err)
	}
	scheduler.Spawn(ctx, "acceptor", func(ctx context.Context) error {
		for {
			c, err := ln.Accept()
			if err != nil {
				return nil // closed
			}
			scheduler.Spawn(ctx, "echo", func(ctx context.Context) error {
				defer c.Close()
				_, err := io.Copy(c, c)
				return err
			})
		}
	})
	return ln
}

// dialEcho starts an echo server (see echoServer) and dials it; the
// caller closes both.
func dialEcho(t *testing.T, ctx context.Context) (net.Listener, net.Conn) {
	t.Helper()
	ln := echoServer(t, ctx)
	c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		t.Fatalf("Dial: %v", err)
	}
	return ln, c
}

func TestTCPEchoWriteThenReadBack(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		ln := echoServer(t, ctx)
		defer ln.Close()
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		msg := []byte("hello, loop")
		if _, err := c.Write(msg); err != nil {
			return err
		}
		got := make([]byte, len(msg))
		if _, err := io.ReadFull(c, got); err != nil {
			return err
		}
		if string(got) != string(msg) {
			t.Errorf("echo = %q, want %q", got, msg)
		}
		if err := c.Close(); err != nil {
			return err
		}
		if _, err := c.Read(got); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Read after Close = %v, want net.ErrClosed", err)
		}
		return nil
	})
}

func TestCloseWriteLetsThePeerReadEOFAndWriteBack(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		server, err := scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			got, err := io.ReadAll(c) // until the client's CloseWrite
			if err != nil {
				return err
			}
			_, err = c.Write(append([]byte("got "), got...))
			return err
		})
		if err != nil {
			return err
		}
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		if _, err := c.Write([]byte("ping")); err != nil {
			return err
		}
		if err := c.(*ioco.TCPConn).CloseWrite(); err != nil {
			return err
		}
		reply, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		if string(reply) != "got ping" {
			t.Errorf("reply = %q, want %q", reply, "got ping")
		}
		return server.Join(ctx)
	})
}

func TestReadDeadlineWakesTheParkedReaderAndCanBeMoved(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		defer c.Close()
		c.SetReadDeadline(scheduler.Now(ctx).Add(20 * time.Millisecond))
		buf := make([]byte, 8)
		if _, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("Read past the deadline = %v, want os.ErrDeadlineExceeded", err)
		}
		var ne net.Error
		if _, err := c.Read(buf); !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("Read past the deadline = %v, want a net.Error with Timeout", err)
		}
		c.SetReadDeadline(time.Time{}) // moved away: the conn works again
		if _, err := c.Write([]byte("again")); err != nil {
			return err
		}
		n, err := io.ReadFull(c, buf[:5])
		if err != nil || string(buf[:n]) != "again" {
			t.Errorf("Read after moving the deadline = %q, %v; want %q", buf[:n], err, "again")
		}
		return nil
	})
}

func TestMovingTheDeadlineWhileParkedApplies(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		defer c.Close()
		scheduler.Spawn(ctx, "mover", func(ctx context.Context) error {
			c.SetReadDeadline(scheduler.Now(ctx)) // the reader parked first
			return nil
		})
		if _, err := c.Read(make([]byte, 8)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read whose deadline was moved to now = %v, want os.ErrDeadlineExceeded", err)
		}
		return nil
	})
}

func TestCloseFromAnotherTaskWakesTheParkedReader(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		ln := echoServer(t, ctx)
		defer ln.Close()
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		scheduler.Spawn(ctx, "closer", func(ctx context.Context) error {
			return c.Close()
		})
		if _, err := c.Read(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("parked Read when the conn was closed = %v, want net.ErrClosed", err)
		}
		return nil
	})
}

func TestCloseOfTheListenerWakesTheParkedAccept(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		scheduler.Spawn(ctx, "closer", func(ctx context.Context) error { return ln.Close() })
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("parked Accept when the listener was closed = %v, want net.ErrClosed", err)
		}
		return nil
	})
}

func TestDialOfAClosedPortIsRefused(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		addr := ln.Addr().String()
		ln.Close()
		_, err = ioco.Dial(ctx, "tcp", addr)
		var op *net.OpError
		if !errors.As(err, &op) || op.Op != "dial" || !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("Dial of a closed port = %v, want a dial *net.OpError (connection refused)", err)
		}
		return nil
	})
}

func TestLargeWriteParksUntilAllIsWritten(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		defer c.Close()
		big := make([]byte, 8<<20) // far more than the socket buffers hold
		for i := range big {
			big[i] = byte(i * 7)
		}
		reader, _ := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			got := make([]byte, len(big))
			if _, err := io.ReadFull(c, got); err != nil {
				return err
			}
			for i := range got {
				if got[i] != big[i] {
					t.Errorf("byte %d = %d, want %d", i, got[i], big[i])
					break
				}
			}
			return nil
		})
		if n, err := c.Write(big); n != len(big) || err != nil {
			t.Errorf("Write = %d, %v; want %d, nil", n, err, len(big))
		}
		return reader.Join(ctx)
	})
}

// A call made after its deadline fails, even when it could go through
// without waiting, as package net's calls do: a peer that keeps bytes
// coming cannot keep a reader past its deadline.
func TestCallMadeAfterItsDeadlineFailsEvenWhenItNeedNotWait(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		defer c.Close()
		if _, err := c.Write([]byte("echo")); err != nil {
			return err
		}
		buf := make([]byte, 4)
		if _, err := io.ReadFull(c, buf[:1]); err != nil { // the rest of the echo is there now
			return err
		}
		c.SetDeadline(scheduler.Now(ctx).Add(time.Millisecond))
		if err := scheduler.Sleep(ctx, 2*time.Millisecond); err != nil {
			return err
		}
		if n, err := c.Read(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Read after its deadline with bytes ready = %d, %v; want os.ErrDeadlineExceeded", n, err)
		}
		if n, err := c.Write(buf); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Write after its deadline = %d, %v; want os.ErrDeadlineExceeded", n, err)
		}
		c.SetDeadline(time.Time{})
		if n, err := io.ReadFull(c, buf[:3]); err != nil || string(buf[:n]) != "cho" {
			t.Errorf("Read once the deadline is gone = %q, %v; want %q", buf[:n], err, "cho")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

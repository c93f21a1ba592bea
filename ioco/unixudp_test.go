package ioco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestUnixSocketEcho(t *testing.T) { // CONFORMANCE
	path := filepath.Join(t.TempDir(), "echo.sock")
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "unix", path)
		if err != nil {
			return err
		}
		server, _ := scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = io.Copy(c, c)
			return err
		})
		c, err := ioco.Dial(ctx, "unix", path)
		if err != nil {
			return err
		}
		if _, err := c.Write([]byte("over a unix socket")); err != nil {
			return err
		}
		if err := c.(*ioco.UnixConn).CloseWrite(); err != nil {
			return err
		}
		got, err := io.ReadAll(c)
		if err != nil {
			return err
		}
		if string(got) != "over a unix socket" {
			t.Errorf("echo = %q", got)
		}
		c.Close()
		if err := server.Join(ctx); err != nil {
			return err
		}
		return ln.Close()
	})
	if _, err := net.Dial("unix", path); err == nil {
		t.Error("the socket file outlived its listener's Close")
	}
}

func TestUDPPingPong(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		pc, err := ioco.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer pc.Close()
		server, _ := scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			buf := make([]byte, 64)
			for range 3 {
				n, from, err := pc.ReadFrom(buf)
				if err != nil {
					return err
				}
				reply := append([]byte("pong "), buf[:n]...)
				if _, err := pc.WriteTo(reply, from); err != nil {
					return err
				}
			}
			return nil
		})
		c, err := ioco.Dial(ctx, "udp", pc.LocalAddr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		buf := make([]byte, 64)
		for _, msg := range []string{"1", "2", ""} { // an empty datagram too
			if _, err := c.Write([]byte(msg)); err != nil {
				return err
			}
			n, err := c.Read(buf)
			if err != nil {
				return err
			}
			if got := string(buf[:n]); got != "pong "+msg {
				t.Errorf("reply = %q, want %q", got, "pong "+msg)
			}
		}
		return server.Join(ctx)
	})
}

func TestUDPReadFromAfterCloseFails(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		pc, err := ioco.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		if err := pc.Close(); err != nil {
			return err
		}
		if _, _, err := pc.ReadFrom(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("ReadFrom after Close = %v, want net.ErrClosed", err)
		}
		return nil
	})
}

func TestUDPCloseWakesTheParkedReadFrom(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		pc, err := ioco.ListenPacket(ctx, "udp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		scheduler.Spawn(ctx, "closer", func(ctx context.Context) error { return pc.Close() })
		if _, _, err := pc.ReadFrom(make([]byte, 8)); !errors.Is(err, net.ErrClosed) {
			t.Errorf("parked ReadFrom when the socket was closed = %v, want net.ErrClosed", err)
		}
		return nil
	})
}

package ioco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// serveOne accepts one connection on ln in a task and writes msg to it.
func serveOne(ctx context.Context, ln net.Listener, msg string) {
	scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
		c, err := ln.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		_, err = io.WriteString(c, msg)
		return err
	})
}

// A listening socket made elsewhere (here by package net, as a supervisor
// would) serves on the loop through FileListener, and outlives the file it
// came from.
func TestFileListenerServesASocketListenedOnElsewhere(t *testing.T) {
	for _, network := range []string{"tcp", "unix"} {
		t.Run(network, func(t *testing.T) {
			addr := "127.0.0.1:0"
			if network == "unix" {
				addr = filepath.Join(t.TempDir(), "sock")
			}
			nln, err := net.Listen(network, addr)
			if err != nil {
				t.Fatal(err)
			}
			defer nln.Close()
			f, err := nln.(interface{ File() (*os.File, error) }).File()
			if err != nil {
				t.Fatal(err)
			}
			runLoop(t, func(ctx context.Context) error {
				ln, err := ioco.FileListener(ctx, f)
				f.Close() // the listener has a descriptor of its own
				if err != nil {
					return err
				}
				if ln.Addr().String() != nln.Addr().String() {
					t.Errorf("Addr = %v, want %v", ln.Addr(), nln.Addr())
				}
				serveOne(ctx, ln, "hello")
				c, err := ioco.Dial(ctx, network, nln.Addr().String())
				if err != nil {
					return err
				}
				got, err := io.ReadAll(c)
				c.Close()
				if string(got) != "hello" || err != nil {
					t.Errorf("read %q, %v; want hello", got, err)
				}
				if err := ln.Close(); err != nil {
					return err
				}
				if n := scheduler.LoopOf(ctx).Stats().FDs; n != 0 {
					t.Errorf("%d fds left registered", n)
				}
				return nil
			})
			if network == "unix" {
				if _, err := os.Stat(addr); err != nil {
					t.Errorf("the socket's file is gone after the listener's Close: %v", err)
				}
			}
		})
	}
}

// What is not a listening stream socket is refused, and nothing is left
// open.
func TestFileListenerRefusesWhatIsNotAListeningSocket(t *testing.T) {
	regular, err := os.Create(filepath.Join(t.TempDir(), "file"))
	if err != nil {
		t.Fatal(err)
	}
	defer regular.Close()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM, 0)
	if err != nil {
		t.Fatal(err)
	}
	connected := os.NewFile(uintptr(fds[0]), "socketpair")
	defer connected.Close()
	defer syscall.Close(fds[1])
	udp, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer udp.Close()
	datagram, err := udp.(*net.UDPConn).File()
	if err != nil {
		t.Fatal(err)
	}
	defer datagram.Close()

	before := openFDs(t)
	runLoop(t, func(ctx context.Context) error {
		for _, f := range []*os.File{regular, connected, datagram} {
			ln, err := ioco.FileListener(ctx, f)
			var op *net.OpError
			if ln != nil || !errors.Is(err, syscall.EINVAL) || !errors.As(err, &op) || op.Op != "file" {
				t.Errorf("FileListener(%s) = %v, %v; want a *net.OpError wrapping EINVAL", f.Name(), ln, err)
			}
		}
		return nil
	})
	if after := openFDs(t); after != before {
		t.Errorf("%d fds open after, %d before", after, before)
	}
}

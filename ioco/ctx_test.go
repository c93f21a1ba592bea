package ioco_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
	"golang.org/x/sys/unix"
)

// blockingCalls are the calls of this package that take a ctx and park,
// each on a peer that never answers.
func blockingCalls(t *testing.T) map[string]parktest.Setup {
	return map[string]parktest.Setup{
		// A server nobody connects to.
		"Server.Serve": func(ctx context.Context) func(ctx context.Context) error {
			ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &ioco.Server{Handler: func(context.Context, net.Conn) {}}
			return func(ctx context.Context) error { return srv.Serve(ctx, ln) }
		},
		// A server whose one connection's handler never ends.
		"Server.Shutdown": func(ctx context.Context) func(ctx context.Context) error {
			ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			srv := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) { c.Read(make([]byte, 1)) }}
			scheduler.Go(ctx, func(ctx context.Context) error { return srv.Serve(ctx, ln) })
			c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
			if err != nil {
				t.Fatal(err)
			}
			scheduler.Sleep(ctx, 0) // the connection is accepted, its handler parks
			return func(ctx context.Context) error {
				defer c.Close()
				return srv.Shutdown(ctx)
			}
		},
		"WaitReadable": func(context.Context) func(ctx context.Context) error {
			fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				defer unix.Close(fds[0])
				defer unix.Close(fds[1])
				return ioco.WaitReadable(ctx, fds[0])
			}
		},
		// A server that accepts (the kernel does, into the backlog) and never
		// says a word: the handshake waits for its hello.
		"DialTLS": func(ctx context.Context) func(ctx context.Context) error {
			ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) error {
				defer ln.Close()
				c, err := ioco.DialTLS(ctx, "tcp", ln.Addr().String(), &tls.Config{InsecureSkipVerify: true})
				if err == nil {
					c.Close()
				}
				return err
			}
		},
	}
}

func TestParkingCallsReturnOnlyWhatTheirContextReports(t *testing.T) {
	parktest.ReturnsOnlyWhatCtxReports(t, blockingCalls(t))
}

func TestParkingCallsOfADyingTaskReturnErrKilled(t *testing.T) {
	parktest.DyingTaskGetsErrKilled(t, blockingCalls(t))
}

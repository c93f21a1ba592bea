package ioco_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestDialOfAnUnresolvableNameReturnsADNSError(t *testing.T) { // CONFORMANCE
	runLoop(t, func(ctx context.Context) error {
		_, err := ioco.Dial(ctx, "tcp", "nonexistent.invalid:80")
		var op *net.OpError
		var dns *net.DNSError
		if !errors.As(err, &op) || op.Op != "dial" || !errors.As(err, &dns) || dns.Name != "nonexistent.invalid" {
			t.Errorf("Dial of an unresolvable name = %v (%T), want a dial *net.OpError with a *net.DNSError", err, err)
		}
		return nil
	})
}

func TestDialResolvesANameOnTheThreadPoolWhileOtherTasksRun(t *testing.T) { // CONFORMANCE
	host, err := os.Hostname()
	if err != nil {
		t.Skip(err)
	}
	if ips, err := net.LookupIP(host); err != nil || len(ips) == 0 || !ips[0].IsLoopback() {
		t.Skipf("this machine's name %q does not resolve to a loopback address (%v, %v)", host, ips, err)
	}
	runLoop(t, func(ctx context.Context) error {
		ln := echoServer(t, ctx)
		defer ln.Close()
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		l := scheduler.LoopOf(ctx)
		fdsBefore, fdsSeen := l.Stats().FDs, -1
		scheduler.Spawn(ctx, "other", func(ctx context.Context) error {
			// Runs once the dialing task first parks: in the lookup, before
			// the dial's socket exists, if the lookup is on the thread pool.
			fdsSeen = scheduler.LoopOf(ctx).Stats().FDs
			return nil
		})
		c, err := ioco.Dial(ctx, "tcp", net.JoinHostPort(host, port))
		if err != nil {
			return err
		}
		defer c.Close()
		if fdsSeen != fdsBefore {
			t.Errorf("the other task first ran with %d fds registered, want %d: it did not run while the name was looked up", fdsSeen, fdsBefore)
		}
		if _, err := c.Write([]byte("x")); err != nil {
			return err
		}
		_, err = c.Read(make([]byte, 1))
		return err
	})
}

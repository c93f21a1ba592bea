package ioco_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"net"
	"strings"
	"syscall"
	"testing"

	"github.com/evergo/evergo/internal/fdtest"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// The test here runs out of file descriptors for real, under a lowered
// RLIMIT_NOFILE, so it runs in a child process of its own (as net/http's
// TestAcceptMaxFds fakes, and x/sync's crash tests run apart): see
// internal/fdtest.

func TestServerServesAgainOnceRealEMFILEsAreOver(t *testing.T) {
	if !fdtest.InChild(t) {
		return
	}
	var logged bytes.Buffer
	emfiles := 0
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// The client connects while descriptors are left: its connection
		// waits in the backlog while Accept fails.
		c, err := ioco.Dial(ctx, "tcp", real.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		release := fdtest.UseUp(t)
		ln := &hookListener{Listener: real, after: func(err error) {
			if errors.Is(err, syscall.EMFILE) {
				if emfiles++; emfiles == 3 {
					release()
				}
			}
		}}
		s := &ioco.Server{ErrorLog: log.New(&logged, "", 0), Handler: func(ctx context.Context, c net.Conn) {
			buf := make([]byte, 16)
			n, _ := c.Read(buf)
			c.Write(buf[:n])
		}}
		serve, err := scheduler.Go(ctx, func(ctx context.Context) error { return s.Serve(ctx, ln) })
		if err != nil {
			return err
		}
		if err := roundTrip(c, "hello"); err != nil {
			return err
		}
		c.Close()
		if err := shutdownServed(ctx, s, serve); err != nil {
			return err
		}
		noLeak()
		return nil
	})
	if emfiles != 3 {
		t.Errorf("Accept failed with EMFILE %d times, want 3", emfiles)
	}
	if n := strings.Count(logged.String(), "too many open files; retrying in"); n != 3 {
		t.Errorf("%d accept errors logged, want 3:\n%s", n, logged.String())
	}
}

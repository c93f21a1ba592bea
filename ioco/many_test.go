package ioco_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// manyConns is the connection count of the many-connections test. The
// client side runs in a child process: these machines allow 20,000 fds
// per process, and each side needs one per connection.
const manyConns = 10_000

// openFDs counts this process's open file descriptors.
func openFDs(t *testing.T) int {
	t.Helper()
	ents, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skip(err)
	}
	return len(ents)
}

func TestTenThousandConnectionsEchoWithNoErrorAndNoFdLeft(t *testing.T) {
	before := openFDs(t)
	served := 0
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		scheduler.Spawn(ctx, "acceptor", func(ctx context.Context) error {
			for {
				c, err := ln.Accept()
				if err != nil {
					return nil // closed
				}
				scheduler.Spawn(ctx, "echo", func(ctx context.Context) error {
					defer c.Close()
					n, err := io.Copy(c, c)
					if err == nil && n > 0 {
						served++
					}
					return err
				})
			}
		})
		cmd := exec.Command(os.Args[0], "-test.run=^TestManyConnectionsClientSide$", "-test.v")
		cmd.Env = append(os.Environ(), "IOCO_MANY_ADDR="+ln.Addr().String(), "IOCO_MANY_CONNS="+strconv.Itoa(manyConns))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			return err
		}
		pool, err := futures.LoopPool(ctx)
		if err != nil {
			return err
		}
		done, err := futures.Submit(ctx, pool, func(context.Context) (struct{}, error) {
			return struct{}{}, cmd.Wait() // blocks a pool goroutine, not the loop
		})
		if err != nil {
			return err
		}
		if _, err := done.Get(ctx); err != nil {
			return fmt.Errorf("client process: %v\n%s", err, out.Bytes())
		}
		return ln.Close()
	})
	if served != manyConns {
		t.Errorf("%d connections echoed, want %d", served, manyConns)
	}
	if after := openFDs(t); after != before {
		t.Errorf("%d fds open after the test, %d before", after, before)
	}
}

// TestManyConnectionsClientSide is the client side of the many-connections
// test, run in a child process; on its own it does nothing.
func TestManyConnectionsClientSide(t *testing.T) {
	addr := os.Getenv("IOCO_MANY_ADDR")
	if addr == "" {
		t.Skip("the client side of TestTenThousandConnectionsEchoWithNoErrorAndNoFdLeft")
	}
	n, err := strconv.Atoi(os.Getenv("IOCO_MANY_CONNS"))
	if err != nil {
		t.Fatal(err)
	}
	before := openFDs(t)
	runLoop(t, func(ctx context.Context) error {
		// Every connection is open at once: each waits at the barrier
		// before it closes.
		all, err := locks.NewBarrier(n, nil)
		if err != nil {
			return err
		}
		tasks := make([]*scheduler.Task, n)
		for i := range n {
			tasks[i], err = scheduler.Go(ctx, func(ctx context.Context) error {
				c, err := ioco.Dial(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				msg := []byte(fmt.Sprintf("message %05d from one of many", i))
				if _, err := c.Write(msg); err != nil {
					return err
				}
				got := make([]byte, len(msg))
				if _, err := io.ReadFull(c, got); err != nil {
					return err
				}
				if !bytes.Equal(got, msg) {
					return fmt.Errorf("connection %d: echo %q, want %q", i, got, msg)
				}
				_, err = all.Wait(ctx)
				return err
			})
			if err != nil {
				return err
			}
		}
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if after := openFDs(t); after != before {
		t.Errorf("client: %d fds open after the test, %d before", after, before)
	}
}

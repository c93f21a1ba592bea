// Command echo is an echo server and client on evergo's loop: one task per
// connection, reading and writing through package ioco.
//
//	go run ./examples/echo server -addr 127.0.0.1:9000            # one loop
//	go run ./examples/echo server -addr 127.0.0.1:9000 -loops 4   # SO_REUSEPORT, a loop per core
//	go run ./examples/echo client -addr 127.0.0.1:9000 -c 50 -d 3s
//	go run ./examples/echo netserver -addr 127.0.0.1:9000         # package net, a goroutine per conn
//
// The server runs until interrupted: the first Ctrl-C shuts it down
// gracefully (it stops accepting and waits for the clients to hang up),
// the second closes every connection at once. The evergo server is an
// ioco.Server per loop; the package net one is internal/serve's. Both wait
// out accept errors that say descriptors or buffers are short (EMFILE,
// ENFILE, ENOBUFS, ECONNABORTED), 5 ms doubling to 1 s as net/http's
// Server does, and go on serving. The client opens -c connections from
// one loop, each writing -size bytes and waiting for them back for -d, and
// prints the messages per second.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/signal"
	"runtime/pprof"
	"time"

	"github.com/evergo/evergo/examples/echo/internal/serve"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func main() {
	log.SetFlags(0)
	if len(os.Args) < 2 {
		usage()
	}
	fs := flag.NewFlagSet(os.Args[1], flag.ExitOnError)
	addr := fs.String("addr", "127.0.0.1:9000", "address to listen on or connect to")
	loops := fs.Int("loops", 1, "server: loops sharing the port through SO_REUSEPORT")
	conns := fs.Int("c", 50, "client: connections")
	size := fs.Int("size", 64, "client: message bytes")
	dur := fs.Duration("d", 3*time.Second, "client: duration")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile to this file")
	fs.Parse(os.Args[2:])
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		pprof.StartCPUProfile(f)
		defer pprof.StopCPUProfile()
	}
	var err error
	switch os.Args[1] {
	case "server": // each loop handles Ctrl-C itself
		err = serveLoops(context.Background(), *addr, *loops)
	case "netserver":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = netServe(ctx, *addr)
	case "client":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		defer stop()
		err = client(ctx, *addr, *conns, *size, *dur)
	default:
		usage()
	}
	if err != nil && !errors.Is(err, context.Canceled) {
		log.Print(err)
		pprof.StopCPUProfile()
		os.Exit(1)
	}
}

func usage() {
	log.Fatal("usage: echo server|netserver|client [-addr host:port] [-loops n] [-c conns] [-size bytes] [-d duration]")
}

// serveLoops runs n loops, each on its own goroutine with its own listener
// on addr (SO_REUSEPORT lets the kernel spread connections among them) and
// its own ioco.Server, until Ctrl-C: the first shuts the servers down, the
// second closes them.
func serveLoops(ctx context.Context, addr string, n int) error {
	errs := make(chan error, n)
	for range n {
		go func() {
			errs <- scheduler.Run(ctx, func(ctx context.Context) error {
				ln, err := ioco.ListenConfig{ReusePort: n > 1}.Listen(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				srv := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) { serve.Echo(c) }}
				interrupts := 0
				h, err := scheduler.LoopOf(ctx).AddSignalHandler(os.Interrupt, func(ctx context.Context, _ os.Signal) {
					if interrupts++; interrupts > 1 {
						srv.Close()
						return
					}
					scheduler.Spawn(ctx, "shutdown", func(ctx context.Context) error { return srv.Shutdown(ctx) })
				})
				if err != nil {
					ln.Close()
					return err
				}
				defer h.Remove()
				if err := srv.Serve(ctx, ln); err != ioco.ErrServerClosed {
					srv.Close()
					return err
				}
				return srv.Shutdown(ctx) // with the interrupt's: until the clients hang up
			})
		}()
	}
	var first error
	for range n {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// netServe is the same server on package net: a goroutine per connection.
func netServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	err = serve.Net(ctx, ln, serve.Echo, nil, log.Printf)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// client runs conns connections on one loop, each a closed loop of
// size-byte round trips, for d, and prints the rate.
func client(ctx context.Context, addr string, conns, size int, d time.Duration) error {
	total := 0
	err := scheduler.Run(ctx, func(ctx context.Context) error {
		end := scheduler.Now(ctx).Add(d)
		var tasks []*scheduler.Task
		for i := range conns {
			t, err := scheduler.Go(ctx, func(ctx context.Context) error {
				c, err := ioco.Dial(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				defer c.Close()
				out, in := make([]byte, size), make([]byte, size)
				for j := range out {
					out[j] = byte(i + j)
				}
				for scheduler.Now(ctx).Before(end) {
					if _, err := c.Write(out); err != nil {
						return err
					}
					if _, err := io.ReadFull(c, in); err != nil {
						return err
					}
					if string(in) != string(out) {
						return fmt.Errorf("connection %d: echo differs", i)
					}
					total++
				}
				return nil
			})
			if err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			if err := t.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Printf("%d connections, %d B messages: %.0f msgs/s\n", conns, size, float64(total)/d.Seconds())
	return nil
}

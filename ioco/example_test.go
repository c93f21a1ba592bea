package ioco_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// An echo server with one task per connection, and a client, on one loop.
func ExampleListen() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		scheduler.Spawn(ctx, "acceptor", func(ctx context.Context) error {
			for {
				c, err := ln.Accept() // parks this task only
				if err != nil {
					return nil // the listener was closed
				}
				scheduler.Spawn(ctx, "echo", func(ctx context.Context) error {
					defer c.Close()
					_, err := io.Copy(c, c)
					return err
				})
			}
		})
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		r := bufio.NewReader(c) // bufio works unchanged on a conn
		for _, line := range []string{"hello\n", "loop\n"} {
			io.WriteString(c, line)
			got, err := r.ReadString('\n')
			if err != nil {
				return err
			}
			fmt.Print("echo: ", got)
		}
		return nil
	})
	// Output:
	// echo: hello
	// echo: loop
}

// Several loops, each on its own goroutine, share one port through
// SO_REUSEPORT: the kernel spreads the connections among them. This is
// how a server scales up to one loop per core.
func ExampleListenConfig() {
	const loops, clients = 2, 20
	var served atomic.Int64
	ready := make(chan string, loops)
	stop := make(chan struct{})
	var wg sync.WaitGroup
	addr := "127.0.0.1:0"
	for i := range loops {
		l := scheduler.New()
		wg.Go(func() {
			l.Run(context.Background(), func(ctx context.Context) error {
				ln, err := ioco.ListenConfig{ReusePort: true}.Listen(ctx, "tcp", addr)
				if err != nil {
					return err
				}
				ready <- ln.Addr().String()
				scheduler.Spawn(ctx, "acceptor", func(ctx context.Context) error {
					for {
						c, err := ln.Accept()
						if err != nil {
							return nil
						}
						served.Add(1)
						scheduler.Spawn(ctx, "echo", func(ctx context.Context) error {
							defer c.Close()
							_, err := io.Copy(c, c)
							return err
						})
					}
				})
				post := l.Expect() // the main goroutine tells the loop to stop
				go func() {
					<-stop
					post(func(context.Context) { ln.Close() })
				}()
				return nil
			})
		})
		if i == 0 {
			addr = <-ready // the others bind to the port the first one got
		} else {
			<-ready
		}
	}
	for range clients {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			fmt.Println(err)
			return
		}
		fmt.Fprintln(c, "ping")
		line, _ := bufio.NewReader(c).ReadString('\n')
		if strings.TrimSpace(line) != "ping" {
			fmt.Println("bad echo:", line)
		}
		c.Close()
	}
	close(stop)
	wg.Wait()
	fmt.Println(served.Load(), "connections served by", loops, "loops")
	// Output:
	// 20 connections served by 2 loops
}

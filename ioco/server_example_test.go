package ioco_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// An echo server: a task per connection, started by the Server, which
// closes the connection when the handler returns; Shutdown stops accepting
// and waits for the handlers to end.
func ExampleServer() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		srv := &ioco.Server{
			Handler: func(ctx context.Context, c net.Conn) {
				io.Copy(c, c) // until the client closes its side
			},
			MaxConns: 100,
		}
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		serve, _ := scheduler.Spawn(ctx, "serve", func(ctx context.Context) error {
			return srv.Serve(ctx, ln) // until Shutdown
		})

		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		r := bufio.NewReader(c)
		for _, line := range []string{"hello\n", "server\n"} {
			io.WriteString(c, line)
			got, _ := r.ReadString('\n')
			fmt.Print("echo: ", got)
		}
		c.Close() // the handler reads end of file and returns

		fmt.Println("Shutdown:", srv.Shutdown(ctx))
		fmt.Println("Serve:", serve.Join(ctx))
		return nil
	})
	// Output:
	// echo: hello
	// echo: server
	// Shutdown: <nil>
	// Serve: ioco: Server closed
}

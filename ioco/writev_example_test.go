package ioco_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A header and a body that are separate slices go out in one system call;
// the peer reads them as one stream.
func ExampleTCPConn_WriteBuffers() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		reader, _ := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			b, err := io.ReadAll(c)
			fmt.Printf("%q\n", b)
			return err
		})
		c, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		header, body := []byte("Length: 5\n\n"), []byte("hello")
		n, err := c.(*ioco.TCPConn).WriteBuffers(net.Buffers{header, body})
		fmt.Println(n, err)
		c.Close()
		return reader.Join(ctx)
	})
	// Output:
	// 16 <nil>
	// "Length: 5\n\nhello"
}

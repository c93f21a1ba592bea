package ioco_test

import (
	"context"
	"fmt"
	"io"
	"net"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A worker process serves a socket its supervisor listened on: here the
// socket comes from package net in the same process, where a worker would
// get it as os.NewFile(3, "listener") from exec.Cmd's ExtraFiles.
func ExampleFileListener() {
	supervisor, _ := net.Listen("tcp", "127.0.0.1:0")
	defer supervisor.Close()
	f, _ := supervisor.(*net.TCPListener).File()

	scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.FileListener(ctx, f)
		f.Close()
		if err != nil {
			return err
		}
		defer ln.Close()
		scheduler.Go(ctx, func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = io.WriteString(c, "served on the loop")
			return err
		})
		c, err := ioco.Dial(ctx, "tcp", supervisor.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		msg, _ := io.ReadAll(c)
		fmt.Println(string(msg))
		return nil
	})
	// Output: served on the loop
}

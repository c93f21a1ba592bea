package ioco_test

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A task waits for changes in a directory while another makes them.
func ExampleWatch() {
	dir, _ := os.MkdirTemp("", "watch")
	defer os.RemoveAll(dir)
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		w, err := ioco.Watch(ctx, dir)
		if err != nil {
			return err
		}
		defer w.Close()
		scheduler.Spawn(ctx, "writer", func(ctx context.Context) error {
			return os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("hello"), 0o600)
		})
		for range 2 {
			e, err := w.Next(ctx)
			if err != nil {
				return err
			}
			fmt.Println(e.Op, filepath.Base(e.Name))
		}
		return nil
	})
	// Output:
	// CREATE notes.txt
	// WRITE notes.txt
}

// A program on a pseudo-terminal: what it prints comes from the master,
// with the terminal's line endings.
func ExampleStartPTY() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		cmd := ioco.CommandContext(ctx, "echo", "on a terminal")
		master, err := ioco.StartPTY(cmd)
		if err != nil {
			return err
		}
		defer master.Close()
		out, _ := io.ReadAll(master) // until the program's end hangs the terminal up (EIO)
		fmt.Printf("%q\n", strings.TrimSpace(string(out)))
		return cmd.Wait()
	})
	// Output:
	// "on a terminal"
}

package ioco_test

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestFileReadAndWriteRunOnTheThreadPoolWhileOtherTasksRun(t *testing.T) {
	name := filepath.Join(t.TempDir(), "data")
	runLoop(t, func(ctx context.Context) error {
		others := 0
		scheduler.Spawn(ctx, "other", func(ctx context.Context) error {
			for range 3 {
				others++ // runs while the file calls are out
				if err := scheduler.Sleep(ctx, 0); err != nil {
					return err
				}
			}
			return nil
		})
		f, err := ioco.Create(ctx, name)
		if err != nil {
			return err
		}
		if others == 0 {
			t.Error("no other task ran while the file was created on the thread pool")
		}
		if _, err := io.WriteString(f, "written from a task"); err != nil {
			return err
		}
		if err := f.Sync(); err != nil {
			return err
		}
		if fi, err := f.Stat(); err != nil || fi.Size() != int64(len("written from a task")) {
			t.Errorf("Stat = %v, %v", fi, err)
		}
		buf := make([]byte, 7)
		if n, err := f.ReadAt(buf, 8); err != nil || string(buf[:n]) != "from a " {
			t.Errorf("ReadAt = %q, %v", buf[:n], err)
		}
		if err := f.Close(); err != nil {
			return err
		}
		got, err := ioco.ReadFile(ctx, name)
		if err != nil {
			return err
		}
		if string(got) != "written from a task" {
			t.Errorf("ReadFile = %q", got)
		}
		return ioco.WriteFile(ctx, name, []byte("again"), 0o644)
	})
	if got, err := os.ReadFile(name); err != nil || string(got) != "again" {
		t.Errorf("file after WriteFile = %q, %v", got, err)
	}
}

func TestOpenOfAMissingFileReturnsThePathError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		_, err := ioco.Open(ctx, filepath.Join(t.TempDir(), "missing"))
		if !os.IsNotExist(err) {
			t.Errorf("Open of a missing file = %v, want a not-exist error", err)
		}
		return nil
	})
}

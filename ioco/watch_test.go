package ioco_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// nextEvents returns the next n events of w, as "OP name" with the names
// relative to dir.
func nextEvents(ctx context.Context, t *testing.T, w *ioco.Watcher, dir string, n int) []string {
	t.Helper()
	var got []string
	for range n {
		e, err := w.Next(ctx)
		if err != nil {
			t.Fatalf("Next after %v: %v", got, err)
		}
		got = append(got, e.Op.String()+" "+strings.TrimPrefix(e.Name, dir+"/"))
	}
	return got
}

func TestWatchReportsChangesInADirectory(t *testing.T) {
	dir := t.TempDir()
	before := openFDs(t)
	runLoop(t, func(ctx context.Context) error {
		w, err := ioco.Watch(ctx, dir)
		if err != nil {
			return err
		}
		defer w.Close()
		a, b := filepath.Join(dir, "a"), filepath.Join(dir, "b")
		os.WriteFile(a, []byte("x"), 0o600)
		os.Chmod(a, 0o644)
		os.Rename(a, b)
		os.Remove(b)
		got := nextEvents(ctx, t, w, dir, 6)
		want := []string{"CREATE a", "WRITE a", "CHMOD a", "RENAME a", "CREATE b", "REMOVE b"}
		if !slices.Equal(got, want) {
			t.Errorf("events: %v\nwant %v", got, want)
		}
		return nil
	})
	if n := openFDs(t); n != before {
		t.Errorf("%d fds open after, %d before", n, before)
	}
}

func TestWatchNextParksOnlyItsTask(t *testing.T) {
	dir := t.TempDir()
	runLoop(t, func(ctx context.Context) error {
		w, err := ioco.Watch(ctx, dir)
		if err != nil {
			return err
		}
		defer w.Close()
		if _, err := scheduler.Spawn(ctx, "writer", func(ctx context.Context) error {
			return os.WriteFile(filepath.Join(dir, "late"), nil, 0o600) // runs while Next waits
		}); err != nil {
			return err
		}
		e, err := w.Next(ctx)
		if err != nil || e.Op != ioco.OpCreate || filepath.Base(e.Name) != "late" {
			t.Errorf("Next = %v, %v; want CREATE late", e, err)
		}
		// A deadline ends a wait for what never comes; Close ends another.
		dl, cancel := scheduler.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		if _, err := w.Next(dl); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Next with nothing coming and a deadline = %v; want context.DeadlineExceeded", err)
		}
		waiter, err := scheduler.Spawn(ctx, "waiter", func(ctx context.Context) error {
			_, err := w.Next(ctx)
			return err
		})
		if err != nil {
			return err
		}
		scheduler.Sleep(ctx, 0) // the waiter parks
		w.Close()
		if err := waiter.Join(ctx); !errors.Is(err, os.ErrClosed) {
			t.Errorf("Next when the Watcher was closed = %v; want os.ErrClosed", err)
		}
		return nil
	})
}

func TestWatchOfADirectoryThatIsRemoved(t *testing.T) {
	parent := t.TempDir()
	dir := filepath.Join(parent, "gone")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	runLoop(t, func(ctx context.Context) error {
		w, err := ioco.Watch(ctx, dir)
		if err != nil {
			return err
		}
		defer w.Close()
		os.Remove(dir)
		e, err := w.Next(ctx)
		if err != nil || e.Op != ioco.OpRemove || e.Name != dir {
			t.Errorf("Next after the watched directory was removed = %v, %v; want REMOVE of it", e, err)
		}
		// The kernel drops the watch (IN_IGNORED), read with the next batch.
		dl, cancel := scheduler.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		w.Next(dl)
		if list := w.WatchList(); len(list) != 0 {
			t.Errorf("watched after removal: %v, want nothing", list)
		}
		if err := w.Add(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("Add of the removed directory = %v; want os.ErrNotExist", err)
		}
		return nil
	})
}

func TestWatchRecursiveFollowsNewSubdirectories(t *testing.T) {
	dir := t.TempDir()
	runLoop(t, func(ctx context.Context) error {
		w, err := ioco.Watch(ctx)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := w.AddRecursive(dir); err != nil {
			return err
		}
		sub := filepath.Join(dir, "sub")
		os.Mkdir(sub, 0o700)
		// The new directory is watched once its event is read.
		if got := nextEvents(ctx, t, w, dir, 1); got[0] != "CREATE sub" {
			t.Fatalf("events: %v, want CREATE sub", got)
		}
		os.WriteFile(filepath.Join(sub, "f"), nil, 0o600)
		if got := nextEvents(ctx, t, w, dir, 1); got[0] != "CREATE sub/f" {
			t.Errorf("events: %v, want CREATE sub/f", got)
		}
		return nil
	})
}

func TestWatchReportsLostEventsAsAnError(t *testing.T) {
	// More changes than the kernel queues, none read meanwhile: the
	// overflow is an error in its place, and events go on after it.
	limit, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	max, _ := strconv.Atoi(strings.TrimSpace(string(limit)))
	if err != nil || max <= 0 || max > 1<<20 {
		t.Skipf("max_queued_events: %q, %v", limit, err)
	}
	dir := t.TempDir()
	files := []string{filepath.Join(dir, "x"), filepath.Join(dir, "y")}
	for _, f := range files {
		os.WriteFile(f, nil, 0o600)
	}
	runLoop(t, func(ctx context.Context) error {
		w, err := ioco.Watch(ctx, dir)
		if err != nil {
			return err
		}
		defer w.Close()
		for i := range max + 10 { // alternating, so that the kernel merges none
			os.Chmod(files[i%2], 0o600|os.FileMode(i%2)<<7)
		}
		overflowed := false
		for i := 0; i <= max+1 && !overflowed; i++ {
			_, err := w.Next(ctx)
			switch {
			case errors.Is(err, ioco.ErrOverflow):
				overflowed = true
			case err != nil:
				return fmt.Errorf("event %d: %w", i, err)
			}
		}
		if !overflowed {
			t.Fatalf("%d changes with a queue of %d: no ErrOverflow", max+10, max)
		}
		os.WriteFile(filepath.Join(dir, "after"), nil, 0o600)
		if e, err := w.Next(ctx); err != nil || filepath.Base(e.Name) != "after" {
			t.Errorf("Next after the overflow = %v, %v; want CREATE after", e, err)
		}
		return nil
	})
}

func TestWatchStatPollsOnTheLoopsClock(t *testing.T) {
	// On a virtual clock: the changes are made between polls, and each is
	// found by the poll after it, at a whole number of intervals.
	f := filepath.Join(t.TempDir(), "polled")
	var got []string
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		w, err := ioco.WatchStat(ctx, time.Second, f)
		if err != nil {
			return err
		}
		defer w.Close()
		start := scheduler.Now(ctx)
		if _, err := scheduler.Spawn(ctx, "changer", func(ctx context.Context) error {
			scheduler.Sleep(ctx, 500*time.Millisecond) // the changes fall between polls
			for _, change := range []func() error{
				func() error { return os.WriteFile(f, []byte("x"), 0o600) },
				func() error { return os.WriteFile(f, []byte("xy"), 0o600) },
				func() error { return os.Chmod(f, 0o644) },
				func() error { return os.Remove(f) },
			} {
				scheduler.Sleep(ctx, 2*time.Second)
				if err := change(); err != nil {
					return err
				}
			}
			return nil
		}); err != nil {
			return err
		}
		for range 4 {
			e, err := w.Next(ctx)
			if err != nil {
				return err
			}
			got = append(got, fmt.Sprintf("%v at %v", e.Op, scheduler.Now(ctx).Sub(start)))
		}
		return nil
	}, scheduler.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"CREATE at 3s", "WRITE at 5s", "CHMOD at 7s", "REMOVE at 9s"}
	if !slices.Equal(got, want) {
		t.Errorf("changes found: %v\nwant %v", got, want)
	}
}

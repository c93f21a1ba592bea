package ioco

// Watching by polling stat(2) on the loop's clock, as pyuv's FSPoll and
// libuv's uv_fs_poll do: for file systems inotify does not see changes on
// (NFS, FUSE, some container mounts). Each stat runs on the loop's thread
// pool, as a stat of a remote file system may wait.

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// A StatWatcher reports changes to paths by comparing their stat(2) at
// every interval, on the loop's clock (virtual under
// scheduler.WithVirtualClock): a path that appears is OpCreate, one that
// goes is OpRemove, a change of size, modification time or change time is
// OpWrite, and of mode OpChmod. It polls only while a task waits in Next:
// changes made between two calls are found by the next poll, as the
// difference between two looks, so several writes in one interval are one
// OpWrite. A StatWatcher belongs to the loop it was made on.
type StatWatcher struct {
	interval time.Duration
	paths    []string
	last     map[string]statInfo
	queue    []Event
	next     time.Time // when the next poll is due; zero: at once
	closed   bool
}

// statInfo is what a poll compares.
type statInfo struct {
	exists      bool
	size        int64
	mode        fs.FileMode
	mtime, ctim time.Time
}

// WatchStat returns a StatWatcher on the loop of ctx polling paths every
// interval, their state now the first to compare with. Parks the calling
// task for the first stats, on the thread pool. May park the calling
// task.
func WatchStat(ctx context.Context, interval time.Duration, paths ...string) (*StatWatcher, error) {
	if interval <= 0 {
		return nil, errors.New("ioco: WatchStat's interval must be positive")
	}
	w := &StatWatcher{interval: interval, last: map[string]statInfo{}}
	for _, p := range paths {
		if err := w.Add(ctx, p); err != nil {
			return nil, err
		}
	}
	w.next = scheduler.Now(ctx).Add(interval)
	return w, nil
}

// Add watches path too, its state now the first to compare with. May park
// the calling task.
func (w *StatWatcher) Add(ctx context.Context, path string) error {
	path = filepath.Clean(path)
	if _, ok := w.last[path]; ok {
		return nil
	}
	st, err := statOf(ctx, path)
	if err != nil {
		return err
	}
	w.paths = append(w.paths, path)
	w.last[path] = st
	return nil
}

// Remove stops watching path. Never parks.
func (w *StatWatcher) Remove(path string) {
	path = filepath.Clean(path)
	delete(w.last, path)
	w.paths = slices.DeleteFunc(w.paths, func(p string) bool { return p == path })
}

// Next returns the next change, polling every interval until there is one
// or ctx is done. May park the calling task.
func (w *StatWatcher) Next(ctx context.Context) (Event, error) {
	for {
		if len(w.queue) > 0 {
			e := w.queue[0]
			w.queue = w.queue[1:]
			return e, nil
		}
		if w.closed {
			return Event{}, os.ErrClosed
		}
		if d := w.next.Sub(scheduler.Now(ctx)); d > 0 {
			if err := scheduler.Sleep(ctx, d); err != nil {
				return Event{}, err
			}
		}
		w.next = scheduler.Now(ctx).Add(w.interval)
		if err := w.poll(ctx); err != nil {
			return Event{}, err
		}
	}
}

// poll stats every path and queues what changed since the last poll.
func (w *StatWatcher) poll(ctx context.Context) error {
	for _, p := range w.paths {
		st, err := statOf(ctx, p)
		if err != nil {
			return err
		}
		was, ok := w.last[p]
		if !ok {
			continue // removed meanwhile
		}
		w.last[p] = st
		var op Op
		switch {
		case !was.exists && st.exists:
			op = OpCreate
		case was.exists && !st.exists:
			op = OpRemove
		case st.exists:
			written := st.size != was.size || !st.mtime.Equal(was.mtime)
			if written {
				op |= OpWrite
			}
			// The change time moves for a chown or a chmod too.
			if st.mode != was.mode || !written && !st.ctim.Equal(was.ctim) {
				op |= OpChmod
			}
		}
		if op != 0 {
			w.queue = append(w.queue, Event{Name: p, Op: op})
		}
	}
	return nil
}

// statOf stats path on the loop's thread pool: a path that does not exist
// is a state, not an error.
func statOf(ctx context.Context, path string) (statInfo, error) {
	return offload(ctx, func() (statInfo, error) {
		fi, err := os.Lstat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return statInfo{}, nil
		}
		if err != nil {
			return statInfo{}, err
		}
		st := statInfo{exists: true, size: fi.Size(), mode: fi.Mode(), mtime: fi.ModTime()}
		if ct, ok := changeTime(fi); ok {
			st.ctim = ct
		}
		return st, nil
	})
}

// changeTime returns fi's status change time, where the system gives it.
func changeTime(fi fs.FileInfo) (time.Time, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return time.Time{}, false
	}
	return time.Unix(st.Ctim.Sec, st.Ctim.Nsec), true
}

// Close ends the StatWatcher: Next returns os.ErrClosed once the changes
// already found are returned. Never parks.
func (w *StatWatcher) Close() error {
	w.closed = true
	return nil
}

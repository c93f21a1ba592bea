package ioco

// File watching on inotify: its descriptor on the loop's poller, so a
// task waiting for the next change parks, and no goroutine reads events.

import (
	"context"
	"encoding/binary"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// An Op is what happened to a watched file, as fsnotify names it (its
// Create is OpCreate here: ioco.Create creates a file).
type Op uint32

const (
	OpCreate Op = 1 << iota // created, or moved into a watched directory
	OpWrite                 // its contents changed
	OpRemove                // removed (a watched directory itself too)
	OpRename                // moved away, or renamed (a watched path itself too)
	OpChmod                 // its attributes changed (mode, owner, times)
)

// String names the operations, as "CREATE|WRITE".
func (op Op) String() string {
	var names []string
	for i, n := range []string{"CREATE", "WRITE", "REMOVE", "RENAME", "CHMOD"} {
		if op&(1<<i) != 0 {
			names = append(names, n)
		}
	}
	if len(names) == 0 {
		return "0"
	}
	return strings.Join(names, "|")
}

// An Event is a change: Name is the path of the file it is about, the
// watched path joined with the file's name for a file in a watched
// directory.
type Event struct {
	Name string
	Op   Op
}

func (e Event) String() string { return e.Op.String() + " " + e.Name }

// ErrOverflow is Next's error when the kernel's queue of events for the
// Watcher overflowed: events were lost, and what was watched should be
// looked at again. Next goes on with the events after it.
var ErrOverflow = errors.New("ioco: inotify queue overflowed: events were lost")

// A Watcher reports changes to files and directories from inotify, on a
// loop: its descriptor is on the loop's poller, and Next parks the calling
// task until a change comes. Watching a directory reports changes to the
// entries in it (not in its subdirectories, unless added with
// AddRecursive). A Watcher belongs to the loop it was made on; its methods
// must be called on it.
type Watcher struct {
	fd        int
	pfd       *scheduler.FD
	paths     map[int]string // by watch descriptor
	wds       map[string]int // by path
	recursive map[int]bool   // watches whose new subdirectories are watched too
	buf       []byte
	queue     []change // read, not yet returned
	closed    bool
}

// A change is an event read, or ErrOverflow in its place.
type change struct {
	e   Event
	err error
}

// watchMask is what a watch asks inotify for.
const watchMask = unix.IN_CREATE | unix.IN_MOVED_TO | unix.IN_MODIFY | unix.IN_DELETE |
	unix.IN_DELETE_SELF | unix.IN_MOVED_FROM | unix.IN_MOVE_SELF | unix.IN_ATTRIB

// Watch returns a Watcher on the loop of ctx, watching paths. Never parks.
func Watch(ctx context.Context, paths ...string) (*Watcher, error) {
	fd, err := unix.InotifyInit1(unix.IN_NONBLOCK | unix.IN_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("inotify_init1", err)
	}
	pfd, err := scheduler.Register(ctx, fd)
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	w := &Watcher{fd: fd, pfd: pfd, paths: map[int]string{}, wds: map[string]int{}, recursive: map[int]bool{},
		buf: make([]byte, 64<<10)}
	for _, p := range paths {
		if err := w.Add(p); err != nil {
			w.Close()
			return nil, err
		}
	}
	return w, nil
}

// Add watches path, a file or a directory. Adding it again changes
// nothing. Never parks.
func (w *Watcher) Add(path string) error {
	_, err := w.add(path, false)
	return err
}

// AddRecursive watches the directory path and every directory under it,
// and each directory created under it from then on, as it appears. A
// file made in a new directory before its watch is in place is not
// reported. Never parks.
func (w *Watcher) AddRecursive(path string) error {
	return filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if p != path && errors.Is(err, fs.ErrNotExist) {
				return nil // gone while walked
			}
			return err
		}
		if !d.IsDir() {
			return nil
		}
		_, err = w.add(p, true)
		return err
	})
}

func (w *Watcher) add(path string, recursive bool) (int, error) {
	if w.closed {
		return 0, &os.PathError{Op: "watch", Path: path, Err: os.ErrClosed}
	}
	path = filepath.Clean(path)
	wd, err := unix.InotifyAddWatch(w.fd, path, watchMask)
	if err != nil {
		return 0, &os.PathError{Op: "watch", Path: path, Err: err}
	}
	w.paths[wd], w.wds[path] = path, wd
	if recursive {
		w.recursive[wd] = true
	}
	return wd, nil
}

// Remove stops watching path (not the directories AddRecursive added
// under it). Never parks.
func (w *Watcher) Remove(path string) error {
	path = filepath.Clean(path)
	wd, ok := w.wds[path]
	if !ok {
		return &os.PathError{Op: "unwatch", Path: path, Err: errors.New("ioco: not watched")}
	}
	w.forget(wd)
	if _, err := unix.InotifyRmWatch(w.fd, uint32(wd)); err != nil && err != unix.EINVAL {
		return &os.PathError{Op: "unwatch", Path: path, Err: err} // (EINVAL: the kernel dropped it already)
	}
	return nil
}

func (w *Watcher) forget(wd int) {
	delete(w.wds, w.paths[wd])
	delete(w.paths, wd)
	delete(w.recursive, wd)
}

// WatchList returns the paths watched. Never parks.
func (w *Watcher) WatchList() []string {
	list := make([]string, 0, len(w.wds))
	for p := range w.wds {
		list = append(list, p)
	}
	return list
}

// Next returns the next change, parking the calling task until one comes
// or ctx is done. A lost batch of events is the error ErrOverflow, once,
// in its place. May park the calling task.
func (w *Watcher) Next(ctx context.Context) (Event, error) {
	for {
		if len(w.queue) > 0 {
			c := w.queue[0]
			w.queue = w.queue[1:]
			return c.e, c.err
		}
		if w.closed {
			return Event{}, os.ErrClosed
		}
		n, err := unix.Read(w.fd, w.buf)
		switch err {
		case nil:
			w.parse(w.buf[:n])
		case unix.EINTR:
		case unix.EAGAIN:
			if err := w.pfd.Wait(ctx, scheduler.Read); err != nil {
				if w.closed {
					err = os.ErrClosed
				}
				return Event{}, err
			}
		default:
			return Event{}, os.NewSyscallError("read", err)
		}
	}
}

// parse queues the events in b, whole inotify events as read(2) gives them.
func (w *Watcher) parse(b []byte) {
	const header = unix.SizeofInotifyEvent
	for len(b) >= header {
		wd := int(int32(binary.NativeEndian.Uint32(b[0:])))
		mask := binary.NativeEndian.Uint32(b[4:])
		n := int(binary.NativeEndian.Uint32(b[12:]))
		name := strings.TrimRight(string(b[header:header+n]), "\x00")
		b = b[header+n:]
		if mask&unix.IN_Q_OVERFLOW != 0 {
			w.queue = append(w.queue, change{err: ErrOverflow})
			continue
		}
		dir, ok := w.paths[wd]
		if !ok {
			continue // a watch removed meanwhile
		}
		if mask&unix.IN_IGNORED != 0 {
			w.forget(wd) // the watched path is gone, or was unwatched
			continue
		}
		path := dir
		if name != "" {
			path = filepath.Join(dir, name)
		}
		var op Op
		if mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0 {
			op |= OpCreate
		}
		if mask&unix.IN_MODIFY != 0 {
			op |= OpWrite
		}
		if mask&(unix.IN_DELETE|unix.IN_DELETE_SELF) != 0 {
			op |= OpRemove
		}
		if mask&(unix.IN_MOVED_FROM|unix.IN_MOVE_SELF) != 0 {
			op |= OpRename
		}
		if mask&unix.IN_ATTRIB != 0 {
			op |= OpChmod
		}
		if op == 0 {
			continue
		}
		if op&OpCreate != 0 && mask&unix.IN_ISDIR != 0 && w.recursive[wd] {
			w.AddRecursive(path) // (a directory gone already is not an error here)
		}
		w.queue = append(w.queue, change{e: Event{Name: path, Op: op}})
	}
}

// Close stops watching, wakes a task parked in Next with os.ErrClosed, and
// closes the inotify descriptor. Never parks.
func (w *Watcher) Close() error {
	if w.closed {
		return os.ErrClosed
	}
	w.closed = true
	w.pfd.Close()
	return os.NewSyscallError("close", unix.Close(w.fd))
}

package ioco

import (
	"context"
	"io/fs"
	"os"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// A File is an *os.File whose blocking calls park only the calling task.
// One of Open's (a regular file) makes them on the loop's thread pool
// (futures.LoopPool): regular files are always "ready" to epoll, so a
// thread is the way to keep a slow disk from stalling the loop. One of
// NewFile's or Pipe's (a pipe, a terminal, a device) is non-blocking on
// the loop's poller, and its Read and Write have deadlines
// (SetDeadline), as a conn's do. A File belongs to the loop it was made
// on; its methods park the running task (see scheduler.Loop.Running).
type File struct {
	f    *os.File
	loop *scheduler.Loop

	// On the poller (NewFile): nil pfd for one of Open's.
	pfd     *scheduler.FD
	sysfd   int
	restore bool // NewFile made the descriptor non-blocking: Close puts it back
	closed  bool
}

// Open opens the named file for reading, on the loop's thread pool. May
// park the calling task.
func Open(ctx context.Context, name string) (*File, error) {
	return OpenFile(ctx, name, os.O_RDONLY, 0)
}

// Create creates or truncates the named file, on the loop's thread pool.
// May park the calling task.
func Create(ctx context.Context, name string) (*File, error) {
	return OpenFile(ctx, name, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o666)
}

// OpenFile is os.OpenFile, on the loop's thread pool. May park the calling
// task.
func OpenFile(ctx context.Context, name string, flag int, perm fs.FileMode) (*File, error) {
	f, err := offload(ctx, func() (*os.File, error) { return os.OpenFile(name, flag, perm) })
	if err != nil {
		return nil, err
	}
	return &File{f: f, loop: scheduler.LoopOf(ctx)}, nil
}

// ReadFile is os.ReadFile, on the loop's thread pool. May park the calling
// task.
func ReadFile(ctx context.Context, name string) ([]byte, error) {
	return offload(ctx, func() ([]byte, error) { return os.ReadFile(name) })
}

// WriteFile is os.WriteFile, on the loop's thread pool. May park the
// calling task.
func WriteFile(ctx context.Context, name string, data []byte, perm fs.FileMode) error {
	_, err := offload(ctx, func() (struct{}, error) { return struct{}{}, os.WriteFile(name, data, perm) })
	return err
}

// offload runs fn on the thread pool of ctx's loop and parks the task that
// ctx carries until it is back.
func offload[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	var zero T
	pool, err := futures.LoopPool(ctx)
	if err != nil {
		return zero, err
	}
	f, err := futures.Submit(ctx, pool, func(context.Context) (T, error) { return fn() })
	if err != nil {
		return zero, err
	}
	return f.Get(ctx)
}

// running returns the context of the task running on the file's loop.
func (f *File) running() (context.Context, error) {
	t := f.loop.Running()
	if t == nil {
		return nil, &os.PathError{Op: "ioco", Path: f.f.Name(), Err: errNoTask}
	}
	return t.Context(), nil
}

// Read reads from the file, on the loop's thread pool or, for a File on the
// poller, parking until it is readable. May park the running task.
func (f *File) Read(b []byte) (int, error) {
	if f.pollable() {
		return f.readPoll(b)
	}
	ctx, err := f.running()
	if err != nil {
		return 0, err
	}
	return offload(ctx, func() (int, error) { return f.f.Read(b) })
}

// ReadAt reads from the file at off, on the loop's thread pool. May park
// the running task.
func (f *File) ReadAt(b []byte, off int64) (int, error) {
	ctx, err := f.running()
	if err != nil {
		return 0, err
	}
	return offload(ctx, func() (int, error) { return f.f.ReadAt(b, off) })
}

// Write writes all of b to the file, on the loop's thread pool or, for a
// File on the poller, parking while it is full. May park the running task.
func (f *File) Write(b []byte) (int, error) {
	if f.pollable() {
		return f.writePoll(b)
	}
	ctx, err := f.running()
	if err != nil {
		return 0, err
	}
	return offload(ctx, func() (int, error) { return f.f.Write(b) })
}

// WriteAt writes to the file at off, on the loop's thread pool. May park
// the running task.
func (f *File) WriteAt(b []byte, off int64) (int, error) {
	ctx, err := f.running()
	if err != nil {
		return 0, err
	}
	return offload(ctx, func() (int, error) { return f.f.WriteAt(b, off) })
}

// Seek sets the offset of the next Read or Write. Never parks.
func (f *File) Seek(offset int64, whence int) (int64, error) { return f.f.Seek(offset, whence) }

// Stat returns the file's information, on the loop's thread pool. May park
// the running task.
func (f *File) Stat() (fs.FileInfo, error) {
	if f.pollable() {
		return f.f.Stat() // fstat(2) of a pipe or a device does not wait
	}
	ctx, err := f.running()
	if err != nil {
		return nil, err
	}
	return offload(ctx, f.f.Stat)
}

// Sync commits the file to stable storage, on the loop's thread pool. May
// park the running task.
func (f *File) Sync() error {
	ctx, err := f.running()
	if err != nil {
		return err
	}
	_, err = offload(ctx, func() (struct{}, error) { return struct{}{}, f.f.Sync() })
	return err
}

// Close closes the file; a File on the poller wakes the tasks parked on it
// with os.ErrClosed first. Never parks: closing a file does not wait for
// the disk.
func (f *File) Close() error {
	if f.pollable() {
		return f.closePoll()
	}
	return f.f.Close()
}

// Name returns the name the file was opened with. Never parks.
func (f *File) Name() string { return f.f.Name() }

package ioco

// External commands run from a task, in os/exec's shape. os/exec does the
// parts that need no loop: the path lookup (exec.Command), the
// environment (exec.Cmd.Environ) and the fork and exec (os.StartProcess).
// What it would do with goroutines is done on the loop instead: the
// child's exit is waited for on its pidfd, on the poller, and the copying
// between the caller's readers and writers and the child's pipes is done
// by tasks, over pipes on the poller.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// A Cmd is an external command being prepared or run from the tasks of a
// loop: os/exec's Cmd, whose Wait parks only the calling task, on the
// child's pidfd (no goroutine, no thread and no thread-pool slot per
// child, and no SIGCHLD handler), and whose pipes are Files on the loop's
// poller. Its fields mean what exec.Cmd's do; errors are os/exec's
// (*exec.ExitError, *exec.Error with exec.ErrNotFound, exec.ErrWaitDelay).
// A Cmd belongs to the loop of the ctx it was made with; its methods that
// park park the task running on that loop.
type Cmd struct {
	Path        string
	Args        []string
	Env         []string
	Dir         string
	Stdin       io.Reader // nil: the null device; an *os.File is the child's own
	Stdout      io.Writer // nil: the null device; an *os.File is the child's own
	Stderr      io.Writer // as Stdout; the same writer as Stdout: one pipe for both
	ExtraFiles  []*os.File
	SysProcAttr *syscall.SysProcAttr

	Process      *os.Process
	ProcessState *os.ProcessState
	Err          error // the path lookup's, as exec.Cmd's: Start returns it

	// Cancel is called when the ctx of CommandContext ends before Wait
	// has seen the child exit; nil means Process.Kill. WaitDelay bounds
	// the wait, after Cancel, for the child to exit, and after it exits,
	// for its pipes to close (a grandchild may hold them): then the child
	// is killed and the pipes closed, and Wait fails with
	// exec.ErrWaitDelay if nothing else went wrong. Zero: no bound.
	Cancel    func() error
	WaitDelay time.Duration

	ctx        context.Context
	loop       *scheduler.Loop
	childFiles []*os.File        // the child's ends, closed once it has them
	parentEnds []*File           // the loop's ends, closed by Wait
	copies     []copier          // made by Start's stdio, started once the child is
	copiers    []*scheduler.Task // the tasks doing them
	cancelWait *scheduler.Handle // interrupt's WaitDelay
	waiting    bool
	pidfd      int
	pfd        *scheduler.FD // pidfd on the poller
	stopWatch  func() bool
	ctxErr     error // what the ctx's end makes of Wait's result
	delayed    bool  // WaitDelay ran out
	waited     bool
	stderrBuf  *capBuffer // Output's copy of stderr, for ExitError.Stderr
	stdoutFile *os.File   // the child's stdout, for a Stderr that is the same writer
}

// CommandContext returns a Cmd that runs name with args from the tasks of
// the loop of ctx, as exec.CommandContext does: name is looked up in PATH
// unless it holds a separator (a failed lookup is Err, which Start
// returns), and ctx's end makes the Cmd call Cancel. (A task's own
// context carries its spawner's values, not its cancellation: for a
// spawner's cancellation to reach a command a task runs, the task derives
// its ctx from both, as examples/parallel does.) Never parks.
func CommandContext(ctx context.Context, name string, args ...string) *Cmd {
	e := exec.Command(name, args...)
	return &Cmd{Path: e.Path, Args: e.Args, Err: e.Err, ctx: ctx, loop: scheduler.LoopOf(ctx), pidfd: -1}
}

// cmdPipeSize is the capacity asked for the pipes of a Cmd.
const cmdPipeSize = 1 << 20

// Errors of a Cmd used out of turn, with os/exec's texts.
var (
	errStarted    = errors.New("exec: already started")
	errNotStarted = errors.New("exec: not started")
	errWaited     = errors.New("exec: Wait was already called")
)

// Run starts the command and waits for it. May park the running task.
func (c *Cmd) Run() error {
	if err := c.Start(); err != nil {
		return err
	}
	return c.Wait()
}

// Output runs the command and returns its standard output; if Stderr is
// nil, the start of its standard error is kept in the *exec.ExitError, as
// os/exec does. May park the running task.
func (c *Cmd) Output() ([]byte, error) {
	if c.Stdout != nil {
		return nil, errors.New("exec: Stdout already set")
	}
	var out bytes.Buffer
	c.Stdout = &out
	if c.Stderr == nil {
		c.stderrBuf = &capBuffer{max: 32 << 10}
		c.Stderr = c.stderrBuf
	}
	err := c.Run()
	var ee *exec.ExitError
	if c.stderrBuf != nil && errors.As(err, &ee) {
		ee.Stderr = c.stderrBuf.b
	}
	return out.Bytes(), err
}

// CombinedOutput runs the command and returns its standard output and
// standard error, interleaved as written. May park the running task.
func (c *Cmd) CombinedOutput() ([]byte, error) {
	if c.Stdout != nil || c.Stderr != nil {
		return nil, errors.New("exec: Stdout or Stderr already set")
	}
	var b bytes.Buffer
	c.Stdout, c.Stderr = &b, &b
	err := c.Run()
	return b.Bytes(), err
}

// StdinPipe returns a pipe to the command's standard input: a File on the
// poller whose Write parks while the child does not read. Wait closes it
// once the child has exited; close it sooner to send end of file. Never
// parks.
func (c *Cmd) StdinPipe() (io.WriteCloser, error) {
	if c.Stdin != nil {
		return nil, errors.New("exec: Stdin already set")
	}
	if c.Process != nil {
		return nil, errors.New("exec: StdinPipe after process started")
	}
	child, parent, err := c.pipe(false)
	if err != nil {
		return nil, err
	}
	c.Stdin = child
	return parent, nil
}

// StdoutPipe returns a pipe from the command's standard output: a File on
// the poller whose Read parks until the child writes. Wait closes it once
// the child has exited, so read to the end before calling Wait. Never
// parks.
func (c *Cmd) StdoutPipe() (io.ReadCloser, error) { return c.outPipe("Stdout", &c.Stdout) }

// StderrPipe is StdoutPipe for standard error. Never parks.
func (c *Cmd) StderrPipe() (io.ReadCloser, error) { return c.outPipe("Stderr", &c.Stderr) }

// outPipe sets *w, the stream name, to the child's end of a new pipe and
// returns the loop's.
func (c *Cmd) outPipe(name string, w *io.Writer) (io.ReadCloser, error) {
	switch {
	case *w != nil:
		return nil, errors.New("exec: " + name + " already set")
	case c.Process != nil:
		return nil, errors.New("exec: " + name + "Pipe after process started")
	}
	child, parent, err := c.pipe(true)
	if err != nil {
		return nil, err
	}
	*w = child
	return parent, nil
}

// pipe makes a pipe whose child end (blocking, as a program expects its
// standard streams) is an *os.File, and whose loop end is a File on the
// poller. childWrites: the child writes, the loop reads.
func (c *Cmd) pipe(childWrites bool) (child *os.File, parent *File, err error) {
	if c.loop == nil {
		return nil, nil, scheduler.ErrNoLoop
	}
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
		return nil, nil, os.NewSyscallError("pipe2", err)
	}
	childFD, parentFD := p[0], p[1]
	if childWrites {
		childFD, parentFD = p[1], p[0]
	}
	// A larger pipe than the default 64 KiB: fewer wake-ups of the loop
	// and of the child for a stream (as far as pipe-max-size allows; a
	// failure leaves the default).
	unix.FcntlInt(uintptr(parentFD), unix.F_SETPIPE_SZ, cmdPipeSize)
	parent, err = NewFile(c.ctx, uintptr(parentFD), "|ioco.Cmd")
	if err != nil {
		unix.Close(p[0])
		unix.Close(p[1])
		return nil, nil, err
	}
	child = os.NewFile(uintptr(childFD), "|ioco.Cmd")
	c.childFiles = append(c.childFiles, child)
	c.parentEnds = append(c.parentEnds, parent)
	return child, parent, nil
}

// Start starts the command and returns without waiting for it: Wait must
// be called to reap it and release what it holds. Never parks.
func (c *Cmd) Start() error {
	switch {
	case c.Path == "" && c.Err == nil:
		c.Err = errors.New("exec: no command")
	case c.Process != nil:
		return errStarted
	case c.loop == nil:
		c.Err = scheduler.ErrNoLoop
	}
	if c.Err != nil {
		c.closeAll()
		return c.Err
	}
	if err := c.ctx.Err(); err != nil {
		c.closeAll()
		return err
	}
	files := make([]*os.File, 0, 3+len(c.ExtraFiles))
	for i, std := range []any{c.Stdin, c.Stdout, c.Stderr} {
		f, err := c.stdio(i, std)
		if err != nil {
			c.closeAll()
			return err
		}
		files = append(files, f)
	}
	files = append(files, c.ExtraFiles...)
	var sys syscall.SysProcAttr
	if c.SysProcAttr != nil {
		sys = *c.SysProcAttr
	}
	if sys.PidFD == nil {
		sys.PidFD = &c.pidfd // os keeps a duplicate of its own
	}
	env := (&exec.Cmd{Path: c.Path, Env: c.Env, Dir: c.Dir}).Environ()
	p, err := os.StartProcess(c.Path, c.Args, &os.ProcAttr{Dir: c.Dir, Env: env, Files: files, Sys: &sys})
	for _, f := range c.childFiles {
		f.Close()
	}
	c.childFiles = nil
	if err != nil {
		c.closeAll()
		return err
	}
	c.Process = p
	if c.SysProcAttr != nil && c.SysProcAttr.PidFD != nil {
		// The caller asked for the pidfd: it is theirs; the loop waits on
		// a duplicate.
		c.pidfd, _ = unix.FcntlInt(uintptr(*c.SysProcAttr.PidFD), unix.F_DUPFD_CLOEXEC, 0)
	}
	if c.pidfd < 0 { // no pidfd from os (an old kernel): ask for one
		c.pidfd, _ = unix.PidfdOpen(p.Pid, 0)
	}
	if c.pidfd >= 0 {
		if c.pfd, err = scheduler.Register(c.ctx, c.pidfd); err != nil {
			unix.Close(c.pidfd)
			c.pidfd = -1
		}
	}
	for _, cp := range c.copies {
		t, err := scheduler.Spawn(c.ctx, "ioco.Cmd: "+cp.what, cp.fn)
		if err != nil {
			break // the loop is ending; Wait still reaps the child
		}
		c.copiers = append(c.copiers, t)
	}
	c.copies = nil
	if c.ctx.Done() != nil {
		c.stopWatch = context.AfterFunc(c.ctx, func() { c.loop.Post(func(context.Context) { c.interrupt() }) })
	}
	return nil
}

// A copier moves bytes between a caller's reader or writer and the loop's
// end of a pipe to the child, in a task of its own.
type copier struct {
	what string
	fn   func(ctx context.Context) error
}

// stdio returns the child's file for its standard stream i (0, 1, 2) set
// to std: the null device for nil, an *os.File as it is, and otherwise the
// child's end of a pipe whose loop end a copier serves. Never parks.
func (c *Cmd) stdio(i int, std any) (*os.File, error) {
	f, isFile := std.(*os.File)
	if isFile && f != nil {
		return f, nil
	}
	if std == nil || isFile { // (a nil *os.File too)
		flag := os.O_WRONLY
		if i == 0 {
			flag = os.O_RDONLY
		}
		f, err := os.OpenFile(os.DevNull, flag|unix.O_CLOEXEC, 0)
		if err != nil {
			return nil, err
		}
		c.childFiles = append(c.childFiles, f)
		return f, nil
	}
	if i == 2 && c.Stdout != nil && interfaceEqual(c.Stderr, c.Stdout) {
		return c.stdoutFile, nil
	}
	child, parent, err := c.pipe(i != 0)
	if err != nil {
		return nil, err
	}
	if i == 0 {
		r := std.(io.Reader)
		c.copies = append(c.copies, copier{"stdin", func(context.Context) error {
			_, err := io.Copy(parent, r)
			if cerr := parent.Close(); err == nil && !errors.Is(cerr, os.ErrClosed) {
				err = cerr
			}
			if errors.Is(err, syscall.EPIPE) || errors.Is(err, os.ErrClosed) {
				err = nil // the child stopped reading, or exited: as os/exec, no error
			}
			return err
		}})
		return child, nil
	}
	w := std.(io.Writer)
	what := "stdout"
	if i == 2 {
		what = "stderr"
	}
	c.copies = append(c.copies, copier{what, func(context.Context) error {
		_, err := io.Copy(w, parent)
		return err
	}})
	if i == 1 {
		c.stdoutFile = child
	}
	return child, nil
}

// interfaceEqual reports whether a and b are the same writer, without
// panicking on writers that cannot be compared.
func interfaceEqual(a, b io.Writer) (eq bool) {
	defer func() { recover() }()
	return a == b
}

// interrupt is the ctx's end, on the loop: Cancel (or a kill), and the
// WaitDelay after which the child is killed and its pipes closed.
func (c *Cmd) interrupt() {
	if c.waited || c.ProcessState != nil {
		return
	}
	cancel := c.Cancel
	if cancel == nil {
		cancel = c.Process.Kill
	}
	switch err := cancel(); {
	case err == nil:
		c.ctxErr = c.ctx.Err()
	case errors.Is(err, os.ErrProcessDone):
	default:
		c.ctxErr = fmt.Errorf("exec: canceling Cmd: %w", err)
	}
	if c.WaitDelay > 0 {
		c.cancelWait = c.loop.CallLater(c.WaitDelay, func(context.Context) { c.overrun() })
	}
}

// overrun ends what WaitDelay bounds: the child is killed, and the loop's
// ends of its pipes are closed, which ends their copiers.
func (c *Cmd) overrun() {
	if c.waited {
		return
	}
	c.delayed = true
	c.Process.Kill()
	c.closeParents()
}

// Wait waits for the started command to exit, and for the copying to and
// from its pipes to end, as exec.Cmd's: the error is an *exec.ExitError
// for an unsuccessful exit, the ctx's error if it ended the command, or
// exec.ErrWaitDelay. The child is reaped and every descriptor of the
// Cmd's closed. It parks the running task on the child's pidfd (on a
// kernel without pidfds, on the thread pool). May park the running task.
func (c *Cmd) Wait() error {
	switch {
	case c.Process == nil:
		return errNotStarted
	case c.waited || c.waiting:
		return errWaited
	}
	t := c.loop.Running()
	if t == nil {
		return errNoTask
	}
	ctx := t.Context()
	c.waiting = true
	defer func() { c.waiting = false }()
	if err := c.awaitExit(ctx); err != nil {
		return err
	}
	state, err := c.Process.Wait() // the child has exited: this reaps it at once
	c.ProcessState = state
	if err == nil && !state.Success() {
		err = &exec.ExitError{ProcessState: state}
	}
	var delay *scheduler.Handle
	if c.WaitDelay > 0 && len(c.copiers) > 0 && !c.delayed {
		delay = c.loop.CallLater(c.WaitDelay, func(context.Context) { c.overrun() })
	}
	var copyErr error
	for _, cp := range c.copiers {
		if e := cp.Join(ctx); e != nil && copyErr == nil {
			copyErr = e
		}
	}
	if delay != nil {
		delay.Cancel()
	}
	if c.stopWatch != nil {
		c.stopWatch()
	}
	if c.cancelWait != nil {
		c.cancelWait.Cancel()
	}
	switch {
	case err != nil:
	case c.ctxErr != nil:
		err = c.ctxErr
	case c.delayed:
		err = exec.ErrWaitDelay
	default:
		err = copyErr
	}
	c.waited = true
	c.closeParents()
	if c.pfd != nil {
		c.pfd.Close()
		unix.Close(c.pidfd)
		c.pfd, c.pidfd = nil, -1
	}
	return err
}

// awaitExit parks the calling task until the child has exited, without
// reaping it.
func (c *Cmd) awaitExit(ctx context.Context) error {
	if c.pfd == nil {
		_, err := offload(ctx, func() (struct{}, error) {
			// Wait for the exit without reaping (WNOWAIT), on a thread.
			var info unix.Siginfo
			return struct{}{}, unix.Waitid(unix.P_PID, c.Process.Pid, &info, unix.WEXITED|unix.WNOWAIT, nil)
		})
		return err
	}
	for {
		// A pidfd is readable once its process has exited.
		fds := []unix.PollFd{{Fd: int32(c.pidfd), Events: unix.POLLIN}}
		if n, err := unix.Poll(fds, 0); err == nil && n == 1 && fds[0].Revents != 0 {
			return nil
		}
		if err := c.pfd.Wait(ctx, scheduler.Read); err != nil {
			return err
		}
	}
}

// closeParents closes the loop's ends of the child's pipes.
func (c *Cmd) closeParents() {
	for _, f := range c.parentEnds {
		f.Close() // (a StdoutPipe's may be closed by its reader already)
	}
}

// closeAll releases what a Start that failed had made.
func (c *Cmd) closeAll() {
	for _, f := range c.childFiles {
		f.Close()
	}
	c.childFiles, c.copies = nil, nil
	c.closeParents()
}

// String is the command line, as exec.Cmd's. Never parks.
func (c *Cmd) String() string {
	return (&exec.Cmd{Path: c.Path, Args: c.Args, Err: c.Err}).String()
}

// A capBuffer keeps the first max bytes written to it and takes the rest
// without keeping it: Output's copy of standard error.
type capBuffer struct {
	b   []byte
	max int
}

func (b *capBuffer) Write(p []byte) (int, error) {
	if room := b.max - len(b.b); room > 0 {
		b.b = append(b.b, p[:min(room, len(p))]...)
	}
	return len(p), nil
}

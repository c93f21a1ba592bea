package ioco

// Pseudo-terminals: a command run on one, its master end a File on the
// loop's poller. github.com/creack/pty opens the pair.

import (
	"context"
	"os"
	"syscall"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
	"golang.org/x/term"

	"github.com/evergo/evergo/scheduler"
)

// StartPTY starts cmd on a new pseudo-terminal, as pty.Start does for an
// exec.Cmd, and returns the terminal's master end: a File on the loop's
// poller from which a task reads what the program writes to its terminal,
// and to which it writes the program's keyboard input, each parking only
// that task. The command's standard streams that are nil become the
// terminal; it runs in a session of its own, with the terminal as its
// controlling terminal (SysProcAttr's Setsid and Setctty). Closing the
// master hangs the terminal up: the program reads end of file, or gets
// SIGHUP. cmd must be waited for (Wait) as any Cmd. Never parks.
func StartPTY(cmd *Cmd) (*File, error) {
	if cmd.loop == nil {
		return nil, scheduler.ErrNoLoop
	}
	ptmx, tty, err := pty.Open()
	if err != nil {
		return nil, err
	}
	defer tty.Close() // the child has its own once started
	// The master, out of package os's hands (its File may sit on the
	// runtime's poller), as a descriptor of the loop's.
	fd, err := unix.FcntlInt(ptmx.Fd(), unix.F_DUPFD_CLOEXEC, 0)
	ptmx.Close()
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	master, err := NewFile(cmd.ctx, uintptr(fd), "/dev/ptmx")
	if err != nil {
		unix.Close(fd)
		return nil, err
	}
	if cmd.Stdin == nil {
		cmd.Stdin = tty
	}
	if cmd.Stdout == nil {
		cmd.Stdout = tty
	}
	if cmd.Stderr == nil {
		cmd.Stderr = tty
	}
	sys := &syscall.SysProcAttr{}
	if cmd.SysProcAttr != nil {
		c := *cmd.SysProcAttr
		sys = &c
	}
	sys.Setsid, sys.Setctty = true, true // Ctty 0: the child's stdin, the terminal
	cmd.SysProcAttr = sys
	if err := cmd.Start(); err != nil {
		master.Close()
		return nil, err
	}
	return master, nil
}

// SetWinsize sets the size of the terminal f is (its master end, or a
// terminal of the process's own): the program on it gets SIGWINCH. Never
// parks.
func (f *File) SetWinsize(rows, cols uint16) error {
	ws := &unix.Winsize{Row: rows, Col: cols}
	if err := unix.IoctlSetWinsize(int(f.Fd()), unix.TIOCSWINSZ, ws); err != nil {
		return &os.PathError{Op: "setwinsize", Path: f.Name(), Err: err}
	}
	return nil
}

// Winsize returns the size of the terminal f is. Never parks.
func (f *File) Winsize() (rows, cols uint16, err error) {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0, 0, &os.PathError{Op: "winsize", Path: f.Name(), Err: err}
	}
	return ws.Row, ws.Col, nil
}

// ForwardWinsize gives the terminal whose master is master the size of
// tty, the process's own terminal (os.Stdin, say), now and each time the
// process gets SIGWINCH, through a signal handler of the loop of ctx, as
// a terminal program that runs another on a pty does. stop removes the
// handler. Must be called on the loop. Never parks.
func ForwardWinsize(ctx context.Context, master *File, tty *os.File) (stop func(), err error) {
	loop := scheduler.LoopOf(ctx)
	if loop == nil {
		return nil, scheduler.ErrNoLoop
	}
	inherit := func() error {
		ws, err := unix.IoctlGetWinsize(int(tty.Fd()), unix.TIOCGWINSZ)
		if err != nil {
			return &os.PathError{Op: "winsize", Path: tty.Name(), Err: err}
		}
		return master.SetWinsize(ws.Row, ws.Col)
	}
	if err := inherit(); err != nil {
		return nil, err
	}
	h, err := loop.AddSignalHandler(syscall.SIGWINCH, func(context.Context, os.Signal) { inherit() })
	if err != nil {
		return nil, err
	}
	return func() { h.Remove() }, nil
}

// MakeRaw puts the terminal tty (the process's own, os.Stdin say) in raw
// mode, through golang.org/x/term: no line editing, no echo, no signals
// from keys, each byte read as typed, as a terminal program that runs
// another on a pty wants. restore puts the mode it had back; call it before
// the process exits. Never parks.
func MakeRaw(tty *os.File) (restore func() error, err error) {
	fd := int(tty.Fd())
	old, err := term.MakeRaw(fd)
	if err != nil {
		return nil, &os.PathError{Op: "makeraw", Path: tty.Name(), Err: err}
	}
	return func() error { return term.Restore(fd, old) }, nil
}

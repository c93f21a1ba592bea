package prefork

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// The restart rule: a worker of the serving set that exits unasked is
// started again after a delay, 100 ms the first time, doubling after each
// exit that follows, at most 10 s; a worker that lived stableAfter or
// longer resets the delay to 100 ms.
const (
	firstRestartDelay = 100 * time.Millisecond
	maxRestartDelay   = 10 * time.Second
	stableAfter       = 10 * time.Second
	// killGrace is how long past ShutdownTimeout the supervisor waits for
	// a draining worker before it sends SIGKILL.
	killGrace = 5 * time.Second
)

// A Supervisor listens on a socket and keeps Workers worker processes
// serving it; see the package documentation. Its fields are read when Run
// starts; a Supervisor must not be changed or reused once Run is called.
type Supervisor struct {
	// Workers is the number of worker processes; zero means 1 (a worker
	// runs a loop per core already: more workers buy crash isolation and
	// more Go heaps, not more cores).
	Workers int
	// Addr is the TCP address to listen on, as net.Listen("tcp", Addr)
	// takes it; ignored when Listener is set.
	Addr string
	// Listener, if set, is the socket to share instead of Addr's: a
	// *net.TCPListener or *net.UnixListener (any syscall.Conn). Run
	// closes it when it returns.
	Listener net.Listener
	// Command makes the command that starts a worker, called for each
	// start (at a reload, the new workers run what it returns then). The
	// supervisor adds to it: EnvWorker in Env (os.Environ() when Env is
	// nil), the socket and the readiness pipe as ExtraFiles 0 and 1 (fd 3
	// and 4; Command's own ExtraFiles must be empty), and Setpgid and
	// Pdeathsig (SIGTERM) in SysProcAttr. nil means the running
	// executable (os.Executable, resolved when Run starts: a binary
	// replaced at that path is what a reload runs) with the same
	// arguments, stdout and stderr.
	Command func() *exec.Cmd
	// ShutdownTimeout is how long a draining worker may take to answer
	// its in-flight requests; it is passed to the worker in EnvWorker
	// (Serve's default), and a worker still alive 5 s after it is killed
	// with SIGKILL. Zero means 30 s.
	ShutdownTimeout time.Duration
	// Logger receives the supervisor's events (listening, worker
	// started, ready, exited, reload, stop) with their pids; nil means
	// slog.Default().
	Logger *slog.Logger
}

// Run listens, starts the workers, and supervises them until SIGTERM or
// SIGINT or ctx's end: it then stops every worker gracefully, waits for
// all of them to exit and returns nil. A second SIGTERM or SIGINT kills
// the workers at once. SIGHUP reloads: a new set of workers is started,
// and the old set is told to drain once every new worker is ready. Run
// returns an error when it cannot listen, or when no worker could be
// started at all (exec.Cmd.Start failed before any worker was ready);
// then too it returns only after every worker it started has exited.
//
// Run is ordinary Go (goroutines, channels, os/signal), not a loop of
// evergo: it waits on processes (os/exec's Wait blocks a thread) and on
// signals, and serves no connection; nothing in it would gain from a
// loop. Call it once per process, on an ordinary goroutine.
func (s *Supervisor) Run(ctx context.Context) error {
	r := &run{s: s, log: s.Logger, events: make(chan event), live: make(map[*process]struct{})}
	if r.log == nil {
		r.log = slog.Default()
	}
	r.n = max(s.Workers, 1)
	r.timeout = s.ShutdownTimeout
	if r.timeout <= 0 {
		r.timeout = 30 * time.Second
	}
	// The signals are caught before the socket exists: a signal cannot
	// kill the supervisor between listening and supervising.
	sigs := make(chan os.Signal, 4)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	ln := s.Listener
	if ln == nil {
		var err error
		if ln, err = net.Listen("tcp", s.Addr); err != nil {
			return err
		}
	}
	defer ln.Close()
	f, err := socketFile(ln)
	if err != nil {
		return err
	}
	defer f.Close()
	r.sock = f
	r.command = s.Command
	if r.command == nil {
		exe, err := os.Executable()
		if err != nil {
			return err
		}
		args := os.Args[1:]
		r.command = func() *exec.Cmd {
			cmd := exec.Command(exe, args...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			return cmd
		}
	}
	r.log.Info("listening", "addr", ln.Addr().String(), "pid", os.Getpid(), "workers", r.n)
	return r.loop(ctx, sigs)
}

// socketFile returns a file of ln's socket for exec.Cmd.ExtraFiles that
// never turns the socket blocking.
//
// The trap it avoids: O_NONBLOCK belongs to the open socket (the "open
// file description"), which the supervisor and every worker share, not
// to a descriptor. The workers' loops need it set (ioco.FileListener sets
// it), and an accept4 on a blocking listening socket that another worker
// emptied first blocks a loop's thread until the next connection: with
// kept-alive clients and no new connection, forever, its connections
// unserved. The file that net.TCPListener.File returns is marked so that
// its Fd method turns the socket blocking (a compatibility promise of
// package os), and os/exec calls Fd on every ExtraFiles entry at each
// Start: each worker started (a restart, a reload) would stall the
// workers already serving. A file of os.NewFile is not so marked: its Fd
// leaves the mode alone.
func socketFile(ln net.Listener) (*os.File, error) {
	sc, ok := ln.(syscall.Conn)
	if !ok {
		return nil, fmt.Errorf("prefork: Listener %T is not a syscall.Conn", ln)
	}
	raw, err := sc.SyscallConn()
	if err != nil {
		return nil, err
	}
	fd := -1
	if cerr := raw.Control(func(s uintptr) {
		fd, err = unix.FcntlInt(s, unix.F_DUPFD_CLOEXEC, 0)
	}); cerr != nil {
		return nil, cerr
	}
	if err != nil {
		return nil, os.NewSyscallError("fcntl", err)
	}
	return os.NewFile(uintptr(fd), "prefork-listener"), nil
}

package prefork

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// EnvWorker is the environment variable that marks a worker: the
// supervisor sets it, to the worker's ShutdownTimeout (a
// time.ParseDuration string), in every worker's environment.
const EnvWorker = "EVERGO_PREFORK_WORKER"

// The descriptors a worker inherits (exec.Cmd.ExtraFiles 0 and 1).
const (
	listenerFD = 3 // the listening socket
	readyFD    = 4 // the write end of the readiness pipe
)

// IsWorker reports whether the process is a worker started by a
// Supervisor (EnvWorker is set). Safe to call from any goroutine.
func IsWorker() bool { return os.Getenv(EnvWorker) != "" }

// ListenerFile returns the listening socket the worker inherited, as a
// file of its own (a new descriptor of the socket, close-on-exec): pass
// it to ioco.FileListener in each loop, and close it once every loop has
// its listener. It fails when the process is not a worker or fd 3 is not
// open. Safe to call from any goroutine; never blocks.
func ListenerFile() (*os.File, error) {
	if !IsWorker() {
		return nil, errNotWorker
	}
	unix.CloseOnExec(listenerFD) // the worker's own children do not get it
	fd, err := unix.FcntlInt(listenerFD, unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("prefork: inherited listener: %w", os.NewSyscallError("fcntl", err))
	}
	return os.NewFile(uintptr(fd), "prefork-listener"), nil
}

// Ready tells the supervisor that the worker serves: it writes a byte to
// the readiness pipe (fd 4) and closes it. Serve calls it once every loop
// has its listener; a worker with a main of its own calls it when it
// accepts. Later calls do nothing. Safe to call from any goroutine; never
// blocks (the pipe's buffer takes the byte).
func Ready() error {
	if !IsWorker() {
		return errNotWorker
	}
	readyOnce.Do(func() {
		f := os.NewFile(readyFD, "prefork-ready")
		_, readyErr = f.Write([]byte{1})
		if err := f.Close(); readyErr == nil {
			readyErr = err
		}
		if readyErr != nil {
			readyErr = fmt.Errorf("prefork: readiness pipe: %w", readyErr)
		}
	})
	return readyErr
}

var (
	readyOnce sync.Once
	readyErr  error
)

var errNotWorker = errors.New("prefork: not a worker (" + EnvWorker + " is not set)")

// An Option configures Serve.
type Option interface{ apply(*config) }

type config struct {
	loops    int
	shutdown time.Duration
	server   func(*httpco.Server)
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithLoops sets the number of loops the worker runs, each on its own
// goroutine with its own listener of the inherited socket and its own
// httpco.Server. The default is runtime.GOMAXPROCS(0), at least 1.
func WithLoops(n int) Option { return optionFunc(func(c *config) { c.loops = max(n, 1) }) }

// WithShutdownTimeout bounds the graceful drain after SIGTERM: in-flight
// requests still running when it passes are killed (their tasks'
// deferred calls run). The default is the supervisor's ShutdownTimeout,
// passed in EnvWorker, else 30 s.
func WithShutdownTimeout(d time.Duration) Option {
	return optionFunc(func(c *config) { c.shutdown = d })
}

// WithServer calls configure on each loop's httpco.Server before it
// serves (timeouts, MaxConns, ErrorLog); Handler is set already.
func WithServer(configure func(*httpco.Server)) Option {
	return optionFunc(func(c *config) { c.server = configure })
}

// Serve is a worker's main: it serves h on the inherited socket from
// WithLoops' number of loops, tells the supervisor it is ready once every
// loop has its listener, and on SIGTERM or SIGINT (or ctx's end) drains:
// every loop stops accepting, lets the connections it accepted bring
// their first request, and shuts its httpco.Server down (see the package
// documentation's Draining). It returns nil after a complete drain, the
// Shutdown's error when the timeout cut it short, or the error that
// stopped a loop (the others are drained then). Call it on an ordinary
// goroutine, not on a loop: it runs loops of its own.
func Serve(ctx context.Context, h http.Handler, opts ...Option) error {
	cfg := config{loops: max(runtime.GOMAXPROCS(0), 1), shutdown: 30 * time.Second}
	if d, err := time.ParseDuration(os.Getenv(EnvWorker)); err == nil && d > 0 {
		cfg.shutdown = d
	}
	for _, o := range opts {
		o.apply(&cfg)
	}
	// The signals are caught before anything else: a SIGTERM that comes
	// while the loops start drains the loops already up and stops the rest.
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	defer signal.Stop(sigs)
	f, err := ListenerFile()
	if err != nil {
		return err
	}
	w := &worker{h: h, cfg: &cfg}
	started := make(chan error, cfg.loops)
	errs := make(chan error, cfg.loops)
	lctx := context.WithoutCancel(ctx) // the loops end by draining, not by ctx
	for range cfg.loops {
		go func() {
			errs <- scheduler.Run(lctx, func(ctx context.Context) error { return w.serveLoop(ctx, f, started) })
		}()
	}
	var first error
	for range cfg.loops {
		if err := <-started; err != nil && first == nil {
			first = err
		}
	}
	f.Close() // each loop has its own descriptor now
	running := cfg.loops
	if first == nil {
		first = Ready()
	}
	if first == nil {
		select {
		case <-sigs:
		case <-ctx.Done():
		case first = <-errs: // a loop stopped on its own: drain the others
			running--
		}
	}
	w.drain()
	for range running {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// A worker is the loops of one Serve call.
type worker struct {
	h   http.Handler
	cfg *config

	mu       sync.Mutex
	draining bool                        // drain was called: a loop that starts now does not serve
	drains   []func(ctx context.Context) // one per serving loop, to post to it
	loops    []*scheduler.Loop
}

// serveLoop is the main task of one loop: a listener of f and an
// httpco.Server, until the drain posted to the loop
// ends. It sends exactly one value on started: nil once the loop serves
// (or will not, being told to drain already), the error otherwise.
func (w *worker) serveLoop(ctx context.Context, f *os.File, started chan<- error) error {
	ln, err := ioco.FileListener(ctx, f)
	if err != nil {
		started <- err
		return err
	}
	srv := &httpco.Server{Handler: w.h, ReadHeaderTimeout: 10 * time.Second}
	if w.cfg.server != nil {
		w.cfg.server(srv)
		srv.Handler = w.h
	}
	var shutdown *scheduler.Task
	drain := func(ctx context.Context) {
		if shutdown != nil {
			return
		}
		shutdown, _ = scheduler.Spawn(ctx, "prefork drain", func(ctx context.Context) error {
			ctx, cancel := scheduler.WithTimeout(ctx, w.cfg.shutdown)
			defer cancel()
			return srv.Shutdown(ctx)
		})
	}
	w.mu.Lock()
	if w.draining {
		w.mu.Unlock()
		started <- nil
		return ln.Close()
	}
	w.drains = append(w.drains, drain)
	w.loops = append(w.loops, scheduler.LoopOf(ctx))
	w.mu.Unlock()
	started <- nil
	err = srv.Serve(ctx, ln)
	if !errors.Is(err, http.ErrServerClosed) || shutdown == nil {
		srv.Close()
		return err
	}
	return shutdown.Join(ctx)
}

// drain posts the drain to every loop that serves, and keeps the loops
// still starting from serving. Safe to call from any goroutine, more than
// once.
func (w *worker) drain() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.draining {
		return
	}
	w.draining = true
	for i, l := range w.loops {
		l.Post(w.drains[i]) // ErrClosed: that loop has ended already
	}
}

package ioco_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// The Server's tests, after net/http's server tests where they apply
// (TestServerShutdown, TestServerCloseDeadlock, the handler panic tests,
// TestAcceptMaxFds): real sockets on 127.0.0.1, ordered by what the tasks
// see, never by time.

// journal is what the tasks of a test did, in order, and a way to wait for
// an entry.
type journal struct {
	entries []string
	changed locks.Event
}

func (j *journal) add(format string, args ...any) {
	j.entries = append(j.entries, fmt.Sprintf(format, args...))
	j.changed.Set()
}

// waitFor parks the calling task until entry is in the journal.
func (j *journal) waitFor(ctx context.Context, entry string) error {
	for !slices.Contains(j.entries, entry) {
		j.changed.Clear()
		if err := j.changed.Wait(ctx); err != nil {
			return err
		}
	}
	return nil
}

func (j *journal) String() string { return fmt.Sprint(j.entries) }

// namedEcho is a handler whose client first sends a one-byte name: it
// notes "served <name>", sends the name back, echoes until end of file and
// notes "<name> ended"; a deferred call notes "<name> done" however the
// handler ends.
func namedEcho(j *journal) func(ctx context.Context, c net.Conn) {
	return func(ctx context.Context, c net.Conn) {
		name := make([]byte, 1)
		if _, err := io.ReadFull(c, name); err != nil {
			j.add("read: %v", err)
			return
		}
		defer j.add("%s done", name)
		j.add("served %s", name)
		if _, err := c.Write(name); err != nil {
			return
		}
		_, err := io.Copy(c, c)
		j.add("%s ended: %v", name, err)
	}
}

// serveTCP listens on a free loopback port and runs s.Serve on it in a
// task, whose Join returns Serve's error.
func serveTCP(t *testing.T, ctx context.Context, s *ioco.Server) (addr string, serve *scheduler.Task) {
	t.Helper()
	ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serve, err = scheduler.Spawn(ctx, "serve", func(ctx context.Context) error { return s.Serve(ctx, ln) })
	if err != nil {
		t.Fatal(err)
	}
	return ln.Addr().String(), serve
}

// client dials addr and sends name, and, when ack, waits for the name to
// come back (the handler has started).
func client(ctx context.Context, network, addr, name string, ack bool) (net.Conn, error) {
	c, err := ioco.Dial(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte(name)); err != nil {
		c.Close()
		return nil, err
	}
	if ack {
		if err := expect(c, name); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// dialNamed connects a client per name (see client), each acknowledged by
// its handler; the caller closes them, with closeAll.
func dialNamed(ctx context.Context, addr string, names ...string) ([]net.Conn, error) {
	var cs []net.Conn
	for _, name := range names {
		c, err := client(ctx, "tcp", addr, name, true)
		if err != nil {
			closeAll(cs)
			return nil, err
		}
		cs = append(cs, c)
	}
	return cs, nil
}

func closeAll(cs []net.Conn) {
	for _, c := range cs {
		c.Close()
	}
}

// joinClosed checks that the task running Serve ends with ErrServerClosed.
func joinClosed(ctx context.Context, serve *scheduler.Task) error {
	if err := serve.Join(ctx); err != ioco.ErrServerClosed {
		return fmt.Errorf("Serve returned %v, want ErrServerClosed", err)
	}
	return nil
}

// shutdownServed shuts s down, which must succeed, and checks what Serve
// returned (see joinClosed).
func shutdownServed(ctx context.Context, s *ioco.Server, serve *scheduler.Task) error {
	if err := s.Shutdown(ctx); err != nil {
		return fmt.Errorf("Shutdown: %v", err)
	}
	return joinClosed(ctx, serve)
}

// expect reads len(want) bytes from c and checks them.
func expect(c net.Conn, want string) error {
	got := make([]byte, len(want))
	if _, err := io.ReadFull(c, got); err != nil {
		return fmt.Errorf("reading %q: %w", want, err)
	}
	if string(got) != want {
		return fmt.Errorf("read %q, want %q", got, want)
	}
	return nil
}

// roundTrip writes msg to c and reads it back.
func roundTrip(c net.Conn, msg string) error {
	if _, err := c.Write([]byte(msg)); err != nil {
		return err
	}
	return expect(c, msg)
}

// expectEOF checks that the server has closed c.
func expectEOF(c net.Conn) error {
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		return fmt.Errorf("read %d bytes, %v; want io.EOF", n, err)
	}
	return nil
}

// leakCheck returns a function that fails t if the loop has more fds
// registered, or more tasks alive, than when leakCheck was called.
func leakCheck(t *testing.T, ctx context.Context) func() {
	l := scheduler.LoopOf(ctx)
	before := l.Stats()
	return func() {
		t.Helper()
		if now := l.Stats(); now.FDs != before.FDs || now.Tasks != before.Tasks {
			t.Errorf("loop has %d fds and %d tasks, want %d and %d", now.FDs, now.Tasks, before.FDs, before.Tasks)
		}
	}
}

// named is a Server of namedEcho handlers serving on a loopback port, and
// its journal.
type named struct {
	s     *ioco.Server
	j     journal
	addr  string
	serve *scheduler.Task // Serve's; Join returns its error
}

// runNamed runs body on a loop with a named server whose MaxConns is
// maxConns, and fails t if body fails or leaves fds or tasks behind.
func runNamed(t *testing.T, maxConns int, body func(ctx context.Context, n *named) error) {
	t.Helper()
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		n := &named{}
		n.s = &ioco.Server{Handler: namedEcho(&n.j), MaxConns: maxConns}
		n.addr, n.serve = serveTCP(t, ctx, n.s)
		if err := body(ctx, n); err != nil {
			return err
		}
		noLeak()
		return nil
	})
}

func TestServerEchoesOnSeveralListenersInNamedTasks(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "sock")
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		var names []string
		s := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) {
			names = append(names, scheduler.Current(ctx).Name())
			io.Copy(c, c)
		}}
		addr, tcpServe := serveTCP(t, ctx, s)
		uln, err := ioco.Listen(ctx, "unix", sock)
		if err != nil {
			return err
		}
		unixServe, err := scheduler.Spawn(ctx, "serve unix", func(ctx context.Context) error { return s.Serve(ctx, uln) })
		if err != nil {
			return err
		}
		for _, to := range [][2]string{{"tcp", addr}, {"unix", sock}, {"tcp", addr}} {
			c, err := ioco.Dial(ctx, to[0], to[1])
			if err != nil {
				return err
			}
			for _, msg := range []string{"hello", "over " + to[0]} {
				if err := roundTrip(c, msg); err != nil {
					return err
				}
			}
			c.Close()
		}
		if err := shutdownServed(ctx, s, tcpServe); err != nil {
			return err
		}
		if err := joinClosed(ctx, unixServe); err != nil {
			return err
		}
		if want := "[ioco.Server conn ioco.Server conn ioco.Server conn]"; fmt.Sprint(names) != want {
			t.Errorf("handler tasks %v, want %s", names, want)
		}
		noLeak()
		return nil
	})
}

func TestServerAtMaxConnsLeavesTheNextClientInTheBacklogUntilAHandlerEnds(t *testing.T) {
	runNamed(t, 2, func(ctx context.Context, n *named) error {
		s, j, addr, serve := n.s, &n.j, n.addr, n.serve
		ab, err := dialNamed(ctx, addr, "A", "B")
		if err != nil {
			return err
		}
		defer closeAll(ab)
		a, b := ab[0], ab[1]
		// C's connection is made by the kernel (Dial returns) and its name
		// sent, but no handler reads it.
		c, err := client(ctx, "tcp", addr, "C", false)
		if err != nil {
			return err
		}
		defer c.Close()
		// Round trips through A and B take the loop through several polls,
		// which would have woken a Serve waiting in Accept.
		for _, conn := range []net.Conn{a, b, a} {
			if err := roundTrip(conn, "ping"); err != nil {
				return err
			}
		}
		if got, want := j.String(), "[served A served B]"; got != want {
			t.Errorf("at the limit: %s, want %s", got, want)
		}
		var dump strings.Builder
		scheduler.LoopOf(ctx).Dump(&dump)
		if !strings.Contains(dump.String(), "ioco.Server.Serve at MaxConns") {
			t.Errorf("Serve does not wait at MaxConns:\n%s", dump.String())
		}
		a.Close() // A's handler ends: C gets its slot
		if err := expect(c, "C"); err != nil {
			return err
		}
		if err := roundTrip(c, "served at last"); err != nil {
			return err
		}
		want := "[served A served B A ended: <nil> A done served C]"
		if got := j.String(); got != want {
			t.Errorf("got %s, want %s", got, want)
		}
		b.Close()
		c.Close()
		if err := shutdownServed(ctx, s, serve); err != nil {
			return err
		}
		return nil
	})
}

func TestServerHandlerPanicIsLoggedWithItsStackAndOtherConnsGoOn(t *testing.T) {
	var logged bytes.Buffer
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		s := &ioco.Server{
			ErrorLog: log.New(&logged, "", 0),
			Handler: func(ctx context.Context, c net.Conn) {
				name := make([]byte, 1)
				if _, err := io.ReadFull(c, name); err != nil {
					return
				}
				if name[0] == 'P' {
					panic("boom")
				}
				c.Write(name)
				io.Copy(c, c)
			},
		}
		addr, serve := serveTCP(t, ctx, s)
		a, err := client(ctx, "tcp", addr, "A", true)
		if err != nil {
			return err
		}
		defer a.Close()
		p, err := client(ctx, "tcp", addr, "P", false) // its handler panics
		if err != nil {
			return err
		}
		if err := expectEOF(p); err != nil {
			return fmt.Errorf("panicked handler's client: %v", err)
		}
		p.Close()
		if err := roundTrip(a, "A goes on"); err != nil {
			return err
		}
		d, err := client(ctx, "tcp", addr, "D", true)
		if err != nil {
			return err
		}
		d.Close()
		a.Close()
		if err := shutdownServed(ctx, s, serve); err != nil {
			return err
		}
		noLeak()
		return nil
	})
	out := logged.String()
	for _, want := range []string{"ioco: panic serving 127.0.0.1:", ": boom\n", "server_test.go"} {
		if !strings.Contains(out, want) {
			t.Errorf("ErrorLog has no %q:\n%s", want, out)
		}
	}
}

// acceptErr is errno as ioco's Accept returns it.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

func TestServerWaitsOutTemporaryAcceptErrorsOnTheLoopClockAndStartsOverAfterAConn(t *testing.T) {
	var logged bytes.Buffer
	var accepts []string
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		s := &ioco.Server{ErrorLog: log.New(&logged, "", 0), Handler: func(ctx context.Context, c net.Conn) { io.Copy(c, c) }}
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		start := scheduler.Now(ctx)
		script := []error{
			acceptErr(syscall.EMFILE), acceptErr(syscall.ENFILE),
			acceptErr(syscall.ENOBUFS), acceptErr(syscall.ECONNABORTED),
			nil, // a client's connection
			acceptErr(syscall.EMFILE), acceptErr(syscall.EMFILE),
		}
		ln := &hookListener{Listener: real, before: func(i int) error {
			accepts = append(accepts, fmt.Sprint(scheduler.Now(ctx).Sub(start)))
			switch {
			case i == 4:
				scheduler.Go(ctx, func(ctx context.Context) error {
					c, err := ioco.Dial(ctx, "tcp", real.Addr().String())
					if err != nil {
						return err
					}
					defer c.Close()
					return roundTrip(c, "served between the errors")
				})
			case i == len(script):
				s.Close() // the end of the test
			}
			if i < len(script) {
				return script[i]
			}
			return nil
		}}
		if err := s.Serve(ctx, ln); err != ioco.ErrServerClosed {
			return fmt.Errorf("Serve returned %v, want ErrServerClosed", err)
		}
		if err := s.Shutdown(ctx); err != nil {
			return err
		}
		noLeak()
		return nil
	}, scheduler.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(accepts), "[0s 5ms 15ms 35ms 75ms 75ms 80ms 90ms]"; got != want {
		t.Errorf("Accept calls at %s, want %s", got, want)
	}
	var waits []string
	for _, line := range strings.Split(strings.TrimSpace(logged.String()), "\n") {
		if !strings.HasPrefix(line, "ioco: Accept error: accept tcp: accept4: ") {
			t.Errorf("logged %q", line)
		}
		waits = append(waits, line[strings.LastIndex(line, " ")+1:])
	}
	if got, want := fmt.Sprint(waits), "[5ms 10ms 20ms 40ms 5ms 10ms]"; got != want {
		t.Errorf("logged waits %s, want %s", got, want)
	}
}

func TestServerServeReturnsAnAcceptErrorThatIsNotTemporaryAndClosesItsListener(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		s := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) {}}
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		einval := acceptErr(syscall.EINVAL)
		ln := &hookListener{Listener: real, before: func(int) error { return einval }}
		if err := s.Serve(ctx, ln); err != einval {
			return fmt.Errorf("Serve returned %v, want %v", err, einval)
		}
		if ln.calls != 1 {
			t.Errorf("%d Accept calls, want 1", ln.calls)
		}
		if _, err := real.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Accept after Serve returned: %v, want net.ErrClosed", err)
		}
		noLeak()
		return nil
	})
}

func TestServerRefusesUseFromAnotherLoop(t *testing.T) {
	type fromB struct {
		serve, shutdown, foreignLn error
	}
	ready := make(chan *ioco.Server, 1)
	other := make(chan net.Listener, 1)
	got := make(chan fromB, 1)
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		s := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) {}}
		_, serve := serveTCP(t, ctx, s)
		if err := scheduler.Sleep(ctx, 0); err != nil { // Serve runs: the server is this loop's
			return err
		}
		ready <- s
		// Loop B runs on a goroutine of its own, and tries the server; its
		// answer comes back through a channel that Recv waits on.
		go func() {
			var r fromB
			scheduler.Run(context.Background(), func(ctx context.Context) error {
				ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
				if err != nil {
					return err
				}
				defer ln.Close()
				s := <-ready
				r.serve = s.Serve(ctx, ln)
				r.shutdown = s.Shutdown(ctx)
				other <- ln
				return nil
			})
			got <- r
		}()
		r, _, err := scheduler.Recv(ctx, got)
		if err != nil {
			return err
		}
		// A listener of loop B's (closed now) is refused by a Server of
		// this loop's before anything else.
		ln := <-other
		r.foreignLn = (&ioco.Server{Handler: s.Handler}).Serve(ctx, ln)
		if r.serve != scheduler.ErrWrongLoop || r.shutdown != scheduler.ErrWrongLoop || r.foreignLn != scheduler.ErrWrongLoop {
			t.Errorf("from another loop: Serve %v, Shutdown %v; a listener of another loop: %v; want ErrWrongLoop",
				r.serve, r.shutdown, r.foreignLn)
		}
		if err := shutdownServed(ctx, s, serve); err != nil {
			return err
		}
		noLeak()
		return nil
	})
}

func TestServerServeMisuse(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		if err := (&ioco.Server{}).Serve(ctx, ln); !errors.Is(err, scheduler.ErrNilFunc) {
			t.Errorf("Serve with no Handler: %v, want ErrNilFunc", err)
		}
		s := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) {}}
		if err := s.Serve(context.Background(), ln); err != scheduler.ErrNoTask {
			t.Errorf("Serve with no task: %v, want ErrNoTask", err)
		}
		if err := s.Shutdown(ctx); err != nil {
			t.Errorf("Shutdown of a server never served: %v", err)
		}
		if err := s.Serve(ctx, ln); err != ioco.ErrServerClosed {
			t.Errorf("Serve after Shutdown: %v, want ErrServerClosed", err)
		}
		if _, err := ln.Accept(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("Serve after Shutdown left its listener open: %v", err)
		}
		return nil
	})
}

package ioco

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net"
	"runtime"
	"syscall"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// ErrServerClosed is returned by Server.Serve once Shutdown or Close has
// been called, as http.ErrServerClosed is by net/http's Server.
var ErrServerClosed = errors.New("ioco: Server closed")

// connTaskName is the name of every connection's task, in deadlock reports
// and Loop.Dump.
const connTaskName = "ioco.Server conn"

// The backoff of Serve after a temporary accept error, as net/http's
// Server.Serve waits: 5 ms after the first, twice as long after each one
// that follows, never more than 1 s, and back to 5 ms once a connection is
// accepted.
const (
	firstAcceptDelay = 5 * time.Millisecond
	maxAcceptDelay   = 1 * time.Second
)

// A Server is a stream server on a loop, in net/http.Server's shape (and
// gevent's StreamServer, Evergreen's TCPServer): Serve accepts connections
// on a listener and runs Handler on each in a task of its own; Shutdown
// stops it gracefully, Close at once.
//
//	srv := &ioco.Server{Handler: func(ctx context.Context, c net.Conn) {
//		io.Copy(c, c) // an echo; the Server closes c when it returns
//	}}
//	ln, err := ioco.Listen(ctx, "tcp", ":8080")
//	...
//	err = srv.Serve(ctx, ln) // until Shutdown, Close or ctx's end
//
// Where it differs from net/http's, and why: Serve takes the ctx of the
// task that accepts (every call that may park does), and its end stops the
// server as Close does; Shutdown's ctx ending kills the handlers still
// running (Task.Kill: their deferred calls run) rather than leaving them to
// run on, since a task can be killed where a goroutine cannot; MaxConns
// bounds the handlers running at once, which net/http leaves to a wrapping
// listener.
//
// # Accept errors
//
// Serve does not end on an accept error that says the process or the kernel
// is short of something for now: out of file descriptors (EMFILE, ENFILE),
// of socket buffers (ENOBUFS), or a connection aborted before it was taken
// (ECONNABORTED), found with errors.Is. It logs it, waits 5 ms on the
// loop's clock (the loop serves the other connections meanwhile), and tries
// again, waiting twice as long after each such error that follows, never
// more than 1 s, and 5 ms again after a connection is accepted: net/http's
// rule. Any other accept error ends Serve, which returns it.
//
// # Connections
//
// Each accepted connection gets a task named "ioco.Server conn", which
// calls Handler with its own context (carrying the values of Serve's ctx)
// and closes the connection when Handler returns. A panic in Handler is
// recovered and logged with its stack, and the connection closed; the
// other connections go on, as in net/http. A connection costs the server a
// task (its handle, the name's record, the closure that starts it) besides
// the conn itself; its bookkeeping is a slot in a slice that ended
// connections hand on.
//
// # Calling context
//
// A Server belongs to the loop of its first Serve: its methods are called
// by that loop's tasks (Close also by its callbacks), and Serve and
// Shutdown called with a context of another loop return
// scheduler.ErrWrongLoop. Handler runs on the loop too, so it shares the
// loop's memory with the other tasks without locks. The zero Server, with
// a Handler, is ready to use; a Server must not be copied after first use,
// nor reused after Shutdown or Close.
type Server struct {
	// Handler serves one connection, in a task of its own; the Server
	// closes c when it returns. Required.
	Handler func(ctx context.Context, c net.Conn)

	// MaxConns bounds the handlers running at once; 0 means no bound. At
	// the bound Serve stops accepting, and connections wait in the
	// kernel's backlog (the listen(2) backlog, then the clients' connect
	// retries) until a handler ends: a connection is never refused. With
	// several listeners, each Serve may have taken a connection when the
	// bound is reached; it keeps it, unserved, until a handler ends.
	MaxConns int

	// ErrorLog receives accept errors and handlers' panics; nil means
	// package log's standard logger, as in net/http.
	ErrorLog *log.Logger

	noCopy noCopy

	// The rest is owned by the loop, set on its first Serve.
	loop      *scheduler.Loop
	closed    bool        // Shutdown or Close was called, or a Serve's ctx ended
	acceptors []*acceptor // the Serve calls under way
	waiting   []*acceptor // those parked at MaxConns, first come first served
	conns     []connSlot  // one per connection whose task has started and not ended
	free      []int32     // indices of free slots in conns
	active    int         // slots in use: connections in connNew, connActive or connClosed
	shutdowns []*shutdownWait
}

// The states of a connection's slot in Server.conns. Every transition
// happens on the loop:
//
//	connFree   → connNew     Serve took the connection and started its task (active+1)
//	connNew    → connActive  the task runs and calls Handler
//	connNew    → connClosed  Close closed the connection before its task ran: Handler is never called
//	connActive → connClosed  Close closed the connection under its Handler, which sees net.ErrClosed
//	connActive → connFree    Handler returned or panicked, or the task was killed: the task closes the
//	                         connection (active-1, a Serve waiting at MaxConns and Shutdown are told)
//	connClosed → connFree    the task ends, closing nothing
//	connNew    → connFree    Shutdown killed the task before it ran (its function never runs):
//	                         Shutdown closes the connection
//
// A connection that a Serve took while the handlers were at MaxConns (with
// several listeners) has no slot yet: its Serve holds it, unserved, until
// a slot frees (then connNew) or the server closes (it closes it).
type connState uint8

const (
	connFree connState = iota
	connNew
	connActive
	connClosed
)

// connSlot is one connection of a Server: the conn, its task and its state.
type connSlot struct {
	c     net.Conn
	t     *scheduler.Task
	state connState
}

// An acceptor is one Serve call: the listener it accepts on and its task,
// with the hook it parks on at MaxConns and during a backoff.
type acceptor struct {
	s        *Server
	ln       net.Listener
	lnClosed bool // Serve or the server closed ln
	done     bool // Serve has returned
	hook     scheduler.ParkHook
	t        *scheduler.Task
	backoff  *scheduler.Handle // the timer that ends a backoff, while one lasts
	// woken: a handler's end took it off s.waiting and woke it for the
	// slot it freed; it takes the slot when it resumes, and hands the
	// wake-up on if it is killed first.
	woken bool
}

// Killed takes a killed Serve out of the queue at MaxConns, handing on a
// wake-up it got and will not use.
func (a *acceptor) Killed() {
	s := a.s
	if a.backoff != nil {
		a.backoff.Cancel()
		a.backoff = nil
	}
	if a.woken {
		a.woken = false
		s.wakeAcceptor()
		return
	}
	s.waiting = remove(s.waiting, a)
}

// A shutdownWait is a task parked in Shutdown until the handlers end.
type shutdownWait struct {
	s    *Server
	hook scheduler.ParkHook
	t    *scheduler.Task
}

// Killed takes a killed Shutdown out of the waiters and closes the server,
// so that the handlers it was to wait for end.
func (w *shutdownWait) Killed() {
	w.s.shutdowns = remove(w.s.shutdowns, w)
	w.s.Close()
}

// Serve accepts connections on ln and runs s.Handler on each, in a task of
// its own, until Shutdown or Close is called (it returns ErrServerClosed),
// Accept fails with an error that is not temporary (it returns it; see
// Accept errors on Server), or ctx ends: then it closes the server as Close
// does and returns ctx's error. It closes ln when it returns. Several Serve
// calls, on several listeners, may run at once.
//
// ctx is the calling task's (Serve accepts in it), and ln a listener of
// that task's loop: one of this package's, or a net.Listener wrapping one
// whose Accept parks the calling task in the same way. Serve returns
// scheduler.ErrNoTask when ctx carries no task, scheduler.ErrWrongLoop when
// the server or ln belongs to another loop, and an error wrapping
// scheduler.ErrNilFunc when s.Handler is nil, leaving ln open. May park the
// calling task.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	t := scheduler.Current(ctx)
	if t == nil {
		return scheduler.ErrNoTask
	}
	l := t.Loop()
	if s.loop != nil && s.loop != l {
		return scheduler.ErrWrongLoop // before anything else of s's is read
	}
	if lnl := loopOfListener(ln); lnl != nil && lnl != l {
		return scheduler.ErrWrongLoop
	}
	if s.Handler == nil {
		return fmt.Errorf("ioco: Server.Handler: %w", scheduler.ErrNilFunc)
	}
	s.loop = l
	a := &acceptor{s: s, ln: ln, t: t}
	a.hook.OnKill = a
	defer a.end(ctx)
	if s.closed {
		return ErrServerClosed
	}
	s.acceptors = append(s.acceptors, a)
	if ctx.Done() != nil {
		// ctx's end reaches Serve wherever it parks, Accept included (which
		// parks with the task's own context): a post closes the server.
		stop := context.AfterFunc(ctx, func() {
			l.Post(func(context.Context) {
				if !a.done {
					s.Close()
				}
			})
		})
		defer stop()
	}
	var delay time.Duration // the backoff's last wait; 0 after an accepted conn
	for {
		if err := a.waitSlot(ctx); err != nil {
			return a.result(ctx, err)
		}
		c, err := ln.Accept()
		if err != nil {
			if s.closed {
				return a.result(ctx, nil)
			}
			if !temporary(err) {
				return err
			}
			delay = min(max(2*delay, firstAcceptDelay), maxAcceptDelay)
			s.logf("ioco: Accept error: %v; retrying in %v", err, delay)
			if err := a.sleep(ctx, delay); err != nil {
				return a.result(ctx, err)
			}
			continue
		}
		delay = 0
		if err := a.waitSlot(ctx); err != nil { // another Serve took the last slot meanwhile
			c.Close()
			return a.result(ctx, err)
		}
		if err := s.start(ctx, c); err != nil {
			return err
		}
	}
}

// result is what Serve returns when the server is closed or its wait ended
// with err: ctx's error once ctx has ended (then the server is closed as
// well), ErrServerClosed if the server was closed, and err otherwise.
func (a *acceptor) result(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		a.s.Close()
		return cerr
	}
	if a.s.closed {
		return ErrServerClosed
	}
	return err
}

// end is Serve's deferred call: the acceptor leaves the server and closes
// its listener. A Serve killed (its task's context is then cancelled) or
// whose ctx has ended closes the server first.
func (a *acceptor) end(ctx context.Context) {
	s := a.s
	if ctx.Err() != nil && !s.closed {
		s.Close()
	}
	a.done = true
	s.acceptors = remove(s.acceptors, a)
	if !a.lnClosed {
		a.lnClosed = true
		if err := a.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.logf("ioco: closing the listener: %v", err)
		}
	}
}

// waitSlot parks the calling Serve while the handlers are at MaxConns, in
// the queue of those waiting, until a handler's end wakes it; it returns
// ErrServerClosed if the server closes meanwhile, or the park's error.
func (a *acceptor) waitSlot(ctx context.Context) error {
	s := a.s
	for {
		if s.closed {
			return ErrServerClosed
		}
		if s.MaxConns <= 0 || s.active < s.MaxConns {
			return nil
		}
		s.waiting = append(s.waiting, a)
		err := scheduler.ParkWith(ctx, "ioco.Server.Serve at MaxConns", &a.hook)
		if a.woken {
			a.woken = false
		} else {
			s.waiting = remove(s.waiting, a) // woken by Close, or ctx ended
		}
		if err != nil {
			return err
		}
	}
}

// sleep parks the calling Serve for d on the loop's clock, or until the
// server closes (nil) or ctx ends (its error).
func (a *acceptor) sleep(ctx context.Context, d time.Duration) error {
	a.backoff = a.s.loop.CallLater(d, func(context.Context) { a.t.WakeWith(&a.hook) })
	err := scheduler.ParkWith(ctx, "ioco.Server.Serve backoff", &a.hook)
	a.backoff.Cancel()
	a.backoff = nil
	return err
}

// wakeAcceptor wakes the Serve that has waited longest at MaxConns, if any,
// for the slot that a handler's end freed.
func (s *Server) wakeAcceptor() {
	if len(s.waiting) == 0 {
		return
	}
	a := s.waiting[0]
	s.waiting = remove(s.waiting, a)
	a.woken = true
	a.t.WakeWith(&a.hook)
}

// start gives c a slot and starts its task. It closes c if the task cannot
// start.
func (s *Server) start(ctx context.Context, c net.Conn) error {
	var i int32
	if n := len(s.free); n > 0 {
		i = s.free[n-1]
		s.free = s.free[:n-1]
	} else {
		i = int32(len(s.conns))
		s.conns = append(s.conns, connSlot{})
	}
	t, err := scheduler.Spawn(ctx, connTaskName, func(ctx context.Context) error {
		return s.serveConn(ctx, i)
	})
	if err != nil {
		c.Close()
		s.free = append(s.free, i)
		return err
	}
	s.conns[i] = connSlot{c: c, t: t, state: connNew}
	s.active++
	return nil
}

// serveConn is the task of the connection in slot i: it runs Handler and
// then ends the connection, recovering a panic of Handler's.
func (s *Server) serveConn(ctx context.Context, i int32) error {
	sl := &s.conns[i] // not kept past Handler: s.conns moves when it grows
	if sl.state == connClosed {
		s.endConn(i)
		return nil
	}
	sl.state = connActive
	c := sl.c
	defer func() {
		r := recover()
		s.endConn(i)
		if r == nil {
			return
		}
		if err, ok := r.(error); ok && errors.Is(err, scheduler.ErrKilled) {
			panic(r) // a kill unwinds on
		}
		buf := make([]byte, 64<<10)
		buf = buf[:runtime.Stack(buf, false)]
		s.logf("ioco: panic serving %v: %v\n%s", c.RemoteAddr(), r, buf)
	}()
	s.Handler(ctx, c)
	return nil
}

// endConn closes the connection of slot i, unless Close did, and frees the
// slot, waking a Serve that waits for it and, after the last handler,
// Shutdown.
func (s *Server) endConn(i int32) {
	sl := &s.conns[i]
	if sl.state != connClosed {
		if err := sl.c.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			s.logf("ioco: closing a connection: %v", err) // the handler closed it: fine
		}
	}
	*sl = connSlot{}
	s.free = append(s.free, i)
	s.active--
	s.wakeAcceptor()
	if s.active == 0 {
		for _, w := range s.shutdowns {
			w.t.WakeWith(&w.hook)
		}
	}
}

// Shutdown stops the server gracefully: it closes the listeners (every
// Serve returns ErrServerClosed) and waits until every handler has ended,
// then returns nil. If ctx ends first, it kills the tasks of the handlers
// still running (Task.Kill: each unwinds from where it parks, its deferred
// calls run, and its connection is closed) and returns ctx's error. If the
// calling task is killed while it waits, the server is closed as Close
// does. Connections accepted meanwhile (by a Serve that had taken one
// before the listener closed) are closed unserved. A server never served
// is closed at once.
//
// ctx is the calling task's; Shutdown returns scheduler.ErrWrongLoop for a
// ctx of another loop than the server's, and the park's errors
// (scheduler.ErrNoTask...) when it must wait. May park the calling task.
func (s *Server) Shutdown(ctx context.Context) error {
	if s.loop != nil && scheduler.LoopOf(ctx) != s.loop {
		return scheduler.ErrWrongLoop
	}
	s.closeListeners()
	if s.active == 0 {
		return nil
	}
	w := &shutdownWait{s: s, t: scheduler.Current(ctx)}
	w.hook.OnKill = w
	if w.t != nil {
		s.shutdowns = append(s.shutdowns, w)
	}
	var err error
	for s.active > 0 && err == nil {
		err = scheduler.ParkWith(ctx, "ioco.Server.Shutdown", &w.hook)
	}
	s.shutdowns = remove(s.shutdowns, w)
	if err == nil {
		return nil
	}
	if errors.Is(err, scheduler.ErrKilled) { // a dying task's deferred call
		s.Close()
		return err
	}
	if err != ctx.Err() {
		return err // ErrNoTask, ErrNotCurrent
	}
	for i := range s.conns { // no slot is added once closed
		sl := &s.conns[i]
		t := sl.t
		if t == nil {
			continue
		}
		if kerr := t.Kill(ctx); kerr != nil {
			return kerr
		}
		if sl = &s.conns[i]; sl.t == t { // killed before it ran: its function never will
			s.endConn(int32(i))
		}
	}
	return err
}

// Close closes the server at once: the listeners (every Serve returns
// ErrServerClosed) and every connection, under their handlers, which see
// net.ErrClosed and return (as net/http's Close does: it does not wait for
// them). It returns the first error of closing a listener. Call it on the
// server's loop, from a task or a callback. Never parks.
func (s *Server) Close() error {
	err := s.closeListeners()
	for i := range s.conns {
		sl := &s.conns[i]
		if sl.state == connNew || sl.state == connActive {
			sl.state = connClosed
			if cerr := sl.c.Close(); cerr != nil && !errors.Is(cerr, net.ErrClosed) && err == nil {
				err = cerr
			}
		}
	}
	return err
}

// closeListeners marks the server closed, closes the listeners of the
// Serve calls under way and wakes those that are parked at MaxConns or in
// a backoff. It returns the first error of closing a listener.
func (s *Server) closeListeners() error {
	s.closed = true
	var err error
	for _, a := range s.acceptors {
		if !a.lnClosed {
			a.lnClosed = true
			if cerr := a.ln.Close(); cerr != nil && err == nil {
				err = cerr
			}
		}
		a.t.WakeWith(&a.hook) // does nothing to a Serve in Accept: the close wakes it
	}
	return err
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

// temporary reports whether err, returned by Accept, is one that Serve
// waits out (see Accept errors on Server).
func temporary(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ECONNABORTED)
}

// loopOfListener returns the loop of this package's listener ln, or nil for
// another listener.
func loopOfListener(ln net.Listener) *scheduler.Loop {
	switch l := ln.(type) {
	case *TCPListener:
		return l.fd.loop
	case *UnixListener:
		return l.fd.loop
	}
	return nil
}

// remove returns s without its first x, keeping the order.
func remove[T comparable](s []T, x T) []T {
	for i, y := range s {
		if y == x {
			return append(s[:i], s[i+1:]...)
		}
	}
	return s
}

// noCopy makes go vet's copylocks check report a Server copied after first
// use.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

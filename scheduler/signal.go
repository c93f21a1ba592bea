package scheduler

import (
	"context"
	"os"
	"os/signal"
)

// A SignalHandler is a callback registered for a signal with
// AddSignalHandler.
type SignalHandler struct {
	l   *Loop
	sig os.Signal
	fn  func(ctx context.Context, sig os.Signal)
}

// sigTable is a loop's signal handlers. Signals arrive on c, through
// os/signal, and a goroutine posts them to the loop; it runs while any
// handler is registered.
type sigTable struct {
	n        int
	handlers map[os.Signal][]*SignalHandler // in registration order
	c        chan os.Signal
	done     chan struct{} // closed when the forwarding goroutine has exited
}

// AddSignalHandler makes fn run as a callback on the loop each time the
// process receives sig, for as long as the handler is registered; several
// handlers of one signal run in the order they were added. While any handler
// is registered, the process does not get Go's default handling of the
// signals the handlers are for, and a loop waiting for nothing else is not
// reported as deadlocked (a signal can come). It fails with ErrNotRunning
// when the loop is not running, and ErrNilFunc; if it fails, fn is never
// called. Must be called on the loop. Never parks.
func (l *Loop) AddSignalHandler(sig os.Signal, fn func(ctx context.Context, sig os.Signal)) (*SignalHandler, error) {
	if fn == nil {
		return nil, ErrNilFunc
	}
	if l.state != loopRunning {
		return nil, ErrNotRunning
	}
	s := &l.sigs
	if s.handlers == nil {
		s.handlers = make(map[os.Signal][]*SignalHandler)
	}
	if s.c == nil {
		s.c = make(chan os.Signal, 16)
		s.done = make(chan struct{})
		go forward(l, s.c, s.done)
	}
	h := &SignalHandler{l: l, sig: sig, fn: fn}
	if len(s.handlers[sig]) == 0 {
		signal.Notify(s.c, sig)
	}
	s.handlers[sig] = append(s.handlers[sig], h)
	s.n++
	return h, nil
}

// Remove unregisters the handler and reports whether it was registered. Once
// the loop's last handler is removed, its signals get Go's default handling
// again; until then, a signal whose handlers are all removed is caught and
// ignored. Must be called on the loop. Never parks.
func (h *SignalHandler) Remove() bool {
	s := &h.l.sigs
	hs := s.handlers[h.sig]
	for i, x := range hs {
		if x != h {
			continue
		}
		hs = append(hs[:i:i], hs[i+1:]...)
		s.n--
		if len(hs) > 0 {
			s.handlers[h.sig] = hs
			return true
		}
		delete(s.handlers, h.sig)
		if s.n == 0 {
			s.closeAll()
		}
		// Otherwise the signal stays caught (and ignored) until the loop's
		// last handler goes: os/signal cannot unsubscribe one channel from
		// one signal, and resubscribing would leave a window in which the
		// other signals get their default handling.
		return true
	}
	return false
}

// forward posts every signal arriving on c to the loop until c is closed.
func forward(l *Loop, c chan os.Signal, done chan struct{}) {
	defer close(done)
	for sig := range c {
		if l.Post(func(ctx context.Context) { l.dispatch(ctx, sig) }) != nil {
			return
		}
	}
}

// dispatch runs the handlers of sig registered now.
func (l *Loop) dispatch(ctx context.Context, sig os.Signal) {
	for _, h := range append([]*SignalHandler(nil), l.sigs.handlers[sig]...) {
		h.fn(ctx, sig)
	}
}

// closeAll stops signal delivery and waits for the forwarding goroutine to
// exit.
func (s *sigTable) closeAll() {
	if s.c == nil {
		return
	}
	signal.Stop(s.c)
	close(s.c)
	<-s.done
	s.c, s.done, s.handlers, s.n = nil, nil, nil, 0
}

package serve_test

import (
	"net"
	"os"
	"syscall"
)

// step is one Accept of a scriptListener: an error, a conn, or neither
// (ask the listener it wraps).
type step struct {
	err  error
	conn net.Conn
}

// scriptListener is a listener whose Accept plays steps in order, then asks
// the listener it wraps; with none, it reports itself closed. onAccept, when
// not nil, is called at the start of each Accept with its index.
type scriptListener struct {
	net.Listener
	steps    []step
	calls    int
	onAccept func(i int)
}

func (l *scriptListener) Accept() (net.Conn, error) {
	i := l.calls
	l.calls++
	if l.onAccept != nil {
		l.onAccept(i)
	}
	if i < len(l.steps) && (l.steps[i].err != nil || l.steps[i].conn != nil) {
		return l.steps[i].conn, l.steps[i].err
	}
	if l.Listener == nil {
		return nil, closedErr()
	}
	return l.Listener.Accept()
}

// acceptErr is errno as ioco's and package net's Accept return it.
func acceptErr(errno syscall.Errno) error {
	return &net.OpError{Op: "accept", Net: "tcp", Err: os.NewSyscallError("accept4", errno)}
}

// closedErr is a closed listener's Accept error.
func closedErr() error { return &net.OpError{Op: "accept", Net: "tcp", Err: net.ErrClosed} }

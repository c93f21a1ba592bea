package scheduler

import (
	"context"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"

	"github.com/evergo/evergo/internal/poll"
)

// Mode is the direction a task waits on an fd for.
type Mode uint8

const (
	Read  Mode = 1 // the fd is readable, or at end of file, or failed
	Write Mode = 2 // the fd is writable, or failed
)

func (m Mode) String() string {
	switch m {
	case Read:
		return "read"
	case Write:
		return "write"
	}
	return "scheduler.Mode(" + strconv.Itoa(int(m)) + ")"
}

// An FD is a non-blocking file descriptor registered with its loop's poller,
// so that tasks can park until it is ready: the hook that package ioco builds
// sockets on. The registration is edge-triggered, made once for both
// directions (see internal/poll for why). The rule that follows for callers:
// try the system call first, and Wait only after it failed with EAGAIN.
//
// An FD belongs to its loop: its methods must be called on it.
type FD struct {
	l       *Loop
	fd      int
	tag     uint32   // tells this registration's events from those of an fd number's earlier use
	ready   Mode     // edges that came while nobody waited, not consumed yet
	hup     bool     // the poller reported a hang-up or an error: reads no longer block
	onHup   func()   // OnHangUp's function, until it runs
	closed  bool     // Close was called
	dl      [2]int64 // deadlines per mode on the loop's clock; 0: none
	waiters [2]waitList
}

// Register adds fd (which must be in non-blocking mode) to the poller of the
// loop that ctx carries. It fails with ErrNoLoop, ErrClosed, or the
// epoll_ctl error. Never parks.
func Register(ctx context.Context, fd int) (*FD, error) {
	l := LoopOf(ctx)
	if l == nil {
		return nil, ErrNoLoop
	}
	if l.state != loopRunning {
		return nil, ErrClosed
	}
	if fd < 0 {
		return nil, os.NewSyscallError("epoll_ctl", syscall.EBADF)
	}
	if fd < len(l.fds) && l.fds[fd] != nil {
		return nil, os.NewSyscallError("epoll_ctl", syscall.EEXIST)
	}
	l.fdSeq++
	p := &FD{l: l, fd: fd, tag: l.fdSeq}
	if err := l.poller.Add(fd, p.tag); err != nil {
		return nil, err
	}
	for fd >= len(l.fds) {
		l.fds = append(l.fds, nil)
	}
	l.fds[fd] = p
	l.nfds++
	return p, nil
}

// HungUp reports whether the poller has reported that the peer stopped
// writing (end of file is there to read) or that the fd failed: a state
// that stays, so a read will not block from then on even if no edge comes
// again. A reader that skips its read(2) until the next readable edge (as
// after a short read) must not skip it once HungUp reports true. Never
// parks.
func (p *FD) HungUp() bool { return p.hup }

// Pending reports whether an edge for mode came while no task waited and
// has not been consumed by a Wait since: for Read, that something (data,
// end of file) may have arrived. Never parks.
func (p *FD) Pending(mode Mode) bool { return p.ready&mode != 0 }

// OnHangUp registers fn to be called once, on the loop, when the poller
// first reports a hang-up of the fd (the peer stopped writing, or the fd
// failed), as a server needs to notice a client that went away while a
// request of its is served; if the poller has reported one already, fn is
// called at once. A later call replaces fn; nil removes it. fn runs in
// the loop's poller step, not in a task: it must not park. Never parks.
//
// While a function is registered, the fd counts as waited on for the
// deadlock report (a task may wait for what the function does), though
// not for the virtual clock, which still jumps.
func (p *FD) OnHangUp(fn func()) {
	if fn != nil && p.hup {
		p.setHup(nil)
		fn()
		return
	}
	if p.closed {
		fn = nil
	}
	p.setHup(fn)
}

// setHup sets OnHangUp's function, counting the fds that have one.
func (p *FD) setHup(fn func()) {
	switch {
	case p.onHup == nil && fn != nil:
		p.l.hupWatches++
	case p.onHup != nil && fn == nil:
		p.l.hupWatches--
	}
	p.onHup = fn
}

// Expired reports whether the deadline for mode (Read or Write; see
// SetDeadline) has passed on the loop's clock: a call made after it should
// fail even when it would not have to Wait, as package net's calls do.
// Never parks.
func (p *FD) Expired(mode Mode) bool {
	dl := p.dl[mode-1]
	return dl != 0 && dl <= p.l.now()
}

// Sysfd returns the file descriptor. Never parks.
func (p *FD) Sysfd() int { return p.fd }

// Wait parks the calling task until the fd is ready for mode, and returns
// nil; the readiness may be stale (an edge consumed by a system call made
// since), so the caller retries its call and waits again on EAGAIN. It
// returns os.ErrDeadlineExceeded once the mode's deadline has passed,
// net.ErrClosed once Close was called, or ctx's error. Tasks waiting on the
// same fd and mode are all woken together. May park the calling task.
func (p *FD) Wait(ctx context.Context, mode Mode) error {
	t := taskOf(ctx)
	if t == nil {
		return ErrNoTask
	}
	if t.l != p.l {
		return ErrWrongLoop
	}
	if mode != Read && mode != Write {
		panic("scheduler: FD.Wait with mode " + mode.String())
	}
	if t != t.l.cur || t.killed {
		return t.refuse()
	}
	if p.closed {
		return net.ErrClosed
	}
	if p.ready&mode != 0 {
		p.ready &^= mode
		return nil
	}
	l := p.l
	if dl := p.dl[mode-1]; dl != 0 {
		if dl <= l.now() {
			return os.ErrDeadlineExceeded
		}
		l.timers.Push(&t.tm, dl)
		t.tm.err, t.tm.ctx = os.ErrDeadlineExceeded, nil
	}
	p.waiters[mode-1].push(t)
	t.fdw = p
	l.fdWaits++
	return t.park(ctx, fdWhat[mode-1])
}

// fdWhat is what a task parked on an fd waits on, without the number: no
// report shows it (a loop with fd waits is never deadlocked), and a string
// built per Wait would be an allocation on the hot path of every socket.
var fdWhat = [2]string{"fd read", "fd write"}

// SetDeadline sets the deadline for Waits in mode (Read, Write or both):
// a Wait parked then, or made later, returns os.ErrDeadlineExceeded once the
// loop's clock reaches t. A zero t means no deadline. Moving the deadline
// applies to Waits already parked. Never parks.
func (p *FD) SetDeadline(mode Mode, t time.Time) {
	l := p.l
	var when int64
	if !t.IsZero() {
		when = max(int64(t.Sub(l.base)), 1)
	}
	for m := Read; m <= Write; m++ {
		if mode&m == 0 {
			continue
		}
		p.dl[m-1] = when
		for w := p.waiters[m-1].head; w != nil; {
			next := w.wnext
			if w.tm.ctx != nil && (when == 0 || when >= w.tm.node.When()) {
				// Its ctx's loop deadline comes first (see Task.watch): the
				// fd's is the timer it displaced.
				w.wst.dispWhen, w.wst.dispErr = when, os.ErrDeadlineExceeded
				w = next
				continue
			}
			if w.tm.ctx != nil { // the fd's deadline comes first now: ctx's end comes by its watch
				w.tm.ctx, w.wst.dispWhen, w.wst.dispErr = nil, 0, nil
				w.wst.dl.Store(nil)
			}
			l.timers.Remove(&w.tm)
			switch {
			case when == 0:
			case when <= l.now():
				w.ready(os.ErrDeadlineExceeded)
			default:
				l.timers.Push(&w.tm, when)
				w.tm.err, w.tm.ctx = os.ErrDeadlineExceeded, nil
			}
			w = next
		}
	}
}

// Close removes the fd from the poller and wakes the tasks waiting on it with
// net.ErrClosed. It does not close the fd itself: the caller does, after
// Close, so that the fd number is not reused while still registered. A second
// Close returns net.ErrClosed. Never parks.
func (p *FD) Close() error {
	if p.closed {
		return net.ErrClosed
	}
	p.closed = true
	p.setHup(nil)
	l := p.l
	for m := range p.waiters {
		for w := p.waiters[m].head; w != nil; w = p.waiters[m].head {
			w.ready(net.ErrClosed)
		}
	}
	if p.fd < len(l.fds) && l.fds[p.fd] == p {
		l.fds[p.fd] = nil
		l.nfds--
	}
	if l.state != loopRunning {
		return nil // the poller is gone, and the registration with it
	}
	return l.poller.Delete(p.fd)
}

// fdEvent hands an fd's readiness to the tasks waiting for it, or keeps it
// for the next Wait. Events of an earlier registration of the number are
// dropped.
func (l *Loop) fdEvent(fd int, tag uint32, ev poll.Events) {
	if fd >= len(l.fds) {
		return
	}
	p := l.fds[fd]
	if p == nil || p.tag != tag {
		return
	}
	if ev&poll.Hangup != 0 && !p.hup {
		p.hup = true
		if fn := p.onHup; fn != nil {
			p.setHup(nil)
			fn()
		}
	}
	if ev&poll.Readable != 0 {
		p.wakeAll(Read)
	}
	if ev&poll.Writable != 0 {
		p.wakeAll(Write)
	}
}

func (p *FD) wakeAll(m Mode) {
	w := &p.waiters[m-1]
	if w.head == nil {
		p.ready |= m
		return
	}
	for t := w.head; t != nil; t = w.head {
		t.ready(nil)
	}
}

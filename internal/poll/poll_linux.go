//go:build linux

package poll

import (
	"encoding/binary"
	"errors"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Events is what an fd is ready for.
type Events uint8

const (
	Readable Events = 1 << iota // EPOLLIN, or EPOLLRDHUP/EPOLLHUP/EPOLLERR: a read will not block
	Writable                    // EPOLLOUT, or EPOLLHUP/EPOLLERR: a write will not block
	// Hangup is EPOLLRDHUP, EPOLLHUP or EPOLLERR: the peer has stopped
	// writing, or the fd has failed. Unlike new data, it is a state that
	// stays: reads will not block from then on, whether or not another
	// edge ever comes.
	Hangup
)

// String returns the names of the events joined by "|" ("Readable",
// "Readable|Writable|Hangup"), or "0", for test failures and debugging.
func (e Events) String() string {
	if e == 0 {
		return "0"
	}
	if e >= Hangup<<1 {
		return "Events(" + strconv.Itoa(int(e)) + ")"
	}
	s := ""
	for _, n := range [...]struct {
		e    Events
		name string
	}{{Readable, "Readable"}, {Writable, "Writable"}, {Hangup, "Hangup"}} {
		if e&n.e != 0 {
			if s != "" {
				s += "|"
			}
			s += n.name
		}
	}
	return s
}

// Event is one fd's readiness, as reported by Wait.
type Event struct {
	FD     int32
	Tag    uint32 // the tag the fd was added with
	Events Events
}

// maxEvents is how many events one Wait can return. More ready fds are not
// lost: epoll keeps them on its ready list for the next Wait, and rotates
// the list, so that no fd is starved.
const maxEvents = 128

// registered is the interest of every fd added with Add.
const registered = unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET

// Poller is an epoll instance and the eventfd that wakes it. Create one with
// New; the zero Poller is not usable. A Poller must not be copied (its mutex
// field lets go vet's copylocks check catch a copy).
type Poller struct {
	// mu orders Wake against Close. Wake must never write to efd once
	// Close has closed it: by then the number may name another file, and
	// the write would put 8 bytes into it. An atomic "closed" flag checked
	// before the write is not enough, because Close could run between the
	// check and the write. So Wake holds mu for reading across both, and
	// Close holds it for writing while it sets closed and closes the fds:
	// Close waits for Wakes in flight, and a Wake that starts later sees
	// closed. Wakes from many goroutines still run in parallel, and the
	// read lock costs two atomic adds beside Wake's write(2).
	mu sync.RWMutex

	// closed is set once, by Close, with mu held for writing. Wake reads it
	// with mu held for reading. Add, Delete and Wait read it without mu:
	// they run on the loop's goroutine, as Close does, so they are ordered
	// with Close already.
	closed bool

	epfd int     // the epoll instance; fixed from New until Close closes it
	efd  int     // the eventfd, registered level-triggered; same lifetime as epfd
	one  [8]byte // 1 as a native-endian uint64, what Wake writes; read-only after New

	// file is epfd as an *os.File in the runtime's own poller, where a
	// Wait that finds nothing parks (see the package doc); rc is its raw
	// conn, and ready the function rc.Read calls, made once in New so that
	// no Wait allocates a closure. Closing file closes epfd.
	file  *os.File
	rc    syscall.RawConn
	ready func(fd uintptr) bool

	// Owned by the goroutine that calls Wait: the buffers that Wait fills
	// and the slice it returns points into; what ready saw; whether file
	// has a read deadline set.
	drain    [8]byte
	raw      [maxEvents]unix.EpollEvent
	out      [maxEvents]Event
	n        int
	err      error
	deadline bool
}

// New creates a Poller: an epoll instance, and an eventfd registered in it
// for Wake. Both are close-on-exec. If a step fails, New closes what it had
// opened and returns the errors joined.
func New() (*Poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, os.NewSyscallError("epoll_create1", err)
	}
	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, errors.Join(os.NewSyscallError("eventfd", err), closeFD(epfd))
	}
	// Level-triggered, unlike the fds added with Add: see the package doc.
	ev := unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(efd)}
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, efd, &ev); err != nil {
		return nil, errors.Join(os.NewSyscallError("epoll_ctl", err), closeFD(efd), closeFD(epfd))
	}
	// The runtime's poller takes epfd only in non-blocking mode, and its
	// read deadline is the timeout of a Wait that parks.
	if err := unix.SetNonblock(epfd, true); err != nil {
		return nil, errors.Join(os.NewSyscallError("fcntl", err), closeFD(efd), closeFD(epfd))
	}
	file := os.NewFile(uintptr(epfd), "epoll")
	rc, err := file.SyscallConn()
	if err == nil {
		err = file.SetReadDeadline(time.Time{}) // fails unless the runtime's poller took it
	}
	if err != nil {
		return nil, errors.Join(err, closeFD(efd), file.Close())
	}
	p := &Poller{epfd: epfd, efd: efd, file: file, rc: rc}
	binary.NativeEndian.PutUint64(p.one[:], 1)
	p.ready = func(uintptr) bool {
		p.n, p.err = p.poll()
		return p.n > 0 || p.err != nil
	}
	return p, nil
}

// Add registers fd for reading and writing, edge-triggered, until Delete.
// Its events carry tag, so that the caller can tell them from events of an
// older registration of the same fd number (see the package doc). An fd that
// is ready already is reported once at the next Wait. Adding an fd that is
// registered already fails with unix.EEXIST.
func (p *Poller) Add(fd int, tag uint32) error {
	if p.closed {
		return os.ErrClosed
	}
	ev := unix.EpollEvent{Events: registered, Fd: int32(fd), Pad: int32(tag)}
	return os.NewSyscallError("epoll_ctl", unix.EpollCtl(p.epfd, unix.EPOLL_CTL_ADD, fd, &ev))
}

// Delete unregisters fd. Call it before closing fd: once the number is
// closed, a registration that outlives it can no longer be deleted. Wait
// reports no event of the deleted registration, but a batch that an earlier
// Wait returned may still hold some. Deleting an fd that is not registered
// fails with unix.ENOENT.
func (p *Poller) Delete(fd int) error {
	if p.closed {
		return os.ErrClosed
	}
	return os.NewSyscallError("epoll_ctl", unix.EpollCtl(p.epfd, unix.EPOLL_CTL_DEL, fd, nil))
}

// Wait waits for readiness and returns the events of the added fds, and
// whether a Wake arrived. A negative timeout waits until an event or a Wake;
// zero polls without waiting; a positive timeout waits until that much time
// has passed, give or take the millisecond that the runtime's poller may
// add. A Wait that finds nothing ready parks its goroutine in the runtime's
// poller rather than block its thread in epoll_wait (see the package doc),
// and looks at the ready list at least once, even when its timeout is too
// short to park.
//
// The slice belongs to the Poller and is valid until the next Wait; it holds
// at most 128 events, and any further ready fds are reported by the next
// Wait. The eventfd itself is never in it: woken reports it instead, and
// Wait resets the wake-up counter before it returns. If resetting the
// counter fails, Wait still returns the events it collected, with woken true
// and the error.
func (p *Poller) Wait(timeout time.Duration) (events []Event, woken bool, err error) {
	// Hot path: one epoll_wait when something is ready; otherwise a park in
	// the runtime's poller (no thread blocks in a system call) and a second
	// epoll_wait once it wakes; plus one read(2) when woken. No
	// allocation. Keep it so.
	if p.closed {
		return nil, false, os.ErrClosed
	}
	var n int
	if timeout == 0 {
		n, err = p.poll()
	} else {
		n, err = p.park(timeout)
	}
	if err != nil {
		return nil, false, err
	}
	events = p.out[:0]
	efd := int32(p.efd)
	for i := range n {
		ev := &p.raw[i]
		if ev.Fd == efd {
			woken = true
			continue
		}
		events = append(events, Event{FD: ev.Fd, Tag: uint32(ev.Pad), Events: readiness(ev.Events)})
	}
	if woken {
		err = p.drainWakes()
	}
	return events, woken, err
}

// poll is epoll_wait with a zero timeout into p.raw. It never blocks, so it
// is made as a raw system call: entering an ordinary one tells the runtime's
// monitor thread, and wakes it from its sleep if it was idle, for a call
// that returns in a microsecond. EINTR is retried.
func (p *Poller) poll() (int, error) {
	for {
		r, _, e := unix.RawSyscall6(unix.SYS_EPOLL_PWAIT, uintptr(p.epfd),
			uintptr(unsafe.Pointer(&p.raw[0])), maxEvents, 0, 0, 0)
		switch e {
		case 0:
			return int(r), nil
		case unix.EINTR:
			continue
		}
		return 0, os.NewSyscallError("epoll_wait", e)
	}
}

// park polls, and while nothing is ready parks the goroutine in the
// runtime's poller until the epoll fd becomes readable or timeout passes
// (never, if it is negative), then polls again.
func (p *Poller) park(timeout time.Duration) (int, error) {
	var err error
	switch {
	case timeout > 0:
		err = p.file.SetReadDeadline(time.Now().Add(timeout))
		p.deadline = true
	case p.deadline:
		err = p.file.SetReadDeadline(time.Time{})
		p.deadline = false
	}
	if err != nil {
		return 0, err
	}
	p.n, p.err = 0, nil
	switch err := p.rc.Read(p.ready); {
	case err == nil:
		return p.n, p.err
	case errors.Is(err, os.ErrDeadlineExceeded):
		// rc.Read does not call ready at all once the deadline has
		// passed: look here, so that a run of short timeouts cannot keep
		// the fds from being polled.
		return p.poll()
	default:
		return 0, err
	}
}

// Wake makes the current Wait return, or the next one if no Wait is in
// progress, with woken true. Wakes before that Wait merge into one. Safe to
// call from any goroutine. Never blocks, except that a Wake racing Close
// waits for Close to finish and then returns os.ErrClosed.
func (p *Poller) Wake() error {
	// Hot path: an uncontended read lock (two atomic adds) and one
	// write(2). The lock is what makes Wake safe against Close; see mu.
	p.mu.RLock()
	defer p.mu.RUnlock()
	if p.closed {
		return os.ErrClosed
	}
	for {
		_, err := unix.Write(p.efd, p.one[:])
		switch err {
		case nil, unix.EAGAIN: // EAGAIN: the counter is saturated, so a wake-up is pending
			return nil
		case unix.EINTR:
			continue
		}
		return os.NewSyscallError("write", err)
	}
}

// Close closes the eventfd and the epoll instance and returns their close
// errors joined. Registrations need no Delete first: they go with the epoll
// instance. It waits for Wakes in flight; later calls of any method return
// os.ErrClosed, and so does a second Close.
func (p *Poller) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return os.ErrClosed
	}
	p.closed = true
	return errors.Join(closeFD(p.efd), p.file.Close())
}

// drainWakes resets the eventfd's counter to 0. EAGAIN means it was 0
// already: the Wake that made it ready was drained by an earlier read.
func (p *Poller) drainWakes() error {
	for {
		_, err := unix.Read(p.efd, p.drain[:])
		switch err {
		case nil, unix.EAGAIN:
			return nil
		case unix.EINTR:
			continue
		}
		return os.NewSyscallError("read", err)
	}
}

// readiness folds epoll's flags into the two directions the caller acts on.
// EPOLLHUP and EPOLLERR make both ready: the call returns instead of
// blocking, with end of file or the error.
func readiness(flags uint32) Events {
	var e Events
	if flags&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		e |= Readable
	}
	if flags&(unix.EPOLLOUT|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		e |= Writable
	}
	if flags&(unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		e |= Hangup
	}
	return e
}

// closeFD closes fd. The error, if any, says which call failed. An fd is
// closed even when close(2) reports an error, so it is never retried.
func closeFD(fd int) error {
	return os.NewSyscallError("close", unix.Close(fd))
}

//go:build linux

package poll_test

import (
	"errors"
	"os"
	"testing"
	"time"

	"github.com/evergo/evergo/internal/poll"
	"golang.org/x/sys/unix"
)

// newPoller returns a Poller that the test's cleanup closes, unless the test
// closed it itself.
func newPoller(t testing.TB) *poll.Poller {
	t.Helper()
	p, err := poll.New()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := p.Close(); err != nil && !errors.Is(err, os.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return p
}

// sock is one end of a socketpair. close closes it at most once, so that a
// test may close it early and the cleanup does not close a number that
// something else has reused since.
type sock struct {
	t      testing.TB
	fd     int
	closed bool
}

func (s *sock) close() {
	s.t.Helper()
	if s.closed {
		return
	}
	s.closed = true
	if err := unix.Close(s.fd); err != nil {
		s.t.Errorf("close %d: %v", s.fd, err)
	}
}

func (s *sock) write(data string) {
	s.t.Helper()
	if n, err := unix.Write(s.fd, []byte(data)); err != nil || n != len(data) {
		s.t.Fatalf("write %d: n=%d, err=%v", s.fd, n, err)
	}
}

// own makes the test's cleanup close fd.
func own(t testing.TB, fd int) *sock {
	s := &sock{t: t, fd: fd}
	t.Cleanup(s.close)
	return s
}

// socketpair returns the two ends of a connected, non-blocking Unix stream
// socket pair.
func socketpair(t testing.TB) (a, b *sock) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(os.NewSyscallError("socketpair", err))
	}
	return own(t, fds[0]), own(t, fds[1])
}

// socketpairAt is socketpair with its second end at number num, which must
// be free: a new file under a reused number, made deterministic. The kernel
// hands out the lowest free number, so an end may land on num by itself;
// otherwise dup3 moves one there.
func socketpairAt(t testing.TB, num int) (a, b *sock) {
	t.Helper()
	a, tmp := socketpair(t)
	switch num {
	case tmp.fd:
		return a, tmp
	case a.fd:
		return tmp, a
	}
	if err := unix.Dup3(tmp.fd, num, unix.O_CLOEXEC); err != nil {
		t.Fatal(os.NewSyscallError("dup3", err))
	}
	b = own(t, num)
	tmp.close()
	return a, b
}

// waitFor calls Wait(-1) until it returns an event for fd, and returns the
// first one. Call it only when an event for fd is due, or it blocks for ever.
func waitFor(t testing.TB, p *poll.Poller, fd int) poll.Event {
	t.Helper()
	for {
		evs, _, err := p.Wait(-1)
		if err != nil {
			t.Fatalf("Wait: %v", err)
		}
		for _, ev := range evs {
			if int(ev.FD) == fd {
				return ev
			}
		}
	}
}

// expectNothing fails the test if Wait(0) reports an event or a wake-up.
func expectNothing(t testing.TB, p *poll.Poller) {
	t.Helper()
	evs, woken, err := p.Wait(0)
	if err != nil || len(evs) != 0 || woken {
		t.Fatalf("Wait(0) = %v, woken=%v, err=%v; want nothing", evs, woken, err)
	}
}

func add(t testing.TB, p *poll.Poller, fd int, tag uint32) {
	t.Helper()
	if err := p.Add(fd, tag); err != nil {
		t.Fatalf("Add(%d, %d): %v", fd, tag, err)
	}
}

func TestWaitReportsReadableSocket(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 7)
	waitFor(t, p, b.fd) // a new socket is writable: the edge of the Add
	a.write("x")
	ev := waitFor(t, p, b.fd)
	if ev.Tag != 7 || ev.Events&poll.Readable == 0 {
		t.Fatalf("event = %+v; want tag 7, Readable", ev)
	}
}

func TestWaitZeroTimeoutDoesNotBlock(t *testing.T) {
	p := newPoller(t)
	expectNothing(t, p)
}

func TestWaitTimesOutWithoutEvents(t *testing.T) {
	p := newPoller(t)
	evs, woken, err := p.Wait(5 * time.Millisecond)
	if err != nil || len(evs) != 0 || woken {
		t.Fatalf("Wait(5ms) = %v, woken=%v, err=%v; want nothing", evs, woken, err)
	}
}

func TestTimeoutTooShortToParkStillReportsReadyFd(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	waitFor(t, p, b.fd) // the Writable edge of the Add
	a.write("x")
	// A nanosecond has passed before the runtime's poller is asked: the
	// deadline alone would end the Wait without a look at the ready list.
	evs, _, err := p.Wait(1)
	if err != nil || len(evs) != 1 || evs[0].FD != int32(b.fd) || evs[0].Events&poll.Readable == 0 {
		t.Fatalf("Wait(1ns) = %v, err=%v; want fd %d Readable", evs, err, b.fd)
	}
}

func TestWaitForeverAfterATimeoutWaitsForAWake(t *testing.T) {
	p := newPoller(t)
	if evs, woken, err := p.Wait(time.Millisecond); err != nil || len(evs) != 0 || woken {
		t.Fatalf("Wait(1ms) = %v, woken=%v, err=%v; want nothing", evs, woken, err)
	}
	// The deadline of the timed Wait has passed: left set, it would end
	// the next one at once, with nothing.
	waitForWakeFromGoroutine(t, p)
}

func TestAlreadyReadableFdReportsOnceOnAdd(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	a.write("before Add")
	add(t, p, b.fd, 1)
	evs, _, err := p.Wait(-1) // the event is due, so this does not block
	if err != nil {
		t.Fatal(err)
	}
	if len(evs) != 1 || int(evs[0].FD) != b.fd || evs[0].Events != poll.Readable|poll.Writable {
		t.Fatalf("first Wait = %v; want one Readable|Writable event for fd %d", evs, b.fd)
	}
	expectNothing(t, p) // edge-triggered: unread data makes no second event
}

func TestPeerShutdownReportsReadable(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	waitFor(t, p, b.fd)
	if err := unix.Shutdown(a.fd, unix.SHUT_WR); err != nil {
		t.Fatal(err)
	}
	if ev := waitFor(t, p, b.fd); ev.Events&poll.Readable == 0 {
		t.Fatalf("event = %+v; want Readable", ev)
	}
	if n, err := unix.Read(b.fd, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("read = %d, %v; want end of file", n, err)
	}
}

func TestPeerCloseReportsBothDirections(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	waitFor(t, p, b.fd)
	a.close()
	if ev := waitFor(t, p, b.fd); ev.Events != poll.Readable|poll.Writable|poll.Hangup {
		t.Fatalf("event = %+v; want Readable|Writable|Hangup", ev)
	}
	if n, err := unix.Read(b.fd, make([]byte, 1)); n != 0 || err != nil {
		t.Fatalf("read = %d, %v; want end of file", n, err)
	}
	if err := unix.Sendto(b.fd, []byte("x"), unix.MSG_NOSIGNAL, nil); !errors.Is(err, unix.EPIPE) {
		t.Fatalf("send = %v; want EPIPE", err)
	}
}

func TestAddTwiceFailsWithEEXIST(t *testing.T) {
	p := newPoller(t)
	_, b := socketpair(t)
	add(t, p, b.fd, 1)
	if err := p.Add(b.fd, 2); !errors.Is(err, unix.EEXIST) {
		t.Fatalf("second Add = %v; want EEXIST", err)
	}
}

func TestDeleteStopsEvents(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	waitFor(t, p, b.fd)
	if err := p.Delete(b.fd); err != nil {
		t.Fatal(err)
	}
	a.write("x")
	expectNothing(t, p)
	if err := p.Delete(b.fd); !errors.Is(err, unix.ENOENT) {
		t.Fatalf("second Delete = %v; want ENOENT", err)
	}
}

func TestReusedFdNumberCarriesNewTag(t *testing.T) {
	p := newPoller(t)
	_, old := socketpair(t)
	num := old.fd
	add(t, p, num, 1)
	waitFor(t, p, num)
	if err := p.Delete(num); err != nil {
		t.Fatal(err)
	}
	old.close()

	peer, reused := socketpairAt(t, num)
	add(t, p, reused.fd, 2)
	if ev := waitFor(t, p, num); ev.Tag != 2 {
		t.Fatalf("event after Add = %+v; want tag 2", ev)
	}
	peer.write("x")
	if ev := waitFor(t, p, num); ev.Tag != 2 || ev.Events&poll.Readable == 0 {
		t.Fatalf("event = %+v; want tag 2, Readable", ev)
	}
}

// The fact at the top of the package doc: closing an fd whose description
// is open elsewhere leaves its registration alive, beyond reach of Delete,
// reporting under a number that now names another file. Only the tag tells
// the two registrations apart.
func TestStaleRegistrationOfDupedFdKeepsOldTag(t *testing.T) {
	p := newPoller(t)
	oldPeer, old := socketpair(t)
	num := old.fd
	add(t, p, num, 1)
	waitFor(t, p, num)
	dupFD, err := unix.Dup(num)
	if err != nil {
		t.Fatal(err)
	}
	own(t, dupFD) // keeps the old description open, as a child process would
	old.close()   // without Delete
	if err := p.Delete(num); !errors.Is(err, unix.EBADF) {
		t.Fatalf("Delete of the closed number = %v; want EBADF", err)
	}

	newPeer, reused := socketpairAt(t, num)
	add(t, p, reused.fd, 2)
	if ev := waitFor(t, p, num); ev.Tag != 2 {
		t.Fatalf("event after Add = %+v; want tag 2", ev)
	}
	oldPeer.write("to the old file")
	if ev := waitFor(t, p, num); ev.Tag != 1 || ev.Events&poll.Readable == 0 {
		t.Fatalf("event = %+v; want tag 1 (the stale registration), Readable", ev)
	}
	newPeer.write("to the new file")
	if ev := waitFor(t, p, num); ev.Tag != 2 || ev.Events&poll.Readable == 0 {
		t.Fatalf("event = %+v; want tag 2, Readable", ev)
	}
}

func TestWaitDoesNotAllocate(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	buf := []byte{1}
	rounds, bad := 0, 0
	round := func() { // AllocsPerRun runs one more, uncounted, first
		rounds++
		if _, err := unix.Write(a.fd, buf); err != nil {
			t.Fatal(err)
		}
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
		if evs, woken, err := p.Wait(0); err != nil || len(evs) != 1 || !woken {
			bad++
		}
		if _, err := unix.Read(b.fd, buf); err != nil { // empty again: the next write is an edge
			t.Fatal(err)
		}
	}
	if allocs := testing.AllocsPerRun(100, round); allocs != 0 {
		t.Errorf("Wake + Wait(0) allocates %v times; want 0", allocs)
	}
	if bad != 0 {
		t.Errorf("%d of %d rounds did not report one event and woken", bad, rounds)
	}
}

func TestEventsString(t *testing.T) {
	for e, want := range map[poll.Events]string{
		0:                             "0",
		poll.Readable:                 "Readable",
		poll.Writable:                 "Writable",
		poll.Readable | poll.Writable: "Readable|Writable",
		poll.Readable | poll.Hangup:   "Readable|Hangup",
		8:                             "Events(8)",
	} {
		if got := e.String(); got != want {
			t.Errorf("Events(%d).String() = %q; want %q", uint8(e), got, want)
		}
	}
}

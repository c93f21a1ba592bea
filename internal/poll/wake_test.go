//go:build linux

package poll_test

import (
	"errors"
	"os"
	"testing"

	"github.com/evergo/evergo/internal/poll"
)

func TestWakeFromAnotherGoroutineEndsWait(t *testing.T) {
	waitForWakeFromGoroutine(t, newPoller(t))
}

// waitForWakeFromGoroutine calls Wait(-1) while another goroutine Wakes p,
// and fails the test unless it returns woken, with no events.
func waitForWakeFromGoroutine(t *testing.T, p *poll.Poller) {
	t.Helper()
	errc := make(chan error, 1)
	go func() { errc <- p.Wake() }()
	if evs, woken, err := p.Wait(-1); err != nil || len(evs) != 0 || !woken {
		t.Fatalf("Wait(-1) = %v, woken=%v, err=%v; want woken", evs, woken, err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("Wake: %v", err)
	}
}

func TestManyWakesMergeIntoOne(t *testing.T) {
	p := newPoller(t)
	for range 100 {
		if err := p.Wake(); err != nil {
			t.Fatal(err)
		}
	}
	evs, woken, err := p.Wait(0)
	if err != nil || len(evs) != 0 || !woken {
		t.Fatalf("Wait(0) = %v, woken=%v, err=%v; want woken only", evs, woken, err)
	}
	expectNothing(t, p)
}

func TestWakeWhileBusyIsSeenByNextWait(t *testing.T) {
	p := newPoller(t)
	a, b := socketpair(t)
	add(t, p, b.fd, 1)
	waitFor(t, p, b.fd)
	if err := p.Wake(); err != nil {
		t.Fatal(err)
	}
	a.write("x")
	evs, woken, err := p.Wait(-1)
	if err != nil || len(evs) != 1 || !woken {
		t.Fatalf("Wait = %v, woken=%v, err=%v; want one event and woken", evs, woken, err)
	}
}

func TestWakeAfterCloseReturnsErrClosed(t *testing.T) {
	p := newPoller(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Wake(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("Wake after Close = %v; want os.ErrClosed", err)
	}
}

func TestWakeRacingCloseReturnsNilOrErrClosed(t *testing.T) {
	p := newPoller(t)
	const wakers = 4
	started := make(chan struct{}, wakers)
	errc := make(chan error, wakers)
	for range wakers {
		go func() {
			started <- struct{}{}
			for {
				switch err := p.Wake(); {
				case errors.Is(err, os.ErrClosed):
					errc <- nil
					return
				case err != nil:
					errc <- err
					return
				}
			}
		}()
	}
	for range wakers {
		<-started
	}
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	for range wakers {
		if err := <-errc; err != nil {
			t.Errorf("Wake: %v", err)
		}
	}
}

func TestCloseTwice(t *testing.T) {
	p := newPoller(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Close(); !errors.Is(err, os.ErrClosed) {
		t.Fatalf("second Close = %v; want os.ErrClosed", err)
	}
}

func TestMethodsAfterCloseReturnErrClosed(t *testing.T) {
	p := newPoller(t)
	_, b := socketpair(t)
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if err := p.Add(b.fd, 1); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Add = %v; want os.ErrClosed", err)
	}
	if err := p.Delete(b.fd); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Delete = %v; want os.ErrClosed", err)
	}
	if _, _, err := p.Wait(0); !errors.Is(err, os.ErrClosed) {
		t.Errorf("Wait = %v; want os.ErrClosed", err)
	}
}

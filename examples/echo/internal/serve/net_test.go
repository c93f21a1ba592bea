package serve_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/echo/internal/serve"
)

// recordSleep is a sleep for Net that returns at once and appends its
// wait to *waits.
func recordSleep(waits *[]time.Duration) func(context.Context, time.Duration) error {
	return func(_ context.Context, d time.Duration) error {
		*waits = append(*waits, d)
		return nil
	}
}

// echoOnce dials addr, sends msg and checks that it comes back.
func echoOnce(t *testing.T, addr, msg string) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Write([]byte(msg)); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != msg {
		t.Fatalf("got %q back, want %q", got, msg)
	}
}

func TestNetWaitsOutAcceptErrorsThenServesClientsAndStartsOverAfterEach(t *testing.T) {
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	ln := &scriptListener{
		Listener: real,
		steps: []step{
			{err: acceptErr(syscall.EMFILE)},
			{err: acceptErr(syscall.ENFILE)},
			{err: acceptErr(syscall.ENOBUFS)},
			{}, // the first client
			{err: acceptErr(syscall.ECONNABORTED)},
			{err: acceptErr(syscall.EMFILE)},
			{}, // the second client
		},
	}
	var waits []time.Duration
	done := make(chan error, 1)
	go func() { done <- serve.Net(context.Background(), ln, serve.Echo, recordSleep(&waits), nil) }()
	echoOnce(t, real.Addr().String(), "first")
	echoOnce(t, real.Addr().String(), "second")
	real.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Net returned %v, want net.ErrClosed", err)
	}
	if got, want := fmt.Sprint(waits), "[5ms 10ms 20ms 5ms 10ms]"; got != want {
		t.Errorf("waits %s, want %s", got, want)
	}
}

func TestNetEndsAtOnceOnAnErrorThatIsNotTemporary(t *testing.T) {
	for _, stop := range []error{closedErr(), acceptErr(syscall.EINVAL)} {
		ln := &scriptListener{steps: []step{{err: stop}, {err: acceptErr(syscall.EMFILE)}}}
		var waits []time.Duration
		if err := serve.Net(context.Background(), ln, serve.Echo, recordSleep(&waits), nil); err != stop {
			t.Errorf("Net returned %v, want %v", err, stop)
		}
		if ln.calls != 1 || len(waits) != 0 {
			t.Errorf("after %v: %d Accept calls and waits %v, want 1 and none", stop, ln.calls, waits)
		}
	}
}

func TestNetInBackoffEndsWhenCtxIsDone(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	ln := &scriptListener{steps: []step{{err: acceptErr(syscall.EMFILE)}}}
	// The default sleep: ctx is done, so the first wait ends at once.
	if err := serve.Net(ctx, ln, serve.Echo, nil, nil); err != context.Canceled {
		t.Errorf("Net returned %v, want context.Canceled", err)
	}
	if ln.calls != 1 {
		t.Errorf("%d Accept calls, want 1", ln.calls)
	}
}

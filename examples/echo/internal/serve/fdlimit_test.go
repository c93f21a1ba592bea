package serve_test

import (
	"context"
	"errors"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/echo/internal/serve"
	"github.com/evergo/evergo/internal/fdtest"
)

// The test here runs out of file descriptors for real, under a lowered
// RLIMIT_NOFILE, so it runs in a child process of its own. (ioco's
// TestServerServesAgainOnceRealEMFILEsAreOver is its evergo twin.)

// watchListener is a listener that shows each error of Accept to onErr
// before it returns it.
type watchListener struct {
	net.Listener
	onErr func(error)
}

func (l *watchListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		l.onErr(err)
	}
	return c, err
}

// releaseAfter returns an onErr for watchListener that counts EMFILEs in
// *n and calls release at the third.
func releaseAfter(n *int, release func()) func(error) {
	return func(err error) {
		if errors.Is(err, syscall.EMFILE) {
			if *n++; *n == 3 {
				release()
			}
		}
	}
}

func TestNetServesAgainOnceRealEMFILEsAreOver(t *testing.T) {
	if !fdtest.InChild(t) {
		return
	}
	real, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	c, err := net.Dial("tcp", real.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	emfiles := 0
	ln := &watchListener{Listener: real, onErr: releaseAfter(&emfiles, fdtest.UseUp(t))}
	var waits []time.Duration
	done := make(chan error, 1)
	go func() {
		err := serve.Net(context.Background(), ln, serve.Echo, recordSleep(&waits), t.Logf)
		c.Close() // a server that gave up fails the client's read
		done <- err
	}()
	if _, err := c.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(c, got); err != nil {
		t.Fatal(err)
	}
	if string(got) != "hello" {
		t.Errorf("got %q back, want %q", got, "hello")
	}
	c.Close() // the echo goroutine ends, and Net waits for it
	real.Close()
	if err := <-done; !errors.Is(err, net.ErrClosed) {
		t.Errorf("Net returned %v, want net.ErrClosed", err)
	}
	if emfiles != 3 || len(waits) != 3 {
		t.Errorf("Accept failed with EMFILE %d times and Net waited %v, want 3 times", emfiles, waits)
	}
}

package ioco_test

import (
	"bytes"
	"context"
	"errors"
	"log"
	"net"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// The test here runs out of file descriptors for real, under a lowered
// RLIMIT_NOFILE, so it runs in a child process of its own (as net/http's
// TestAcceptMaxFds fakes, and x/sync's crash tests run apart).

// fdLimitChildEnv names, in a child process, the test it is for.
const fdLimitChildEnv = "IOCO_FDLIMIT_CHILD"

// inFDLimitChild reports whether t runs in its child process. Outside it,
// it runs t there, fails t unless it passed, and reports false.
func inFDLimitChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(fdLimitChildEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), fdLimitChildEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	return false
}

// useUpFDs lowers the soft RLIMIT_NOFILE to 256 and opens /dev/null until
// open fails with EMFILE. It returns the function that closes those files.
func useUpFDs(t *testing.T) (release func()) {
	t.Helper()
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	lim.Cur = min(256, lim.Max)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		t.Fatal(err)
	}
	var fds []int
	for {
		fd, err := syscall.Open("/dev/null", syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			if err != syscall.EMFILE {
				t.Fatalf("open /dev/null: %v", err)
			}
			break
		}
		fds = append(fds, fd)
	}
	return func() {
		for _, fd := range fds {
			if err := syscall.Close(fd); err != nil {
				t.Errorf("close: %v", err)
			}
		}
		fds = nil
	}
}

func TestServerServesAgainOnceRealEMFILEsAreOver(t *testing.T) {
	if !inFDLimitChild(t) {
		return
	}
	var logged bytes.Buffer
	emfiles := 0
	runLoop(t, func(ctx context.Context) error {
		noLeak := leakCheck(t, ctx)
		real, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		// The client connects while descriptors are left: its connection
		// waits in the backlog while Accept fails.
		c, err := ioco.Dial(ctx, "tcp", real.Addr().String())
		if err != nil {
			return err
		}
		defer c.Close()
		release := useUpFDs(t)
		ln := &hookListener{Listener: real, after: func(err error) {
			if errors.Is(err, syscall.EMFILE) {
				if emfiles++; emfiles == 3 {
					release()
				}
			}
		}}
		s := &ioco.Server{ErrorLog: log.New(&logged, "", 0), Handler: func(ctx context.Context, c net.Conn) {
			buf := make([]byte, 16)
			n, _ := c.Read(buf)
			c.Write(buf[:n])
		}}
		serve, err := scheduler.Go(ctx, func(ctx context.Context) error { return s.Serve(ctx, ln) })
		if err != nil {
			return err
		}
		if err := roundTrip(c, "hello"); err != nil {
			return err
		}
		c.Close()
		if err := shutdownServed(ctx, s, serve); err != nil {
			return err
		}
		noLeak()
		return nil
	})
	if emfiles != 3 {
		t.Errorf("Accept failed with EMFILE %d times, want 3", emfiles)
	}
	if n := strings.Count(logged.String(), "too many open files; retrying in"); n != 3 {
		t.Errorf("%d accept errors logged, want 3:\n%s", n, logged.String())
	}
}

// Package fdtest runs tests that use up the process's file descriptors
// for real, under a lowered RLIMIT_NOFILE: each in a child process of its
// own (as net/http's TestAcceptMaxFds fakes, and x/sync's crash tests run
// apart), so that the limit and the files held open never reach the other
// tests.
package fdtest

import (
	"bytes"
	"os"
	"os/exec"
	"syscall"
	"testing"
)

// childEnv names, in a child process, the test it is for.
const childEnv = "EVERGO_FDTEST_CHILD"

// InChild reports whether t runs in its child process. Outside it, it
// runs t there, fails t unless it passed, and reports false: the caller
// returns.
func InChild(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == t.Name() {
		return true
	}
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1", "-test.timeout=2m")
	cmd.Env = append(os.Environ(), childEnv+"="+t.Name())
	out, err := cmd.CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("--- PASS: "+t.Name())) {
		t.Fatalf("child process: %v\n%s", err, out)
	}
	return false
}

// UseUp lowers the soft RLIMIT_NOFILE to 256 and opens /dev/null until
// open fails with EMFILE. It returns the function that closes those
// files. Call it in the child process only (see InChild).
func UseUp(t *testing.T) (release func()) {
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

//go:build linux

package poll_test

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(fdCheck{m})
}

// fdCheck fails a passing run that ends with more or fewer open fds than it
// began with: every test closes what it opens.
type fdCheck struct{ m *testing.M }

func (c fdCheck) Run() int {
	// The runtime opens an epoll fd and an eventfd of its own the first
	// time it polls a file; make it do so before counting.
	if err := initNetpoll(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	before, err := openFDs()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	code := c.m.Run()
	after, err := openFDs()
	switch {
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		return 1
	case code == 0 && after != before:
		fmt.Fprintf(os.Stderr, "poll_test: %d fds open before the tests, %d after\n", before, after)
		return 1
	}
	return code
}

func openFDs() (int, error) {
	es, err := os.ReadDir("/proc/self/fd")
	return len(es), err
}

// initNetpoll opens and closes an os.Pipe, which the runtime polls.
func initNetpoll() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	return errors.Join(r.Close(), w.Close())
}

package serve_test

import (
	"errors"
	"fmt"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/echo/internal/serve"
)

func TestTemporaryIsTrueForShortOfResourcesErrorsOnly(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{acceptErr(syscall.EMFILE), true},
		{acceptErr(syscall.ENFILE), true},
		{acceptErr(syscall.ENOBUFS), true},
		{acceptErr(syscall.ECONNABORTED), true},
		{fmt.Errorf("wrapped: %w", acceptErr(syscall.EMFILE)), true},
		{syscall.EMFILE, true},
		{closedErr(), false},
		{net.ErrClosed, false},
		{acceptErr(syscall.EINVAL), false},
		{acceptErr(syscall.EBADF), false},
		{&net.OpError{Op: "accept", Net: "tcp", Err: os.ErrDeadlineExceeded}, false},
		{errors.New("accept4: too many open files"), false}, // a message is not an errno
	} {
		if got := serve.Temporary(tc.err); got != tc.want {
			t.Errorf("Temporary(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}

func TestBackoffDoublesFromFiveMillisecondsToOneSecondAndResets(t *testing.T) {
	var b serve.Backoff
	var got []time.Duration
	for range 10 {
		got = append(got, b.Next())
	}
	b.Reset()
	got = append(got, b.Next())
	want := []time.Duration{5, 10, 20, 40, 80, 160, 320, 640, 1000, 1000, 5}
	for i := range want {
		want[i] *= time.Millisecond
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("waits %v, want %v", got, want)
	}
}

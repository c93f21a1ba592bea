//go:build linux

package poll_test

import (
	"fmt"

	"github.com/evergo/evergo/internal/poll"
	"golang.org/x/sys/unix"
)

// One loop iteration's worth: an fd becomes readable, another goroutine
// wakes the loop, and one Wait reports both.
func Example() {
	p, err := poll.New()
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		if err := p.Close(); err != nil {
			fmt.Println(err)
		}
	}()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer func() {
		for _, fd := range fds {
			if err := unix.Close(fd); err != nil {
				fmt.Println(err)
			}
		}
	}()

	if err := p.Add(fds[1], 42); err != nil {
		fmt.Println(err)
		return
	}
	if _, err := unix.Write(fds[0], []byte("ping")); err != nil {
		fmt.Println(err)
		return
	}
	done := make(chan error)
	go func() { done <- p.Wake() }()
	if err := <-done; err != nil {
		fmt.Println(err)
		return
	}

	events, woken, err := p.Wait(-1) // both are pending: returns at once
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, ev := range events {
		fmt.Println("tag", ev.Tag, ev.Events)
	}
	fmt.Println("woken:", woken)
	// Output:
	// tag 42 Readable|Writable
	// woken: true
}

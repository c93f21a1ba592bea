package scheduler_test

import (
	"context"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// OnHangUp's function runs once, on the loop, when the peer shuts its
// writing side; registered after that, it runs at once.
func TestOnHangUpRunsOnceWhenThePeerStopsWriting(t *testing.T) {
	a, b := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fd.Close()
		calls := 0
		me := scheduler.Current(ctx)
		fd.OnHangUp(func() { calls++; me.Wake() })
		if err := unix.Shutdown(b, unix.SHUT_WR); err != nil {
			return err
		}
		if err := scheduler.Park(ctx, "the hang-up"); err != nil {
			return err
		}
		if calls != 1 || !fd.HungUp() {
			t.Errorf("after the hang-up: %d calls, HungUp %v; want 1 call and true", calls, fd.HungUp())
		}
		late := 0
		fd.OnHangUp(func() { late++ })
		if late != 1 {
			t.Errorf("registered after the hang-up: %d calls, want 1 at once", late)
		}
		return nil
	})
}

// A removed function is not called.
func TestOnHangUpNilRemovesTheFunction(t *testing.T) {
	a, b := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fd.Close()
		called := false
		fd.OnHangUp(func() { called = true })
		fd.OnHangUp(nil)
		unix.Shutdown(b, unix.SHUT_WR)
		if err := fd.Wait(ctx, scheduler.Read); err != nil { // the hang-up's readable edge
			return err
		}
		if called || !fd.HungUp() {
			t.Errorf("called %v, HungUp %v; want a hang-up and no call", called, fd.HungUp())
		}
		return nil
	})
}

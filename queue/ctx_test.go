package queue_test

import (
	"context"
	"testing"
	"time"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// blockingCalls are the parking calls of this package, each on a queue or
// channel that holds up whoever calls it.
func blockingCalls() map[string]parktest.Setup {
	return map[string]parktest.Setup{
		"Queue.Get": func(context.Context) func(ctx context.Context) error {
			q := queue.New[int](0)
			return func(ctx context.Context) error { _, err := q.Get(ctx); return err }
		},
		"Queue.Put": func(context.Context) func(ctx context.Context) error {
			q := queue.New[int](1)
			q.TryPut(1)
			return func(ctx context.Context) error { return q.Put(ctx, 2) }
		},
		"Queue.Join": func(context.Context) func(ctx context.Context) error {
			q := queue.New[int](0)
			q.TryPut(1)
			return q.Join
		},
		"Channel.Send": func(context.Context) func(ctx context.Context) error {
			var c queue.Channel[int]
			return func(ctx context.Context) error { return c.Send(ctx, 1) }
		},
		"Channel.Receive": func(context.Context) func(ctx context.Context) error {
			var c queue.Channel[int]
			return func(ctx context.Context) error { _, err := c.Receive(ctx); return err }
		},
	}
}

func TestParkingCallsReturnOnlyWhatTheirContextReports(t *testing.T) {
	parktest.ReturnsOnlyWhatCtxReports(t, blockingCalls())
}

func TestParkingCallsOfADyingTaskReturnErrKilled(t *testing.T) {
	parktest.DyingTaskGetsErrKilled(t, blockingCalls())
}

// After a day of virtual sleeps, a Get with an hour's loop-clock timeout
// waits a virtual hour: the deadline is compared with the loop's clock,
// which it was set on.
func TestGetWithALoopTimeoutAfterADayOfVirtualSleepWaitsAnHour(t *testing.T) {
	run(t, func(ctx context.Context) error {
		if err := scheduler.Sleep(ctx, 24*time.Hour); err != nil {
			return err
		}
		q := queue.New[int](0)
		start := scheduler.Now(ctx)
		c, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		if _, err := q.Get(c); err != context.DeadlineExceeded {
			t.Errorf("Get = %v, want DeadlineExceeded", err)
		}
		if waited := scheduler.Now(ctx).Sub(start); waited != time.Hour {
			t.Errorf("Get gave up after %v of loop time, want 1h", waited)
		}
		return nil
	})
}

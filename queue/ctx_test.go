package queue_test

import (
	"context"
	"testing"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/queue"
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

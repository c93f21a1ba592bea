package futures_test

import (
	"context"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/internal/parktest"
)

// blockingCalls are the parking calls of this package, each on futures
// that nothing completes.
func blockingCalls() map[string]parktest.Setup {
	return map[string]parktest.Setup{
		"Future.Get": func(context.Context) func(ctx context.Context) error {
			var f futures.Future[int]
			return func(ctx context.Context) error { _, err := f.Get(ctx); return err }
		},
		"Wait": func(context.Context) func(ctx context.Context) error {
			fs := pendingFutures(2)
			return func(ctx context.Context) error {
				_, _, err := futures.Wait(ctx, fs, futures.AllCompleted)
				return err
			}
		},
		"AsCompleted": func(context.Context) func(ctx context.Context) error {
			fs := pendingFutures(2)
			return func(ctx context.Context) error {
				for _, err := range futures.AsCompleted(ctx, fs) {
					return err
				}
				return nil
			}
		},
	}
}

func TestParkingCallsReturnOnlyWhatTheirContextReports(t *testing.T) {
	parktest.ReturnsOnlyWhatCtxReports(t, blockingCalls())
}

func TestParkingCallsOfADyingTaskReturnErrKilled(t *testing.T) {
	parktest.DyingTaskGetsErrKilled(t, blockingCalls())
}

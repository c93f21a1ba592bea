package parktest_test

import (
	"context"
	"testing"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/scheduler"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestSchedulerParkKeepsTheRules(t *testing.T) {
	calls := map[string]parktest.Setup{
		"Park": func(context.Context) func(ctx context.Context) error {
			return func(ctx context.Context) error { return scheduler.Park(ctx, "nothing") }
		},
	}
	parktest.ReturnsOnlyWhatCtxReports(t, calls)
	parktest.DyingTaskGetsErrKilled(t, calls)
}

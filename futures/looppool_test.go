package futures_test

import (
	"context"
	"errors"
	"testing"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func TestLoopPoolIsOnePoolPerLoopReleasedWithTheLoop(t *testing.T) {
	var pools []*futures.ThreadPool
	for range 2 {
		runLoop(t, func(ctx context.Context) error {
			p, err := futures.LoopPool(ctx)
			if err != nil {
				return err
			}
			again, err := futures.LoopPool(ctx)
			if err != nil {
				return err
			}
			if again != p {
				t.Error("LoopPool returned two pools for one loop")
			}
			pools = append(pools, p)
			f, err := futures.Submit(ctx, p, func(context.Context) (int, error) { return 42, nil })
			if err != nil {
				return err
			}
			_, err = f.Get(ctx)
			return err // no Shutdown: the loop's end releases it (goleak checks)
		})
	}
	if pools[0] == pools[1] {
		t.Error("two loops shared one LoopPool")
	}
	if _, err := futures.LoopPool(context.Background()); !errors.Is(err, scheduler.ErrNoLoop) {
		t.Errorf("LoopPool without a loop = %v, want ErrNoLoop", err)
	}
}

package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// The first failure is what Wait returns, and it kills the other members at
// once: they unwind from where they wait, running their deferred calls,
// before Wait returns.
func ExampleGroup() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		t0 := scheduler.Now(ctx)
		var g scheduler.Group
		for _, name := range []string{"mirror-a", "mirror-b", "mirror-c"} {
			g.Go(ctx, func(ctx context.Context) error {
				defer fmt.Println(name, "done")
				switch name {
				case "mirror-b":
					scheduler.Sleep(ctx, time.Second)
					return errors.New(name + ": connection refused")
				default:
					return scheduler.Sleep(ctx, time.Minute) // killed after 1s
				}
			})
		}
		err := g.Wait(ctx)
		fmt.Println("after", scheduler.Now(ctx).Sub(t0))
		return err
	}, scheduler.WithVirtualClock())
	fmt.Println("Wait:", err)
	// Output:
	// mirror-b done
	// mirror-a done
	// mirror-c done
	// after 1s
	// Wait: mirror-b: connection refused
}

// SetLimit makes a pool: Go parks its caller while two members run, and
// the waiting calls get the free slots in the order they came.
func ExampleGroup_SetLimit() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		t0 := scheduler.Now(ctx)
		var g scheduler.Group
		g.SetLimit(2)
		for i := range 5 {
			g.Go(ctx, func(ctx context.Context) error {
				fmt.Printf("job %d starts at %v\n", i, scheduler.Now(ctx).Sub(t0))
				return scheduler.Sleep(ctx, time.Duration(i+1)*time.Second)
			})
		}
		err := g.Wait(ctx)
		fmt.Println("all done at", scheduler.Now(ctx).Sub(t0), err)
		return err
	}, scheduler.WithVirtualClock())
	// Output:
	// job 0 starts at 0s
	// job 1 starts at 0s
	// job 2 starts at 1s
	// job 3 starts at 2s
	// job 4 starts at 4s
	// all done at 9s <nil>
}

package scheduler_test

import (
	"context"
	"fmt"

	"github.com/evergo/evergo/scheduler"
)

// Tasks take turns at their switch points: here, Sleep(ctx, 0), a yield.
func Example() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var tasks []*scheduler.Task
		for _, name := range []string{"ping", "pong"} {
			t, err := scheduler.Spawn(ctx, name, func(ctx context.Context) error {
				for i := range 3 {
					fmt.Println(scheduler.Current(ctx).Name(), i)
					scheduler.Sleep(ctx, 0)
				}
				return nil
			})
			if err != nil {
				return err
			}
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			if err := t.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	fmt.Println("done:", err)
	// Output:
	// ping 0
	// pong 0
	// ping 1
	// pong 1
	// ping 2
	// pong 2
	// done: <nil>
}

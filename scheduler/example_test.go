package scheduler_test

import (
	"context"
	"fmt"
	"os"
	"time"

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

// Timers run on the loop's clock; on a virtual clock, hours pass at once.
func ExampleLoop_CallLater() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		start := l.Now()
		for _, d := range []time.Duration{2 * time.Hour, time.Hour} {
			l.CallLater(d, func(ctx context.Context) {
				fmt.Println("fired after", scheduler.Now(ctx).Sub(start))
			})
		}
		cancelled := l.CallLater(30*time.Minute, func(context.Context) { fmt.Println("never") })
		cancelled.Cancel()
		return scheduler.Sleep(ctx, 3*time.Hour)
	}, scheduler.WithVirtualClock())
	// Output:
	// fired after 1h0m0s
	// fired after 2h0m0s
}

// Kill unwinds a parked task: its deferred calls run, and Join says so.
func ExampleTask_Kill() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		worker, _ := scheduler.Spawn(ctx, "worker", func(ctx context.Context) error {
			defer fmt.Println("worker: cleaning up")
			return scheduler.Sleep(ctx, time.Hour)
		})
		scheduler.Sleep(ctx, 0) // the worker runs and parks
		worker.Kill(ctx)
		fmt.Println("join:", worker.Join(ctx))
		return nil
	})
	// Output:
	// worker: cleaning up
	// join: fiber: killed
}

// When every task waits on something nothing can deliver, Run says who waits
// on what, and where (the file:line of each parking call), instead of
// hanging.
func ExampleRun_deadlock() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		consumer, _ := scheduler.Spawn(ctx, "consumer", func(ctx context.Context) error {
			return scheduler.Park(ctx, "queue.Get")
		})
		return consumer.Join(ctx)
	})
	fmt.Println(err)
	// Output:
	// scheduler: deadlock: 2 tasks wait and nothing can wake them (this operation would block forever)
	// 	task 1 "main" waits on Join task 2 "consumer" (example_test.go:91)
	// 	task 2 "consumer" waits on queue.Get (example_test.go:89)
}

// Dump says what every task of the loop is doing and where.
func ExampleLoop_Dump() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		consumer, _ := scheduler.Spawn(ctx, "consumer", func(ctx context.Context) error {
			return scheduler.Park(ctx, "queue.Get")
		})
		scheduler.Sleep(ctx, 0) // the consumer parks
		scheduler.LoopOf(ctx).Dump(os.Stdout)
		return consumer.Kill(ctx)
	})
	// Output:
	// loop: 2 tasks (0 runnable, 1 parked), 0 timers, 0 fds, 0 posts expected
	// task 1 "main" running
	// 	at scheduler_test.ExampleLoop_Dump.func1 (example_test.go:107)
	// task 2 "consumer" parked on queue.Get
	// 	at scheduler_test.ExampleLoop_Dump.func1.1 (example_test.go:104)
}

// A task that blocks its goroutine instead of parking freezes the loop; the
// block watch says which task it is while it blocks.
func ExampleWithBlockWatch() {
	reports := make(chan scheduler.LoopBlocked, 1)
	report := func(b scheduler.LoopBlocked) { // on the watchdog's goroutine
		select {
		case reports <- b:
		default:
		}
	}
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		b := <-reports // a blocking receive: no other task of the loop can run
		fmt.Printf("loop blocked by task %d %q\n", b.TaskID, b.Task)
		return nil
	}, scheduler.WithBlockWatch(10*time.Millisecond, report))
	// Output: loop blocked by task 1 "main"
}

package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/evergo/evergo/scheduler"
)

// A goroutine (a library's callback, say) sends into an inbox; a task
// receives, parking while it is empty, and the loop runs its other tasks
// meanwhile. Close ends the stream once the items sent are received.
func ExampleInbox() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		in := scheduler.NewInbox[string](scheduler.LoopOf(ctx), 2)
		go func() { // not a task: it passes a context of its own
			bg := context.Background()
			for _, w := range strings.Fields("events from a goroutine") {
				in.Send(bg, w) // blocks this goroutine while the inbox holds 2
			}
			in.Close()
		}()
		for {
			w, err := in.Receive(ctx) // parks this task, not the loop
			if errors.Is(err, scheduler.ErrInboxClosed) {
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Println(w)
		}
	})
	fmt.Println("done:", err)
	// Output:
	// events
	// from
	// a
	// goroutine
	// done: <nil>
}

// Tasks wait on a Go channel that a goroutine fills: one watcher goroutine
// per loop receives for all of them, and hands each value to the task that
// has waited longest. A closed channel ends every wait with ok false.
func ExampleRecv() {
	squares := make(chan int)
	go func() {
		for i := 1; i <= 4; i++ {
			squares <- i * i
		}
		close(squares)
	}()
	sum, closedSeen := 0, 0
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var workers []*scheduler.Task
		for range 2 {
			w, err := scheduler.Go(ctx, func(ctx context.Context) error {
				for {
					v, ok, err := scheduler.Recv(ctx, squares) // parks this task, not the loop
					if err != nil {
						return err
					}
					if !ok {
						closedSeen++
						return nil
					}
					sum += v // tasks of one loop share memory without locks
				}
			})
			if err != nil {
				return err
			}
			workers = append(workers, w)
		}
		for _, w := range workers {
			if err := w.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	fmt.Println("sum:", sum, "closed seen by", closedSeen, "tasks; done:", err)
	// Output:
	// sum: 30 closed seen by 2 tasks; done: <nil>
}

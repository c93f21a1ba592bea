package queue_test

import (
	"context"
	"errors"
	"fmt"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// A pipeline: a producer puts jobs in a bounded queue, which parks it while
// the workers are behind; the workers take them out and mark each done; the
// producer joins the queue to learn that every job has been dealt with, then
// shuts it down to send the workers home.
func ExampleQueue() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		jobs := queue.New[int](2)
		done := map[string]int{} // jobs done, by worker
		sum := 0
		var workers []*scheduler.Task
		for _, name := range []string{"ann", "bob", "cat"} {
			w, err := scheduler.Spawn(ctx, name, func(ctx context.Context) error {
				for {
					n, err := jobs.Get(ctx)
					if errors.Is(err, queue.ErrShutdown) {
						return nil
					} else if err != nil {
						return err
					}
					sum += n * n
					done[name]++
					jobs.TaskDone()
				}
			})
			if err != nil {
				return err
			}
			workers = append(workers, w)
		}
		for n := 1; n <= 9; n++ {
			if err := jobs.Put(ctx, n); err != nil {
				return err
			}
		}
		if err := jobs.Join(ctx); err != nil {
			return err
		}
		fmt.Println("sum of squares:", sum)
		fmt.Println("jobs done:", done["ann"]+done["bob"]+done["cat"], "by", len(done), "workers")
		jobs.Shutdown()
		for _, w := range workers {
			if err := w.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// sum of squares: 285
	// jobs done: 9 by 3 workers
}

// A rendezvous: each Send waits for a Receive. The receiver ranges over All
// until the sender closes the channel; an error sent with SendError comes out
// of the range beside the values.
func ExampleChannel() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		var words queue.Channel[string]
		sender, err := scheduler.Go(ctx, func(ctx context.Context) error {
			defer words.Close()
			for _, w := range []string{"hello", "rendezvous"} {
				if err := words.Send(ctx, w); err != nil {
					return err
				}
			}
			if err := words.SendError(ctx, errors.New("no more words")); err != nil {
				return err
			}
			return words.Send(ctx, "bye")
		})
		if err != nil {
			return err
		}
		for w, err := range words.All(ctx) {
			if err != nil {
				fmt.Println("error:", err)
				continue
			}
			fmt.Println(w)
		}
		fmt.Println("closed:", words.Closed())
		return sender.Join(ctx)
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// hello
	// rendezvous
	// error: no more words
	// bye
	// closed: true
}

// A priority queue gives back its least item first: by < with NewPriority,
// by a less function with NewPriorityFunc.
func ExamplePriorityQueue() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		type job struct {
			prio int
			name string
		}
		q := queue.NewPriorityFunc(0, func(a, b job) bool { return a.prio < b.prio })
		for _, j := range []job{{3, "write docs"}, {1, "fix the build"}, {2, "review"}} {
			if err := q.Put(ctx, j); err != nil {
				return err
			}
		}
		for q.Len() > 0 {
			j, err := q.Get(ctx)
			if err != nil {
				return err
			}
			fmt.Println(j.prio, j.name)
		}

		nums := queue.NewPriority[int](0)
		for _, n := range []int{42, 7, 19} {
			nums.TryPut(n)
		}
		least, _ := nums.TryGet()
		fmt.Println("least:", least)
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 1 fix the build
	// 2 review
	// 3 write docs
	// least: 7
}

// A LifoQueue is a stack: an undo history gives back the newest edit first.
// A bounded one refuses, without parking, what TryPut cannot hold.
func ExampleLifoQueue() {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		history := queue.NewLifo[string](3)
		for _, edit := range []string{"type a", "type b", "delete b", "type c"} {
			if err := history.TryPut(edit); err != nil {
				fmt.Println("not kept:", edit, "-", err)
			}
		}
		for history.Len() > 0 {
			edit, err := history.Get(ctx)
			if err != nil {
				return err
			}
			fmt.Println("undo", edit)
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// not kept: type c - queue: full
	// undo delete b
	// undo type b
	// undo type a
}

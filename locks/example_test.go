package locks_test

import (
	"context"
	"fmt"
	"time"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// A bounded connection pool: at most two of five fetches hold a connection
// at once; the others park in Acquire and get a connection, in the order
// they asked, as soon as one is given back. Each request takes 10 ms on the
// loop's virtual clock.
func ExampleSemaphore() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, _ := locks.NewSemaphore(2)
		start := scheduler.Now(ctx)
		fetch := func(ctx context.Context, page int) error {
			if err := pool.Acquire(ctx); err != nil {
				return err
			}
			defer pool.Release()
			fmt.Printf("page %d: connection at %v\n", page, scheduler.Now(ctx).Sub(start))
			return scheduler.Sleep(ctx, 10*time.Millisecond) // the request
		}
		var tasks []*scheduler.Task
		for page := 1; page <= 5; page++ {
			t, _ := scheduler.Go(ctx, func(ctx context.Context) error { return fetch(ctx, page) })
			tasks = append(tasks, t)
		}
		for _, t := range tasks {
			t.Join(ctx)
		}
		fmt.Println("free connections:", pool.Value())
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// page 1: connection at 0s
	// page 2: connection at 0s
	// page 3: connection at 10ms
	// page 4: connection at 10ms
	// page 5: connection at 20ms
	// free connections: 2
}

// Two tasks update a shared record across a switch; the Lock keeps their
// read-modify-write steps from interleaving.
func ExampleLock() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var m locks.Lock
		balance := 100
		withdraw := func(ctx context.Context, amount int) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			defer m.Unlock(ctx)
			b := balance
			scheduler.Sleep(ctx, 0) // a switch in the middle: the other task runs
			balance = b - amount
			return nil
		}
		a, _ := scheduler.Go(ctx, func(ctx context.Context) error { return withdraw(ctx, 30) })
		b, _ := scheduler.Go(ctx, func(ctx context.Context) error { return withdraw(ctx, 50) })
		a.Join(ctx)
		b.Join(ctx)
		fmt.Println("balance:", balance)
		return nil
	})
	// Output: balance: 20
}

// A consumer waits on a Condition until the producer has made enough items.
func ExampleCondition_WaitFor() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var c locks.Condition
		items := 0
		consumer, _ := scheduler.Go(ctx, func(ctx context.Context) error {
			c.Lock(ctx)
			defer c.Unlock(ctx)
			if err := c.WaitFor(ctx, func() bool { return items >= 3 }); err != nil {
				return err
			}
			fmt.Println("consumer sees", items, "items")
			return nil
		})
		for range 3 {
			c.Lock(ctx)
			items++
			fmt.Println("produced item", items)
			c.NotifyAll(ctx)
			c.Unlock(ctx)
			scheduler.Sleep(ctx, 0)
		}
		return consumer.Join(ctx)
	})
	// Output:
	// produced item 1
	// produced item 2
	// produced item 3
	// consumer sees 3 items
}

// Workers wait for a start signal; Set releases them all.
func ExampleEvent() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var start locks.Event
		for i := 1; i <= 3; i++ {
			scheduler.Go(ctx, func(ctx context.Context) error {
				if err := start.Wait(ctx); err != nil {
					return err
				}
				fmt.Println("worker", i, "started")
				return nil
			})
		}
		scheduler.Sleep(ctx, 0)
		fmt.Println("go!")
		start.Set()
		return nil
	})
	// Output:
	// go!
	// worker 1 started
	// worker 2 started
	// worker 3 started
}

// Three tasks finish a phase at different times; the Barrier holds each
// until all three have arrived, and its action runs once per round.
func ExampleBarrier() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		b, _ := locks.NewBarrier(3, func() { fmt.Println("phase done") })
		for i := 1; i <= 3; i++ {
			scheduler.Go(ctx, func(ctx context.Context) error {
				scheduler.Sleep(ctx, time.Duration(i)*time.Second)
				fmt.Println("task", i, "arrives")
				if _, err := b.Wait(ctx); err != nil {
					return err
				}
				fmt.Println("task", i, "goes on")
				return nil
			})
		}
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// task 1 arrives
	// task 2 arrives
	// task 3 arrives
	// phase done
	// task 3 goes on
	// task 1 goes on
	// task 2 goes on
}

// Readers share the lock; a writer waits for them, and readers that come
// after the writer wait for it.
func ExampleRWLock() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var m locks.RWLock
		config := "v1"
		read := func(name string) {
			scheduler.Go(ctx, func(ctx context.Context) error {
				if err := m.RLock(ctx); err != nil {
					return err
				}
				defer m.RUnlock()
				fmt.Println(name, "reads", config)
				scheduler.Sleep(ctx, 0)
				return nil
			})
		}
		read("reader 1")
		read("reader 2")
		scheduler.Go(ctx, func(ctx context.Context) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			defer m.Unlock(ctx)
			config = "v2"
			fmt.Println("writer writes", config)
			return nil
		})
		read("reader 3")
		return nil
	})
	// Output:
	// reader 1 reads v1
	// reader 2 reads v1
	// writer writes v2
	// reader 3 reads v2
}

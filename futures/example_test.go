package futures_test

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// A fetch-like fan-out: each page takes its own time, up to three are
// fetched at once, and the results come back in the order asked.
func ExampleMap() {
	latency := map[string]time.Duration{"/": 30 * time.Millisecond, "/a": 10 * time.Millisecond,
		"/b": 50 * time.Millisecond, "/c": 20 * time.Millisecond}
	fetch := func(ctx context.Context, path string) (string, error) {
		if err := scheduler.Sleep(ctx, latency[path]); err != nil { // a network wait
			return "", err
		}
		return fmt.Sprintf("%s: 200 after %v", path, latency[path]), nil
	}
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		begin := scheduler.Now(ctx)
		pool, err := futures.NewTaskPool(3)
		if err != nil {
			return err
		}
		pages, err := futures.Map(ctx, pool, []string{"/", "/a", "/b", "/c"}, fetch)
		if err != nil {
			return err
		}
		for _, p := range pages {
			fmt.Println(p)
		}
		fmt.Println("elapsed:", scheduler.Now(ctx).Sub(begin)) // "/c" waited for a slot
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// /: 200 after 30ms
	// /a: 200 after 10ms
	// /b: 200 after 50ms
	// /c: 200 after 20ms
	// elapsed: 50ms
}

// A blocking read, offloaded to a ThreadPool, while a ticker task keeps
// ticking on the loop: the read returns once the ticker has written, three
// ticks later.
func ExampleThreadPool() {
	r, w, err := os.Pipe()
	if err != nil {
		panic(err)
	}
	defer r.Close()
	defer w.Close()
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewThreadPool(4)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		read, err := futures.Submit(ctx, pool, func(context.Context) (string, error) {
			buf := make([]byte, 64)
			n, err := r.Read(buf) // blocks a pool goroutine, not the loop
			return string(buf[:n]), err
		})
		if err != nil {
			return err
		}
		scheduler.Spawn(ctx, "ticker", func(ctx context.Context) error {
			for i := 1; i <= 3; i++ {
				if err := scheduler.Sleep(ctx, 10*time.Millisecond); err != nil {
					return err
				}
				fmt.Println("tick", i)
			}
			_, err := w.Write([]byte("hello from the pipe"))
			return err
		})
		got, err := read.Get(ctx)
		fmt.Printf("read %q, %v\n", got, err)
		return nil
	})
	// Output:
	// tick 1
	// tick 2
	// tick 3
	// read "hello from the pipe", <nil>
}

// One task waits for a result that another task sets.
func ExampleFuture() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		var answer futures.Future[int]
		answer.AddDoneCallback(func(f *futures.Future[int]) { fmt.Println("callback: done") })
		scheduler.Go(ctx, func(ctx context.Context) error {
			fmt.Println("worker: thinking")
			answer.SetResult(42)
			return nil
		})
		v, err := answer.Get(ctx) // parks until the worker sets it
		fmt.Println("main: got", v, err)
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// worker: thinking
	// callback: done
	// main: got 42 <nil>
}

// Wait returns as soon as one future is done; the others stay pending.
func ExampleWait() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(10)
		if err != nil {
			return err
		}
		var fs []*futures.Future[time.Duration]
		for _, d := range []time.Duration{3 * time.Second, time.Second, 2 * time.Second} {
			f, err := futures.Submit(ctx, pool, func(ctx context.Context) (time.Duration, error) {
				return d, scheduler.Sleep(ctx, d)
			})
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		done, pending, err := futures.Wait(ctx, fs, futures.FirstCompleted)
		v, _ := done[0].TryGet()
		fmt.Println(len(done), "done:", v, "-", len(pending), "pending", err)
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// 1 done: 1s - 2 pending <nil>
}

// AsCompleted yields futures as they complete.
func ExampleAsCompleted() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(10)
		if err != nil {
			return err
		}
		var fs []*futures.Future[string]
		for _, name := range []string{"slow", "fast", "medium"} {
			d := map[string]time.Duration{"slow": 3 * time.Second, "fast": time.Second, "medium": 2 * time.Second}[name]
			f, err := futures.Submit(ctx, pool, func(ctx context.Context) (string, error) {
				return name, scheduler.Sleep(ctx, d)
			})
			if err != nil {
				return err
			}
			fs = append(fs, f)
		}
		for f, err := range futures.AsCompleted(ctx, fs) {
			if err != nil {
				return err
			}
			v, _ := f.TryGet()
			fmt.Println(v)
		}
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// fast
	// medium
	// slow
}

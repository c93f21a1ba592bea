package futures_test

import (
	"context"
	"fmt"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// An endless stream of pages, fetched three at a time, results in the
// order of the pages: the consumer stops after the fifth, and the stream
// has taken no more than three pages beyond what it yielded.
func ExampleMapSeq() {
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(3)
		if err != nil {
			return err
		}
		taken := 0
		pages := func(yield func(int) bool) { // 1, 2, 3... for ever
			for page := 1; ; page++ {
				taken++
				if !yield(page) {
					return
				}
			}
		}
		fetch := func(ctx context.Context, page int) (string, error) {
			latency := time.Duration(40-page*7%30) * time.Millisecond
			if err := scheduler.Sleep(ctx, latency); err != nil { // a network wait
				return "", err
			}
			return fmt.Sprintf("page %d after %v", page, latency), nil
		}
		got := 0
		for body, err := range futures.MapSeq(ctx, pool, 3, pages, fetch) {
			if err != nil {
				return err
			}
			fmt.Println(body)
			if got++; got == 5 {
				break
			}
		}
		fmt.Println("pages taken:", taken)
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// page 1 after 33ms
	// page 2 after 26ms
	// page 3 after 19ms
	// page 4 after 12ms
	// page 5 after 35ms
	// pages taken: 7
}

// The same fetches with the results as they come: a slow page holds back
// no other. The result carries its page, for the consumer to tell them
// apart.
func ExampleMapSeqUnordered() {
	type page struct {
		n       int
		latency time.Duration
	}
	scheduler.Run(context.Background(), func(ctx context.Context) error {
		pool, err := futures.NewTaskPool(3)
		if err != nil {
			return err
		}
		begin := scheduler.Now(ctx)
		pages := func(yield func(int) bool) {
			for n := 1; n <= 5; n++ {
				if !yield(n) {
					return
				}
			}
		}
		fetch := func(ctx context.Context, n int) (page, error) {
			p := page{n, time.Duration(40-n*7%30) * time.Millisecond}
			return p, scheduler.Sleep(ctx, p.latency)
		}
		for p, err := range futures.MapSeqUnordered(ctx, pool, 3, pages, fetch) {
			if err != nil {
				return err
			}
			fmt.Printf("page %d (%v) at %v\n", p.n, p.latency, scheduler.Now(ctx).Sub(begin))
		}
		return nil
	}, scheduler.WithVirtualClock())
	// Output:
	// page 3 (19ms) at 19ms
	// page 2 (26ms) at 26ms
	// page 4 (12ms) at 31ms
	// page 1 (33ms) at 33ms
	// page 5 (35ms) at 61ms
}

package schedtest_test

import (
	"context"
	"fmt"

	"github.com/evergo/evergo/scheduler"
	"github.com/evergo/evergo/scheduler/schedtest"
)

// A lost update (read, yield, write) that FIFO order never shows: exploring
// seeds finds an interleaving that loses it, and that seed replays it.
func ExampleFind() {
	bank := func(ctx context.Context) error {
		balance := 100
		quick := func(ctx context.Context) error {
			balance -= 50 // no switch point: atomic on the loop
			return nil
		}
		slow := func(ctx context.Context) error {
			b := balance
			scheduler.Sleep(ctx, 0) // a switch point between read and write
			balance = b - 30
			return nil
		}
		a, _ := scheduler.Go(ctx, quick)
		b, _ := scheduler.Go(ctx, slow)
		a.Join(ctx)
		b.Join(ctx)
		if balance != 20 {
			return fmt.Errorf("balance %d, want 20", balance)
		}
		return nil
	}
	fmt.Println("FIFO:", scheduler.Run(context.Background(), bank))
	seed, err, found := schedtest.Find(context.Background(), 1, 100, bank)
	fmt.Println("found:", found, "at seed", seed, "-", err)
	fmt.Println("replay:", schedtest.RunSeed(context.Background(), seed, bank))
	// Output:
	// FIFO: <nil>
	// found: true at seed 1 - balance 70, want 20
	// replay: balance 70, want 20
}

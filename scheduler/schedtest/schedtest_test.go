package schedtest_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/evergo/evergo/scheduler"
	"github.com/evergo/evergo/scheduler/schedtest"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// lostUpdate is the classic race: two tasks read a counter, yield, and write
// back. Only some interleavings lose an update.
func lostUpdate(ctx context.Context) error {
	counter := 0
	inc := func(ctx context.Context) error {
		v := counter
		if err := scheduler.Sleep(ctx, 0); err != nil {
			return err
		}
		counter = v + 1
		return nil
	}
	b, _ := scheduler.Go(ctx, func(ctx context.Context) error {
		counter++ // no switch point: atomic on the loop
		return nil
	})
	a, _ := scheduler.Go(ctx, inc)
	if err := errors.Join(a.Join(ctx), b.Join(ctx)); err != nil {
		return err
	}
	if counter != 2 {
		return fmt.Errorf("lost update: counter = %d, want 2", counter)
	}
	return nil
}

func TestFindFindsTheLostUpdateAndTheSeedReplaysIt(t *testing.T) {
	seed, err, ok := schedtest.Find(context.Background(), 1, 100, lostUpdate)
	if !ok {
		t.Fatal("100 seeds found no lost update")
	}
	if !strings.Contains(err.Error(), "lost update") {
		t.Fatalf("seed %d failed with %v", seed, err)
	}
	for range 10 {
		if again := schedtest.RunSeed(context.Background(), seed, lostUpdate); again == nil || again.Error() != err.Error() {
			t.Fatalf("replaying seed %d gave %v, want %v", seed, again, err)
		}
	}
}

func TestFIFOOrderDoesNotLoseTheUpdate(t *testing.T) {
	if err := scheduler.Run(context.Background(), lostUpdate); err != nil {
		t.Fatalf("FIFO run: %v", err)
	}
}

func TestExplorePassesACorrectProgram(t *testing.T) {
	schedtest.Explore(t, 50, func(ctx context.Context) error {
		counter := 0
		var ts []*scheduler.Task
		for range 3 {
			task, _ := scheduler.Go(ctx, func(ctx context.Context) error {
				scheduler.Sleep(ctx, 0)
				counter++
				return nil
			})
			ts = append(ts, task)
		}
		for _, task := range ts {
			task.Join(ctx)
		}
		if counter != 3 {
			return fmt.Errorf("counter = %d", counter)
		}
		return nil
	})
}

func TestCommandNamesPackageTestAndSeed(t *testing.T) {
	got := schedtest.Command("TestTransfer/sub", 42)
	want := "go test ./scheduler/schedtest -run '^TestTransfer$' -count=1 -schedtest.seed=42"
	if got != want {
		t.Fatalf("Command = %q, want %q", got, want)
	}
}

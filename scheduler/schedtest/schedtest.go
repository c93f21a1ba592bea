// Package schedtest runs a function under many scheduling seeds to find an
// interleaving that breaks it, and replays that one interleaving on demand.
//
// Explore runs fn as the main task of a fresh loop once per seed, each loop
// with scheduler.WithSeed(seed) and scheduler.WithVirtualClock(), and stops at
// the first run that fails: fn returns an error, a task panics into its
// joiner, or the loop reports a deadlock. The test then fails with the seed
// and the command that replays it:
//
//	go test ./pkg -run '^TestTransfer$' -schedtest.seed=1234
//
// With -schedtest.seed set, Explore runs that seed alone, so a debugger or
// added prints see exactly the failing interleaving.
//
// Determinism holds for what the loop decides: the order of tasks and
// callbacks, and timers on the virtual clock. A function that reads the wall
// clock, iterates over maps to decide what to do, or waits on sockets or
// other goroutines brings in its own nondeterminism.
package schedtest

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

var replay = flag.Uint64("schedtest.seed", 0, "replay Explore's run with this seed only (0: explore)")

// Find runs fn under seeds first, first+1, ..., first+n-1 and returns the
// first seed whose run failed, with its error; ok is false if every run
// succeeded. opts are added to each loop's. Never parks: call it from
// outside any loop.
func Find(ctx context.Context, first uint64, n int, fn func(ctx context.Context) error, opts ...scheduler.Option) (seed uint64, err error, ok bool) {
	for i := range n {
		seed = first + uint64(i)
		if err := RunSeed(ctx, seed, fn, opts...); err != nil {
			return seed, err, true
		}
	}
	return 0, nil, false
}

// RunSeed runs fn once as the main task of a loop with seed and the virtual
// clock, and returns Run's error.
func RunSeed(ctx context.Context, seed uint64, fn func(ctx context.Context) error, opts ...scheduler.Option) error {
	all := append([]scheduler.Option{scheduler.WithSeed(seed), scheduler.WithVirtualClock()}, opts...)
	return scheduler.Run(ctx, fn, all...)
}

// Explore runs fn under seeds 1..n (or only the seed given with
// -schedtest.seed) and fails t at the first failing run, printing the seed
// and the command that replays it.
func Explore(t testing.TB, n int, fn func(ctx context.Context) error, opts ...scheduler.Option) {
	t.Helper()
	first, count := uint64(1), n
	if *replay != 0 {
		first, count = *replay, 1
	}
	seed, err, failed := Find(context.Background(), first, count, fn, opts...)
	if !failed {
		return
	}
	t.Fatalf("schedtest: seed %d fails: %v\nreplay it with:\n\t%s", seed, err, Command(t.Name(), seed))
}

// Command returns the go test command that replays the test named name with
// seed, run from the module's root.
func Command(name string, seed uint64) string {
	pkg := "."
	if wd, err := os.Getwd(); err == nil {
		if root := moduleRoot(wd); root != "" {
			if rel, err := filepath.Rel(root, wd); err == nil {
				pkg = "./" + filepath.ToSlash(rel)
			}
		}
	}
	pkg = strings.TrimSuffix(pkg, "/.")
	top, _, _ := strings.Cut(name, "/")
	return fmt.Sprintf("go test %s -run '^%s$' -count=1 -schedtest.seed=%d", pkg, regexp.QuoteMeta(top), seed)
}

func moduleRoot(dir string) string {
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

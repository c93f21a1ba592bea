package ioco_test

import (
	"context"
	"io"
	"os/exec"
	"runtime/pprof"
	"sync"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// The processes budget (issue: ≥ 1.0× os/exec on both, with at most 2 OS
// threads on the loop side), as pairs:
//
//	go test ./ioco -run '^$' -bench 'Children|ThroughCat' -benchtime 5x -count 6
//
// One op of the Children pair starts 1,000 `true` children at once and
// waits for them all: from 1,000 tasks on one loop, against 1,000
// goroutines with os/exec. threads/op is the OS threads the runtime
// created during the op (pprof's threadcreate): os/exec's Wait holds a
// thread per child in wait4(2). One op of the ThroughCat pair streams
// 256 MiB through `cat` and reads it back.
const (
	benchChildren = 1000
	benchCatBytes = 256 << 20
)

func threadsCreated() int { return pprof.Lookup("threadcreate").Count() }

func BenchmarkChildrenIoco(b *testing.B) {
	threads := threadsCreated()
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			var g scheduler.Group
			for range benchChildren {
				g.Go(ctx, func(ctx context.Context) error { return ioco.CommandContext(ctx, "true").Run() })
			}
			if err := g.Wait(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(threadsCreated()-threads)/float64(b.N), "threads/op")
}

func BenchmarkChildrenOsExec(b *testing.B) {
	threads := threadsCreated()
	for b.Loop() {
		var wg sync.WaitGroup
		errs := make(chan error, benchChildren)
		for range benchChildren {
			wg.Go(func() { errs <- exec.Command("true").Run() })
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(threadsCreated()-threads)/float64(b.N), "threads/op")
}

// zeros is an endless reader of zero bytes, without a system call.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

func BenchmarkThroughCatIoco(b *testing.B) {
	b.SetBytes(benchCatBytes)
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		for b.Loop() {
			cmd := ioco.CommandContext(ctx, "cat")
			cmd.Stdin = io.LimitReader(zeros{}, benchCatBytes)
			out, err := cmd.StdoutPipe()
			if err != nil {
				return err
			}
			if err := cmd.Start(); err != nil {
				return err
			}
			if n, err := io.Copy(io.Discard, out); err != nil || n != benchCatBytes {
				b.Fatalf("read %d bytes through cat, %v", n, err)
			}
			if err := cmd.Wait(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

func BenchmarkThroughCatOsExec(b *testing.B) {
	b.SetBytes(benchCatBytes)
	for b.Loop() {
		cmd := exec.Command("cat")
		cmd.Stdin = io.LimitReader(zeros{}, benchCatBytes)
		out, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		if n, err := io.Copy(io.Discard, out); err != nil || n != benchCatBytes {
			b.Fatalf("read %d bytes through cat, %v", n, err)
		}
		if err := cmd.Wait(); err != nil {
			b.Fatal(err)
		}
	}
}

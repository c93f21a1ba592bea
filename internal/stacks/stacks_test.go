package stacks_test

import (
	"strings"
	"testing"

	"github.com/evergo/evergo/internal/stacks"
)

// A goroutine blocked on a channel is in the dump with its state, and its
// frames lead to the function that blocked, with this file's line.
func TestAllFindsABlockedGoroutineAndWhereItWaits(t *testing.T) {
	ids := make(chan uint64)
	release := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		ids <- stacks.ID()
		<-release // the line the dump must point at
	}()
	id := <-ids
	defer func() { close(release); <-done }()

	var g *stacks.Goroutine
	for g == nil || g.State != "chan receive" { // until it has reached the receive
		g = stacks.All()[id]
	}
	if len(g.Frames) == 0 {
		t.Fatalf("no frames read from:\n%s", g.Text)
	}
	top := g.Frames[0]
	if !strings.HasSuffix(top.File, "stacks_test.go") || !strings.Contains(top.Func, "TestAllFindsABlockedGoroutine") {
		t.Errorf("innermost frame = %+v, want this test's closure in stacks_test.go", top)
	}
	if !strings.HasPrefix(g.Text, "goroutine ") {
		t.Errorf("Text = %q, want the runtime's entry", g.Text)
	}
	if me := stacks.All()[stacks.ID()]; me == nil || me.State != "running" {
		t.Errorf("the calling goroutine: %+v, want it running", me)
	}
}

func TestParseSkipsWhatItCannotRead(t *testing.T) {
	dump := "goroutine 12 [select, 3 minutes]:\nmain.f(0x1)\n\t/src/main.go:10 +0x1f\ncreated by main.main in goroutine 1\n\t/src/main.go:4 +0x2\n\n" +
		"garbage\n\ngoroutine x [running]:\n\ngoroutine 13 [running]:\nmain.g()\n\tno location\n"
	gs := stacks.Parse([]byte(dump))
	if len(gs) != 2 {
		t.Fatalf("Parse read %d goroutines, want 2: %v", len(gs), gs)
	}
	g := gs[12]
	want := stacks.Frame{Func: "main.f", File: "/src/main.go", Line: 10}
	if g.State != "select" || len(g.Frames) != 1 || g.Frames[0] != want {
		t.Errorf("goroutine 12 = %+v, want state select and the one frame %+v", g, want)
	}
	if g := gs[13]; len(g.Frames) != 0 {
		t.Errorf("goroutine 13 frames = %v, want none (no location line)", g.Frames)
	}
}

func TestPackageOfAFunction(t *testing.T) {
	for fn, want := range map[string]string{
		"github.com/evergo/evergo/queue.(*Queue[...]).Get":    "github.com/evergo/evergo/queue",
		"github.com/evergo/evergo/scheduler_test.TestX.func1": "github.com/evergo/evergo/scheduler_test",
		"main.main":            "main",
		"iter.Pull[...].func1": "iter",
	} {
		if got := stacks.Package(fn); got != want {
			t.Errorf("Package(%q) = %q, want %q", fn, got, want)
		}
	}
}

// BenchmarkID is what a fiber worker pays once, as its goroutine starts.
func BenchmarkID(b *testing.B) {
	for b.Loop() {
		if stacks.ID() == 0 {
			b.Fatal("no id")
		}
	}
}

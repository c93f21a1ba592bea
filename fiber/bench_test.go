package fiber_test

import (
	"iter"
	"testing"

	"github.com/evergo/evergo/fiber"
)

// Budgets (../DESIGN.md), each benchmark beside its baseline in this file:
//
//	SwitchMainFiber  ≤ 1.3× IterPullRoundTrip, 0 allocs/op
//	SwitchFiberFiber ≤ 2.5× IterPullRoundTrip, 0 allocs/op
//	NewSwitchEnd     ≤ 0.7× GoChanJoin
//
// ChannelBaton is the design the coroutine switch replaces.

// Baseline: one next + yield of an iter.Pull coroutine.
func BenchmarkIterPullRoundTrip(b *testing.B) {
	next, stop := iter.Pull(func(yield func(struct{}) bool) {
		for yield(struct{}{}) {
		}
	})
	defer stop()
	b.ReportAllocs()
	for b.Loop() {
		next()
	}
}

// The naive baton: two goroutines ping-pong over two unbuffered channels.
func BenchmarkChannelBaton(b *testing.B) {
	ping, pong := make(chan struct{}), make(chan struct{})
	go func() {
		for range ping {
			pong <- struct{}{}
		}
		close(pong)
	}()
	b.ReportAllocs()
	for b.Loop() {
		ping <- struct{}{}
		<-pong
	}
	close(ping)
	<-pong
}

// One op: main switches to a fiber and the fiber switches back.
func BenchmarkSwitchMainFiber(b *testing.B) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		for {
			if _, err := self.Switch(main, nil); err != nil {
				return nil, err
			}
		}
	}, nil)
	b.ReportAllocs()
	for b.Loop() {
		main.Switch(f, nil)
	}
}

// One op: fiber A switches to fiber B and B switches back; main is not involved.
func BenchmarkSwitchFiberFiber(b *testing.B) {
	var g fiber.Group
	defer g.Close()
	var fa, fb *fiber.Fiber
	fa, _ = g.New(func(self *fiber.Fiber, _ any) (any, error) {
		for b.Loop() {
			self.Switch(fb, nil)
		}
		return nil, nil
	}, nil)
	fb, _ = g.New(func(self *fiber.Fiber, _ any) (any, error) {
		for {
			if _, err := self.Switch(fa, nil); err != nil {
				return nil, err
			}
		}
	}, nil)
	b.ReportAllocs()
	g.Main().Switch(fa, nil)
}

// Baseline for spawning: start a goroutine and wait for it on a channel.
func BenchmarkGoChanJoin(b *testing.B) {
	done := make(chan struct{})
	b.ReportAllocs()
	for b.Loop() {
		go func() { done <- struct{}{} }()
		<-done
	}
}

// One op: create a fiber, switch into it, and get its result back as it ends.
func BenchmarkNewSwitchEnd(b *testing.B) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	fn := func(*fiber.Fiber, any) (any, error) { return nil, nil }
	b.ReportAllocs()
	for b.Loop() {
		f, _ := g.New(fn, nil)
		main.Switch(f, nil)
	}
}

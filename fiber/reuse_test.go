package fiber_test

import (
	"testing"

	"github.com/evergo/evergo/fiber"
)

func TestReuseRunsAnEndedFiberAgain(t *testing.T) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	f, _ := g.New(func(_ *fiber.Fiber, v any) (any, error) { return v.(int) + 1, nil }, nil)
	if err := g.Reuse(f, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil); err != fiber.ErrAlive {
		t.Fatalf("Reuse of an unstarted fiber = %v, want ErrAlive", err)
	}
	if v, err := main.Switch(f, 1); v != 2 || err != nil {
		t.Fatalf("first run: %v, %v", v, err)
	}
	if err := g.Reuse(f, func(_ *fiber.Fiber, v any) (any, error) { return v.(int) * 10, nil }, nil); err != nil {
		t.Fatal(err)
	}
	if !f.Alive() {
		t.Fatal("a reused fiber is not alive")
	}
	if v, err := main.Switch(f, 4); v != 40 || err != nil {
		t.Fatalf("second run: %v, %v", v, err)
	}
	var other fiber.Group
	defer other.Close()
	if err := other.Reuse(f, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil); err != fiber.ErrForeign {
		t.Fatalf("Reuse in another group = %v, want ErrForeign", err)
	}
}

func TestStartedFromFirstSwitchUntilReuse(t *testing.T) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	var inside bool
	f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		inside = self.Started()
		return self.Switch(self.Parent(), nil)
	}, nil)
	if f.Started() || !main.Started() {
		t.Fatalf("before the first switch: f.Started() = %v, main.Started() = %v", f.Started(), main.Started())
	}
	if _, err := main.Switch(f, nil); err != nil {
		t.Fatal(err)
	}
	if !inside || !f.Started() {
		t.Fatalf("running: %v, suspended: %v; want both started", inside, f.Started())
	}
	if _, err := main.Switch(f, nil); err != nil || !f.Started() {
		t.Fatalf("ended fiber: err %v, Started() = %v; want started", err, f.Started())
	}
	if err := g.Reuse(f, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil); err != nil {
		t.Fatal(err)
	}
	if f.Started() {
		t.Fatal("a reused fiber reports Started before its next run")
	}
}

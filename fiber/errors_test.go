package fiber_test

import (
	"errors"
	"testing"

	"github.com/evergo/evergo/fiber"
)

// Each misuse returns its error without moving the baton: the caller goes on
// and the group still works.

func parkedFiber(t *testing.T, g *fiber.Group) *fiber.Fiber {
	t.Helper()
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		for {
			if _, err := self.Switch(self.Parent(), nil); err != nil {
				return nil, err
			}
		}
	}, nil)
	mustSwitch(t, g.Main(), f, nil)
	return f
}

func endedFiber(t *testing.T, g *fiber.Group) *fiber.Fiber {
	t.Helper()
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	mustSwitch(t, g.Main(), f, nil)
	return f
}

func TestSwitchToSelfFails(t *testing.T) {
	g, main := newGroup(t)
	if _, err := main.Switch(main, nil); !errors.Is(err, fiber.ErrSelf) {
		t.Fatalf("main→main: %v", err)
	}
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(self, nil)
		return nil, err
	}, nil)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrSelf) {
		t.Fatalf("f→f: %v", err)
	}
}

func TestSwitchOrThrowIntoEndedFiberFails(t *testing.T) {
	g, main := newGroup(t)
	f := endedFiber(t, g)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrDead) {
		t.Fatalf("switch: %v", err)
	}
	if _, err := main.Throw(f, errors.New("x")); !errors.Is(err, fiber.ErrDead) {
		t.Fatalf("throw: %v", err)
	}
}

func TestThrowNilErrorFails(t *testing.T) {
	g, main := newGroup(t)
	f := parkedFiber(t, g)
	if _, err := main.Throw(f, nil); !errors.Is(err, fiber.ErrNilThrow) {
		t.Fatalf("Throw(nil): %v", err)
	}
	mustSwitch(t, main, f, nil)
}

func TestCyclicParentChainFails(t *testing.T) {
	g, _ := newGroup(t)
	a := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	b := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, a)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, b)
	if err := a.SetParent(c); !errors.Is(err, fiber.ErrCycle) {
		t.Fatalf("a→c→b→a: %v", err)
	}
	if err := a.SetParent(a); !errors.Is(err, fiber.ErrCycle) {
		t.Fatalf("a→a: %v", err)
	}
	if a.Parent() != g.Main() {
		t.Fatal("a failed SetParent changed the parent")
	}
}

func TestEndedParentFails(t *testing.T) {
	g, _ := newGroup(t)
	dead := endedFiber(t, g)
	if _, err := g.New(func(*fiber.Fiber, any) (any, error) { return nil, nil }, dead); !errors.Is(err, fiber.ErrDead) {
		t.Fatalf("New: %v", err)
	}
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	if err := f.SetParent(dead); !errors.Is(err, fiber.ErrDead) {
		t.Fatalf("SetParent: %v", err)
	}
}

func TestParentFromAnotherGroupFails(t *testing.T) {
	g, _ := newGroup(t)
	other, _ := newGroup(t)
	stranger := mustNew(t, other, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	if _, err := g.New(func(*fiber.Fiber, any) (any, error) { return nil, nil }, stranger); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("New: %v", err)
	}
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	if err := f.SetParent(stranger); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("SetParent: %v", err)
	}
	if err := f.SetParent(other.Main()); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("SetParent(other main): %v", err)
	}
}

func TestTargetFromAnotherGroupFails(t *testing.T) {
	g, main := newGroup(t)
	other, _ := newGroup(t)
	stranger := parkedFiber(t, other)
	if _, err := main.Switch(stranger, nil); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("switch: %v", err)
	}
	if _, err := main.Throw(stranger, errors.New("x")); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("throw: %v", err)
	}
	if err := main.Kill(stranger); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("kill: %v", err)
	}
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(stranger, nil)
		return nil, err
	}, nil)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("from a fiber: %v", err)
	}
	if !stranger.Alive() {
		t.Fatal("the other group's fiber was disturbed")
	}
	if err := other.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := main.Switch(stranger, nil); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("switch into a closed other group: %v", err)
	}
}

func TestSwitchFromFiberWithoutBatonFails(t *testing.T) {
	g, main := newGroup(t)
	parked := parkedFiber(t, g)
	other := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	if _, err := parked.Switch(other, nil); !errors.Is(err, fiber.ErrNotCurrent) {
		t.Fatalf("switch from a parked fiber: %v", err)
	}
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := main.Switch(parked, nil) // main does not hold the baton now
		return nil, err
	}, nil)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrNotCurrent) {
		t.Fatalf("switch as main from a fiber: %v", err)
	}
	if _, err := main.Switch(other, nil); err != nil {
		t.Fatalf("group broken after misuse: %v", err)
	}
}

func TestMainFiberHasNoParentAndCannotBeKilled(t *testing.T) {
	g, main := newGroup(t)
	if main.Parent() != nil {
		t.Fatal("main has a parent")
	}
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		return nil, self.Kill(main)
	}, nil)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrMain) {
		t.Fatalf("kill main: %v", err)
	}
	if err := main.SetParent(f); !errors.Is(err, fiber.ErrMain) {
		t.Fatalf("SetParent on main: %v", err)
	}
}

func TestNewWithNilFuncFails(t *testing.T) {
	g, _ := newGroup(t)
	if _, err := g.New(nil, nil); !errors.Is(err, fiber.ErrNilFunc) {
		t.Fatalf("New(nil): %v", err)
	}
}

func TestZeroFiberIsRefused(t *testing.T) {
	g, main := newGroup(t)
	_ = g
	var zero fiber.Fiber
	if zero.Alive() {
		t.Fatal("zero fiber alive")
	}
	if _, err := main.Switch(&zero, nil); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("switch to zero fiber: %v", err)
	}
	if _, err := main.Switch(nil, nil); !errors.Is(err, fiber.ErrForeign) {
		t.Fatalf("switch to nil: %v", err)
	}
}

func TestCloseFromFiberFails(t *testing.T) {
	g, main := newGroup(t)
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, g.Close() }, nil)
	if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrNotCurrent) {
		t.Fatalf("Close from a fiber: %v", err)
	}
}

func TestUseAfterCloseFails(t *testing.T) {
	g := fiber.NewGroup()
	main := g.Main()
	parked := parkedFiber(t, g)
	unstarted := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := g.New(func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil); !errors.Is(err, fiber.ErrClosed) {
		t.Fatalf("New: %v", err)
	}
	for _, f := range []*fiber.Fiber{parked, unstarted} {
		if _, err := main.Switch(f, nil); !errors.Is(err, fiber.ErrClosed) {
			t.Fatalf("Switch: %v", err)
		}
		if _, err := main.Throw(f, errors.New("x")); !errors.Is(err, fiber.ErrClosed) {
			t.Fatalf("Throw: %v", err)
		}
		if err := main.Kill(f); !errors.Is(err, fiber.ErrClosed) {
			t.Fatalf("Kill: %v", err)
		}
		if err := f.SetParent(nil); !errors.Is(err, fiber.ErrClosed) {
			t.Fatalf("SetParent: %v", err)
		}
	}
	if err := g.Close(); !errors.Is(err, fiber.ErrClosed) {
		t.Fatalf("second Close: %v", err)
	}
}

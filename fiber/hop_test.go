package fiber_test

import (
	"errors"
	"testing"

	"github.com/evergo/evergo/fiber"
	"github.com/evergo/evergo/internal/fiberhop"
)

// hop switches from f to to as the scheduler's park does: Begin, the
// switch in the caller's frame, End.
func hop(f, to *fiber.Fiber, v any) (any, error) {
	next, yield, err := fiberhop.Begin(f, to, v)
	switch {
	case err != nil:
		return nil, err
	case next != nil:
		next()
	case yield != nil:
		yield(struct{}{})
	}
	return fiberhop.End(f)
}

func TestHopSwitchesAsSwitchDoes(t *testing.T) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	echo, _ := g.New(func(self *fiber.Fiber, v any) (any, error) {
		for {
			w, err := hop(self, self.Parent(), v.(int)*2) // down the chain: yield
			if err != nil {
				return nil, err
			}
			v = w
		}
	}, nil)
	if v, err := hop(main, echo, 1); v != 2 || err != nil { // an unstarted fiber: End starts it
		t.Fatalf("first hop = %v, %v; want 2", v, err)
	}
	if v, err := hop(main, echo, 5); v != 10 || err != nil { // up the chain: next
		t.Fatalf("second hop = %v, %v; want 10", v, err)
	}
	boom := errors.New("boom")
	if _, err := main.Throw(echo, boom); !errors.Is(err, boom) { // a throw comes back through End
		t.Fatalf("Throw = %v, want boom from echo's end", err)
	}
}

func TestHopRefusesWhatSwitchRefuses(t *testing.T) {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	if _, err := hop(main, main, nil); err != fiber.ErrSelf {
		t.Fatalf("hop to itself = %v, want ErrSelf", err)
	}
	var other fiber.Group
	defer other.Close()
	if _, err := hop(main, other.Main(), nil); err != fiber.ErrForeign {
		t.Fatalf("hop into another group = %v, want ErrForeign", err)
	}
}

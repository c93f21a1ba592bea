package fiber_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/evergo/evergo/fiber"
)

// genlets ports greenlet's test_generator_nested: generators built on fibers,
// where Yield(v, level) hands v to the level-th ancestor and next resumes the
// deepest child that yielded through its parent.
type genlets struct {
	g  *fiber.Group
	of map[*fiber.Fiber]*genlet
}

type genlet struct {
	f     *fiber.Fiber
	child *genlet
}

func newGenlets(g *fiber.Group) *genlets {
	return &genlets{g: g, of: make(map[*fiber.Fiber]*genlet)}
}

// spawn is Genlet(fn)(...): an unstarted generator running body.
func (gs *genlets) spawn(t *testing.T, body func(self *fiber.Fiber)) *genlet {
	gl := &genlet{}
	gl.f = mustNew(t, gs.g, func(self *fiber.Fiber, _ any) (any, error) {
		body(self)
		return nil, nil
	}, nil)
	gs.of[gl.f] = gl
	return gl
}

// next is genlet.__next__: resume the generator (or its deepest yielding
// child) from the running fiber; ok is false once it has ended.
func (gs *genlets) next(gl *genlet) (v any, ok bool) {
	cur := gs.g.Current()
	var err error
	if gl.child != nil {
		child := gl.child
		for child.child != nil {
			tmp := child
			child = child.child
			tmp.child = nil
		}
		v, err = cur.Switch(child.f, nil)
	} else {
		if err := gl.f.SetParent(cur); err != nil {
			panic(err)
		}
		v, err = cur.Switch(gl.f, nil)
	}
	if err != nil {
		panic(err)
	}
	return v, gl.f.Alive()
}

// yield is Yield(value, level).
func (gs *genlets) yield(v any, level int) {
	cur := gs.g.Current()
	to := cur
	for ; level != 0; level-- {
		if level > 1 {
			gs.of[to.Parent()].child = gs.of[to]
		}
		to = to.Parent()
	}
	if _, err := cur.Switch(to, v); err != nil {
		panic(err)
	}
}

func TestLayeredGenerators(t *testing.T) {
	g, _ := newGroup(t)
	gs := newGenlets(g)
	var seen []int
	gr1 := func(n int) *genlet {
		return gs.spawn(t, func(*fiber.Fiber) {
			for ii := 1; ii < n; ii++ {
				gs.yield(ii, 1)
				gs.yield(ii*ii, 2)
			}
		})
	}
	gr2 := gs.spawn(t, func(*fiber.Fiber) {
		inner := gr1(5)
		for v, ok := gs.next(inner); ok; v, ok = gs.next(inner) {
			seen = append(seen, v.(int))
		}
	})
	for v, ok := gs.next(gr2); ok; v, ok = gs.next(gr2) {
		seen = append(seen, v.(int))
	}
	if want := []int{1, 1, 2, 4, 3, 9, 4, 16}; !slices.Equal(seen, want) {
		t.Fatalf("seen = %v, want %v", seen, want)
	}
}

func TestPermutationsFromNestedGenerators(t *testing.T) {
	g, _ := newGroup(t)
	gs := newGenlets(g)
	var perms func(l []int) *genlet
	perms = func(l []int) *genlet {
		return gs.spawn(t, func(*fiber.Fiber) {
			if len(l) <= 1 {
				gs.yield(l, 1)
				return
			}
			for _, e := range l {
				rest := slices.DeleteFunc(slices.Clone(l), func(x int) bool { return x == e })
				sub := perms(rest)
				for p, ok := gs.next(sub); ok; p, ok = gs.next(sub) {
					gs.yield(append([]int{e}, p.([]int)...), 1)
				}
			}
		})
	}
	var got []string
	top := perms([]int{0, 1, 2})
	for p, ok := gs.next(top); ok; p, ok = gs.next(top) {
		got = append(got, fmt.Sprint(p))
	}
	want := []string{"[0 1 2]", "[0 2 1]", "[1 0 2]", "[1 2 0]", "[2 0 1]", "[2 1 0]"}
	if !slices.Equal(got, want) {
		t.Fatalf("permutations = %v, want %v", got, want)
	}
}

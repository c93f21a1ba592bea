package fiber_test

import (
	"errors"
	"fmt"

	"github.com/evergo/evergo/fiber"
)

// A generator: the fiber hands each value to its parent and waits to be
// resumed; its return value ends the sequence.
func Example_generator() {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	squares, _ := g.New(func(self *fiber.Fiber, limit any) (any, error) {
		for i := 1; i <= limit.(int); i++ {
			if _, err := self.Switch(self.Parent(), i*i); err != nil {
				return nil, err
			}
		}
		return "done", nil
	}, nil)
	v, _ := main.Switch(squares, 4)
	for squares.Alive() {
		fmt.Println(v)
		v, _ = main.Switch(squares, nil)
	}
	fmt.Println(v)
	// Output:
	// 1
	// 4
	// 9
	// 16
	// done
}

// Ping-pong: two fibers hand the baton straight to each other, without going
// through main.
func Example_pingPong() {
	var g fiber.Group
	defer g.Close()
	var ping, pong *fiber.Fiber
	ping, _ = g.New(func(self *fiber.Fiber, v any) (any, error) {
		for range 3 {
			fmt.Println("ping", v)
			v, _ = self.Switch(pong, v.(int)+1)
		}
		return v, nil
	}, nil)
	pong, _ = g.New(func(self *fiber.Fiber, v any) (any, error) {
		for {
			fmt.Println("pong", v)
			var err error
			if v, err = self.Switch(ping, v.(int)+1); err != nil {
				return nil, err
			}
		}
	}, nil)
	last, _ := g.Main().Switch(ping, 0)
	fmt.Println("last", last)
	// Output:
	// ping 0
	// pong 1
	// ping 2
	// pong 3
	// ping 4
	// pong 5
	// last 6
}

// Throw delivers an error at the point where a fiber is parked.
func ExampleFiber_Throw() {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	worker, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(self.Parent(), "ready")
		return "worker saw: " + err.Error(), nil
	}, nil)
	fmt.Println(main.Switch(worker, nil))
	fmt.Println(main.Throw(worker, errors.New("stop")))
	// Output:
	// ready <nil>
	// worker saw: stop <nil>
}

// Kill unwinds a parked fiber: its deferred calls run.
func ExampleFiber_Kill() {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		defer fmt.Println("cleanup runs")
		self.Switch(self.Parent(), nil)
		fmt.Println("never printed")
		return nil, nil
	}, nil)
	main.Switch(f, nil)
	fmt.Println(main.Kill(f), f.Alive())
	// Output:
	// cleanup runs
	// <nil> false
}

// The trace hook sees every switch and throw.
func ExampleGroup_SetTrace() {
	var g fiber.Group
	defer g.Close()
	main := g.Main()
	f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		self.Switch(self.Parent(), nil)
		return nil, errors.New("failed")
	}, nil)
	name := map[*fiber.Fiber]string{main: "main", f: "f"}
	g.SetTrace(func(ev fiber.Event, origin, target *fiber.Fiber) {
		fmt.Println(ev, name[origin], "→", name[target])
	})
	main.Switch(f, nil)
	main.Switch(f, nil)
	// Output:
	// switch main → f
	// switch f → main
	// switch main → f
	// throw f → main
}

package fiber_test

import (
	"bytes"
	"runtime"
	"slices"
	"strconv"
	"testing"

	"github.com/evergo/evergo/fiber"
)

// ownID reads the calling goroutine's id from its stack trace.
func ownID(t *testing.T) uint64 {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	f := bytes.Fields(buf)
	id, err := strconv.ParseUint(string(f[1]), 10, 64)
	if err != nil {
		t.Fatalf("stack header %q: %v", buf, err)
	}
	return id
}

// A suspended fiber's GoroutineID is the goroutine its function runs on,
// and the group lists it among its goroutines until it is closed.
func TestGoroutineIDIsTheFibersOwnGoroutine(t *testing.T) {
	var g fiber.Group
	main := g.Main()
	var inside uint64
	f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
		inside = ownID(t)
		_, err := self.Switch(main, nil)
		return nil, err
	}, nil)
	if id := f.GoroutineID(); id != 0 {
		t.Errorf("unstarted fiber's GoroutineID = %d, want 0", id)
	}
	if _, err := main.Switch(f, nil); err != nil {
		t.Fatal(err)
	}
	if id := f.GoroutineID(); id == 0 || id != inside {
		t.Errorf("GoroutineID = %d, want %d (its function's goroutine)", id, inside)
	}
	if id := main.GoroutineID(); id != 0 {
		t.Errorf("main's GoroutineID = %d, want 0", id)
	}
	if ids := g.Goroutines(nil); !slices.Contains(ids, inside) {
		t.Errorf("Goroutines = %v, want it to hold %d", ids, inside)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if ids := g.Goroutines(nil); len(ids) != 0 {
		t.Errorf("after Close, Goroutines = %v, want none", ids)
	}
}

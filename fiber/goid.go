package fiber

import "sync"

// Goroutine ids are what the runtime prints in stack traces ("goroutine 7
// [coroutine]:"). A group knows those of its workers so that a watchdog on
// another goroutine can tell, in a dump of every goroutine, which of them
// belong to the group (see scheduler's WithBlockWatch), and so that the
// holder of the baton can find a suspended fiber's stack (Fiber.GoroutineID).
// A worker reads its id once, as its goroutine starts: a traceback of its
// own stack, about 3 µs (internal/stacks' BenchmarkID), more than the
// goroutine's creation itself; finished fibers' reuse of workers spares
// it to most fibers, but a group whose workers come and go beyond MaxIdle
// pays it for each new one.

// goroutines is the set of a group's worker goroutines, shared with other
// goroutines. Workers come and go in bursts (a thousand connections
// closing ends a thousand fibers): adding and removing one costs the same
// at any size.
type goroutines struct {
	mu  sync.Mutex
	ids map[uint64]struct{}
}

func (s *goroutines) add(id uint64) {
	s.mu.Lock()
	if s.ids == nil {
		s.ids = make(map[uint64]struct{})
	}
	s.ids[id] = struct{}{}
	s.mu.Unlock()
}

func (s *goroutines) remove(id uint64) {
	s.mu.Lock()
	delete(s.ids, id)
	s.mu.Unlock()
}

// Goroutines appends to dst the ids of the goroutines that run the group's
// fibers (started fibers' and parked workers'), as runtime stack traces
// print them, in no particular order, and returns the result; the main
// fiber's goroutine is not among them. Safe to call from any goroutine:
// the set may have changed by the time it returns. Never parks.
func (g *Group) Goroutines(dst []uint64) []uint64 {
	g.gids.mu.Lock()
	defer g.gids.mu.Unlock()
	for id := range g.gids.ids {
		dst = append(dst, id)
	}
	return dst
}

// GoroutineID returns the id of the goroutine running f, as runtime stack
// traces print it: 0 for a main fiber and for a fiber not started or ended.
// Never parks.
func (f *Fiber) GoroutineID() uint64 {
	if f.w == nil {
		return 0
	}
	return f.w.gid
}

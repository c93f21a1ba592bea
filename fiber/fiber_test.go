package fiber_test

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"
	"weak"

	"github.com/evergo/evergo/fiber"
)

// newGroup returns a group closed at the end of the test, and its main fiber.
func newGroup(t *testing.T, opts ...fiber.Option) (*fiber.Group, *fiber.Fiber) {
	t.Helper()
	g := fiber.NewGroup(opts...)
	t.Cleanup(func() {
		if err := g.Close(); err != nil && !errors.Is(err, fiber.ErrClosed) {
			t.Errorf("Close: %v", err)
		}
	})
	return g, g.Main()
}

func mustNew(t *testing.T, g *fiber.Group, fn fiber.Func, parent *fiber.Fiber) *fiber.Fiber {
	t.Helper()
	f, err := g.New(fn, parent)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return f
}

func mustSwitch(t *testing.T, from, to *fiber.Fiber, v any) any {
	t.Helper()
	got, err := from.Switch(to, v)
	if err != nil {
		t.Fatalf("Switch: %v", err)
	}
	return got
}

func TestFibersInterleaveBySwitching(t *testing.T) {
	g, main := newGroup(t)
	var seen []int
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		seen = append(seen, 1)
		if _, err := self.Switch(self.Parent(), nil); err != nil {
			return nil, err
		}
		seen = append(seen, 3)
		return nil, nil
	}, nil)
	seen = append(seen, 0)
	mustSwitch(t, main, f, nil)
	seen = append(seen, 2)
	mustSwitch(t, main, f, nil)
	seen = append(seen, 4)
	if want := []int{0, 1, 2, 3, 4}; !equal(seen, want) {
		t.Fatalf("order = %v, want %v", seen, want)
	}
}

func TestReturnedValueIsParentsSwitchResult(t *testing.T) {
	g, main := newGroup(t)
	f := mustNew(t, g, func(_ *fiber.Fiber, v any) (any, error) {
		return v.(int) * 2, nil
	}, nil)
	if !f.Alive() {
		t.Fatal("unstarted fiber is not alive")
	}
	if got := mustSwitch(t, main, f, 21); got != 42 {
		t.Fatalf("Switch returned %v, want 42", got)
	}
	if f.Alive() {
		t.Fatal("fiber is alive after its function returned")
	}
}

func TestSuspendedFiberIsAlive(t *testing.T) {
	g, main := newGroup(t)
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		return self.Switch(self.Parent(), nil)
	}, nil)
	mustSwitch(t, main, f, nil)
	if !f.Alive() {
		t.Fatal("suspended fiber is not alive")
	}
}

func TestEndSkipsEndedAndUnstartedParents(t *testing.T) {
	g, main := newGroup(t)
	ranU := false
	u := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { ranU = true; return "u", nil }, nil)
	e := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "e", nil }, u)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "c", nil }, e)
	if got := mustSwitch(t, main, e, nil); got != "e" {
		t.Fatalf("e's result went to %v, want main", got)
	}
	// c's parent e has ended and e's parent u has not started: main gets it.
	if got := mustSwitch(t, main, c, nil); got != "c" {
		t.Fatalf("main got %v, want c", got)
	}
	if ranU || !u.Alive() {
		t.Fatalf("unstarted ancestor: ran=%v alive=%v, want it untouched", ranU, u.Alive())
	}
}

// receiver returns a fiber parked in its first switch, which prefixes what it
// receives next with "p got " and returns that.
func receiver(t *testing.T, g *fiber.Group) *fiber.Fiber {
	t.Helper()
	p := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		v, err := self.Switch(self.Parent(), "parked")
		return "p got " + v.(string), err
	}, nil)
	mustSwitch(t, g.Main(), p, nil)
	return p
}

func TestEndSkipsUnstartedParentToSuspendedGrandparent(t *testing.T) {
	g, main := newGroup(t)
	p := receiver(t, g)
	u := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "u ran", nil }, p)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "c", nil }, u)
	// c's parent u has not started: its result goes to p, not to main.
	if got := mustSwitch(t, main, c, nil); got != "p got c" {
		t.Fatalf("main got %v, want p got c", got)
	}
	if !u.Alive() {
		t.Fatal("the unstarted parent was started")
	}
}

func TestEndGoesToSuspendedParentNotToSwitcher(t *testing.T) {
	g, main := newGroup(t)
	p := receiver(t, g)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "c", nil }, p)
	if got := mustSwitch(t, main, c, nil); got != "p got c" {
		t.Fatalf("main got %v, want p got c", got)
	}
}

func TestErrorSurfacesInFirstSuspendedAncestor(t *testing.T) {
	g, main := newGroup(t)
	boom := errors.New("boom")
	var parentSaw error
	p := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, parentSaw = self.Switch(self.Parent(), nil)
		return "handled", nil
	}, nil)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, boom }, p)
	mustSwitch(t, main, p, nil)
	if got := mustSwitch(t, main, c, nil); got != "handled" {
		t.Fatalf("main got %v, want p's value", got)
	}
	if !errors.Is(parentSaw, boom) {
		t.Fatalf("parent saw %v, want %v", parentSaw, boom)
	}
}

func TestErrorFollowsNewParentAfterReparenting(t *testing.T) {
	g, main := newGroup(t)
	boom := errors.New("boom")
	var oldSaw, newSaw error
	old := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, oldSaw = self.Switch(self.Parent(), nil)
		return nil, nil
	}, nil)
	neu := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, newSaw = self.Switch(self.Parent(), nil)
		return "new parent done", nil
	}, nil)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, boom }, old)
	mustSwitch(t, main, old, nil)
	mustSwitch(t, main, neu, nil)
	if err := c.SetParent(neu); err != nil {
		t.Fatal(err)
	}
	if c.Parent() != neu {
		t.Fatal("Parent() does not report the new parent")
	}
	if got := mustSwitch(t, main, c, nil); got != "new parent done" {
		t.Fatalf("main got %v", got)
	}
	if oldSaw != nil || !errors.Is(newSaw, boom) {
		t.Fatalf("old parent saw %v, new parent saw %v; want only the new one to see %v", oldSaw, newSaw, boom)
	}
}

func TestThrowSurfacesAtSuspensionPoint(t *testing.T) {
	g, main := newGroup(t)
	boom := errors.New("boom")
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(self.Parent(), "ready")
		if errors.Is(err, boom) {
			return "caught", nil
		}
		return "normal exit", err
	}, nil)
	mustSwitch(t, main, f, nil)
	got, err := main.Throw(f, boom)
	if err != nil || got != "caught" {
		t.Fatalf("Throw = %v, %v; want caught, nil", got, err)
	}
	if f.Alive() {
		t.Fatal("fiber alive after returning")
	}
}

func TestThrowIntoUnstartedNeverRunsAndGoesToParent(t *testing.T) {
	// greenlet's test_throw_goes_to_original_parent: g2's parent g1 has not
	// started, so the error skips it and reaches main; g1 stays alive.
	g, main := newGroup(t)
	boom := errors.New("boom")
	ran := false
	g1 := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(self.Parent(), "g1 ready")
		return "g1 done", err
	}, nil)
	g2 := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { ran = true; return nil, nil }, g1)
	_, err := main.Throw(g2, boom)
	if !errors.Is(err, boom) {
		t.Fatalf("main got %v, want %v", err, boom)
	}
	if ran || g2.Alive() {
		t.Fatalf("g2: ran=%v alive=%v, want not run and dead", ran, g2.Alive())
	}
	if !g1.Alive() {
		t.Fatal("unstarted grand-parent g1 died")
	}
	if got := mustSwitch(t, main, g1, nil); got != "g1 ready" {
		t.Fatalf("g1 did not start normally: %v", got)
	}
}

func TestThrowIntoUnstartedGoesToSuspendedParent(t *testing.T) {
	g, main := newGroup(t)
	boom := errors.New("boom")
	p := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		_, err := self.Switch(self.Parent(), nil)
		return "p saw " + err.Error(), nil
	}, nil)
	c := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, p)
	mustSwitch(t, main, p, nil)
	got, err := main.Throw(c, boom)
	if err != nil || got != "p saw boom" {
		t.Fatalf("Throw = %v, %v; want the parent to handle it", got, err)
	}
}

func TestKillRunsDeferredCallsAndEnds(t *testing.T) {
	g, main := newGroup(t)
	var log []string
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		defer func() { log = append(log, "deferred") }()
		self.Switch(self.Parent(), nil)
		log = append(log, "after switch")
		return nil, nil
	}, nil)
	mustSwitch(t, main, f, nil)
	if err := main.Kill(f); err != nil {
		t.Fatalf("Kill: %v", err)
	}
	if f.Alive() {
		t.Fatal("killed fiber is alive")
	}
	if len(log) != 1 || log[0] != "deferred" {
		t.Fatalf("log = %v, want only the deferred call", log)
	}
	if err := main.Kill(f); err != nil {
		t.Fatalf("Kill of an ended fiber = %v, want a no-op", err)
	}
}

func TestKillUnstartedNeverRuns(t *testing.T) {
	g, main := newGroup(t)
	ran := false
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { ran = true; return nil, nil }, nil)
	if err := main.Kill(f); err != nil {
		t.Fatal(err)
	}
	if ran || f.Alive() {
		t.Fatalf("ran=%v alive=%v", ran, f.Alive())
	}
}

func TestKillBackDownTheChain(t *testing.T) {
	// b was resumed by a, so a is parked below b; b kills a.
	g, main := newGroup(t)
	aDeferred := false
	var b *fiber.Fiber
	a := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		defer func() { aDeferred = true }()
		return self.Switch(b, nil)
	}, nil)
	b = mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		if err := self.Kill(a); err != nil {
			return nil, err
		}
		return "b killed a", nil
	}, nil)
	if got := mustSwitch(t, main, a, nil); got != "b killed a" {
		t.Fatalf("main got %v", got)
	}
	if !aDeferred || a.Alive() {
		t.Fatalf("a: deferred=%v alive=%v", aDeferred, a.Alive())
	}
}

func TestKilledFiberCannotSwitch(t *testing.T) {
	g, main := newGroup(t)
	var afterKill error
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		defer func() {
			recover() // swallow the kill
			_, afterKill = self.Switch(self.Parent(), nil)
		}()
		self.Switch(self.Parent(), nil)
		return nil, nil
	}, nil)
	mustSwitch(t, main, f, nil)
	if err := main.Kill(f); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(afterKill, fiber.ErrKilled) {
		t.Fatalf("switch from a killed fiber = %v, want ErrKilled", afterKill)
	}
}

func TestPanicReachesParentAsPanicError(t *testing.T) {
	g, main := newGroup(t)
	boom := errors.New("boom")
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { panicHere(boom); return nil, nil }, nil)
	_, err := main.Switch(f, nil)
	var pe *fiber.PanicError
	if !errors.As(err, &pe) {
		t.Fatalf("err = %v, want *PanicError", err)
	}
	if pe.Value != boom || !errors.Is(err, boom) {
		t.Fatalf("PanicError value %v, want %v (and Unwrap to it)", pe.Value, boom)
	}
	if !strings.Contains(string(pe.Stack), "panicHere") {
		t.Fatalf("stack does not show where it panicked:\n%s", pe.Stack)
	}
	if f.Alive() {
		t.Fatal("panicked fiber alive")
	}
	// The group goes on.
	f2 := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return 1, nil }, nil)
	if got := mustSwitch(t, main, f2, nil); got != 1 {
		t.Fatalf("after a panic: %v", got)
	}
}

func panicHere(v any) { panic(v) }

func TestPanicInDeferredCallDuringKillIsReturned(t *testing.T) {
	g := fiber.NewGroup()
	main := g.Main()
	f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
		defer panic("cleanup failed")
		self.Switch(self.Parent(), nil)
		return nil, nil
	}, nil)
	mustSwitch(t, main, f, nil)
	err := g.Close()
	var pe *fiber.PanicError
	if !errors.As(err, &pe) || pe.Value != "cleanup failed" {
		t.Fatalf("Close = %v, want the deferred panic", err)
	}
}

func TestTraceSeesSwitchesAndThrows(t *testing.T) {
	g, main := newGroup(t)
	g1 := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	g2 := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, errors.New("some error") }, nil)
	names := map[*fiber.Fiber]string{main: "main", g1: "g1", g2: "g2"}
	var got []string
	g.SetTrace(func(ev fiber.Event, origin, target *fiber.Fiber) {
		got = append(got, ev.String()+" "+names[origin]+"→"+names[target])
	})
	mustSwitch(t, main, g1, nil)
	if _, err := main.Switch(g2, nil); err == nil {
		t.Fatal("g2's error was lost")
	}
	g.SetTrace(nil)
	want := []string{"switch main→g1", "switch g1→main", "switch main→g2", "throw g2→main"}
	if !equal(got, want) {
		t.Fatalf("trace = %q, want %q", got, want)
	}
}

func TestTraceHookPanicAtEndBecomesTheFibersError(t *testing.T) {
	g, main := newGroup(t)
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return "v", nil }, nil)
	g.SetTrace(func(ev fiber.Event, origin, _ *fiber.Fiber) {
		if origin == f {
			panic("trace")
		}
	})
	_, err := main.Switch(f, nil)
	var pe *fiber.PanicError
	if !errors.As(err, &pe) || pe.Value != "trace" {
		t.Fatalf("err = %v, want the trace hook's panic", err)
	}
}

func TestFiberToFiberPingPong(t *testing.T) {
	g, main := newGroup(t)
	var log []string
	var ping, pong *fiber.Fiber
	ping = mustNew(t, g, func(self *fiber.Fiber, v any) (any, error) {
		for i := 0; i < 3; i++ {
			log = append(log, "ping")
			var err error
			if v, err = self.Switch(pong, v.(int)+1); err != nil {
				return nil, err
			}
		}
		return v, nil
	}, nil)
	pong = mustNew(t, g, func(self *fiber.Fiber, v any) (any, error) {
		for {
			log = append(log, "pong")
			var err error
			if v, err = self.Switch(ping, v.(int)+1); err != nil {
				return nil, err
			}
		}
	}, nil)
	if got := mustSwitch(t, main, ping, 0); got != 6 {
		t.Fatalf("result %v, want 6", got)
	}
	if want := []string{"ping", "pong", "ping", "pong", "ping", "pong"}; !equal(log, want) {
		t.Fatalf("log = %v", log)
	}
	if !pong.Alive() {
		t.Fatal("pong should still be suspended")
	}
}

func TestTenGoroutinesRunTheirOwnGroups(t *testing.T) {
	var wg sync.WaitGroup
	errs := make(chan error, 10)
	for id := range 10 {
		wg.Go(func() {
			g := fiber.NewGroup()
			defer g.Close()
			main := g.Main()
			var fs []*fiber.Fiber
			for k := range 3 {
				f, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
					for i := 0; ; i++ {
						if _, err := self.Switch(self.Parent(), [3]int{id, k, i}); err != nil {
							return nil, err
						}
					}
				}, nil)
				fs = append(fs, f)
			}
			for i := range 200 {
				for k, f := range fs {
					v, err := main.Switch(f, nil)
					if want := [3]int{id, k, i}; err != nil || v != want {
						errs <- errors.New("group mixed up: got " + fmt.Sprint(v) + ", want " + fmt.Sprint(want))
						return
					}
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestFiberEntersAnotherGroupAsItsMain(t *testing.T) {
	outer, main := newGroup(t)
	inner := fiber.NewGroup()
	var innerF *fiber.Fiber
	host := mustNew(t, outer, func(self *fiber.Fiber, _ any) (any, error) {
		defer inner.Close()
		v, err := inner.Main().Switch(innerF, "x")
		if err != nil {
			return nil, err
		}
		// A fiber of the inner group may not switch into the outer one.
		if _, err := inner.Main().Switch(self.Parent(), nil); !errors.Is(err, fiber.ErrForeign) {
			return nil, errors.New("cross-group switch: " + fmt.Sprint(err))
		}
		return v, nil
	}, nil)
	innerF = mustNew(t, inner, func(self *fiber.Fiber, v any) (any, error) {
		return v.(string) + "y", nil
	}, nil)
	if got := mustSwitch(t, main, host, nil); got != "xy" {
		t.Fatalf("got %v", got)
	}
}

func TestCloseKillsSuspendedFibersOldestFirst(t *testing.T) {
	before := runtime.NumGoroutine()
	g := fiber.NewGroup()
	main := g.Main()
	var order []int
	var fs []*fiber.Fiber
	for i := range 3 {
		f := mustNew(t, g, func(self *fiber.Fiber, _ any) (any, error) {
			defer func() { order = append(order, i) }()
			self.Switch(self.Parent(), nil)
			return nil, nil
		}, nil)
		fs = append(fs, f)
	}
	unstarted := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	for _, f := range fs {
		mustSwitch(t, main, f, nil)
	}
	if err := g.Close(); err != nil {
		t.Fatal(err)
	}
	if !equal(order, []int{0, 1, 2}) {
		t.Fatalf("kill order %v", order)
	}
	for _, f := range append(fs, unstarted, main) {
		if f.Alive() {
			t.Fatal("a fiber is alive after Close")
		}
	}
	if n := runtime.NumGoroutine() - before; n > 0 { // fewer: another test's ended meanwhile
		t.Fatalf("%d goroutines outlive the closed group", n)
	}
}

// goroutineID returns the number of the calling goroutine, from its stack's
// first line ("goroutine 7 [running]:"): the runtime never gives a number
// to two goroutines.
func goroutineID() string {
	buf := make([]byte, 64)
	buf = buf[:runtime.Stack(buf, false)]
	id, _, _ := strings.Cut(strings.TrimPrefix(string(buf), "goroutine "), " ")
	return id
}

// The goroutines a fiber runs on are told apart by their numbers, not by
// counting the process's goroutines, which other tests' may still change.
func TestFinishedFibersGoroutinesAreReused(t *testing.T) {
	g, main := newGroup(t)
	ran := map[string]bool{}
	for range 50 {
		f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { ran[goroutineID()] = true; return nil, nil }, nil)
		mustSwitch(t, main, f, nil)
	}
	if len(ran) != 1 {
		t.Fatalf("50 sequential fibers ran on %d goroutines, want 1, reused", len(ran))
	}
}

func TestMaxIdleZeroLetsGoroutinesExit(t *testing.T) {
	g, main := newGroup(t, fiber.MaxIdle(0))
	before := runtime.NumGoroutine()
	f := mustNew(t, g, func(*fiber.Fiber, any) (any, error) { return nil, nil }, nil)
	mustSwitch(t, main, f, nil)
	if n := runtime.NumGoroutine() - before; n > 0 { // fewer: another test's ended meanwhile
		t.Fatalf("%d goroutines left, want 0", n)
	}
}

func TestArgumentsResultsAndFunctionAreNotRetained(t *testing.T) {
	g, main := newGroup(t)
	arg, res := new([64]byte), new([64]byte)
	wArg, wRes := weak.Make(arg), weak.Make(res)
	var wKept weak.Pointer[[64]byte]
	fn := func() fiber.Func {
		kept := new([64]byte) // reachable only through the function value
		wKept = weak.Make(kept)
		return func(_ *fiber.Fiber, v any) (any, error) {
			_, _ = v.(*[64]byte), kept
			return res, nil
		}
	}
	f := mustNew(t, g, fn(), nil)
	if _, err := main.Switch(f, arg); err != nil {
		t.Fatal(err)
	}
	arg, res = nil, nil
	runtime.GC()
	runtime.GC()
	if wArg.Value() != nil || wRes.Value() != nil || wKept.Value() != nil {
		t.Fatalf("retained after the fiber ended: arg=%v res=%v function=%v",
			wArg.Value() != nil, wRes.Value() != nil, wKept.Value() != nil)
	}
	runtime.KeepAlive(f)
}

func TestGoexitInFiberEndsChainAndCloseCleansUp(t *testing.T) {
	done := make(chan []string)
	go func() {
		var log []string
		g := fiber.NewGroup()
		main := g.Main()
		defer func() { done <- log }()
		defer func() {
			if err := g.Close(); err != nil {
				log = append(log, "close: "+err.Error())
			}
			log = append(log, "closed")
		}()
		parked, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
			defer func() { log = append(log, "parked unwound") }()
			return self.Switch(self.Parent(), nil)
		}, nil)
		exiting, _ := g.New(func(*fiber.Fiber, any) (any, error) {
			defer func() { log = append(log, "exiting unwound") }()
			runtime.Goexit()
			return nil, nil
		}, nil)
		main.Switch(parked, nil)
		main.Switch(exiting, nil)
		log = append(log, "main went on") // not reached: Goexit continues here
	}()
	got := <-done
	if want := []string{"exiting unwound", "parked unwound", "closed"}; !equal(got, want) {
		t.Fatalf("log = %q, want %q", got, want)
	}
}

// goexitRun runs body as the main fiber of a new group on a goroutine of its
// own, with a deferred Close, and returns what Close returned once the
// goroutine has gone.
func goexitRun(body func(g *fiber.Group)) error {
	done := make(chan error)
	go func() {
		g := fiber.NewGroup()
		defer func() { done <- g.Close() }()
		body(g)
	}()
	return <-done
}

func TestGoexitAfterRecoveredPanicStillReportsThePanic(t *testing.T) {
	err := goexitRun(func(g *fiber.Group) {
		f, _ := g.New(func(*fiber.Fiber, any) (any, error) {
			defer panic("cleanup panicked") // panics while Goexit unwinds
			runtime.Goexit()
			return nil, nil
		}, nil)
		g.Main().Switch(f, nil)
	})
	var pe *fiber.PanicError
	if !errors.As(err, &pe) || pe.Value != "cleanup panicked" {
		t.Fatalf("Close = %v, want the panic recovered during Goexit", err)
	}
}

func TestGoexitDownTheChainRefusesSwitchesUntilMain(t *testing.T) {
	var midClose error
	err := goexitRun(func(g *fiber.Group) {
		var b *fiber.Fiber
		a, _ := g.New(func(self *fiber.Fiber, _ any) (any, error) {
			defer func() { midClose = g.Close() }() // runs while Goexit passes through a
			return self.Switch(b, nil)
		}, nil)
		b, _ = g.New(func(*fiber.Fiber, any) (any, error) {
			runtime.Goexit()
			return nil, nil
		}, nil)
		g.Main().Switch(a, nil)
	})
	if !errors.Is(midClose, fiber.ErrNotCurrent) {
		t.Fatalf("Close from a fiber unwinding under Goexit = %v, want ErrNotCurrent", midClose)
	}
	if err != nil {
		t.Fatalf("main's deferred Close = %v", err)
	}
}

func equal[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

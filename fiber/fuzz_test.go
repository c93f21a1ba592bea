package fiber_test

import (
	"errors"
	"fmt"
	"testing"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/fiber"
)

// FuzzFiberOps drives random programs of switches, throws, kills, returns,
// panics and re-parentings against a model of the fiber rules: every time the
// baton arrives somewhere, the model has said in advance which fiber gets it
// and with what value or error; every misuse returns the error the model
// predicts; and Close leaves no goroutine behind.
func FuzzFiberOps(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 1, 1, 1, 2, 4, 0, 1, 0})
	f.Add([]byte{0, 0, 0, 1, 1, 1, 1, 2, 2, 1, 3, 1, 4, 1})
	f.Add([]byte{0, 0, 1, 1, 0, 0, 1, 2, 5, 9, 2, 2, 6, 0, 3, 2})
	f.Add([]byte{0, 0, 0, 0, 0, 0, 1, 3, 1, 2, 1, 1, 2, 3, 3, 2, 4, 5})
	f.Add([]byte{0, 0, 0, 1, 0, 2, 1, 1, 1, 0, 1, 3, 4, 0}) // end skips an unstarted parent
	f.Fuzz(func(t *testing.T, script []byte) {
		ignore := goleak.IgnoreCurrent()
		newModelRun(t, script).run()
		goleak.VerifyNone(t, ignore)
	})
}

type mstate uint8

const (
	mUnstarted mstate = iota
	mSuspended
	mRunning
	mEnded
)

// arrival is what the model says the next holder of the baton receives.
type arrival struct {
	to  int
	v   any
	err error // compared with errors.Is; a *PanicError is matched by type
}

type modelRun struct {
	t      *testing.T
	script []byte
	g      *fiber.Group
	fibers []*fiber.Fiber // index 0 is main
	id     map[*fiber.Fiber]int
	state  []mstate
	parent []int
	want   arrival
	token  int
	unwind []bool // deferred calls ran
}

const maxFibers = 6

func newModelRun(t *testing.T, script []byte) *modelRun {
	g := fiber.NewGroup(fiber.MaxIdle(2))
	m := &modelRun{t: t, script: script, g: g, id: map[*fiber.Fiber]int{}}
	m.add(g.Main(), -1, mRunning)
	return m
}

func (m *modelRun) add(f *fiber.Fiber, parent int, s mstate) {
	m.id[f] = len(m.fibers)
	m.fibers = append(m.fibers, f)
	m.state = append(m.state, s)
	m.parent = append(m.parent, parent)
	m.unwind = append(m.unwind, false)
}

func (m *modelRun) run() {
	m.exec(0)
	if err := m.g.Close(); err != nil {
		m.t.Fatalf("Close: %v", err)
	}
	for i, f := range m.fibers {
		if f.Alive() {
			m.t.Fatalf("fiber %d alive after Close", i)
		}
		if i > 0 && m.state[i] == mSuspended && !m.unwind[i] {
			m.t.Fatalf("suspended fiber %d was not unwound by Close", i)
		}
	}
}

// ancestor is the model's first suspended (or running) ancestor of id.
func (m *modelRun) ancestor(id int) int {
	p := m.parent[id]
	for m.state[p] == mUnstarted || m.state[p] == mEnded {
		p = m.parent[p]
	}
	return p
}

// arrive checks that the baton reached self with what the model predicted.
func (m *modelRun) arrive(self int, v any, err error) {
	m.t.Helper()
	w := m.want
	if w.to != self {
		m.t.Fatalf("baton reached fiber %d, model says %d", self, w.to)
	}
	var pe *fiber.PanicError
	switch {
	case w.err == nil && err != nil, w.err != nil && err == nil:
		m.t.Fatalf("fiber %d got err %v, model says %v", self, err, w.err)
	case w.err != nil && errors.As(w.err, &pe):
		if !errors.As(err, &pe) {
			m.t.Fatalf("fiber %d got %v, model says a panic", self, err)
		}
	case w.err != nil && !errors.Is(err, w.err):
		m.t.Fatalf("fiber %d got err %v, model says %v", self, err, w.err)
	}
	if v != w.v {
		m.t.Fatalf("fiber %d got %v, model says %v", self, v, w.v)
	}
	m.state[self] = mRunning
}

func (m *modelRun) expectErr(what string, got, want error) {
	m.t.Helper()
	if !errors.Is(got, want) || (want == nil && got != nil) {
		m.t.Fatalf("%s: got %v, model says %v", what, got, want)
	}
}

func (m *modelRun) next() (op, arg byte, ok bool) {
	if len(m.script) < 2 {
		return 0, 0, false
	}
	op, arg = m.script[0]%7, m.script[1]
	m.script = m.script[2:]
	return op, arg, true
}

func (m *modelRun) body(self *fiber.Fiber, v any) (any, error) {
	id := m.id[self]
	defer func() { m.unwind[id] = true }()
	m.arrive(id, v, nil)
	return m.exec(id)
}

// exec runs script operations on fiber id until the script ends or the
// fiber's function returns.
func (m *modelRun) exec(id int) (any, error) {
	self := m.fibers[id]
	n := func(arg byte) int { return int(arg) % len(m.fibers) }
	for {
		op, arg, ok := m.next()
		if !ok {
			if id == 0 {
				return nil, nil
			}
			op, arg = 4, 0 // fibers return when the script ends
		}
		m.token++
		tok := m.token
		switch op {
		case 0: // New, with parent n(arg)
			if len(m.fibers) == maxFibers {
				continue
			}
			p := n(arg)
			f, err := m.g.New(m.body, m.fibers[p])
			if m.state[p] == mEnded {
				m.expectErr("New with an ended parent", err, fiber.ErrDead)
				continue
			}
			m.expectErr("New", err, nil)
			m.add(f, p, mUnstarted)
		case 1: // Switch to n(arg)
			to := n(arg)
			if m.misuse(id, to, "Switch", func() error { _, err := self.Switch(m.fibers[to], tok); return err }) {
				continue
			}
			m.want = arrival{to: to, v: tok}
			m.state[id] = mSuspended
			v, err := self.Switch(m.fibers[to], tok)
			m.arrive(id, v, err)
		case 2: // Throw into n(arg)
			to := n(arg)
			boom := fmt.Errorf("boom %d", tok)
			if m.misuse(id, to, "Throw", func() error { _, err := self.Throw(m.fibers[to], boom); return err }) {
				continue
			}
			m.state[id] = mSuspended
			if m.state[to] == mUnstarted {
				m.state[to] = mEnded
				m.want = arrival{to: m.ancestor(to), err: boom}
			} else {
				m.want = arrival{to: to, err: boom}
			}
			v, err := self.Throw(m.fibers[to], boom)
			m.arrive(id, v, err)
		case 3: // Kill n(arg)
			to := n(arg)
			switch {
			case to == id:
				m.expectErr("Kill self", self.Kill(m.fibers[to]), fiber.ErrSelf)
			case to == 0:
				m.expectErr("Kill main", self.Kill(m.fibers[to]), fiber.ErrMain)
			case m.state[to] == mEnded:
				m.expectErr("Kill ended", self.Kill(m.fibers[to]), nil)
			default:
				wasSuspended := m.state[to] == mSuspended
				m.state[to] = mEnded
				m.want = arrival{to: id}
				m.state[id] = mSuspended
				err := self.Kill(m.fibers[to])
				m.arrive(id, nil, err)
				if m.unwind[to] != wasSuspended {
					m.t.Fatalf("killed fiber %d: deferred calls ran=%v, want %v", to, m.unwind[to], wasSuspended)
				}
			}
		case 4, 5: // return a value (4) or an error (5)
			if id == 0 {
				continue
			}
			m.state[id] = mEnded
			if op == 4 {
				m.want = arrival{to: m.ancestor(id), v: tok}
				return tok, nil
			}
			err := fmt.Errorf("end %d", tok)
			m.want = arrival{to: m.ancestor(id), err: err}
			return nil, err
		case 6: // panic, or SetParent when main holds the baton
			if id != 0 {
				m.state[id] = mEnded
				m.want = arrival{to: m.ancestor(id), err: &fiber.PanicError{}}
				panic(tok)
			}
			m.setParent(n(arg), n(arg/8))
		}
	}
}

// misuse predicts and checks a refused Switch or Throw; it reports whether the
// operation was refused.
func (m *modelRun) misuse(from, to int, what string, call func() error) bool {
	var want error
	switch {
	case to == from:
		want = fiber.ErrSelf
	case m.state[to] == mEnded:
		want = fiber.ErrDead
	default:
		return false
	}
	m.expectErr(what, call(), want)
	return true
}

func (m *modelRun) setParent(child, p int) {
	err := m.fibers[child].SetParent(m.fibers[p])
	var want error
	switch {
	case child == 0:
		want = fiber.ErrMain
	case m.state[p] == mEnded:
		want = fiber.ErrDead
	default:
		for a := p; a >= 0; a = m.parent[a] {
			if a == child {
				want = fiber.ErrCycle
				break
			}
		}
	}
	m.expectErr("SetParent", err, want)
	if want == nil {
		m.parent[child] = p
	}
}

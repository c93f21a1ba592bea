package fiber

import "github.com/evergo/evergo/internal/fiberhop"

func init() {
	fiberhop.Begin = func(f, to any, v any) (func() (struct{}, bool), func(struct{}) bool, error) {
		return f.(*Fiber).begin(to.(*Fiber), v)
	}
	fiberhop.End = func(f any) (any, error) { return f.(*Fiber).end() }
}

// begin is Switch up to the coroutine switch: the checks, the baton, and
// the state of f. It returns the function that makes the first hop (see
// pass): to's next, or f's yield; neither when to is unstarted, which end
// leaves to onward. (Switch spells begin and end out rather than call them:
// a call before the switch costs its budget a few percent.)
func (f *Fiber) begin(to *Fiber, v any) (next func() (struct{}, bool), yield func(struct{}) bool, err error) {
	g := f.g
	if g == nil || to == nil || to.g != g || g.x.to != f || to == f ||
		to.state == ended || f.dying {
		return nil, nil, f.misuse(to)
	}
	if g.trace != nil {
		g.trace(EventSwitch, f, to)
	}
	g.x.to, to.in = to, v // the rest of g.x is zero between switches
	switch to.state {
	case yielded:
		f.state = calling
		return to.w.next, nil, nil
	case calling:
		f.state = yielded
		return nil, f.w.yield, nil
	}
	return nil, nil, nil
}

// end is Switch once its first hop is back: the value the baton brought, or
// the rest of the way (onward) when the hop did not end the switch.
func (f *Fiber) end() (any, error) {
	g := f.g
	if g.x.to != f || g.x.kind != kindSwitch {
		return g.onward(f)
	}
	f.state = running
	v := f.in
	f.in = nil
	return v, nil
}

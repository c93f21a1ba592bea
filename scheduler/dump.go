package scheduler

import (
	"bufio"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evergo/evergo/internal/stacks"
)

// Where a task is: every task runs on a goroutine of its own (its fiber's),
// and a suspended task's goroutine is parked in the runtime's coroutine
// switch, deep inside this package, with the task's own calls below. The
// place worth naming is the first of those that is not evergo's: the line
// that called queue.Get or conn.Read. Nothing is recorded as tasks park
// (that would cost every switch a traceback); the stacks are read from a
// dump of every goroutine when a report asks for them.

// taskWhere reads, from a dump of every goroutine, where t is: the first
// frame of its stack outside evergo's own packages (its parking call). ok
// is false for a task whose fiber has not started yet, and for one whose
// stack holds nothing but evergo's frames.
func taskWhere(gs map[uint64]*stacks.Goroutine, t *Task) (f stacks.Frame, ok bool) {
	if t.life == nil {
		return f, false
	}
	if g := gs[t.f.GoroutineID()]; g != nil {
		return where(g)
	}
	return f, false
}

// where returns the innermost frame of g outside the runtime and evergo's
// own packages.
func where(g *stacks.Goroutine) (stacks.Frame, bool) {
	for _, f := range g.Frames {
		if !ours(stacks.Package(f.Func)) {
			return f, true
		}
	}
	return stacks.Frame{}, false
}

// ours reports whether pkg is the runtime's or one of evergo's own, whose
// frames a "where" looks through to the caller's.
func ours(pkg string) bool {
	rest, ok := strings.CutPrefix(pkg, "github.com/evergo/evergo/")
	if !ok {
		return pkg == "runtime" || pkg == "iter" || pkg == "runtime/debug"
	}
	switch rest {
	case "fiber", "scheduler", "locks", "queue", "futures", "ioco", "httpco", "remote":
		return true
	}
	return strings.HasPrefix(rest, "internal/") && !strings.HasPrefix(rest, "internal/bench/")
}

// at formats a frame for a report: its function without the import path's
// directories, and its file's base name, "scheduler_test.worker
// (dump_test.go:31)"; the full path is in the frame.
func at(f stacks.Frame) string {
	fn := f.Func
	if slash := strings.LastIndexByte(fn, '/'); slash >= 0 {
		fn = fn[slash+1:]
	}
	return fn + " (" + filepath.Base(f.File) + ":" + strconv.Itoa(f.Line) + ")"
}

// Dump writes a report of the loop to w, like gevent's print_run_info: a
// line of counters, then every live task, oldest first, with its state,
// what it waits on if it is parked, and where it is: the function and
// file:line of the call it is suspended in (a parked task's parking call, a
// runnable task's yield, the caller of Dump for the running task). A task
// that has not run yet is "not started". Reading where the tasks are stops
// the world for a moment (runtime.Stack of every goroutine): Dump is for
// diagnostics, not for a hot path. It returns w's error.
//
// Call it on the loop, from a task or a callback. From another goroutine,
// Post a callback that calls it, or register one with AddSignalHandler
// (SIGQUIT, say). Never parks.
func (l *Loop) Dump(w io.Writer) error {
	gs := stacks.All()
	s := l.Stats()
	b := bufio.NewWriter(w)
	b.WriteString("loop: " + plural(s.Tasks, "task") + " (" + strconv.Itoa(s.Runnable) + " runnable, " +
		strconv.Itoa(s.Parked) + " parked), " + plural(s.Timers, "timer") + ", " + plural(s.FDs, "fd") +
		", " + plural(l.outside, "post") + " expected\n")
	for t := l.live; t != nil; t = t.lnext {
		b.WriteString("task " + itoa(t.id) + " " + quote(t.Name()) + " " + t.state.String())
		if t.state == StateParked {
			b.WriteString(" on " + t.waitingOn())
		}
		switch f, ok := taskWhere(gs, t); {
		case ok:
			b.WriteString("\n\tat " + at(f) + "\n")
		case t.f.Started():
			b.WriteString("\n\tin evergo's own code\n")
		default:
			b.WriteString("\n\tnot started\n")
		}
	}
	return b.Flush()
}

// waitingOn says what a parked task waits on, for reports.
func (t *Task) waitingOn() string {
	if t.waitFor != nil {
		return t.what + " task " + itoa(t.waitFor.id) + " " + quote(t.waitFor.Name())
	}
	return t.what
}

func plural(n int, what string) string {
	s := strconv.Itoa(n) + " " + what
	if n != 1 {
		s += "s"
	}
	return s
}

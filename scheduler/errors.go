package scheduler

import (
	"errors"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/evergo/evergo/fiber"
)

var (
	// ErrNoTask is returned by a call that may park when its ctx carries no
	// task: a context that did not come from a task of a loop (or came from a
	// callback, which runs on the loop but is not a task and may not park).
	ErrNoTask = errors.New("scheduler: context carries no task")

	// ErrNoLoop is returned by a call that needs a loop when its ctx carries
	// none.
	ErrNoLoop = errors.New("scheduler: context carries no loop")

	// ErrKilled is what a killed task's suspension point panics with while
	// its deferred calls run, what Join returns for a killed task, and what
	// a parking call returns when a dying task tries to park. It is
	// fiber.ErrKilled.
	ErrKilled = fiber.ErrKilled

	// ErrDeadlock is wrapped by the *DeadlockError that Run returns when every
	// task waits on something nothing left can deliver.
	ErrDeadlock = errors.New("scheduler: deadlock")

	// ErrStopped is returned by Run when Stop ended the loop before its main
	// task did.
	ErrStopped = errors.New("scheduler: loop stopped")

	// ErrNotRunning is returned by Stop and AddSignalHandler when the loop is
	// not running.
	ErrNotRunning = errors.New("scheduler: loop not running")

	// ErrClosed is returned by Run on a loop that has already run, and by
	// Post, Spawn and Start once the loop has ended.
	ErrClosed = errors.New("scheduler: loop closed")

	// ErrNotStarted is returned by Join on a task made by NewTask that was
	// never started.
	ErrNotStarted = errors.New("scheduler: task not started")

	// ErrStarted is returned by Start on a task that was already started (or
	// killed).
	ErrStarted = errors.New("scheduler: task already started")

	// ErrJoinSelf is returned by Join when a task joins itself.
	ErrJoinSelf = errors.New("scheduler: task joins itself")

	// ErrWrongLoop is returned when a task, handle or fd of one loop is used
	// with a context of another.
	ErrWrongLoop = errors.New("scheduler: object of another loop")

	// ErrNotCurrent is returned by a parking call whose ctx carries a task
	// that is not the one running: a task's context handed to another task.
	ErrNotCurrent = errors.New("scheduler: context of a task that is not running")

	// ErrNilFunc is returned when a task or callback function is nil.
	ErrNilFunc = errors.New("scheduler: nil function")
)

// PanicError is a panic recovered in a task or callback, with the stack of the
// goroutine that panicked. Join returns it for a task that panicked; Run
// returns it (wrapped) for a callback that panicked.
type PanicError = fiber.PanicError

// DeadlockError is what Run returns when every task waits on something that
// nothing left in the loop can deliver: no task can run, no timer is pending,
// no fd is waited on and no post is expected. It names each waiting task.
type DeadlockError struct {
	Tasks []Blocked // the tasks alive at the time, oldest first
}

// Blocked is one task in a deadlock report.
type Blocked struct {
	ID   uint64
	Name string
	What string // what it waits on, as its parking call described it
	// Where is the file:line of its parking call: the innermost call in
	// its stack outside evergo's own packages ("" if none was found).
	Where string
}

func (e *DeadlockError) Error() string {
	var b strings.Builder
	b.WriteString("scheduler: deadlock: ")
	b.WriteString(strconv.Itoa(len(e.Tasks)))
	if len(e.Tasks) == 1 {
		b.WriteString(" task waits")
	} else {
		b.WriteString(" tasks wait")
	}
	b.WriteString(" and nothing can wake them (this operation would block forever)")
	for _, t := range e.Tasks {
		b.WriteString("\n\ttask ")
		b.WriteString(itoa(t.ID))
		b.WriteString(" ")
		b.WriteString(quote(t.Name))
		b.WriteString(" waits on ")
		b.WriteString(t.What)
		if t.Where != "" {
			b.WriteString(" (")
			b.WriteString(filepath.Base(t.Where))
			b.WriteString(")")
		}
	}
	return b.String()
}

func itoa(n uint64) string  { return strconv.FormatUint(n, 10) }
func quote(s string) string { return strconv.Quote(s) }

// Unwrap makes errors.Is(err, ErrDeadlock) true.
func (e *DeadlockError) Unwrap() error { return ErrDeadlock }

package fiber

import (
	"errors"
	"fmt"
)

// Errors returned for misuse. A call that returns one of them has not moved
// the baton: the caller still runs and nothing in the group changed.
var (
	// ErrDead: the target fiber has ended (its function returned, panicked,
	// was killed, or was thrown into before it started).
	ErrDead = errors.New("fiber: fiber has ended")

	// ErrSelf: a fiber tried to switch to, throw into or kill itself.
	ErrSelf = errors.New("fiber: switch to the running fiber itself")

	// ErrNotCurrent: the origin of a switch does not hold the group's baton.
	// Only the running fiber may switch, throw or kill; the fiber it names
	// as origin is the one its function was given (or the group's main
	// fiber, from the goroutine that entered the group).
	ErrNotCurrent = errors.New("fiber: origin does not hold the baton")

	// ErrForeign: a target or parent belongs to another group.
	ErrForeign = errors.New("fiber: fiber belongs to another group")

	// ErrCycle: SetParent would make a fiber its own ancestor.
	ErrCycle = errors.New("fiber: cyclic parent chain")

	// ErrMain: the operation does not apply to a group's main fiber, which has
	// no parent and cannot be killed.
	ErrMain = errors.New("fiber: not allowed on the main fiber")

	// ErrClosed: the group has been closed.
	ErrClosed = errors.New("fiber: group is closed")

	// ErrNilFunc: New was given a nil function.
	ErrNilFunc = errors.New("fiber: nil function")

	// ErrNilThrow: Throw was given a nil error.
	ErrNilThrow = errors.New("fiber: Throw of a nil error")

	// ErrAlive: Reuse was given a fiber that has not ended.
	ErrAlive = errors.New("fiber: fiber has not ended")

	// ErrKilled is the panic value that unwinds a fiber being killed (greenlet's
	// GreenletExit). A killed fiber that recovers it cannot switch any more:
	// Switch, Throw and Kill called from it return ErrKilled.
	ErrKilled = errors.New("fiber: killed")
)

// PanicError is the error a fiber's ancestor receives when the fiber's
// function panics. The panic does not cross into the ancestor's goroutine.
type PanicError struct {
	Value any    // the value passed to panic
	Stack []byte // the panicking goroutine's stack, from runtime/debug.Stack
}

func (e *PanicError) Error() string {
	return fmt.Sprintf("fiber: panic: %v\n\n%s", e.Value, e.Stack)
}

// Unwrap returns the panic value when it is an error, so that errors.Is and
// errors.As see through the panic.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

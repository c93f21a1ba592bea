package futures

import (
	"errors"
	"strconv"

	"github.com/evergo/evergo/scheduler"
)

var (
	// ErrCancelled is what Get returns for a future that was cancelled.
	ErrCancelled = errors.New("futures: cancelled")

	// ErrNotDone is what TryGet returns for a future that is not done yet.
	ErrNotDone = errors.New("futures: not done")

	// ErrShutdown is what Submit and Map return once the executor's
	// Shutdown has been called, and what a Submit parked on a full
	// executor returns when Shutdown is called meanwhile.
	ErrShutdown = errors.New("futures: executor shut down")

	// ErrInvalid is wrapped by the errors of constructors given a size they
	// cannot work with.
	ErrInvalid = errors.New("futures: invalid argument")
)

// PanicError is the error Get returns when the function behind a future
// panicked: the panic's value and the stack of the goroutine it happened
// on. It is scheduler.PanicError (and fiber.PanicError).
type PanicError = scheduler.PanicError

// An UnfinishedError is what Wait and AsCompleted return when their ctx
// ends (a deadline, a cancellation) before the futures they wait for: it
// says how many were unfinished, and unwraps to ctx's error, so that
// errors.Is(err, context.DeadlineExceeded) holds for a timeout.
type UnfinishedError struct {
	Unfinished int   // futures not done when the wait ended
	Total      int   // futures waited for
	Err        error // ctx's error
}

func (e *UnfinishedError) Error() string {
	return "futures: " + strconv.Itoa(e.Unfinished) + " (of " + strconv.Itoa(e.Total) +
		") futures unfinished: " + e.Err.Error()
}

func (e *UnfinishedError) Unwrap() error { return e.Err }

// noCopy lets go vet's copylocks check catch a value copied after first use.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

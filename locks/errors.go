package locks

import "errors"

var (
	// ErrBrokenBarrier is returned by Barrier.Wait when the barrier is
	// broken, or breaks while the task waits: Abort, Reset, a waiter whose
	// ctx ended or who was killed, or an action that panicked.
	ErrBrokenBarrier = errors.New("locks: barrier broken")

	// ErrInvalid is wrapped by the errors of constructors given a count they
	// cannot work with.
	ErrInvalid = errors.New("locks: invalid argument")
)

// noCopy lets go vet's copylocks check catch a lock copied after first use.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

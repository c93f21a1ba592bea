package queue

import "errors"

var (
	// ErrEmpty is returned by TryGet when the queue holds no item.
	ErrEmpty = errors.New("queue: empty")

	// ErrFull is returned by TryPut when the queue holds its maxsize items.
	ErrFull = errors.New("queue: full")

	// ErrShutdown is returned by Put and TryPut once the queue is shut down,
	// by Get and TryGet once it is shut down and empty, and to every Put and
	// Get parked when Shutdown is called.
	ErrShutdown = errors.New("queue: shut down")

	// ErrClosed is returned by a Channel's Send, SendError and Receive once
	// the channel is closed (Receive: and nothing is left to receive), and
	// to every call parked when Close is called.
	ErrClosed = errors.New("queue: channel closed")
)

// noCopy lets go vet's copylocks check catch a queue copied after first use.
type noCopy struct{}

func (*noCopy) Lock()   {}
func (*noCopy) Unlock() {}

package queue

import (
	"cmp"
	"context"
	"iter"
	"slices"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Channel is Evergreen's (and Stackless Python's) rendezvous channel: it
// holds no items. Send parks until a task receives the value, Receive parks
// until a task sends one, and an error sent with SendError comes out of the
// receiving end's Receive. Senders and receivers are each served in the
// order they came. Close ends the channel: every parked call wakes with
// ErrClosed, and a range over All stops.
//
// The zero value is an open Channel; a Channel must not be copied after
// first use.
type Channel[T any] struct {
	_         noCopy
	closed    bool
	home      waitq.Home
	senders   waitq.Queue[message[T]]
	receivers waitq.Queue[message[T]] // woken with what was sent, or ErrClosed; Tag: see sent
	// sent numbers the messages handed straight to a parked receiver, in
	// its Tag. orphans were handed to receivers killed before they took
	// them, in the order of those numbers; the next receivers get them
	// first, so that nothing sent is lost or reordered.
	sent    int
	orphans []orphan[T]
}

// orphan is a message a killed receiver was handed, and its number.
type orphan[T any] struct {
	n int
	m message[T]
}

// message is what a send carries: a value, or an error.
type message[T any] struct {
	v   T
	err error
}

// Send sends v to a task that receives it: at once if one is parked in
// Receive, otherwise parking until one is. Send fails with ErrClosed if the
// channel is or gets closed, with ctx's error if ctx is done first (v is
// then not sent), and with scheduler.ErrNoTask, scheduler.ErrNotCurrent or
// scheduler.ErrWrongLoop. May park the calling task.
func (c *Channel[T]) Send(ctx context.Context, v T) error {
	return c.send(ctx, message[T]{v: v})
}

// SendError sends err, which must not be nil, for the receiving task's
// Receive to return (see Send). It panics with "queue: SendError of a nil
// error" if err is nil. May park the calling task.
func (c *Channel[T]) SendError(ctx context.Context, err error) error {
	if err == nil {
		panic("queue: SendError of a nil error")
	}
	return c.send(ctx, message[T]{err: err})
}

func (c *Channel[T]) send(ctx context.Context, m message[T]) error {
	t := scheduler.Current(ctx)
	if err := c.home.Check(t); err != nil {
		return err
	}
	if c.closed {
		return ErrClosed
	}
	if w := c.receivers.Front(); w != nil {
		w.Tag = c.sent
		c.sent++
		c.receivers.Wake(w, m, nil)
		return nil
	}
	_, err := c.senders.Wait(ctx, "queue.Channel.Send", 0, m, nil)
	return err // nil: a Receive took it
}

// Receive receives a value from a task that sends one: at once if one is
// parked in Send, otherwise parking until one is. It returns the error a
// sender sent with SendError as its error. Values handed to receivers that
// were killed before they took them come first, even after Close. It fails
// with ErrClosed once the channel is closed and no such value is left (also
// while parked), with ctx's error if ctx is done
// first, and with scheduler.ErrNoTask, scheduler.ErrNotCurrent or
// scheduler.ErrWrongLoop. May park the calling task.
func (c *Channel[T]) Receive(ctx context.Context) (T, error) {
	v, err, _ := c.receive(ctx)
	return v, err
}

// receive is Receive that also reports whether its error was sent.
func (c *Channel[T]) receive(ctx context.Context) (v T, err error, sent bool) {
	t := scheduler.Current(ctx)
	if err := c.home.Check(t); err != nil {
		return v, err, false
	}
	if len(c.orphans) > 0 {
		m := c.orphans[0].m
		c.orphans[0] = orphan[T]{}
		c.orphans = c.orphans[1:]
		return m.v, m.err, true
	}
	if w := c.senders.Front(); w != nil {
		m := w.Value
		c.senders.Wake(w, message[T]{}, nil)
		return m.v, m.err, true
	}
	if c.closed {
		return v, ErrClosed, false
	}
	m, err := c.receivers.Wait(ctx, "queue.Channel.Receive", 0, message[T]{}, (*receiverKilled[T])(c))
	if err != nil { // Close, ctx, or a refused park
		return v, err, false
	}
	return m.v, m.err, true
}

// All returns an iterator over the values received from c, for range: it
// receives until c is closed, yielding each value with a nil error and each
// error sent with SendError with the zero T. If ctx is done first, it
// yields ctx's error and stops. May park the calling task.
func (c *Channel[T]) All(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		for {
			v, err, sent := c.receive(ctx)
			switch {
			case sent:
				if !yield(v, err) {
					return
				}
			case err == ErrClosed:
				return
			default:
				yield(v, err)
				return
			}
		}
	}
}

// Close closes c: Send, SendError and Receive fail with ErrClosed from now
// on (Receive once the values killed receivers left are taken), and every
// task parked in them wakes with ErrClosed. Closing twice does nothing
// more. Never parks.
func (c *Channel[T]) Close() {
	c.closed = true
	c.receivers.WakeAll(message[T]{}, ErrClosed)
	c.senders.WakeAll(message[T]{}, ErrClosed)
}

// Closed reports whether c is closed. Never parks.
func (c *Channel[T]) Closed() bool { return c.closed }

// receiverKilled is a channel seen by its receivers' kills: a value (or an
// error) sent to a task killed before it could take it goes to the next
// receiver.
type receiverKilled[T any] Channel[T]

func (k *receiverKilled[T]) Killed(w *waitq.Waiter[message[T]]) {
	c := (*Channel[T])(k)
	if !w.Woken || w.Err != nil { // not handed anything, or woken by Close
		return
	}
	if r := c.receivers.Front(); r != nil {
		r.Tag = w.Tag
		c.receivers.Wake(r, w.Value, nil)
		return
	}
	i, _ := slices.BinarySearchFunc(c.orphans, w.Tag, func(o orphan[T], n int) int { return cmp.Compare(o.n, n) })
	c.orphans = slices.Insert(c.orphans, i, orphan[T]{w.Tag, w.Value})
}

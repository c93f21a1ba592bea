package locks

import (
	"context"
	"errors"
	"fmt"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Barrier holds tasks back until a number of them, its parties, have
// arrived: the last to arrive runs the Barrier's action (if any) and
// releases them all. Then the Barrier is ready for the next round.
//
// A Barrier breaks when a waiter leaves early (its ctx ends, or it is
// killed), when the action panics, and on Abort: every task waiting, and
// every task that arrives until Reset, gets ErrBrokenBarrier. This is
// Python's threading.Barrier. Make one with NewBarrier: the zero value has
// no parties, and Wait panics on it. A Barrier must not be copied after
// first use.
type Barrier struct {
	_       noCopy
	parties int
	action  func()
	count   int    // tasks arrived in this round
	round   uint64 // rounds ended (complete or broken)
	broken  bool   // since the last Reset
	home    waitq.Home
	waiters waitq.Queue[int] // each brings its arrival index
}

// NewBarrier returns a Barrier for parties tasks. action, if not nil, is run
// by the last task to arrive in each round, before the others are released.
// It fails with ErrInvalid if parties is less than 1. Never parks.
func NewBarrier(parties int, action func()) (*Barrier, error) {
	if parties < 1 {
		return nil, fmt.Errorf("%w: a barrier of %d parties", ErrInvalid, parties)
	}
	return &Barrier{parties: parties, action: action}, nil
}

// Wait arrives at b and parks the task that ctx carries until the round is
// complete; it returns the task's arrival index in the round, from 0 for the
// first to Parties()-1 for the last, which does not park. It fails with
// ErrBrokenBarrier if b is or becomes broken, and with ctx's error if ctx is
// done first, which breaks b for the others. It fails with
// scheduler.ErrNoTask, scheduler.ErrNotCurrent or scheduler.ErrWrongLoop.
// It panics with "locks: Barrier.Wait on a Barrier not made by NewBarrier"
// on a zero Barrier. May park the calling task.
func (b *Barrier) Wait(ctx context.Context) (int, error) {
	if b.parties == 0 {
		panic("locks: Barrier.Wait on a Barrier not made by NewBarrier")
	}
	t := scheduler.Current(ctx)
	if err := b.home.Check(t); err != nil {
		return 0, err
	}
	if b.broken {
		return 0, ErrBrokenBarrier
	}
	i := b.count
	if b.count++; b.count == b.parties {
		if b.waiters.Prune() < b.parties-1 { // one left early, not yet resumed
			b.breakAll()
			return 0, ErrBrokenBarrier
		}
		b.release()
		return i, nil
	}
	round := b.round
	i, err := b.waiters.Wait(ctx, "locks.Barrier.Wait", int(round), i, (*barrierKilled)(b))
	if err != nil && !errors.Is(err, ErrBrokenBarrier) && b.round == round {
		b.breakAll() // it left early: its round cannot complete
	}
	return i, err
}

// release ends a complete round: the action, then every waiter gets its own
// index back.
func (b *Barrier) release() {
	if b.action != nil {
		ok := false
		defer func() {
			if !ok {
				b.breakAll()
			}
		}()
		b.action()
		ok = true
	}
	b.count = 0
	b.round++
	for w := b.waiters.Front(); w != nil; w = b.waiters.Front() {
		b.waiters.Wake(w, w.Value, nil)
	}
}

// Abort breaks b: every task waiting gets ErrBrokenBarrier, and so does
// every Wait until Reset. Never parks.
func (b *Barrier) Abort() { b.breakAll() }

// Reset returns b to its first state, empty and not broken; tasks waiting
// get ErrBrokenBarrier. Never parks.
func (b *Barrier) Reset() {
	b.breakAll()
	b.broken = false
}

// Parties returns the number of tasks a round needs. Never parks.
func (b *Barrier) Parties() int { return b.parties }

// Waiting returns the number of tasks waiting in the current round. Never
// parks.
func (b *Barrier) Waiting() int { return b.count }

// Broken reports whether b is broken. Never parks.
func (b *Barrier) Broken() bool { return b.broken }

func (b *Barrier) breakAll() {
	b.broken = true
	b.count = 0
	b.round++
	b.waiters.WakeAll(0, ErrBrokenBarrier)
}

// barrierKilled is b seen by its waiters' kills: a task killed before its
// round completed leaves the round incomplete for good, which breaks b. A
// waiter's Tag is its round: one whose round has ended already (it timed
// out and b broke, say, and was Reset since) breaks nothing.
type barrierKilled Barrier

func (k *barrierKilled) Killed(w *waitq.Waiter[int]) {
	if b := (*Barrier)(k); !w.Woken && w.Tag == int(b.round) {
		b.breakAll()
	}
}

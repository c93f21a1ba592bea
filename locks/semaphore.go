package locks

import (
	"context"
	"fmt"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Semaphore holds a number of permits. Acquire takes one, parking the task
// while there is none; Release gives one back, handing it straight to the
// task that has waited longest, if any. Permits are not owned: any task or
// callback of the loop may release one. The zero value is a Semaphore with
// no permits; a Semaphore must not be copied after first use.
type Semaphore struct {
	_       noCopy
	value   int // free permits; while some task waits there are none
	bound   int // a BoundedSemaphore's
	home    waitq.Home
	waiters waitq.Queue[struct{}]
}

// NewSemaphore returns a Semaphore with n permits. It fails with
// ErrInvalid if n is negative. Never parks.
func NewSemaphore(n int) (*Semaphore, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: a semaphore of %d permits", ErrInvalid, n)
	}
	return &Semaphore{value: n}, nil
}

// Acquire takes a permit for the task that ctx carries, parking it until one
// is released if there is none. A free permit is taken at once, even when
// ctx is done. Acquire fails with scheduler.ErrNoTask, scheduler.ErrNotCurrent,
// scheduler.ErrWrongLoop or ctx's error (no permit is then taken). May park
// the calling task.
func (s *Semaphore) Acquire(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := s.home.Check(t); err != nil {
		return err
	}
	if s.value > 0 {
		s.value--
		return nil
	}
	// Enter, ParkWith and Leave rather than Wait: one frame fewer under the
	// coroutine switch of every contended Acquire.
	w := s.waiters.Enter(t, 0, struct{}{}, (*semaphoreKilled)(s))
	_, err := s.waiters.Leave(w, scheduler.ParkWith(ctx, "locks.Semaphore.Acquire", w.Hook()))
	return err // nil: a Release handed it a permit
}

// TryAcquire takes a permit if one is free, and reports whether it did.
// Never parks.
func (s *Semaphore) TryAcquire() bool {
	if s.value > 0 {
		s.value--
		return true
	}
	return false
}

// Release gives a permit back, to the task that has waited longest if one
// waits. Never parks.
func (s *Semaphore) Release() { s.release(false) }

// release gives a permit back; bounded: not beyond s.bound.
func (s *Semaphore) release(bounded bool) {
	// While tasks wait no permit is free, so the check holds for a bound of
	// 0 too: no permit is out, and none may be handed to a waiter.
	if bounded && s.value >= s.bound {
		panic("locks: BoundedSemaphore released more times than acquired")
	}
	if w := s.waiters.Front(); w != nil {
		s.waiters.Wake(w, struct{}{}, nil)
		return
	}
	s.value++
}

// Value returns the number of free permits. Never parks.
func (s *Semaphore) Value() int { return s.value }

// semaphoreKilled is s seen by its waiters' kills: a killed task that was
// handed a permit gives it back (which cannot exceed a bound: the permit
// was out).
type semaphoreKilled Semaphore

func (k *semaphoreKilled) Killed(w *waitq.Waiter[struct{}]) {
	if w.Woken {
		(*Semaphore)(k).release(false)
	}
}

// A BoundedSemaphore is a Semaphore that refuses to hold more permits than it
// was made with: a Release without a matching Acquire is a bug it reports.
// The zero value has no permits and a bound of zero; make one with
// NewBoundedSemaphore. A BoundedSemaphore must not be copied after first
// use.
type BoundedSemaphore struct {
	s Semaphore
}

// NewBoundedSemaphore returns a BoundedSemaphore with n permits, which is
// also its bound. It fails with ErrInvalid if n is negative. Never parks.
func NewBoundedSemaphore(n int) (*BoundedSemaphore, error) {
	if n < 0 {
		return nil, fmt.Errorf("%w: a semaphore of %d permits", ErrInvalid, n)
	}
	return &BoundedSemaphore{s: Semaphore{value: n, bound: n}}, nil
}

// Acquire takes a permit (see Semaphore.Acquire). May park the calling task.
func (b *BoundedSemaphore) Acquire(ctx context.Context) error { return b.s.Acquire(ctx) }

// TryAcquire takes a permit if one is free, and reports whether it did.
// Never parks.
func (b *BoundedSemaphore) TryAcquire() bool { return b.s.TryAcquire() }

// Release gives a permit back, to the task that has waited longest if one
// waits. It panics with "locks: BoundedSemaphore released more times than
// acquired" if that would make more permits than b was made with. Never
// parks.
func (b *BoundedSemaphore) Release() { b.s.release(true) }

// Value returns the number of free permits. Never parks.
func (b *BoundedSemaphore) Value() int { return b.s.value }

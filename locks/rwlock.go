package locks

import (
	"context"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// An RWLock is held by any number of readers or by one writer. Tasks wait in
// one line in the order they came, readers and writers alike: a reader that
// arrives while a writer waits queues behind it, so writers do not starve,
// and the readers queued behind a writer all get in together when it
// unlocks, so readers do not starve either.
//
// The writer is owned: only the task that locked it may Unlock it. Read
// locks are counted, not owned, and a task must not take a read lock again
// while holding one (a writer may be queued between them: deadlock). The
// zero value is an unlocked RWLock; an RWLock must not be copied after first
// use.
type RWLock struct {
	_       noCopy
	writer  *scheduler.Task
	readers int
	home    waitq.Home
	waiters waitq.Queue[struct{}] // Tag: reader or writer
}

// Waiter tags.
const (
	reader = iota
	writer
)

// RLock takes a read lock for the task that ctx carries: at once if no
// writer holds m and no task waits, otherwise parking it until its turn. It
// fails with scheduler.ErrNoTask, scheduler.ErrNotCurrent,
// scheduler.ErrWrongLoop or ctx's error (no lock is then taken). It panics
// if the task holds the write lock: it would wait for itself. May park the
// calling task.
func (m *RWLock) RLock(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := m.home.Check(t); err != nil {
		return err
	}
	if m.writer == t {
		panic("locks: RLock of an RWLock the calling task holds for writing")
	}
	m.admit() // readers that may enter ahead of t
	if m.writer == nil && m.waiters.Front() == nil {
		m.readers++
		return nil
	}
	return m.wait(ctx, reader, "locks.RWLock.RLock")
}

// TryRLock takes a read lock if RLock would at once, and reports whether it
// did. Never parks.
func (m *RWLock) TryRLock() bool {
	m.admit()
	if m.writer == nil && m.waiters.Front() == nil {
		m.readers++
		return true
	}
	return false
}

// RUnlock releases a read lock; the last reader's lets the writer that has
// waited longest in. It panics with "locks: RUnlock of an RWLock not locked
// for reading" if no read lock is held. Never parks.
func (m *RWLock) RUnlock() {
	if m.readers == 0 {
		panic("locks: RUnlock of an RWLock not locked for reading")
	}
	if m.readers--; m.readers == 0 {
		m.admit()
	}
}

// Lock takes the write lock for the task that ctx carries: at once if m is
// free, otherwise parking it until its turn. It fails as RLock does, and
// panics if the task holds the write lock already. May park the calling
// task.
func (m *RWLock) Lock(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := m.home.Check(t); err != nil {
		return err
	}
	if m.writer == t {
		panic("locks: Lock of an RWLock the calling task holds")
	}
	m.admit()
	if m.writer == nil && m.readers == 0 && m.waiters.Front() == nil {
		m.writer = t
		return nil
	}
	return m.wait(ctx, writer, "locks.RWLock.Lock")
}

// TryLock takes the write lock for the task that ctx carries if m is free,
// and reports whether it did. It panics as Lock.TryLock does. Never parks.
func (m *RWLock) TryLock(ctx context.Context) bool {
	t := mustTask(ctx, &m.home, "RWLock.TryLock")
	m.admit()
	if m.writer == nil && m.readers == 0 && m.waiters.Front() == nil {
		m.writer = t
		return true
	}
	return false
}

// Unlock releases the write lock, letting in the task that has waited
// longest (and, if it is a reader, every reader queued right behind it). It
// panics with "locks: Unlock of unlocked RWLock" if no task holds the write
// lock, and when the task that ctx carries does not. Never parks.
func (m *RWLock) Unlock(ctx context.Context) {
	t := scheduler.Current(ctx)
	mustBeHome(&m.home, t, "RWLock", "Unlock")
	switch {
	case m.writer == nil:
		panic("locks: Unlock of unlocked RWLock")
	case m.writer != t:
		panic("locks: Unlock of an RWLock held by another task")
	}
	m.writer = nil
	m.admit()
}

// wait parks the calling task in line; whoever lets it in counts it in.
func (m *RWLock) wait(ctx context.Context, tag int, what string) error {
	_, err := m.waiters.Wait(ctx, what, tag, struct{}{}, (*rwlockKilled)(m))
	if err != nil {
		m.admit() // a writer leaving the line may let readers in
	}
	return err
}

// admit lets in the tasks at the front of the line that may enter now: a
// writer if m is free, or the readers up to the first writer if no writer
// holds m.
func (m *RWLock) admit() {
	for w := m.waiters.Front(); w != nil && m.writer == nil; w = m.waiters.Front() {
		if w.Tag == writer {
			if m.readers == 0 {
				m.writer = w.Task
				m.waiters.Wake(w, struct{}{}, nil)
			}
			return
		}
		m.readers++
		m.waiters.Wake(w, struct{}{}, nil)
	}
}

// rwlockKilled is m seen by its waiters' kills: what a killed task was let
// in to, it releases; and a writer that leaves the line may let readers in.
type rwlockKilled RWLock

func (k *rwlockKilled) Killed(w *waitq.Waiter[struct{}]) {
	m := (*RWLock)(k)
	if w.Woken {
		if w.Tag == writer {
			m.writer = nil
		} else {
			m.readers--
		}
	}
	m.admit()
}

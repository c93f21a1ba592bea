package locks

import (
	"context"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A Lock is a mutual exclusion lock for the tasks of one loop. The task that
// locks it holds it, and only that task may unlock it. Tasks that find it
// held wait in the order they came, and Unlock hands it straight to the first
// of them. The zero value is an unlocked Lock; a Lock must not be copied
// after first use.
type Lock struct {
	_     noCopy
	owner *scheduler.Task // holds it; nil while unlocked (and then no one waits)
	// excused left Condition.Wait without the lock as it was killed: its
	// next Unlock is a no-op (see Condition.Wait).
	excused *scheduler.Task
	home    waitq.Home
	waiters waitq.Queue[struct{}]
}

// Lock locks m for the task that ctx carries, parking it while another task
// holds m. A free m is taken at once, even when ctx is done. Lock fails with
// scheduler.ErrNoTask, scheduler.ErrNotCurrent, scheduler.ErrWrongLoop, or
// ctx's error (m is then not taken). It panics if the task holds m already:
// an RLock is the lock a task may take again. May park the calling task.
func (m *Lock) Lock(ctx context.Context) error {
	// Budget: an uncontended Lock+Unlock within 1.0× sync.Mutex's
	// (BenchmarkLockUnlock): no atomics, no allocation, no call but
	// Current. Everything else is in lock.
	// m's loop is compared first: nothing of m's but that is read for a
	// task of another loop.
	t := scheduler.Current(ctx)
	if t != nil && m.home.Is(t.Loop()) && m.owner == nil && t.State() == scheduler.StateRunning {
		m.owner = t
		return nil
	}
	return m.lock(ctx, t)
}

func (m *Lock) lock(ctx context.Context, t *scheduler.Task) error {
	if err := m.home.Check(t); err != nil {
		return err
	}
	switch m.owner {
	case nil:
		m.owner = t
		return nil
	case t:
		panic("locks: Lock of a Lock the calling task holds")
	}
	w := m.waiters.Enter(t, 0, struct{}{}, (*lockKilled)(m))
	_, err := m.waiters.Leave(w, scheduler.ParkWith(ctx, "locks.Lock", w.Hook()))
	return err // nil: the unlocker made t the owner
}

// TryLock locks m for the task that ctx carries if m is free, and reports
// whether it did. It panics if ctx carries no task, or one that is not
// running or belongs to another loop than m's. Never parks.
func (m *Lock) TryLock(ctx context.Context) bool {
	t := mustTask(ctx, &m.home, "Lock.TryLock")
	if m.owner != nil {
		return false
	}
	m.owner = t
	return true
}

// Unlock unlocks m, handing it to the task that has waited longest, if any.
// It panics with "locks: Unlock of unlocked Lock" if m is not locked, and
// when the task that ctx carries does not hold m. Never parks.
func (m *Lock) Unlock(ctx context.Context) {
	t := scheduler.Current(ctx)
	if t == nil || !m.home.Is(t.Loop()) || m.owner != t { // m's loop first, as in Lock
		m.unlockNotHeld(t)
		return
	}
	if m.waiters.Empty() {
		m.owner = nil
		return
	}
	m.handOn()
}

// Locked reports whether a task holds m. Never parks.
func (m *Lock) Locked() bool { return m.owner != nil }

// handOn gives m to the first task still waiting, or frees it.
func (m *Lock) handOn() {
	m.owner = nil
	if w := m.waiters.Front(); w != nil {
		m.owner = w.Task
		m.waiters.Wake(w, struct{}{}, nil)
	}
}

func (m *Lock) unlockNotHeld(t *scheduler.Task) {
	mustBeHome(&m.home, t, "Lock", "Unlock")
	switch {
	case t != nil && t == m.excused:
		m.excused = nil
	case m.owner == nil:
		panic("locks: Unlock of unlocked Lock")
	default:
		panic("locks: Unlock of a Lock held by another task")
	}
}

// lockKilled is m seen by its waiters' kills: a killed task that was handed
// m hands it on.
type lockKilled Lock

func (k *lockKilled) Killed(w *waitq.Waiter[struct{}]) {
	if w.Woken {
		(*Lock)(k).handOn()
	}
}

func (m *Lock) heldBy(t *scheduler.Task) bool { return t != nil && m.owner == t }

func (m *Lock) releaseAll(*scheduler.Task) int {
	m.handOn()
	return 1
}

func (m *Lock) restore(*scheduler.Task, int) {}

func (m *Lock) excuse(t *scheduler.Task, _ int) { m.excused = t }

// An RLock is a re-entrant lock: the task that holds it may lock it again,
// and must unlock it as many times as it locked it before another task gets
// it. Only the holder may unlock it. Tasks that find it held wait in the
// order they came, and the last Unlock hands it straight to the first of
// them. The zero value is an unlocked RLock; an RLock must not be copied
// after first use.
type RLock struct {
	_     noCopy
	owner *scheduler.Task // holds it; nil while unlocked (and then no one waits)
	depth int             // owner's locks not yet unlocked
	// excused left Condition.Wait without the lock as it was killed: its
	// next excusedN Unlocks are no-ops (see Condition.Wait).
	excused  *scheduler.Task
	excusedN int
	home     waitq.Home
	waiters  waitq.Queue[struct{}]
}

// Lock locks m for the task that ctx carries: at once if m is free or the
// task holds it already (once more), otherwise parking it until m is handed
// to it. Lock fails with scheduler.ErrNoTask, scheduler.ErrNotCurrent,
// scheduler.ErrWrongLoop, or ctx's error (m is then not taken). May park the
// calling task.
func (m *RLock) Lock(ctx context.Context) error {
	t := scheduler.Current(ctx)
	if err := m.home.Check(t); err != nil {
		return err
	}
	switch m.owner {
	case nil:
		m.owner, m.depth = t, 1
		return nil
	case t:
		m.depth++
		return nil
	}
	_, err := m.waiters.Wait(ctx, "locks.RLock", 0, struct{}{}, (*rlockKilled)(m))
	return err // woken: the unlocker made t the owner
}

// TryLock locks m for the task that ctx carries if m is free or held by that
// task, and reports whether it did. It panics as Lock.TryLock does. Never
// parks.
func (m *RLock) TryLock(ctx context.Context) bool {
	t := mustTask(ctx, &m.home, "RLock.TryLock")
	switch m.owner {
	case nil:
		m.owner, m.depth = t, 1
		return true
	case t:
		m.depth++
		return true
	}
	return false
}

// Unlock undoes one Lock of m by the task that ctx carries; the last one
// hands m to the task that has waited longest, if any. It panics with
// "locks: Unlock of unlocked RLock" if m is not locked, and when the task
// that ctx carries does not hold m. Never parks.
func (m *RLock) Unlock(ctx context.Context) {
	t := scheduler.Current(ctx)
	mustBeHome(&m.home, t, "RLock", "Unlock")
	switch {
	case m.owner == t && t != nil:
	case t != nil && t == m.excused:
		if m.excusedN--; m.excusedN == 0 {
			m.excused = nil
		}
		return
	case m.owner == nil:
		panic("locks: Unlock of unlocked RLock")
	default:
		panic("locks: Unlock of an RLock held by another task")
	}
	if m.depth--; m.depth == 0 {
		m.handOn()
	}
}

// Locked reports whether a task holds m. Never parks.
func (m *RLock) Locked() bool { return m.owner != nil }

// handOn gives m to the first task still waiting, or frees it.
func (m *RLock) handOn() {
	m.owner, m.depth = nil, 0
	if w := m.waiters.Front(); w != nil {
		m.owner, m.depth = w.Task, 1
		m.waiters.Wake(w, struct{}{}, nil)
	}
}

// rlockKilled is m seen by its waiters' kills: a killed task that was handed
// m hands it on.
type rlockKilled RLock

func (k *rlockKilled) Killed(w *waitq.Waiter[struct{}]) {
	if w.Woken {
		(*RLock)(k).handOn()
	}
}

func (m *RLock) heldBy(t *scheduler.Task) bool { return t != nil && m.owner == t }

func (m *RLock) releaseAll(*scheduler.Task) int {
	depth := m.depth
	m.handOn()
	return depth
}

func (m *RLock) restore(_ *scheduler.Task, depth int) { m.depth = depth }

func (m *RLock) excuse(t *scheduler.Task, depth int) { m.excused, m.excusedN = t, depth }

// mustBeHome panics if t is a task of another loop than the one home is
// bound to, before the caller reads anything that loop owns.
func mustBeHome(home *waitq.Home, t *scheduler.Task, typ, call string) {
	if t != nil && !home.Is(t.Loop()) && !home.Is(nil) {
		panic("locks: " + typ + "." + call + " by a task of another loop")
	}
}

// mustTask returns the task that ctx carries for a call that never parks and
// so returns no error: misuse panics.
func mustTask(ctx context.Context, home *waitq.Home, call string) *scheduler.Task {
	t := scheduler.Current(ctx)
	if err := home.Check(t); err != nil {
		panic("locks: " + call + ": " + err.Error())
	}
	return t
}

package locks_test

import (
	"context"
	"slices"
	"testing"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

func TestRWLockAdmitsManyReadersAtOnce(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		inside, most := 0, 0
		var ts []*scheduler.Task
		for range 5 {
			ts = append(ts, spawn(t, ctx, "reader", func(ctx context.Context) error {
				if err := m.RLock(ctx); err != nil {
					return err
				}
				inside++
				most = max(most, inside)
				scheduler.Sleep(ctx, 0)
				inside--
				m.RUnlock()
				return nil
			}))
		}
		for _, task := range ts {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		if most != 5 {
			t.Errorf("at most %d readers inside at once, want 5", most)
		}
		return nil
	})
}

func TestRWLockWriterIsAlone(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		m.Lock(ctx)
		if m.TryRLock() || m.TryLock(ctx) {
			t.Error("a Try call got in beside the writer")
		}
		var got []string
		spawn(t, ctx, "reader", func(ctx context.Context) error {
			if err := m.RLock(ctx); err != nil {
				return err
			}
			got = append(got, "reader")
			m.RUnlock()
			return nil
		})
		readers := 0
		spawn(t, ctx, "reader 2", func(ctx context.Context) error {
			if err := m.RLock(ctx); err != nil {
				return err
			}
			readers++
			scheduler.Sleep(ctx, 0) // inside while the writer comes
			readers--
			m.RUnlock()
			return nil
		})
		spawn(t, ctx, "writer", func(ctx context.Context) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			if readers != 0 {
				t.Errorf("the writer got in beside %d readers", readers)
			}
			got = append(got, "writer")
			m.Unlock(ctx)
			return nil
		})
		yield(ctx)
		if len(got) != 0 {
			t.Fatalf("%v got in while main held the write lock", got)
		}
		m.Unlock(ctx)
		yield(ctx)
		if want := []string{"reader", "writer"}; !slices.Equal(got, want) {
			t.Errorf("got %v, want %v", got, want)
		}
		return nil
	})
}

func TestRWLockWriterDoesNotStarveAndQueuedReadersEnterTogether(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		var log []string
		m.RLock(ctx) // main reads
		spawn(t, ctx, "writer", func(ctx context.Context) error {
			if err := m.Lock(ctx); err != nil {
				return err
			}
			log = append(log, "writer in")
			scheduler.Sleep(ctx, 0)
			log = append(log, "writer out")
			m.Unlock(ctx)
			return nil
		})
		yield(ctx)
		if m.TryRLock() {
			t.Error("a new reader got in ahead of the waiting writer")
		}
		for _, name := range []string{"r1", "r2"} {
			spawn(t, ctx, name, func(ctx context.Context) error {
				if err := m.RLock(ctx); err != nil {
					return err
				}
				log = append(log, name+" in")
				scheduler.Sleep(ctx, 0)
				log = append(log, name+" out")
				m.RUnlock()
				return nil
			})
		}
		yield(ctx)
		m.RUnlock() // the last reader out lets the writer in
		yield(ctx)
		yield(ctx)
		want := []string{"writer in", "writer out", "r1 in", "r2 in", "r1 out", "r2 out"}
		if !slices.Equal(log, want) {
			t.Errorf("log %v, want %v", log, want)
		}
		return nil
	})
}

func TestRWLockKilledWriterInLineLetsTheReadersBehindItIn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		m.RLock(ctx)
		w := spawn(t, ctx, "writer", func(ctx context.Context) error { return m.Lock(ctx) })
		got := false
		spawn(t, ctx, "reader", func(ctx context.Context) error {
			if err := m.RLock(ctx); err != nil {
				return err
			}
			got = true
			m.RUnlock()
			return nil
		})
		yield(ctx)
		if got {
			t.Fatal("the reader got in ahead of the waiting writer")
		}
		w.Kill(ctx)
		yield(ctx)
		if !got {
			t.Error("the reader behind a killed writer was not let in")
		}
		m.RUnlock()
		return nil
	})
}

func TestRWLockKilledWriterHandedTheLockReleasesIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		m.Lock(ctx)
		w := spawn(t, ctx, "writer", func(ctx context.Context) error { return m.Lock(ctx) })
		yield(ctx)
		m.Unlock(ctx) // to the waiting writer, killed before it runs
		w.Kill(ctx)
		if !m.TryLock(ctx) {
			t.Fatal("the write lock stayed with the killed writer")
		}
		m.Unlock(ctx)
		return nil
	})
}

func TestRWLockMisusePanics(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var m locks.RWLock
		mustPanic(t, "locks: RUnlock of an RWLock not locked for reading", m.RUnlock)
		mustPanic(t, "locks: Unlock of unlocked RWLock", func() { m.Unlock(ctx) })
		m.Lock(ctx)
		mustPanic(t, "locks: Lock of an RWLock the calling task holds", func() { m.Lock(ctx) })
		mustPanic(t, "locks: RLock of an RWLock the calling task holds for writing", func() { m.RLock(ctx) })
		other := spawn(t, ctx, "other", func(ctx context.Context) error {
			mustPanic(t, "locks: Unlock of an RWLock held by another task", func() { m.Unlock(ctx) })
			return nil
		})
		if err := other.Join(ctx); err != nil {
			return err
		}
		m.Unlock(ctx)
		return nil
	})
}

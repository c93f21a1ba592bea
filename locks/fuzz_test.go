package locks_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// The fuzz test drives a Semaphore of 1 to 3 permits, or a Lock, from many
// tasks: the main task reads the fuzz bytes as commands (start a waiter,
// with or without a deadline; let a holder release; kill a waiter or a
// holder; take and give back a permit itself without parking; advance the
// virtual clock) and, once every runnable task has run, checks the
// primitive against a model of who holds and who waits. (Before a kill of a
// waiter the tasks just woken are not let run first, so that kills also
// reach tasks handed a permit they have not taken yet.)
//
//   - Counts: permits held plus permits free is the permits made; a Lock has
//     at most one holder.
//   - No lost wake-up: while a permit is free, no task waits for one.
//   - FIFO: a waiter is granted only when no task that came before it still
//     waits (one that was killed or whose deadline passed has left).
//   - Deadlines: a waiter fails only with its deadline's error, on time.
//
// At the end every task is let go or killed, every permit must be free
// again, and the loop must end without a deadlock.

// prim is the primitive under test, seen as a pool of permits.
type prim interface {
	acquire(ctx context.Context) error
	try(ctx context.Context) bool
	release(ctx context.Context)
	free() int
}

type semPrim struct{ s *locks.Semaphore }

func (p semPrim) acquire(ctx context.Context) error { return p.s.Acquire(ctx) }
func (p semPrim) try(context.Context) bool          { return p.s.TryAcquire() }
func (p semPrim) release(context.Context)           { p.s.Release() }
func (p semPrim) free() int                         { return p.s.Value() }

type lockPrim struct{ m *locks.Lock }

func (p lockPrim) acquire(ctx context.Context) error { return p.m.Lock(ctx) }
func (p lockPrim) try(ctx context.Context) bool      { return p.m.TryLock(ctx) }
func (p lockPrim) release(ctx context.Context)       { p.m.Unlock(ctx) }
func (p lockPrim) free() int {
	if p.m.Locked() {
		return 0
	}
	return 1
}

type workerState uint8

const (
	waiting workerState = iota
	holding
	gone
)

type worker struct {
	seq      int
	deadline time.Time // zero: none
	state    workerState
	task     *scheduler.Task
}

type fuzzRun struct {
	t        *testing.T
	p        prim
	permits  int
	workers  []*worker
	mainHeld int // permits the main task took with try (a Lock: it holds it)
}

func (r *fuzzRun) errorf(format string, args ...any) {
	r.t.Helper()
	r.t.Errorf(format, args...)
}

// start starts a waiter; d > 0 gives it a deadline d from now.
func (r *fuzzRun) start(ctx context.Context, d time.Duration) {
	w := &worker{seq: len(r.workers)}
	if d > 0 {
		w.deadline = scheduler.Now(ctx).Add(d)
	}
	r.workers = append(r.workers, w)
	w.task, _ = scheduler.Spawn(ctx, fmt.Sprint("waiter ", w.seq), func(ctx context.Context) error {
		actx := ctx
		if !w.deadline.IsZero() {
			var cancel context.CancelFunc
			actx, cancel = scheduler.WithDeadline(ctx, w.deadline)
			defer cancel()
		}
		err := r.p.acquire(actx)
		now := scheduler.Now(ctx)
		if err != nil {
			w.state = gone
			if w.deadline.IsZero() || !errors.Is(err, context.DeadlineExceeded) || now.Before(w.deadline) {
				r.errorf("waiter %d (deadline %v) failed at %v: %v", w.seq, w.deadline, now, err)
			}
			return nil
		}
		for _, o := range r.workers[:w.seq] {
			if o.state == waiting && (o.deadline.IsZero() || o.deadline.After(now)) {
				r.errorf("waiter %d granted while waiter %d, before it, still waits", w.seq, o.seq)
			}
		}
		w.state = holding
		defer func() {
			w.state = gone
			r.p.release(ctx) // also when killed while holding
		}()
		return scheduler.Park(ctx, "hold") // until the main task lets it go
	})
}

// settle lets every runnable task run until it parks or ends.
func settle(ctx context.Context) {
	for scheduler.LoopOf(ctx).Stats().Runnable > 0 {
		scheduler.Sleep(ctx, 0)
	}
}

func (r *fuzzRun) pick(state workerState, b byte) *worker {
	var ws []*worker
	for _, w := range r.workers {
		if w.state == state {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return nil
	}
	return ws[int(b)%len(ws)]
}

func (r *fuzzRun) check(step int) {
	r.t.Helper()
	held, waiters := r.mainHeld, 0
	for _, w := range r.workers {
		switch w.state {
		case holding:
			held++
		case waiting:
			waiters++
		}
	}
	if free := r.p.free(); held+free != r.permits {
		r.errorf("step %d: %d held + %d free, want %d permits", step, held, free, r.permits)
	}
	if r.p.free() > 0 && waiters > 0 {
		r.errorf("step %d: a permit is free while %d tasks wait (a lost wake-up)", step, waiters)
	}
}

func (r *fuzzRun) run(ctx context.Context, cmds []byte) error {
	for i, c := range cmds {
		arg := c >> 3
		switch c & 7 {
		case 0, 1:
			r.start(ctx, 0)
		case 2:
			r.start(ctx, time.Duration(arg%4)*time.Second+500*time.Millisecond)
		case 3: // a holder lets go
			if w := r.pick(holding, arg); w != nil {
				w.task.Wake()
			}
		case 4: // a waiter is killed
			if w := r.pick(waiting, arg); w != nil {
				w.state = gone
				w.task.Kill(ctx)
			}
		case 5: // a holder is killed: its deferred release runs
			if w := r.pick(holding, arg); w != nil {
				w.task.Kill(ctx)
			}
		case 6:
			if r.mainHeld > 0 {
				r.mainHeld--
				r.p.release(ctx)
			} else if r.p.try(ctx) {
				r.mainHeld++
			}
		case 7:
			scheduler.Sleep(ctx, time.Duration(arg%3+1)*time.Second)
		}
		if i+1 < len(cmds) && cmds[i+1]&7 == 4 {
			continue // the kill comes before the tasks just woken run
		}
		settle(ctx)
		r.check(i)
	}
	for ; r.mainHeld > 0; r.mainHeld-- {
		r.p.release(ctx)
	}
	for _, w := range r.workers {
		switch w.state {
		case holding:
			w.task.Wake()
			settle(ctx)
		case waiting:
			w.state = gone
			w.task.Kill(ctx)
		}
	}
	settle(ctx)
	r.check(len(cmds))
	if free := r.p.free(); free != r.permits {
		r.errorf("at the end: %d permits free, want %d", free, r.permits)
	}
	return nil
}

func FuzzLocks(f *testing.F) {
	f.Add([]byte{1, 0, 0, 0, 3, 3, 3, 3})
	f.Add([]byte{0, 0, 2, 10, 0, 7, 3, 4, 3})
	f.Add([]byte{3, 6, 0, 2, 0, 5, 6, 0, 15, 3, 12})
	f.Add([]byte{2, 0, 0, 0, 0, 4, 12, 3, 3, 5, 7, 3, 3})
	f.Add([]byte{0, 6, 1, 18, 2, 7, 6, 3, 3, 23})
	f.Add([]byte{1, 6, 0, 0, 6, 4, 3, 3}) // a waiter killed after it was handed the permit
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 || len(data) > 200 {
			return
		}
		r := &fuzzRun{t: t}
		if n := int(data[0] % 4); n == 0 {
			r.p, r.permits = lockPrim{new(locks.Lock)}, 1
		} else {
			s, _ := locks.NewSemaphore(n)
			r.p, r.permits = semPrim{s}, n
		}
		err := scheduler.Run(context.Background(), func(ctx context.Context) error {
			return r.run(ctx, data[1:])
		}, scheduler.WithVirtualClock())
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	})
}

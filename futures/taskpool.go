package futures

import (
	"context"
	"fmt"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A TaskPool is an Executor that runs each function as a task of the loop,
// up to n at a time: gevent's Pool, with futures. A task is started for a
// function when it is submitted (lazily: an idle pool has no task), named
// "futures.TaskPool", with the values of the submitter's context, and ends
// with the function. The functions run on the loop, so they may park, and
// share memory with the other tasks without locks.
//
// A TaskPool belongs to the loop of its first Submit; its methods are
// called on that loop. A TaskPool must not be copied after first use.
type TaskPool struct {
	_     noCopy
	home  waitq.Home
	gate  gate
	quiet waitq.Queue[struct{}] // Shutdown(wait) calls
}

// NewTaskPool returns a TaskPool that runs up to n functions at a time. It
// fails with an error wrapping ErrInvalid if n < 1. Never parks.
func NewTaskPool(n int) (*TaskPool, error) {
	if n < 1 {
		return nil, fmt.Errorf("futures: NewTaskPool(%d): %w: the size must be at least 1", n, ErrInvalid)
	}
	p := &TaskPool{}
	p.gate.n = n
	p.gate.idle = func() { p.quiet.WakeAll(struct{}{}, nil) }
	return p, nil
}

func (p *TaskPool) slot(ctx context.Context, t *scheduler.Task) error {
	if err := p.home.Check(t); err != nil {
		return err
	}
	return p.gate.enter(ctx, t)
}

func (p *TaskPool) trySlot() bool { return p.gate.tryEnter() }

func (p *TaskPool) run(ctx context.Context, j job) error {
	if _, err := scheduler.Spawn(ctx, "futures.TaskPool", func(ctx context.Context) error {
		defer p.gate.leave()
		if j.begin() {
			j.call(ctx, true)
			finishOnLoop(scheduler.LoopOf(ctx), j)
		}
		return nil
	}); err != nil {
		p.gate.leave()
		return err
	}
	return nil
}

func (p *TaskPool) spread(ctx context.Context, m spreader) error {
	if _, err := scheduler.Spawn(ctx, "futures.TaskPool", func(ctx context.Context) error {
		defer p.gate.leave()
		defer m.exited()
		m.work(ctx, true)
		return nil
	}); err != nil {
		p.gate.leave()
		return err
	}
	return nil
}

func (p *TaskPool) free() { p.gate.leave() }

func (p *TaskPool) size() int { return p.gate.n }

// Shutdown stops the pool taking work, as Executor says. With wait, it
// parks the task that ctx carries until the pool's tasks have ended; a
// TaskPool holds nothing else. Without wait it never parks and needs no
// task. Shutdown(ctx, true) may park the calling task.
func (p *TaskPool) Shutdown(ctx context.Context, wait bool) error {
	p.gate.shutdown()
	if !wait || p.gate.busy == 0 {
		return nil
	}
	t := scheduler.Current(ctx)
	if err := p.home.Check(t); err != nil {
		return err
	}
	_, err := p.quiet.Wait(ctx, "futures.TaskPool.Shutdown", 0, struct{}{}, nil)
	return err
}

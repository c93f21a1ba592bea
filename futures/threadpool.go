package futures

import (
	"context"
	"fmt"

	"github.com/panjf2000/ants/v2"

	"github.com/evergo/evergo/internal/waitq"
	"github.com/evergo/evergo/scheduler"
)

// A ThreadPool is an Executor that runs blocking functions on a pool of
// goroutines (github.com/panjf2000/ants/v2), up to n at a time, and
// delivers each result back on the loop through scheduler.Loop.Post: the
// way to everything that cannot be made cooperative (the system resolver,
// files, CPU-heavy or cgo calls). The task that waits for a result parks,
// and the loop runs the others meanwhile; the loop itself never blocks.
//
// The functions run off the loop, in parallel with it and with each other.
// They must not touch the loop's tasks, futures or other objects, and must
// not park: the one way back in is Loop.Post (capture the loop with
// scheduler.LoopOf before submitting). The context a function receives
// carries no task and none of the submitter's values; it is cancelled when
// the loop ends, so that a function that honours it lets Run return. Its
// writes happen before the Get that returns its result returns. A panic in
// a function is recovered on its goroutine and comes back as a *PanicError
// from Get.
//
// Submit parks while n functions run. Cancel stops a function that has not
// started yet, and it then never runs. The pool of goroutines is made at the
// first Submit and released by Shutdown once the submitted functions have
// ended, or when the loop ends: goroutines left idle retire after a second,
// and none outlives the pool. While functions are out, the loop stays alive
// (Run does not return) and does not report a deadlock; when it ends early
// (Stop, a cancelled Run context), Run waits for the functions running then.
//
// A ThreadPool belongs to the loop of its first Submit; its methods are
// called on that loop. A ThreadPool must not be copied after first use.
type ThreadPool struct {
	_         noCopy
	home      waitq.Home
	gate      gate
	loop      *scheduler.Loop
	pool      *ants.Pool         // made at the first Submit
	ctx       context.Context    // the functions'
	cancel    context.CancelFunc // ctx's
	unhook    func() bool        // unregisters end from the loop's AtEnd
	releasing chan struct{}      // closed once the pool is released
	released  bool               // the release's post arrived
	quiet     waitq.Queue[struct{}]
}

// NewThreadPool returns a ThreadPool that runs up to n functions at a time.
// It starts no goroutine. It fails with an error wrapping ErrInvalid if
// n < 1. Never parks.
func NewThreadPool(n int) (*ThreadPool, error) {
	if n < 1 {
		return nil, fmt.Errorf("futures: NewThreadPool(%d): %w: the size must be at least 1", n, ErrInvalid)
	}
	p := &ThreadPool{}
	p.gate.n = n
	p.gate.idle = p.release
	return p, nil
}

func (p *ThreadPool) slot(ctx context.Context, t *scheduler.Task) error {
	if err := p.home.Check(t); err != nil {
		return err
	}
	if err := p.gate.enter(ctx, t); err != nil {
		return err
	}
	if p.pool == nil {
		if err := p.start(t.Loop()); err != nil {
			p.gate.leave()
			return err
		}
	}
	return nil
}

func (p *ThreadPool) spread(ctx context.Context, m spreader) error {
	post := p.loop.Expect()
	if err := p.pool.Submit(func() {
		defer post(func(context.Context) { // deferred: a runtime.Goexit posts too
			defer p.gate.leave()
			m.exited()
		})
		m.work(p.ctx, false)
	}); err != nil {
		post(nil)
		p.gate.leave()
		return err
	}
	return nil
}

func (p *ThreadPool) trySlot() bool { return p.gate.tryEnter() }

func (p *ThreadPool) free() { p.gate.leave() }

func (p *ThreadPool) size() int { return p.gate.n }

func (p *ThreadPool) run(ctx context.Context, j job) error {
	// Budget: this, the worker's hand-off and the post back are
	// BenchmarkThreadPoolRoundTrip's overhead beside BenchmarkGoChanRoundTrip
	// (a goroutine and a channel): a slot, an Expect, one ants Submit.
	j.offLoop()
	post := p.loop.Expect()
	if err := p.pool.Submit(func() { p.work(j, post) }); err != nil {
		post(nil)
		p.gate.leave()
		return err
	}
	return nil
}

// work runs j on a goroutine of the pool, unless Cancel claimed it first,
// and posts it back to the loop. A post that fails finds the loop ended: its
// AtEnd waits for this goroutine, and the result is dropped.
func (p *ThreadPool) work(j job, post func(func(context.Context)) error) {
	ran := j.claim()
	defer post(func(context.Context) { p.back(j, ran) }) // deferred: a runtime.Goexit posts too
	if ran {
		j.call(p.ctx, false)
	}
}

// back completes j's future on the loop and frees its slot. A panicking
// done callback ends the loop, as a callback's panic does.
func (p *ThreadPool) back(j job, ran bool) {
	defer p.gate.leave()
	if ran {
		j.finish()
	}
}

// start makes the pool of goroutines for the loop l.
func (p *ThreadPool) start(l *scheduler.Loop) error {
	// Unbounded: the gate bounds the functions, and a goroutine whose
	// result is back may take a moment to return to the pool.
	pool, err := ants.NewPool(-1)
	if err != nil {
		return fmt.Errorf("futures: ThreadPool: %w", err)
	}
	unhook, err := l.AtEnd(p.end)
	if err != nil {
		pool.Release()
		return err
	}
	p.loop, p.pool, p.unhook = l, pool, unhook
	p.ctx, p.cancel = context.WithCancel(context.Background())
	return nil
}

// release releases the pool of goroutines, once it is shut and idle, on a
// goroutine of its own: ants waits for its goroutines to exit, and the loop
// must not block. The loop expects the news.
func (p *ThreadPool) release() {
	if p.pool == nil || p.releasing != nil {
		return
	}
	done := make(chan struct{})
	p.releasing = done
	pool, cancel, post := p.pool, p.cancel, p.loop.Expect()
	go func() {
		defer close(done) // last: the loop's AtEnd may wait for it
		cancel()
		// ReleaseContext fails only on a pool released already, and this
		// is the one call; with no deadline it waits until ants' goroutines
		// are on their way out (their last deferred calls may still run).
		pool.ReleaseContext(context.Background())
		post(func(context.Context) {
			p.released = true
			p.unhook()
			p.quiet.WakeAll(struct{}{}, nil)
		})
	}()
}

// end releases the pool when the loop ends, however it ends: its tasks are
// gone, so the functions still running are told through their context and
// waited for.
func (p *ThreadPool) end() {
	p.gate.shut = true // no task is left to park in Submit
	if p.releasing == nil {
		p.releasing = make(chan struct{})
		p.cancel()
		p.pool.ReleaseContext(context.Background()) // as in release
		close(p.releasing)
	}
	<-p.releasing
	p.released = true
}

// Shutdown stops the pool taking work, as Executor says. Once the functions
// submitted have ended, the pool of goroutines is released; with wait,
// Shutdown parks the task that ctx carries until it has been, so that no
// goroutine of the pool is left when Shutdown returns nil. Without wait it
// never parks and needs no task. Shutdown(ctx, true) may park the calling
// task.
func (p *ThreadPool) Shutdown(ctx context.Context, wait bool) error {
	p.gate.shutdown()
	if !wait || p.pool == nil || p.released {
		return nil
	}
	t := scheduler.Current(ctx)
	if err := p.home.Check(t); err != nil {
		return err
	}
	_, err := p.quiet.Wait(ctx, "futures.ThreadPool.Shutdown", 0, struct{}{}, nil)
	return err
}

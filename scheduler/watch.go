package scheduler

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/evergo/evergo/fiber"
	"github.com/evergo/evergo/internal/stacks"
)

// A task that blocks its goroutine (os.ReadFile, net.Dial, time.Sleep, a
// sync.Mutex) instead of parking keeps the baton, and every other task of
// the loop waits for it: Go's scheduler sees a busy goroutine, nothing
// more. The block watch is gevent's monitor thread: a goroutine that looks
// at the loop every quarter of the threshold and reports a task that has
// held the baton for longer.
//
// The watchdog sets ask; the loop clears it at every change of the baton's
// holder (a beat: one atomic load, and a store only when the watchdog has
// asked since the last beat). ask still set a threshold later means that no
// beat came in between: whoever holds the baton has held it all that time.
// The loop waiting in the poller is idle, not blocked: the watchdog skips
// its checks while the loop's sleeping flag is set.
//
// Which goroutine holds the baton, the watchdog reads from a dump of every
// goroutine: of the loop's own and its fibers' (fiber.Group.Goroutines),
// every one but the holder is suspended in a coroutine switch. The task on
// that goroutine is the last one started there: each task, as it starts,
// records itself under its goroutine's id (a map write under a mutex, on
// the task's start only). Without the option, all this costs a nil check
// per change of holder.

// WithBlockWatch starts, with the loop, a watchdog goroutine that reports a
// task (or a callback) that has kept the loop for longer than threshold
// without reaching a switch point: a blocking call in a task freezes every
// task of the loop. report is called on the watchdog's goroutine, while the
// loop is still blocked, with the task's id and name, how long it has held
// the loop so far and its goroutine's stack; it is called again, for the
// same block, each time the time held doubles (threshold, 2×, 4×...). It
// must not touch the loop's objects (it may Post). A loop waiting in the
// poller for timers, fds or posts is idle, not blocked, however long it
// waits.
//
// The time is the wall clock's, under WithVirtualClock too: a block is
// real time lost. The watch costs each switch an atomic load
// (BenchmarkYieldPingPongWatched beside BenchmarkYieldPingPong) and each
// task's start a map write; without it, nothing. WithBlockWatch panics if threshold is not positive or report is
// nil.
func WithBlockWatch(threshold time.Duration, report func(LoopBlocked)) Option {
	if threshold <= 0 {
		panic("scheduler: WithBlockWatch: threshold " + threshold.String() + " is not positive")
	}
	if report == nil {
		panic("scheduler: WithBlockWatch: nil report")
	}
	return optionFunc(func(l *Loop) {
		l.watch = &blockWatch{threshold: threshold, report: report}
	})
}

// LoopBlocked is a block watch's report: what has held the loop, for how
// long, and where it is.
type LoopBlocked struct {
	TaskID uint64 // 0: not a task (a callback, or the loop's own work)
	Task   string // the task's name; "" when TaskID is 0
	// For is how long it has held the loop so far, at least: the watchdog
	// counts from its first check that found it holding the loop.
	For time.Duration
	// Stack is the stack of the goroutine holding the loop, as the runtime
	// prints it ("" if the watchdog could not tell which it is).
	Stack string
}

func (b LoopBlocked) String() string {
	who := "a callback or the loop itself"
	if b.TaskID != 0 {
		who = "task " + itoa(b.TaskID) + " " + quote(b.Task)
	}
	s := "scheduler: loop blocked for " + b.For.String() + " by " + who
	if b.Stack != "" {
		s += "\n" + b.Stack
	}
	return s
}

// blockWatch is the loop's side of WithBlockWatch and the watchdog's state.
type blockWatch struct {
	threshold time.Duration     // fixed by New
	report    func(LoopBlocked) // fixed by New
	ask       atomic.Bool       // set by the watchdog, cleared by a beat
	ticks     atomic.Uint64     // the watchdog's checks so far (for tests)
	loopGID   uint64            // the loop's goroutine; set before the watchdog starts
	stop      chan struct{}     // closed as the loop ends
	done      sync.WaitGroup    // the watchdog goroutine

	mu    sync.Mutex
	tasks map[uint64]*Task // guarded by mu: the last task started on each goroutine
}

// beat records that the baton has changed hands. It is on the path of
// every switch.
func (w *blockWatch) beat() {
	// Budget: with the watch on, a yield ping-pong within 1.05× of one
	// without it (BenchmarkYieldPingPongWatched): one atomic load, no
	// locked instruction unless the watchdog has asked.
	if w.ask.Load() {
		w.ask.Store(false)
	}
}

// started records, on t's own goroutine as it starts, that t runs there.
func (w *blockWatch) started(gid uint64, t *Task) {
	w.mu.Lock()
	w.tasks[gid] = t
	w.mu.Unlock()
}

// start runs the watchdog for l, on the loop's goroutine as it begins.
func (w *blockWatch) start(l *Loop) {
	w.loopGID = stacks.ID()
	w.tasks = make(map[uint64]*Task)
	w.stop = make(chan struct{})
	w.done.Add(1)
	go w.run(l)
}

// end stops the watchdog and waits for its goroutine's exit.
func (w *blockWatch) end() {
	close(w.stop)
	w.done.Wait()
}

// run is the watchdog: a check every quarter of the threshold.
func (w *blockWatch) run(l *Loop) {
	defer w.done.Done()
	tick := time.NewTicker(max(w.threshold/4, 50*time.Microsecond))
	defer tick.Stop()
	var (
		asked  bool      // ask was set by this goroutine and not yet seen cleared
		since  time.Time // when it was set
		report = w.threshold
	)
	for {
		select {
		case <-w.stop:
			return
		case now := <-tick.C:
			if w.ticks.Add(1)%256 == 0 {
				w.forget(l.g)
			}
			switch {
			case l.sleeping.Load(): // idle in the poller
				asked = false
			case !asked || !w.ask.Load(): // the first check, or a beat since the last
				w.ask.Store(true)
				asked, since, report = true, now, w.threshold
			case now.Sub(since) >= report: // no beat for that long
				w.report(w.blocked(l.g, now.Sub(since)))
				report *= 2
			}
		}
	}
}

// blocked describes the block the watchdog has found: the one goroutine of
// the loop that is not suspended in a coroutine switch (the loop's own, or
// a task's), its stack, and its task.
func (w *blockWatch) blocked(g *fiber.Group, held time.Duration) LoopBlocked {
	b := LoopBlocked{For: held}
	gs := stacks.All()
	var holder *stacks.Goroutine
	for _, id := range g.Goroutines([]uint64{w.loopGID}) {
		if gr := gs[id]; gr != nil && gr.State != "coroutine" {
			if holder != nil { // the loop moved on meanwhile
				return b
			}
			holder = gr
		}
	}
	if holder == nil { // a coroutine of a task's own holds it, or the loop moved on
		return b
	}
	b.Stack = holder.Text
	if holder.ID != w.loopGID {
		w.mu.Lock()
		t := w.tasks[holder.ID]
		w.mu.Unlock()
		if t != nil {
			b.TaskID, b.Task = t.id, t.Name() // id is fixed once started; Name is safe anywhere
		}
	}
	return b
}

// forget drops the tasks recorded for goroutines that have exited.
func (w *blockWatch) forget(g *fiber.Group) {
	live := make(map[uint64]bool)
	for _, id := range g.Goroutines(nil) {
		live[id] = true
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.tasks {
		if !live[id] {
			delete(w.tasks, id)
		}
	}
}

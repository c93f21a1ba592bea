package scheduler

import (
	"runtime"
	"strconv"
	"time"

	"github.com/evergo/evergo/internal/stacks"
)

// wait is the last step of an iteration: wait in the poller for the next
// timer, an fd or a post, or not at all when something is ready. It never
// wakes on a fixed tick. untilDone is Run's mode, where a loop in which
// nothing can happen any more is a deadlock; RunForever waits for Stop.
func (l *Loop) wait(untilDone bool) error {
	// A timer cancelled meanwhile neither wakes the loop nor moves the
	// virtual clock.
	l.takeStopped()
	timeout := time.Duration(-1) // forever
	switch {
	case l.ready.n > 0 || l.npost.Load() > 0:
		timeout = 0
	case l.timers.Len() > 0:
		tm, _ := l.timers.Min()
		next := tm.node.When()
		if l.virtual {
			if l.fdWaits == 0 && l.outside == 0 && l.npost.Load() == 0 {
				l.vnow = max(l.vnow, next) // nothing else can happen first
				return nil
			}
			timeout = time.Duration(next - l.vnow)
		} else {
			timeout = time.Duration(next - l.now())
		}
		timeout = max(timeout, 0)
	case untilDone && l.fdWaits == 0 && l.hupWatches == 0 && l.outside == 0 && l.watches == 0 &&
		l.npost.Load() == 0 && l.sigs.n == 0:
		return l.deadlock()
	}
	if timeout != 0 {
		if l.handedOff {
			l.spin()
		}
		// Posts write the eventfd only while the loop sleeps: sleeping is
		// set before npost is read, and Post adds to npost before it reads
		// sleeping, so one of the two sees the other.
		l.sleeping.Store(true)
		if l.npost.Load() > 0 || l.stopped.Load() != nil {
			l.sleeping.Store(false)
			timeout = 0
		}
	}
	if timeout == 0 && l.nfds == 0 {
		l.drainPosts() // nothing the poller could report: spare the syscall
		return nil
	}
	var start time.Time
	if l.virtual && timeout > 0 {
		start = time.Now() // only fds or posts are waited for: wall time runs
	}
	events, woken, err := l.poller.Wait(timeout)
	l.sleeping.Store(false)
	if err != nil {
		return err
	}
	for _, ev := range events {
		l.fdEvent(int(ev.FD), ev.Tag, ev.Events)
	}
	woke := len(events) > 0 || woken || l.npost.Load() > 0
	l.drainPosts()
	if l.virtual && timeout > 0 && !woke && time.Since(start) >= timeout {
		l.vnow += int64(timeout) // the wait ran its course: so does the virtual clock
	}
	return nil
}

// spin yields the loop's P for a moment before it parks in the poller, when
// work went out to other goroutines (Expect) since it last waited. Those
// goroutines were made runnable on the loop's P and run in the yields, and a
// post that arrives while the loop spins costs no eventfd write and no
// wake-up of the parked loop through the runtime's poller: a thread-pool
// round trip (futures' BenchmarkThreadPoolRoundTrip) takes about 1.5 µs
// with the spin and 16 µs without. The spin ends at the first post, after
// spinYields yields, or once spinFor has passed: a yield that gives the P
// to a goroutine busy on the CPU for a whole time slice ends it at once.
func (l *Loop) spin() {
	l.handedOff = false
	start := time.Now()
	for range spinYields {
		runtime.Gosched()
		if l.npost.Load() > 0 || time.Since(start) > spinFor {
			return
		}
	}
}

const (
	spinYields = 20
	spinFor    = 20 * time.Microsecond
)

// deadlock reports the loop's live tasks: every one of them waits, and
// nothing left can wake any of them.
func (l *Loop) deadlock() error {
	if err := l.runCtx.Err(); err != nil {
		return err // cancelled by a task: the news is on its way as a post
	}
	e := &DeadlockError{}
	gs := stacks.All()
	for t := l.live; t != nil; t = t.lnext {
		b := Blocked{ID: t.id, Name: t.Name(), What: t.waitingOn()}
		if f, ok := taskWhere(gs, t); ok {
			b.Where = f.File + ":" + strconv.Itoa(f.Line)
		}
		e.Tasks = append(e.Tasks, b)
	}
	return e
}

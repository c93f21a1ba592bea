package scheduler_test

import (
	"context"
	"errors"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/evergo/evergo/internal/stacks"
	"github.com/evergo/evergo/scheduler"
	"go.uber.org/goleak"
)

// watchers counts the goroutines of loops' Recv watchers, started or not.
// A watcher of a loop that has ended is among them until its goroutine is
// gone, which may be after Run returned (Run waits for the watcher to
// signal its exit, not for its goroutine's end): call noWatchers first.
func watchers() int {
	n := 0
	for _, g := range stacks.All() {
		if strings.Contains(g.Text, "scheduler.(*chanHub).run") ||
			strings.Contains(g.Text, "created by github.com/evergo/evergo/scheduler.newChanHub") {
			n++
		}
	}
	return n
}

// noWatchers waits for the goroutines of the watchers of loops that have
// ended (every loop of the tests before) to be gone: each has signalled
// its exit and has only to return.
func noWatchers() {
	for watchers() > 0 {
		runtime.Gosched()
	}
}

func TestRecvTakesWhatTheChannelHoldsAtOnce(t *testing.T) {
	noWatchers()
	run(t, func(ctx context.Context) error {
		ch := make(chan int, 2)
		ch <- 1
		close(ch)
		if v, ok, err := scheduler.Recv(ctx, ch); v != 1 || !ok || err != nil {
			t.Fatalf("Recv = %d, %v, %v; want 1, true", v, ok, err)
		}
		if v, ok, err := scheduler.Recv(ctx, ch); v != 0 || ok || err != nil {
			t.Fatalf("Recv of a closed channel = %d, %v, %v; want 0, false", v, ok, err)
		}
		if n := watchers(); n != 0 {
			t.Fatalf("%d watchers, want none: nothing parked", n)
		}
		return nil
	})
}

func TestRecvParksUntilAGoroutineSends(t *testing.T) {
	var got []int
	run(t, func(ctx context.Context) error {
		ch := make(chan int)
		go func() {
			for i := 1; i <= 3; i++ {
				ch <- i
			}
			close(ch)
		}()
		for {
			v, ok, err := scheduler.Recv(ctx, ch)
			if err != nil || !ok {
				return err
			}
			got = append(got, v)
		}
	})
	if want := []int{1, 2, 3}; !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
}

func TestRecvWaitersServedInFIFOOrder(t *testing.T) {
	var got []string
	run(t, func(ctx context.Context) error {
		ch := make(chan int)
		var tasks []*scheduler.Task
		for _, name := range []string{"a", "b", "c"} {
			tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
				v, _, err := scheduler.Recv(ctx, ch)
				got = append(got, name+itoa(v))
				return err
			}))
		}
		scheduler.Sleep(ctx, 0)
		go func() {
			for i := 1; i <= 3; i++ {
				ch <- i
			}
		}()
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if want := []string{"a1", "b2", "c3"}; !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v", got, want)
	}
}

func TestRecvClosedChannelWakesEveryWaiter(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ch := make(chan string)
		var oks []bool
		var tasks []*scheduler.Task
		for range 4 {
			tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
				_, ok, err := scheduler.Recv(ctx, ch)
				oks = append(oks, ok)
				return err
			}))
		}
		scheduler.Sleep(ctx, 0)
		close(ch)
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		if !slices.Equal(oks, []bool{false, false, false, false}) {
			t.Fatalf("oks %v, want four false", oks)
		}
		return nil
	})
}

// Many tasks wait on many channels with one goroutine, the loop's watcher,
// receiving for them all.
func TestRecvManyChannelsManyTasksOneWatcher(t *testing.T) {
	const channels, perChannel = 20, 3
	sum := 0
	noWatchers()
	run(t, func(ctx context.Context) error {
		chs := make([]chan int, channels)
		var tasks []*scheduler.Task
		for i := range chs {
			chs[i] = make(chan int)
			for range perChannel {
				tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
					v, _, err := scheduler.Recv(ctx, chs[i])
					sum += v
					return err
				}))
			}
		}
		scheduler.Sleep(ctx, 0) // every task parks in Recv
		if n := watchers(); n != 1 {
			t.Errorf("%d watcher goroutines for %d tasks on %d channels, want 1", n, len(tasks), channels)
		}
		for i, ch := range chs {
			go func() {
				for range perChannel {
					ch <- i
				}
			}()
		}
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if want := perChannel * channels * (channels - 1) / 2; sum != want {
		t.Fatalf("sum of values %d, want %d", sum, want)
	}
}

func TestRecvTimesOutOnTheLoopClock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ch := make(chan int)
		start := scheduler.Now(ctx)
		tctx, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		if _, _, err := scheduler.Recv(tctx, ch); err != context.DeadlineExceeded {
			t.Fatalf("Recv = %v, want DeadlineExceeded", err)
		}
		if d := scheduler.Now(ctx).Sub(start); d != time.Hour {
			t.Fatalf("Recv returned after %v, want 1h", d)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// A value the watcher took for a waiter that then stopped waiting (killed,
// or its ctx cancelled, before or after the value reached it) goes to the
// next Recv on the channel.
func TestRecvValueOfWaiterThatLeftIsKept(t *testing.T) {
	for _, how := range []string{"kill", "cancel"} {
		t.Run(how, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				ch := make(chan int)
				sent := make(chan struct{})
				var cancel context.CancelFunc
				var got []int
				waiter := mustGo(t, ctx, func(ctx context.Context) error {
					var wctx context.Context
					wctx, cancel = context.WithCancel(ctx)
					defer cancel()
					v, ok, err := scheduler.Recv(wctx, ch)
					if ok {
						got = append(got, v)
					}
					return err
				})
				scheduler.Sleep(ctx, 0)
				go func() { ch <- 1; close(sent) }() // ch <- 1 returns once the watcher took 1
				if _, _, err := scheduler.Recv(ctx, (<-chan struct{})(sent)); err != nil {
					return err
				}
				if how == "kill" {
					waiter.Kill(ctx)
				} else {
					cancel()
					waiter.Join(ctx)
				}
				go func() { ch <- 2 }()
				for len(got) < 2 {
					v, _, err := scheduler.Recv(ctx, ch)
					if err != nil {
						return err
					}
					got = append(got, v)
				}
				if !slices.Equal(got, []int{1, 2}) {
					t.Fatalf("received %v, want [1 2]", got)
				}
				return nil
			})
		})
	}
}

// The kill comes after the value was handed to the waiter, before it
// resumed: the value goes to the next Recv.
func TestRecvKilledWaiterLosesNoValue(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ch := make(chan int)
		victim := mustGo(t, ctx, func(ctx context.Context) error {
			_, _, err := scheduler.Recv(ctx, ch)
			return err
		})
		scheduler.Sleep(ctx, 0)
		go func() { ch <- 1; ch <- 2 }()
		untilState(ctx, victim, scheduler.StateRunnable)
		victim.Kill(ctx)
		for _, want := range []int{1, 2} {
			if v, _, err := scheduler.Recv(ctx, ch); v != want || err != nil {
				t.Fatalf("Recv = %d, %v; want %d", v, err, want)
			}
		}
		return nil
	})
}

func TestRecvNilChannelIsADeadlock(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		_, _, err := scheduler.Recv(ctx, (chan int)(nil))
		return err
	})
	var de *scheduler.DeadlockError
	if !errors.As(err, &de) || len(de.Tasks) != 1 || !strings.Contains(de.Tasks[0].What, "Recv nil channel") {
		t.Fatalf("Run = %v, want a deadlock in Recv of a nil channel", err)
	}
}

func TestRecvParkedKeepsLoopFromReportingDeadlock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		ch := make(chan int)
		release := make(chan struct{})
		go func() { <-release; ch <- 1 }()
		close(release)
		_, _, err := scheduler.Recv(ctx, ch) // the loop waits for the goroutine, however late
		return err
	})
}

// Once the waiter leaves (its timeout, a kill), the loop reports a
// deadlock again.
func TestRecvDeadlockReportedOnceWaiterLeaves(t *testing.T) {
	leave := map[string]func(ctx context.Context, ch chan int){
		"timeout": func(ctx context.Context, ch chan int) {
			tctx, cancel := scheduler.WithTimeout(ctx, time.Second)
			defer cancel()
			scheduler.Recv(tctx, ch)
		},
		"kill": func(ctx context.Context, ch chan int) {
			task := mustGo(t, ctx, func(ctx context.Context) error { _, _, err := scheduler.Recv(ctx, ch); return err })
			scheduler.Sleep(ctx, 0)
			task.Kill(ctx)
		},
		"close": func(ctx context.Context, ch chan int) {
			task := mustGo(t, ctx, func(ctx context.Context) error { _, _, err := scheduler.Recv(ctx, ch); return err })
			scheduler.Sleep(ctx, 0)
			close(ch)
			task.Join(ctx)
		},
	}
	for name, leave := range leave {
		t.Run(name, func(t *testing.T) {
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				leave(ctx, make(chan int))
				return scheduler.Park(ctx, "forever")
			}, scheduler.WithVirtualClock())
			var de *scheduler.DeadlockError
			if !errors.As(err, &de) || len(de.Tasks) != 1 || de.Tasks[0].What != "forever" {
				t.Fatalf("Run = %v, want a deadlock of main waiting forever", err)
			}
		})
	}
}

// A loop that ends with tasks parked in Recv ends its watcher.
func TestRecvWatcherEndsWithTheLoop(t *testing.T) {
	ch := make(chan int)
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		for range 3 {
			mustGo(t, ctx, func(ctx context.Context) error { _, _, err := scheduler.Recv(ctx, ch); return err })
		}
		scheduler.Sleep(ctx, 0)
		return scheduler.LoopOf(ctx).Stop()
	})
	if !errors.Is(err, scheduler.ErrStopped) {
		t.Fatalf("Run = %v, want ErrStopped", err)
	}
	goleak.VerifyNone(t)
}

func TestRecvWithoutTask(t *testing.T) {
	if _, _, err := scheduler.Recv(context.Background(), make(chan int)); err != scheduler.ErrNoTask {
		t.Fatalf("Recv = %v, want ErrNoTask", err)
	}
}

// Many goroutines send on many channels, many tasks receive, with timeouts
// that make them leave and come back, and kills: every value is received
// once.
func TestRecvManySendersManyWaitersLoseNothing(t *testing.T) {
	const channels, perChannel, waiters = 4, 300, 3
	seen := make(map[int]int)
	run(t, func(ctx context.Context) error {
		var wg sync.WaitGroup
		chs := make([]chan int, channels)
		for c := range chs {
			chs[c] = make(chan int)
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perChannel {
					chs[c] <- c*perChannel + i
				}
			}()
		}
		allSent := make(chan struct{})
		go func() { wg.Wait(); close(allSent) }()
		receive := func(ch chan int) func(ctx context.Context) error {
			return func(ctx context.Context) error {
				for n := 0; ; n++ {
					rctx, cancel := ctx, context.CancelFunc(func() {})
					if n%3 == 0 {
						rctx, cancel = scheduler.WithTimeout(ctx, time.Microsecond)
					}
					v, ok, err := scheduler.Recv(rctx, ch)
					cancel()
					switch {
					case err == nil && ok:
						seen[v]++
					case err == nil:
						return nil
					case !errors.Is(err, context.DeadlineExceeded):
						return err
					}
				}
			}
		}
		var tasks []*scheduler.Task
		for c := range chs {
			for range waiters {
				tasks = append(tasks, mustGo(t, ctx, receive(chs[c])))
			}
		}
		for i := 0; i < 20; i++ { // kill and replace a few, wherever they are
			scheduler.Sleep(ctx, 0)
			k := i % len(tasks)
			tasks[k].Kill(ctx)
			tasks[k] = mustGo(t, ctx, receive(chs[k/waiters]))
		}
		if _, _, err := scheduler.Recv(ctx, (<-chan struct{})(allSent)); err != nil {
			return err
		}
		for _, ch := range chs {
			close(ch) // every value was taken: close ends the waiters
		}
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		// Values taken for waiters that left and not received since are
		// kept: drain them.
		for _, ch := range chs {
			for {
				v, ok, err := scheduler.Recv(ctx, ch)
				if err != nil {
					return err
				}
				if !ok {
					break
				}
				seen[v]++
			}
		}
		return nil
	})
	if len(seen) != channels*perChannel {
		t.Fatalf("received %d distinct values, want %d", len(seen), channels*perChannel)
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("value %d received %d times", v, n)
		}
	}
}

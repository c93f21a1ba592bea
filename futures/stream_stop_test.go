package futures_test

import (
	"context"
	"errors"
	"iter"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func TestMapSeqWhoseDeadlinePassesYieldsDeadlineExceededOnceAndStops(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		runLoop(t, func(ctx context.Context) error {
			p := newTaskPool(t, 2)
			mapSeq := futures.MapSeq[int, int]
			if unordered {
				mapSeq = futures.MapSeqUnordered[int, int]
			}
			short, cancel := scheduler.WithTimeout(ctx, 2500*time.Millisecond)
			defer cancel()
			start := scheduler.Now(ctx)
			taken := 0
			var results []int
			var errs []error
			for r, err := range mapSeq(short, p, 2, naturals(&taken), func(ctx context.Context, i int) (int, error) {
				return i, scheduler.Sleep(ctx, time.Second)
			}) {
				if err != nil {
					errs = append(errs, err)
					continue // the stream ends by itself
				}
				results = append(results, r)
			}
			if d := since(ctx, start); d != 2500*time.Millisecond {
				t.Errorf("unordered %v: the stream ended after %v, want 2.5s (its deadline)", unordered, d)
			}
			if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) {
				t.Errorf("unordered %v: errors %v, want DeadlineExceeded once", unordered, errs)
			}
			if len(results) != 4 {
				t.Errorf("unordered %v: results %v, want the four ended by 2s", unordered, results)
			}
			if err := p.Shutdown(ctx, true); err != nil { // the two calls running end at 3s
				return err
			}
			if d := since(ctx, start); d != 3*time.Second || taken != 6 {
				t.Errorf("unordered %v: the pool went idle after %v with %d items taken; want 3s, 6", unordered, d, taken)
			}
			return nil
		})
	}
}

func TestMapSeqWithAnEndedCtxTakesNoItem(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		short, cancel := scheduler.WithTimeout(ctx, time.Second)
		defer cancel()
		if err := scheduler.Sleep(ctx, 2*time.Second); err != nil {
			return err
		}
		taken := 0
		var errs []error
		for _, err := range futures.MapSeq(short, p, 2, naturals(&taken), func(context.Context, int) (int, error) {
			return 0, nil
		}) {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], context.DeadlineExceeded) || taken != 0 {
			t.Errorf("yielded %v after taking %d items; want DeadlineExceeded once, none taken", errs, taken)
		}
		return nil
	})
}

func TestMapSeqYieldsEachItemsErrorOrPanicAndGoesOn(t *testing.T) {
	boom := errors.New("boom")
	for _, e := range []string{"TaskPool", "ThreadPool"} {
		runLoop(t, func(ctx context.Context) error {
			var p futures.Executor = newTaskPool(t, 2)
			if e == "ThreadPool" {
				p = newThreadPool(t, 2)
			}
			var got []string
			for r, err := range futures.MapSeq(ctx, p, 3, upTo(6), func(_ context.Context, i int) (int, error) {
				switch i {
				case 1:
					return -1, boom
				case 3:
					panic("three")
				}
				return i, nil
			}) {
				var pe *futures.PanicError
				switch {
				case errors.Is(err, boom):
					got = append(got, "boom")
				case errors.As(err, &pe):
					got = append(got, "panic "+pe.Value.(string))
				case err != nil:
					t.Errorf("%s: unexpected error %v", e, err)
				default:
					got = append(got, string(rune('0'+r)))
				}
			}
			if want := []string{"0", "boom", "2", "panic three", "4", "5"}; !slices.Equal(got, want) {
				t.Errorf("%s: yielded %q, want %q", e, got, want)
			}
			return p.Shutdown(ctx, true)
		})
	}
}

// A TaskPool worker killed mid-item: that item's error is ErrKilled, and
// the other items still run, on a worker started in its place.
func TestMapSeqWhoseWorkerIsKilledYieldsErrKilledForItsItem(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		var victim *scheduler.Task
		spawnTask(t, ctx, "killer", func(ctx context.Context) error {
			if err := scheduler.Sleep(ctx, time.Second); err != nil {
				return err
			}
			return victim.Kill(ctx)
		})
		var got []error
		for _, err := range futures.MapSeq(ctx, p, 3, upTo(4), func(ctx context.Context, i int) (int, error) {
			if i == 1 {
				victim = scheduler.Current(ctx)
				return 0, scheduler.Sleep(ctx, time.Hour)
			}
			return i, nil
		}) {
			got = append(got, err)
		}
		if len(got) != 4 || got[0] != nil || !errors.Is(got[1], scheduler.ErrKilled) || got[2] != nil || got[3] != nil {
			t.Errorf("yielded errors %v, want ErrKilled for item 1 only", got)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestMapSeqWithoutATaskYieldsErrNoTaskOnce(t *testing.T) {
	p := newTaskPool(t, 1)
	taken := 0
	var errs []error
	for _, err := range futures.MapSeq(context.Background(), p, 1, naturals(&taken), func(context.Context, int) (int, error) {
		return 0, nil
	}) {
		errs = append(errs, err)
	}
	if len(errs) != 1 || errs[0] != scheduler.ErrNoTask || taken != 0 {
		t.Errorf("yielded %v, took %d items; want ErrNoTask once, none taken", errs, taken)
	}
}

func TestMapSeqRefusesBadArguments(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
		cases := []struct {
			name  string
			seq   iter.Seq2[int, error]
			wants error
		}{
			{"n = 0", futures.MapSeq(ctx, p, 0, upTo(3), double), futures.ErrInvalid},
			{"nil fn", futures.MapSeq[int, int](ctx, p, 1, upTo(3), nil), scheduler.ErrNilFunc},
			{"nil items", futures.MapSeqUnordered(ctx, p, 1, nil, double), scheduler.ErrNilFunc},
		}
		for _, c := range cases {
			var errs []error
			for _, err := range c.seq {
				errs = append(errs, err)
			}
			if len(errs) != 1 || !errors.Is(errs[0], c.wants) {
				t.Errorf("%s: yielded %v, want %v once", c.name, errs, c.wants)
			}
		}
		return nil
	})
}

// An empty input touches no executor, even one shut down; a Shutdown
// before the first item fails the stream with ErrShutdown.
func TestMapSeqOfAShutDownPoolYieldsErrShutdownOnlyWithItems(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		if err := p.Shutdown(ctx, true); err != nil {
			return err
		}
		double := func(_ context.Context, i int) (int, error) { return 2 * i, nil }
		for range futures.MapSeq(ctx, p, 2, upTo(0), double) {
			t.Error("an empty input yielded")
		}
		var errs []error
		for _, err := range futures.MapSeq(ctx, p, 2, upTo(3), double) {
			errs = append(errs, err)
		}
		if len(errs) != 1 || !errors.Is(errs[0], futures.ErrShutdown) {
			t.Errorf("yielded %v, want ErrShutdown once", errs)
		}
		return nil
	})
}

// A consumer task killed wherever it parks (waiting for a result, in its
// loop body, in the input's iteration) stops the stream: its idle workers
// leave, those running end their call, and no task is left behind.
func TestMapSeqKilledConsumerLeavesNothingBehind(t *testing.T) {
	for _, where := range []string{"waiting for a result", "in the loop body", "in the input"} {
		for _, pool := range []string{"TaskPool", "ThreadPool"} {
			runLoop(t, func(ctx context.Context) error {
				l := scheduler.LoopOf(ctx)
				var e futures.Executor = newTaskPool(t, 3)
				if pool == "ThreadPool" {
					e = newThreadPool(t, 3)
				}
				before := l.Stats().Tasks
				blocked := newLatch() // a ThreadPool's calls, from item 2 on, while the consumer waits
				defer blocked.open()
				taken, got, reached := 0, 0, false
				var calls atomic.Int32
				consumer := spawnTask(t, ctx, "consumer", func(ctx context.Context) error {
					input := func(yield func(int) bool) {
						for i := 0; ; i++ {
							if where == "in the input" && i == 5 {
								reached = true
								scheduler.Sleep(ctx, time.Hour)
							}
							taken++
							if !yield(i) {
								return
							}
						}
					}
					for _, err := range futures.MapSeq(ctx, e, 3, input, func(ctx context.Context, i int) (int, error) {
						calls.Add(1)
						switch {
						case pool == "TaskPool":
							return i, scheduler.Sleep(ctx, time.Second)
						case where == "waiting for a result" && i >= 2:
							return blocked.then(i)(ctx)
						}
						return i, nil
					}) {
						if err != nil {
							return err
						}
						if got++; got == 2 && where != "in the input" {
							reached = true
							if where == "in the loop body" {
								scheduler.Sleep(ctx, time.Hour)
							}
						}
					}
					return nil
				})
				if pool == "TaskPool" {
					if err := scheduler.Sleep(ctx, 2500*time.Millisecond); err != nil {
						return err
					}
				} else { // the loop's clock stands while blocking calls are out
					for !reached {
						scheduler.Sleep(ctx, 0)
					}
					letRun(ctx)
				}
				if err := consumer.Kill(ctx); err != nil {
					return err
				}
				if err := consumer.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
					t.Errorf("%s, %s: the consumer ended with %v, want ErrKilled", pool, where, err)
				}
				blocked.open()
				if err := e.Shutdown(ctx, true); err != nil { // the calls running end on their own
					return err
				}
				if n := l.Stats().Tasks - before; n != 0 {
					t.Errorf("%s, %s: %d tasks left once the pool was idle", pool, where, n)
				}
				if taken > got+3 || int(calls.Load()) > taken {
					t.Errorf("%s, %s: %d items taken, %d calls, for %d results (n = 3)", pool, where, taken, calls.Load(), got)
				}
				return nil
			})
		}
	}
}

// The stream's TaskPool workers keep their slots while it runs; a Submit
// made meanwhile gets a slot once the stream ends.
func TestMapSeqWorkersGiveTheirSlotsBackWhenTheStreamEnds(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		start := scheduler.Now(ctx)
		var ranAt time.Duration
		submitter := spawnTask(t, ctx, "submitter", func(ctx context.Context) error {
			if err := scheduler.Sleep(ctx, 500*time.Millisecond); err != nil {
				return err
			}
			f, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
				ranAt = since(ctx, start)
				return 0, nil
			})
			if err != nil {
				return err
			}
			_, err = f.Get(ctx)
			return err
		})
		for _, err := range futures.MapSeq(ctx, p, 2, upTo(4), func(ctx context.Context, i int) (int, error) {
			return i, scheduler.Sleep(ctx, time.Second)
		}) {
			if err != nil {
				return err
			}
		}
		if err := submitter.Join(ctx); err != nil {
			return err
		}
		if ranAt != 2*time.Second {
			t.Errorf("the Submit made at 0.5s ran at %v, want 2s: when the stream's workers left", ranAt)
		}
		return nil
	})
}

// A consumer that cancels its ctx in the loop body: the stream yields
// context.Canceled once, before any result ready then, and stops.
func TestMapSeqWhoseCtxIsCancelledInTheBodyStops(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 4)
		cctx, cancel := context.WithCancel(ctx)
		defer cancel()
		taken := 0
		var got []int
		var errs []error
		for r, err := range futures.MapSeq(cctx, p, 4, naturals(&taken), func(_ context.Context, i int) (int, error) {
			return i, nil
		}) {
			if err != nil {
				errs = append(errs, err)
				continue
			}
			got = append(got, r)
			if r == 1 {
				cancel()
			}
		}
		if !slices.Equal(got, []int{0, 1}) || len(errs) != 1 || !errors.Is(errs[0], context.Canceled) {
			t.Errorf("yielded %v and errors %v; want [0 1], then Canceled once", got, errs)
		}
		if taken > 2+4 {
			t.Errorf("%d items taken for 2 results, n = 4", taken)
		}
		return p.Shutdown(ctx, true)
	})
}

// The first item waits for a slot of a full pool, as Submit would; the
// rest run in the slot it gets.
func TestMapSeqOnAFullPoolWaitsForASlot(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 1)
		if _, err := futures.Submit(ctx, p, func(ctx context.Context) (int, error) {
			return 0, scheduler.Sleep(ctx, time.Second)
		}); err != nil {
			return err
		}
		start := scheduler.Now(ctx)
		var at []time.Duration
		for _, err := range futures.MapSeq(ctx, p, 3, upTo(3), func(_ context.Context, i int) (int, error) {
			return i, nil
		}) {
			if err != nil {
				return err
			}
			at = append(at, since(ctx, start))
		}
		if want := []time.Duration{time.Second, time.Second, time.Second}; !slices.Equal(at, want) {
			t.Errorf("results came at %v, want %v: once the Submit freed the slot", at, want)
		}
		return p.Shutdown(ctx, true)
	})
}

package futures_test

import (
	"context"
	"iter"
	"math/rand/v2"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// naturals is an endless input, 0, 1, 2...; *taken counts the items the
// stream has taken from it.
func naturals(taken *int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := 0; ; i++ {
			*taken++
			if !yield(i) {
				return
			}
		}
	}
}

// upTo is the input 0, 1, ... n-1.
func upTo(n int) iter.Seq[int] {
	return func(yield func(int) bool) {
		for i := range n {
			if !yield(i) {
				return
			}
		}
	}
}

// inFlight counts the calls running at once, and the most seen.
type inFlight struct{ now, peak int }

func (f *inFlight) enter() {
	f.now++
	f.peak = max(f.peak, f.now)
}

func (f *inFlight) leave() { f.now-- }

// Each seed gives the items random durations and the loop another order
// among the tasks ready at once; the results come out in the order of the
// items, n at most are taken ahead of the consumer, and the calls run on
// as many slots as the pool and n allow.
func TestMapSeqYieldsTheResultsInTheOrderOfTheItems(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		const items = 40
		delays := make([]time.Duration, items)
		for i := range delays {
			delays[i] = time.Duration(rng.IntN(10)) * time.Millisecond // 0 too: calls that end without parking
		}
		for _, c := range []struct{ pool, n int }{{4, 6}, {6, 4}, {1, 3}, {3, 1}} {
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				p := newTaskPool(t, c.pool)
				var running inFlight
				taken, yielded := 0, 0
				input := func(yield func(int) bool) {
					for i := range items {
						taken++
						if taken-yielded > c.n {
							t.Errorf("seed %d, %+v: item %d taken with %d not yielded, want at most n", seed, c, i, taken-1-yielded)
						}
						if !yield(i) {
							return
						}
					}
				}
				for r, err := range futures.MapSeq(ctx, p, c.n, input, func(ctx context.Context, i int) (int, error) {
					running.enter()
					defer running.leave()
					return i * 10, scheduler.Sleep(ctx, delays[i])
				}) {
					if err != nil || r != yielded*10 {
						t.Fatalf("seed %d, %+v: result %d = %d, %v; want %d, nil", seed, c, yielded, r, err, yielded*10)
					}
					yielded++
				}
				if yielded != items {
					t.Errorf("seed %d, %+v: %d results for %d items", seed, c, yielded, items)
				}
				if want := min(c.pool, c.n); running.peak != want {
					t.Errorf("seed %d, %+v: %d calls ran at once at most, want %d", seed, c, running.peak, want)
				}
				return p.Shutdown(ctx, true)
			}, scheduler.WithVirtualClock(), scheduler.WithSeed(seed))
			if err != nil {
				t.Fatalf("seed %d, %+v: Run: %v", seed, c, err)
			}
		}
	}
}

func TestMapSeqUnorderedYieldsTheResultsAsTheCallsEnd(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 4)
		secs := slices.Values([]int{4, 1, 3, 2})
		start := scheduler.Now(ctx)
		var got []int
		for r, err := range futures.MapSeqUnordered(ctx, p, 4, secs, func(ctx context.Context, s int) (int, error) {
			return s, scheduler.Sleep(ctx, time.Duration(s)*time.Second)
		}) {
			if err != nil {
				return err
			}
			if d := since(ctx, start); d != time.Duration(r)*time.Second {
				t.Errorf("the result of %ds came after %v: it waited for another", r, d)
			}
			got = append(got, r)
		}
		if want := []int{1, 2, 3, 4}; !slices.Equal(got, want) {
			t.Errorf("MapSeqUnordered yielded %v, want %v (the order the calls ended)", got, want)
		}
		return nil
	})
}

// In order, a slow item holds the results after it back: they keep their
// cells, and the stream takes no item beyond n meanwhile.
func TestMapSeqHoldsResultsBehindASlowItemAndTakesNoMoreThanN(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 10)
		taken := 0
		start := scheduler.Now(ctx)
		var at []time.Duration
		for r, err := range futures.MapSeq(ctx, p, 3, naturals(&taken), func(ctx context.Context, i int) (int, error) {
			d := time.Second
			if i == 0 {
				d = 10 * time.Second
			}
			return i, scheduler.Sleep(ctx, d)
		}) {
			if err != nil {
				return err
			}
			at = append(at, since(ctx, start))
			if r == 4 {
				break
			}
		}
		// 0, 1 and 2 start at 0s; 1 and 2 end at 1s and wait for 0, which
		// ends at 10s; 3 and 4 start then and end at 11s.
		want := []time.Duration{10 * time.Second, 10 * time.Second, 10 * time.Second, 11 * time.Second, 11 * time.Second}
		if !slices.Equal(at, want) {
			t.Errorf("results came at %v, want %v", at, want)
		}
		if taken > 5+3 {
			t.Errorf("%d items taken for 5 results and n = 3", taken)
		}
		return p.Shutdown(ctx, true)
	})
}

// An endless input and a consumer that breaks after k results: the stream
// took at most k+n items, and once the stream's in-flight calls have ended
// the pool is idle and the loop ends (goleak checks the rest).
func TestMapSeqOfAnEndlessInputStopsWhenTheConsumerBreaks(t *testing.T) {
	for _, unordered := range []bool{false, true} {
		for _, pool := range []string{"TaskPool", "ThreadPool"} {
			runLoop(t, func(ctx context.Context) error {
				var e futures.Executor = newTaskPool(t, 4)
				if pool == "ThreadPool" {
					e = newThreadPool(t, 4)
				}
				mapSeq := futures.MapSeq[int, int]
				if unordered {
					mapSeq = futures.MapSeqUnordered[int, int]
				}
				const k, n = 100, 8
				taken, got := 0, 0
				var calls atomic.Int32
				for _, err := range mapSeq(ctx, e, n, naturals(&taken), func(_ context.Context, i int) (int, error) {
					calls.Add(1)
					return i, nil
				}) {
					if err != nil {
						return err
					}
					if got++; got == k {
						break
					}
				}
				if taken > k+n {
					t.Errorf("%s (unordered %v): %d items taken for %d results, want at most %d", pool, unordered, taken, k, k+n)
				}
				if err := e.Shutdown(ctx, true); err != nil {
					return err
				}
				if c := int(calls.Load()); c > taken {
					t.Errorf("%s (unordered %v): %d calls for %d items taken", pool, unordered, c, taken)
				}
				return nil
			})
		}
	}
}

func TestMapSeqRunsNoMoreThanNCallsAtOnceOnABiggerPool(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 10)
		var running inFlight
		n := 0
		for _, err := range futures.MapSeqUnordered(ctx, p, 3, upTo(30), func(ctx context.Context, i int) (int, error) {
			running.enter()
			defer running.leave()
			return i, scheduler.Sleep(ctx, time.Duration(i%4)*time.Second)
		}) {
			if err != nil {
				return err
			}
			n++
		}
		if n != 30 || running.peak != 3 {
			t.Errorf("%d results, %d calls at once at most; want 30, 3", n, running.peak)
		}
		return nil
	})
}

func TestMapSeqOnAThreadPoolRunsBlockingCallsNAtOnce(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 4)
		var running, peak atomic.Int32
		i := 0
		for r, err := range futures.MapSeq(ctx, p, 6, upTo(64), func(_ context.Context, i int) (int, error) {
			n := running.Add(1)
			defer running.Add(-1)
			for old := peak.Load(); n > old && !peak.CompareAndSwap(old, n); old = peak.Load() {
			}
			runtime.Gosched() // the goroutines interleave
			return i * i, nil
		}) {
			if err != nil || r != i*i {
				t.Fatalf("result %d = %d, %v; want %d, nil", i, r, err, i*i)
			}
			i++
		}
		if i != 64 {
			t.Errorf("%d results for 64 items", i)
		}
		if n := peak.Load(); n > 4 {
			t.Errorf("%d calls ran at once on a pool of 4", n)
		}
		return p.Shutdown(ctx, true)
	})
}

// Latches decide when each blocking call ends: item 2's first, then 0's,
// which the consumer opens on 2's result, then 1's, opened on 0's.
func TestMapSeqUnorderedOnAThreadPoolYieldsAsTheCallsEnd(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 3)
		latches := []*latch{newLatch(), newLatch(), newLatch()}
		defer func() {
			for _, l := range latches {
				l.open()
			}
		}()
		latches[2].open()
		var got []int
		for r, err := range futures.MapSeqUnordered(ctx, p, 3, upTo(3), func(_ context.Context, i int) (int, error) {
			return latches[i].then(i)(ctx)
		}) {
			if err != nil {
				return err
			}
			got = append(got, r)
			switch r {
			case 2:
				latches[0].open()
			case 0:
				latches[1].open()
			}
		}
		if want := []int{2, 0, 1}; !slices.Equal(got, want) {
			t.Errorf("yielded %v, want %v", got, want)
		}
		return p.Shutdown(ctx, true)
	})
}

func TestMapSeqOnAThreadPoolYieldsGoexitAsTheItemsError(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newThreadPool(t, 2)
		var got []error
		for _, err := range futures.MapSeq(ctx, p, 2, upTo(4), func(_ context.Context, i int) (int, error) {
			if i == 1 {
				runtime.Goexit()
			}
			return i, nil
		}) {
			got = append(got, err)
		}
		if len(got) != 4 || got[1] == nil || !strings.Contains(got[1].Error(), "Goexit") || got[0] != nil || got[2] != nil || got[3] != nil {
			t.Errorf("yielded errors %v, want one that names runtime.Goexit for item 1 only", got)
		}
		return p.Shutdown(ctx, true) // the slots came back
	})
}

// Items whose own iteration parks on the consumer's ctx, and a loop body
// that parks: the calls go on meanwhile, and every result comes, in order.
func TestMapSeqLetsTheInputAndTheBodyPark(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		slowInput := func(yield func(int) bool) {
			for i := range 6 {
				if err := scheduler.Sleep(ctx, time.Second); err != nil { // the consumer's ctx
					t.Errorf("the input's Sleep: %v", err)
					return
				}
				if !yield(i) {
					return
				}
			}
		}
		start := scheduler.Now(ctx)
		var got []int
		for r, err := range futures.MapSeq(ctx, p, 2, slowInput, func(ctx context.Context, i int) (int, error) {
			return i, scheduler.Sleep(ctx, 1500*time.Millisecond)
		}) {
			if err != nil {
				return err
			}
			got = append(got, r)
			if err := scheduler.Sleep(ctx, 500*time.Millisecond); err != nil {
				return err
			}
		}
		if want := []int{0, 1, 2, 3, 4, 5}; !slices.Equal(got, want) {
			t.Errorf("yielded %v, want %v", got, want)
		}
		if d := since(ctx, start); d >= 18*time.Second {
			t.Errorf("took %v, as long as the waits one after the other: the calls should overlap the input's and the body's", d)
		}
		return nil
	})
}

// Ranging the same sequence twice runs it twice, from the input's start.
func TestMapSeqRangedTwiceRunsTwice(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		p := newTaskPool(t, 2)
		seq := futures.MapSeq(ctx, p, 2, upTo(5), func(_ context.Context, i int) (int, error) { return i * i, nil })
		var first, second []int
		for r := range seq {
			first = append(first, r)
		}
		for r := range seq {
			second = append(second, r)
		}
		if want := []int{0, 1, 4, 9, 16}; !slices.Equal(first, want) || !slices.Equal(second, want) {
			t.Errorf("ranged twice: %v then %v, want %v both times", first, second, want)
		}
		return nil
	})
}

package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// run runs main as the first task of a new loop on a virtual clock, so that
// deadlines are exact and take no wall time, and fails the test with main's
// error, or Run's (a panic of main, a deadlock).
func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	var mainErr error
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		mainErr = main(ctx)
		return mainErr
	}, scheduler.WithVirtualClock())
	if mainErr != nil { // before Run's error, which may be the deadlock it left
		t.Fatal(mainErr)
	}
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
}

// expect reports a failure unless ok. Tasks run on fibers: they report with
// t.Errorf, never t.Fatal.
func expect(t *testing.T, ok bool, format string, args ...any) {
	t.Helper()
	if !ok {
		t.Errorf(format, args...)
	}
}

// expectState reports a failure unless task is in state s.
func expectState(t *testing.T, who string, task *scheduler.Task, s scheduler.State) {
	t.Helper()
	if got := task.State(); got != s {
		t.Errorf("%s is %v, want %v", who, got, s)
	}
}

// spawn starts fn as a new task; it panics (which Run reports) if it cannot.
func spawn(ctx context.Context, fn func(ctx context.Context) error) *scheduler.Task {
	task, err := scheduler.Go(ctx, fn)
	if err != nil {
		panic(err)
	}
	return task
}

// yield lets the tasks ready before the caller run, each until it parks or
// yields.
func yield(ctx context.Context) {
	if err := scheduler.Sleep(ctx, 0); err != nil {
		panic(err)
	}
}

// sleep sleeps d on the loop's (virtual) clock.
func sleep(ctx context.Context, d time.Duration) {
	if err := scheduler.Sleep(ctx, d); err != nil {
		panic(err)
	}
}

// settle yields until none of tasks is ready to run: each is parked or has
// ended.
func settle(ctx context.Context, tasks ...*scheduler.Task) {
	for range 100 {
		busy := false
		for _, task := range tasks {
			if s := task.State(); s != scheduler.StateParked && s != scheduler.StateEnded {
				busy = true
			}
		}
		if !busy {
			return
		}
		yield(ctx)
	}
	panic("settle: tasks still busy after 100 yields")
}

// within returns ctx with a deadline d from now on the loop's clock.
func within(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return scheduler.WithTimeout(ctx, d)
}

// panicOf calls f and returns what it panicked with, or nil.
func panicOf(f func()) (p any) {
	defer func() { p = recover() }()
	f()
	return nil
}

// getter is what the three queues have in common for taking items out.
type getter[T any] interface {
	Get(ctx context.Context) (T, error)
}

// getN takes n items out of q with Get.
func getN[T any](ctx context.Context, q getter[T], n int) ([]T, error) {
	var got []T
	for range n {
		v, err := q.Get(ctx)
		if err != nil {
			return got, err
		}
		got = append(got, v)
	}
	return got, nil
}

func TestGetReturnsItemsInEachQueuesOrder(t *testing.T) {
	in := []int{5, 3, 9, 1, 7, 2, 8, 6, 4, 0}
	for _, c := range []struct {
		name string
		q    interface {
			getter[int]
			Put(context.Context, int) error
		}
		want []int
	}{
		{"Queue", queue.New[int](0), in},
		{"LifoQueue", queue.NewLifo[int](0), []int{0, 4, 6, 8, 2, 7, 1, 9, 3, 5}},
		{"PriorityQueue", queue.NewPriority[int](0), []int{0, 1, 2, 3, 4, 5, 6, 7, 8, 9}},
		{"PriorityQueue by >", queue.NewPriorityFunc(0, func(a, b int) bool { return a > b }), []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				for _, v := range in {
					if err := c.q.Put(ctx, v); err != nil {
						return err
					}
				}
				got, err := getN(ctx, c.q, len(in))
				expect(t, err == nil && slices.Equal(got, c.want), "Get order %v (%v), want %v", got, err, c.want)
				return nil
			})
		})
	}
}

func TestPriorityFuncQueueGetsFirstWhatLessPutsFirst(t *testing.T) {
	type job struct {
		prio int
		name string
	}
	q := queue.NewPriorityFunc(0, func(a, b job) bool { return a.prio > b.prio })
	for _, j := range []job{{2, "b"}, {9, "z"}, {1, "a"}, {5, "m"}} {
		q.TryPut(j)
	}
	var got []string
	for j, err := q.TryGet(); err == nil; j, err = q.TryGet() {
		got = append(got, j.name)
	}
	expect(t, slices.Equal(got, []string{"z", "m", "b", "a"}), "TryGet order %v, want [z m b a]", got)
}

// A nil less makes any Put that has to keep its item panic; a Put handed
// straight to a parked Get keeps nothing.
func TestPriorityQueueWithNilLessPanicsOnPutAndGet(t *testing.T) {
	const want = "queue: Put on a PriorityQueue made with a nil less function"
	q := queue.NewPriorityFunc[int](0, nil)
	p := panicOf(func() { q.TryPut(1) })
	expect(t, p == want, "TryPut on a priority queue with a nil less panicked with %v, want %q", p, want)
	expect(t, q.Len() == 0, "Len = %d after the panicking Put, want 0", q.Len())
	run(t, func(ctx context.Context) error {
		p := panicOf(func() { q.Get(ctx) })
		expect(t, p == want, "Get panicked with %v, want %q: it would wait for a Put that cannot come", p, want)
		p = panicOf(func() { q.Put(ctx, 7) })
		expect(t, p == want, "Put panicked with %v, want %q", p, want)
		return nil
	})
}

func TestTryGetOnEmptyQueueFailsWithErrEmpty(t *testing.T) {
	_, err1 := queue.New[int](0).TryGet()
	_, err2 := queue.NewLifo[int](1).TryGet()
	_, err3 := queue.NewPriority[int](1).TryGet()
	expect(t, errors.Is(err1, queue.ErrEmpty) && errors.Is(err2, queue.ErrEmpty) && errors.Is(err3, queue.ErrEmpty),
		"TryGet on an empty Queue, LifoQueue, PriorityQueue = %v, %v, %v, want ErrEmpty", err1, err2, err3)
	q := queue.New[int](0)
	q.TryPut(1)
	v, err := q.TryGet()
	expect(t, v == 1 && err == nil, "TryGet = %v, %v, want 1, nil", v, err)
	_, err = q.TryGet()
	expect(t, errors.Is(err, queue.ErrEmpty), "TryGet of an emptied queue = %v, want ErrEmpty", err)
}

func TestTryPutOnFullQueueFailsWithErrFull(t *testing.T) {
	q := queue.New[int](2)
	err0, err1, err2 := q.TryPut(0), q.TryPut(1), q.TryPut(2)
	expect(t, err0 == nil && err1 == nil, "TryPuts with room = %v, %v, want nil", err0, err1)
	expect(t, errors.Is(err2, queue.ErrFull), "TryPut on a full queue = %v, want ErrFull", err2)
	expect(t, q.Len() == 2, "Len = %d after a refused TryPut, want 2", q.Len())
	lq, pq := queue.NewLifo[int](1), queue.NewPriority[int](1)
	lq.TryPut(0)
	pq.TryPut(0)
	err1, err2 = lq.TryPut(1), pq.TryPut(1)
	expect(t, errors.Is(err1, queue.ErrFull) && errors.Is(err2, queue.ErrFull),
		"TryPut on a full LifoQueue, PriorityQueue = %v, %v, want ErrFull", err1, err2)
}

func TestLenAndCap(t *testing.T) {
	for _, c := range []struct{ maxsize, cap int }{{3, 3}, {1, 1}, {0, 0}, {-5, 0}} {
		q := queue.New[int](c.maxsize)
		expect(t, q.Cap() == c.cap, "New(%d).Cap() = %d, want %d", c.maxsize, q.Cap(), c.cap)
		expect(t, queue.NewLifo[int](c.maxsize).Cap() == c.cap && queue.NewPriority[int](c.maxsize).Cap() == c.cap,
			"NewLifo or NewPriority(%d).Cap() is not %d", c.maxsize, c.cap)
	}
	q := queue.New[int](-5) // unbounded
	for v := range 1000 {
		if err := q.TryPut(v); err != nil {
			t.Fatalf("TryPut #%d on an unbounded queue = %v", v, err)
		}
	}
	expect(t, q.Len() == 1000, "Len = %d, want 1000", q.Len())
	q.TryGet()
	expect(t, q.Len() == 999, "Len = %d after a TryGet, want 999", q.Len())
}

func TestGetOnEmptyQueueParksUntilPut(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[string](0)
		var got string
		g := spawn(ctx, func(ctx context.Context) (err error) {
			got, err = q.Get(ctx)
			return err
		})
		settle(ctx, g)
		expectState(t, "the Get on an empty queue", g, scheduler.StateParked)
		q.Put(ctx, "x")
		expect(t, q.Len() == 0, "Len = %d after a Put to a parked Get, want 0 (handed over)", q.Len())
		err := g.Join(ctx)
		expect(t, err == nil && got == "x", "Get = %q, %v, want x", got, err)
		return nil
	})
}

func TestPutOnFullQueueParksUntilGet(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](1)
		q.TryPut(1)
		p := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 2) })
		settle(ctx, p)
		expectState(t, "the Put on a full queue", p, scheduler.StateParked)
		got, err := getN(ctx, q, 2)
		expect(t, err == nil && slices.Equal(got, []int{1, 2}), "Gets = %v (%v), want [1 2]", got, err)
		return p.Join(ctx)
	})
}

func TestGetAndPutThatNeedNoWaitSucceedWithDoneCtx(t *testing.T) {
	run(t, func(ctx context.Context) error {
		done, cancel := context.WithCancel(ctx)
		cancel()
		q := queue.New[int](1)
		err1, err2 := q.Put(done, 1), q.Put(done, 2)
		expect(t, err1 == nil, "Put with room and a done ctx = %v, want nil", err1)
		expect(t, errors.Is(err2, context.Canceled), "Put on a full queue with a done ctx = %v, want context.Canceled", err2)
		v, err := q.Get(done)
		expect(t, v == 1 && err == nil, "Get of an item with a done ctx = %v, %v, want 1, nil", v, err)
		_, err = q.Get(done)
		expect(t, errors.Is(err, context.Canceled), "Get on an empty queue with a done ctx = %v, want context.Canceled", err)
		expect(t, q.Len() == 0, "Len = %d, want 0: the failed Put put nothing", q.Len())
		return nil
	})
}

func TestTimedGetOnEmptyQueueWaitsUntilItsDeadline(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		start := scheduler.Now(ctx)
		gctx, cancel := within(ctx, time.Hour)
		defer cancel()
		_, err := q.Get(gctx)
		expect(t, errors.Is(err, context.DeadlineExceeded), "Get = %v, want context.DeadlineExceeded", err)
		waited := scheduler.Now(ctx).Sub(start)
		expect(t, waited == time.Hour, "Get timed out after %v, want 1h", waited)
		q.TryPut(1) // not taken by the timed-out Get
		expect(t, q.Len() == 1, "Len = %d after a Put that followed a timed-out Get, want 1", q.Len())
		return nil
	})
}

// eventlet#495: a Get with a timeout, while other Gets and Puts come and go,
// keeps waiting until its deadline and gets an item put before it.
func TestTimedGetKeepsWaitingWhileOtherGetsAndPutsComeAndGo(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		start := scheduler.Now(ctx)
		var first, timed int
		var timedErr error
		var at time.Duration
		g1 := spawn(ctx, func(ctx context.Context) (err error) {
			first, err = q.Get(ctx)
			return err
		})
		g2 := spawn(ctx, func(ctx context.Context) error {
			gctx, cancel := within(ctx, time.Hour)
			defer cancel()
			timed, timedErr = q.Get(gctx)
			at = scheduler.Now(ctx).Sub(start)
			return nil
		})
		settle(ctx, g1, g2)
		q.TryPut(1) // to g1, the first parked Get
		_, err := q.TryGet()
		expect(t, errors.Is(err, queue.ErrEmpty), "TryGet after a Put to a parked Get = %v, want ErrEmpty: the item is g1's", err)
		err = g1.Join(ctx)
		expect(t, err == nil && first == 1, "g1 got %d, %v, want 1", first, err)
		sleep(ctx, 59*time.Minute)
		expectState(t, "the timed Get, before its deadline", g2, scheduler.StateParked)
		q.Put(ctx, 2) // to g2
		_, err = q.TryGet()
		expect(t, errors.Is(err, queue.ErrEmpty), "TryGet after a Put to the timed Get = %v, want ErrEmpty", err)
		err = g2.Join(ctx)
		expect(t, err == nil && timed == 2 && timedErr == nil && at == 59*time.Minute,
			"the timed Get got %d, %v at %v, want 2 at 59m", timed, timedErr, at)
		return nil
	})
}

// A stray Task.Wake of a task parked in a timed Get reports false and does
// not end its wait: it keeps waiting until its deadline, and gets an item
// put before it.
func TestTimedGetKeepsWaitingAfterStrayWake(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		start := scheduler.Now(ctx)
		var got []int
		var errs []error
		var at []time.Duration
		g := spawn(ctx, func(ctx context.Context) error {
			gctx, cancel := within(ctx, time.Hour)
			defer cancel()
			for range 2 {
				v, err := q.Get(gctx)
				got, errs, at = append(got, v), append(errs, err), append(at, scheduler.Now(ctx).Sub(start))
			}
			return nil
		})
		settle(ctx, g)
		expect(t, !g.Wake(), "Wake of a task parked in Get reported true")
		settle(ctx, g)
		expectState(t, "the Get after a stray Wake", g, scheduler.StateParked)
		sleep(ctx, 30*time.Minute)
		q.TryPut(5)
		settle(ctx, g)
		g.Wake() // again, in the second Get: its deadline stays at 1h
		if err := g.Join(ctx); err != nil {
			return err
		}
		expect(t, len(got) == 2 && got[0] == 5 && errs[0] == nil && at[0] == 30*time.Minute,
			"first Get = %v, %v at %v, want 5 at 30m", got, errs, at)
		expect(t, len(got) == 2 && errors.Is(errs[1], context.DeadlineExceeded) && at[1] == time.Hour,
			"second Get = %v at %v, want context.DeadlineExceeded at 1h", errs, at)
		return nil
	})
}

// A Get whose deadline has passed, and that has not resumed yet, is passed
// over by the next Put: the item goes to the next parked Get, or the queue.
func TestTimedOutGetIsPassedOverByNextPut(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](1)
		var timedErr error
		var other int
		// main's timer is set first: at the deadline, main runs before the
		// timed-out Get resumes.
		timed := spawn(ctx, func(ctx context.Context) error {
			gctx, cancel := within(ctx, time.Hour)
			defer cancel()
			_, timedErr = q.Get(gctx)
			return nil
		})
		g := spawn(ctx, func(ctx context.Context) (err error) {
			other, err = q.Get(ctx)
			return err
		})
		sleep(ctx, time.Hour)
		expectState(t, "the timed-out Get", timed, scheduler.StateRunnable)
		q.Put(ctx, 1) // to g
		expect(t, q.Len() == 0, "Len = %d after a Put to a parked Get, want 0", q.Len())
		q.Put(ctx, 2) // to the queue: must not park, nor go to the timed-out Get
		expect(t, q.Len() == 1, "Len = %d after a Put that followed a timed-out Get, want 1", q.Len())
		err := q.TryPut(3)
		expect(t, errors.Is(err, queue.ErrFull), "TryPut = %v, want ErrFull", err)
		err = g.Join(ctx)
		expect(t, err == nil && other == 1, "the parked Get got %d, %v, want 1", other, err)
		err = timed.Join(ctx)
		expect(t, err == nil && errors.Is(timedErr, context.DeadlineExceeded), "the timed Get = %v, want context.DeadlineExceeded", timedErr)
		return nil
	})
}

func TestParkedGetsAreServedFIFO(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		var order []string
		var tasks []*scheduler.Task
		for _, name := range []string{"a", "b", "c", "d"} {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error {
				v, err := q.Get(ctx)
				order = append(order, fmt.Sprint(name, v))
				return err
			}))
		}
		settle(ctx, tasks...)
		for v := range 4 {
			q.TryPut(v)
		}
		settle(ctx, tasks...)
		want := []string{"a0", "b1", "c2", "d3"}
		expect(t, slices.Equal(order, want), "Gets got %v, want %v", order, want)
		return nil
	})
}

func TestParkedPutsOnFullQueueAreLetInFIFO(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](2)
		q.TryPut(0)
		q.TryPut(1)
		var tasks []*scheduler.Task
		for v := 2; v < 6; v++ {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, v) }))
		}
		settle(ctx, tasks...)
		var got []int
		for range 6 {
			v, err := q.Get(ctx)
			if err != nil {
				return err
			}
			got = append(got, v)
			expect(t, q.Len() <= q.Cap(), "Len %d over Cap %d", q.Len(), q.Cap())
			// No overtaking: the room made went to the first parked Put.
			err = q.TryPut(100)
			expect(t, v >= 4 || errors.Is(err, queue.ErrFull), "TryPut with Puts parked = %v, want ErrFull", err)
			yield(ctx)
		}
		expect(t, slices.Equal(got, []int{0, 1, 2, 3, 4, 5}), "Gets = %v, want [0 1 2 3 4 5]", got)
		return nil
	})
}

func TestGetFromFullQueueLetsFirstParkedPutIn(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](1)
		q.TryPut(1)
		p1 := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 2) })
		p2 := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 3) })
		settle(ctx, p1, p2)
		v, err := q.TryGet()
		expect(t, v == 1 && err == nil, "TryGet = %d, %v, want 1", v, err)
		expect(t, q.Len() == 1, "Len = %d right after a Get from a full queue with Puts parked, want 1", q.Len())
		expect(t, p1.State() == scheduler.StateRunnable && p2.State() == scheduler.StateParked,
			"p1 is %v and p2 %v, want only p1 let in", p1.State(), p2.State())
		got := []int{}
		for range 2 {
			v, _ := q.TryGet()
			got = append(got, v)
		}
		expect(t, slices.Equal(got, []int{2, 3}), "TryGets = %v, want [2 3] (p1's, then p2's)", got)
		if err := p1.Join(ctx); err != nil {
			return err
		}
		return p2.Join(ctx)
	})
}

func TestTaskDoneMoreTimesThanItemsPutPanics(t *testing.T) {
	const want = "queue: TaskDone called more times than items were put"
	q := queue.New[int](0)
	q.TryPut(1)
	q.TryGet()
	p := panicOf(q.TaskDone)
	expect(t, p == nil, "TaskDone for the one item put panicked: %v", p)
	p = panicOf(q.TaskDone)
	expect(t, p == want, "second TaskDone panicked with %v, want %q", p, want)
	p = panicOf(queue.NewLifo[int](0).TaskDone)
	expect(t, p == want, "TaskDone on a new queue panicked with %v, want %q", p, want)
}

func TestJoinOnEmptyQueueReturnsAtOnce(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		ran := false
		other := spawn(ctx, func(ctx context.Context) error { ran = true; return nil })
		err := q.Join(ctx)
		expect(t, err == nil && !ran, "Join on a queue that never held an item = %v, parked: %v; want nil at once", err, ran)
		q.TryPut(1)
		q.TryGet()
		q.TaskDone()
		err = q.Join(ctx)
		expect(t, err == nil && !ran, "Join with every item done = %v, parked: %v; want nil at once", err, ran)
		return other.Join(ctx)
	})
}

func TestJoinParksUntilEveryItemPutIsDone(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		q.TryPut(1)
		q.TryPut(2)
		j := spawn(ctx, func(ctx context.Context) error { return q.Join(ctx) })
		settle(ctx, j)
		for range 2 {
			expectState(t, "Join with items not done", j, scheduler.StateParked)
			if _, err := q.Get(ctx); err != nil {
				return err
			}
			settle(ctx, j)
			expectState(t, "Join with an item taken, not done", j, scheduler.StateParked)
			q.TaskDone()
			settle(ctx, j)
		}
		expectState(t, "Join with every item done", j, scheduler.StateEnded)
		return j.Join(ctx)
	})
}

func TestShutdownWakesEveryParkedPutAndGet(t *testing.T) {
	run(t, func(ctx context.Context) error {
		full, empty := queue.New[int](1), queue.New[int](0)
		full.TryPut(1)
		var tasks []*scheduler.Task
		for v := range 2 {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error { return full.Put(ctx, 10+v) }))
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error {
				_, err := empty.Get(ctx)
				return err
			}))
		}
		settle(ctx, tasks...)
		full.Shutdown()
		empty.Shutdown()
		empty.Shutdown() // twice does nothing more
		for i, task := range tasks {
			err := task.Join(ctx)
			expect(t, errors.Is(err, queue.ErrShutdown), "parked call #%d = %v, want ErrShutdown", i, err)
		}
		v, err := full.Get(ctx)
		expect(t, v == 1 && err == nil, "Get = %d, %v, want 1: the woken Puts put nothing", v, err)
		_, err = full.TryGet()
		expect(t, errors.Is(err, queue.ErrShutdown), "TryGet = %v, want ErrShutdown", err)
		return nil
	})
}

func TestAfterShutdownPutFailsAndGetDrainsItemsLeftThenFails(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		q.TryPut(1)
		q.TryPut(2)
		q.Shutdown()
		err1, err2 := q.Put(ctx, 3), q.TryPut(3)
		expect(t, errors.Is(err1, queue.ErrShutdown) && errors.Is(err2, queue.ErrShutdown),
			"Put, TryPut = %v, %v, want ErrShutdown", err1, err2)
		v, err := q.Get(ctx)
		expect(t, v == 1 && err == nil, "Get = %d, %v, want 1", v, err)
		v, err = q.TryGet()
		expect(t, v == 2 && err == nil, "TryGet = %d, %v, want 2", v, err)
		_, err1 = q.Get(ctx)
		_, err2 = q.TryGet()
		expect(t, errors.Is(err1, queue.ErrShutdown) && errors.Is(err2, queue.ErrShutdown),
			"Get, TryGet of a drained shut-down queue = %v, %v, want ErrShutdown", err1, err2)
		return nil
	})
}

func TestShutdownDoesNotReleaseJoin(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		q.TryPut(1)
		j := spawn(ctx, func(ctx context.Context) error { return q.Join(ctx) })
		settle(ctx, j)
		q.Shutdown()
		settle(ctx, j)
		expectState(t, "Join after Shutdown with an item not done", j, scheduler.StateParked)
		q.TryGet()
		q.TaskDone()
		return j.Join(ctx)
	})
}

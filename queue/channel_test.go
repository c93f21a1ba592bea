package queue_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

var errBoom = errors.New("boom")

func TestChannelSendParksUntilReceiverTakesValue(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[string]
		s := spawn(ctx, func(ctx context.Context) error { return c.Send(ctx, "hi") })
		settle(ctx, s)
		expectState(t, "Send with no receiver", s, scheduler.StateParked)
		v, err := c.Receive(ctx)
		expect(t, v == "hi" && err == nil, "Receive = %q, %v, want hi", v, err)
		return s.Join(ctx)
	})
}

func TestChannelReceiveParksUntilSend(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[string]
		var got string
		r := spawn(ctx, func(ctx context.Context) (err error) {
			got, err = c.Receive(ctx)
			return err
		})
		settle(ctx, r)
		expectState(t, "Receive with no sender", r, scheduler.StateParked)
		if err := c.Send(ctx, "hi"); err != nil { // returns at once: r is parked
			return err
		}
		err := r.Join(ctx)
		expect(t, err == nil && got == "hi", "Receive = %q, %v, want hi", got, err)
		return nil
	})
}

func TestChannelSendErrorMakesReceiveReturnIt(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		r := spawn(ctx, func(ctx context.Context) error {
			_, err := c.Receive(ctx)
			return err
		})
		settle(ctx, r)
		err := c.SendError(ctx, errBoom) // to a parked Receive
		expect(t, err == nil, "SendError to a parked Receive = %v, want nil", err)
		err = r.Join(ctx)
		expect(t, err == errBoom, "the parked Receive = %v, want errBoom", err)
		s := spawn(ctx, func(ctx context.Context) error { return c.SendError(ctx, errBoom) })
		settle(ctx, s)
		v, err := c.Receive(ctx) // from a parked SendError
		expect(t, v == 0 && err == errBoom, "Receive = %d, %v, want 0, errBoom", v, err)
		return s.Join(ctx)
	})
}

func TestChannelSendErrorOfNilPanics(t *testing.T) {
	var c queue.Channel[int]
	const want = "queue: SendError of a nil error"
	p := panicOf(func() { c.SendError(context.Background(), nil) })
	expect(t, p == want, "SendError(nil) panicked with %v, want %q", p, want)
}

func TestChannelReceiversGetValuesInArrivalOrder(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		var got []string
		var tasks []*scheduler.Task
		for _, name := range []string{"a", "b", "c"} {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error {
				v, err := c.Receive(ctx)
				got = append(got, fmt.Sprint(name, v))
				return err
			}))
		}
		settle(ctx, tasks...)
		for v := range 3 {
			if err := c.Send(ctx, v); err != nil {
				return err
			}
		}
		settle(ctx, tasks...)
		expect(t, slices.Equal(got, []string{"a0", "b1", "c2"}), "receivers got %v, want [a0 b1 c2]", got)
		return nil
	})
}

func TestChannelSendersAreServedInArrivalOrder(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		var tasks []*scheduler.Task
		for v := range 3 {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error { return c.Send(ctx, v) }))
		}
		settle(ctx, tasks...)
		var got []int
		for range 3 {
			v, err := c.Receive(ctx)
			if err != nil {
				return err
			}
			got = append(got, v)
		}
		expect(t, slices.Equal(got, []int{0, 1, 2}), "Receives = %v, want [0 1 2]", got)
		return nil
	})
}

func TestChannelRangeOverAllEndsWhenClosed(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		p := spawn(ctx, func(ctx context.Context) error {
			defer c.Close()
			for _, v := range []int{1, 2, -1, 3} {
				var err error
				if v < 0 {
					err = c.SendError(ctx, errBoom)
				} else {
					err = c.Send(ctx, v)
				}
				if err != nil {
					return err
				}
			}
			return nil
		})
		var got []string
		for v, err := range c.All(ctx) {
			got = append(got, fmt.Sprint(v, err))
		}
		want := []string{"1 <nil>", "2 <nil>", "0 boom", "3 <nil>"}
		expect(t, slices.Equal(got, want), "range over All = %q, want %q", got, want)
		expect(t, c.Closed(), "the range ended with the channel open")
		for v, err := range c.All(ctx) {
			t.Errorf("range over a closed channel yielded %v, %v", v, err)
		}
		return p.Join(ctx)
	})
}

func TestChannelAllYieldsCtxErrorAndStops(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		start := scheduler.Now(ctx)
		rctx, cancel := within(ctx, time.Hour)
		defer cancel()
		var errs []error
		for _, err := range c.All(rctx) {
			errs = append(errs, err)
		}
		waited := scheduler.Now(ctx).Sub(start)
		expect(t, len(errs) == 1 && errors.Is(errs[0], context.DeadlineExceeded) && waited == time.Hour,
			"range over All with a 1h deadline yielded %v after %v, want context.DeadlineExceeded once at 1h", errs, waited)
		return nil
	})
}

func TestChannelBreakOutOfAllLeavesNextValueWithItsSender(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		s1 := spawn(ctx, func(ctx context.Context) error { return c.Send(ctx, 1) })
		s2 := spawn(ctx, func(ctx context.Context) error { return c.Send(ctx, 2) })
		settle(ctx, s1, s2)
		for v := range c.All(ctx) {
			expect(t, v == 1, "first value from All = %d, want 1", v)
			break
		}
		expectState(t, "the second sender after the break", s2, scheduler.StateParked)
		v, err := c.Receive(ctx)
		expect(t, v == 2 && err == nil, "Receive after the break = %d, %v, want 2", v, err)
		if err := s1.Join(ctx); err != nil {
			return err
		}
		return s2.Join(ctx)
	})
}

func TestChannelCloseWakesParkedSendersAndReceiversWithErrClosed(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var senders, receivers queue.Channel[int]
		var tasks []*scheduler.Task
		for v := range 2 {
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error { return senders.Send(ctx, v) }))
			tasks = append(tasks, spawn(ctx, func(ctx context.Context) error {
				_, err := receivers.Receive(ctx)
				return err
			}))
		}
		settle(ctx, tasks...)
		senders.Close()
		receivers.Close()
		receivers.Close() // twice does nothing more
		for i, task := range tasks {
			err := task.Join(ctx)
			expect(t, errors.Is(err, queue.ErrClosed), "parked call #%d = %v, want ErrClosed", i, err)
		}
		expect(t, senders.Closed() && receivers.Closed(), "Closed() is false after Close")
		err1, err2 := senders.Send(ctx, 1), senders.SendError(ctx, errBoom)
		_, err3 := senders.Receive(ctx)
		expect(t, errors.Is(err1, queue.ErrClosed) && errors.Is(err2, queue.ErrClosed) && errors.Is(err3, queue.ErrClosed),
			"Send, SendError, Receive on a closed channel = %v, %v, %v, want ErrClosed", err1, err2, err3)
		return nil
	})
}

func TestChannelTimedOutSenderIsPassedOver(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		// main's timer is set first: at the deadline, main runs before the
		// timed-out Send resumes.
		timed := spawn(ctx, func(ctx context.Context) error {
			sctx, cancel := within(ctx, time.Hour)
			defer cancel()
			return c.Send(sctx, 1)
		})
		s := spawn(ctx, func(ctx context.Context) error { return c.Send(ctx, 2) })
		sleep(ctx, time.Hour)
		expectState(t, "the timed-out Send", timed, scheduler.StateRunnable)
		v, err := c.Receive(ctx)
		expect(t, v == 2 && err == nil, "Receive = %d, %v, want 2: the timed-out Send sent nothing", v, err)
		err = timed.Join(ctx)
		expect(t, errors.Is(err, context.DeadlineExceeded), "the timed Send = %v, want context.DeadlineExceeded", err)
		return s.Join(ctx)
	})
}

func TestChannelKilledReceiverValueGoesToNextReceiver(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		var got int
		r1 := spawn(ctx, func(ctx context.Context) error {
			_, err := c.Receive(ctx)
			return err
		})
		r2 := spawn(ctx, func(ctx context.Context) (err error) {
			got, err = c.Receive(ctx)
			return err
		})
		settle(ctx, r1, r2)
		c.Send(ctx, 1) // handed to r1, which has not resumed yet
		if err := r1.Kill(ctx); err != nil {
			return err
		}
		err := r2.Join(ctx)
		expect(t, err == nil && got == 1, "r2 got %d, %v, want 1 (r1's)", got, err)
		return nil
	})
}

func TestChannelKilledReceiversValuesWaitForNextReceiveEvenAfterClose(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		r1 := spawn(ctx, func(ctx context.Context) error {
			_, err := c.Receive(ctx)
			return err
		})
		r2 := spawn(ctx, func(ctx context.Context) error {
			_, err := c.Receive(ctx)
			return err
		})
		settle(ctx, r1, r2)
		c.Send(ctx, 1)            // to r1
		c.SendError(ctx, errBoom) // to r2
		r1.Kill(ctx)
		r2.Kill(ctx)
		c.Close()
		var got []string
		for v, err := range c.All(ctx) {
			got = append(got, fmt.Sprint(v, err))
		}
		expect(t, slices.Equal(got, []string{"1 <nil>", "0 boom"}),
			"range over the closed channel = %q, want the killed receivers' [1 <nil>] [0 boom]", got)
		_, err := c.Receive(ctx)
		expect(t, errors.Is(err, queue.ErrClosed), "Receive once they are taken = %v, want ErrClosed", err)
		return nil
	})
}

// Stray wake-ups. A scheduler.Task.Wake of a task parked in a queue or a
// channel does nothing (TestTimedGetKeepsWaitingAfterStrayWake): the task
// stays in line, so what comes for it next still reaches it. Were the task
// made runnable, a Put or Send coming before it resumed would find no
// waiter (waitq's Front passes over a task that is not parked) and go
// elsewhere, and the task would park again beside it: a lost wake-up.

// A stray Wake, and a Put before the woken Get has resumed: the Put finds no
// Get parked and puts the item in the queue. The Get must then take it, not
// park again beside it until its deadline.
func TestTimedGetAfterStrayWakeGetsItemPutBeforeItResumes(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		var got int
		var gerr error
		g := spawn(ctx, func(ctx context.Context) error {
			gctx, cancel := within(ctx, time.Hour)
			defer cancel()
			got, gerr = q.Get(gctx)
			return nil
		})
		settle(ctx, g)
		g.Wake() // stray
		q.TryPut(1)
		settle(ctx, g)
		expect(t, g.State() != scheduler.StateParked || q.Len() == 0,
			"the Get parked again beside %d item(s) in the queue: a lost wake-up", q.Len())
		err := g.Join(ctx)
		expect(t, err == nil && got == 1 && gerr == nil, "Get = %d, %v, want 1", got, gerr)
		return nil
	})
}

// As above, for a Put parked on a full queue and a Get that makes room
// before the Put has resumed from a stray Wake.
func TestParkedPutAfterStrayWakeIsLetInByGetBeforeItResumes(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](1)
		q.TryPut(1)
		p := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 2) })
		settle(ctx, p)
		p.Wake() // stray
		q.TryGet()
		settle(ctx, p)
		if p.State() == scheduler.StateParked && q.Len() < q.Cap() {
			t.Errorf("the Put parked again with room in the queue (Len %d, Cap %d): a lost wake-up", q.Len(), q.Cap())
			q.Shutdown() // to end it
			return nil
		}
		v, err := q.TryGet()
		expect(t, v == 2 && err == nil, "TryGet = %d, %v, want 2", v, err)
		return p.Join(ctx)
	})
}

// As above, for Join and the last TaskDone.
func TestJoinAfterStrayWakeReturnsWhenItemsAreDoneBeforeItResumes(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		q.TryPut(1)
		j := spawn(ctx, func(ctx context.Context) error { return q.Join(ctx) })
		settle(ctx, j)
		j.Wake() // stray
		q.TryGet()
		q.TaskDone()
		settle(ctx, j)
		if j.State() == scheduler.StateParked {
			t.Error("Join parked again with every item done: it would wait forever")
			return j.Kill(ctx)
		}
		return j.Join(ctx)
	})
}

func TestChannelReceiverAfterStrayWakeGetsValueSentBeforeItResumes(t *testing.T) {
	run(t, func(ctx context.Context) error {
		var c queue.Channel[int]
		var got int
		r := spawn(ctx, func(ctx context.Context) (err error) {
			got, err = c.Receive(ctx)
			return err
		})
		settle(ctx, r)
		r.Wake() // stray
		sctx, cancel := within(ctx, time.Hour)
		defer cancel()
		if err := c.Send(sctx, 1); err != nil {
			t.Errorf("Send = %v: the Receive, woken by a stray Wake, parked again beside the parked Send (a lost wake-up)", err)
			c.Close() // to end it
			return nil
		}
		err := r.Join(ctx)
		expect(t, err == nil && got == 1, "Receive = %d, %v, want 1", got, err)
		return nil
	})
}

// Calling context and misuse, for queues and channels.

func TestCallsThatMayParkWithoutTaskFailWithErrNoTask(t *testing.T) {
	q := queue.New[int](0)
	var c queue.Channel[int]
	check := func(where string, ctx context.Context) {
		_, err1 := q.Get(ctx)
		err2, err3 := q.Put(ctx, 1), q.Join(ctx)
		err4, err5 := c.Send(ctx, 1), c.SendError(ctx, errBoom)
		_, err6 := c.Receive(ctx)
		for i, err := range []error{err1, err2, err3, err4, err5, err6} {
			expect(t, errors.Is(err, scheduler.ErrNoTask), "%s: call #%d (Get, Put, Join, Send, SendError, Receive) = %v, want ErrNoTask", where, i, err)
		}
	}
	check("no loop", context.Background())
	run(t, func(ctx context.Context) error {
		scheduler.LoopOf(ctx).CallSoon(func(ctx context.Context) { check("callback", ctx) })
		yield(ctx)
		return nil
	})
	expect(t, q.Len() == 0, "Len = %d, want 0", q.Len())
}

func TestCallsWithAnotherTasksCtxFailWithErrNotCurrent(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		var c queue.Channel[int]
		other := spawn(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Hour) })
		settle(ctx, other)
		err1 := q.Put(other.Context(), 1)
		_, err2 := c.Receive(other.Context())
		expect(t, errors.Is(err1, scheduler.ErrNotCurrent) && errors.Is(err2, scheduler.ErrNotCurrent),
			"Put, Receive with a parked task's ctx = %v, %v, want ErrNotCurrent", err1, err2)
		return other.Kill(ctx)
	})
}

func TestUseFromSecondLoopFailsWithErrWrongLoop(t *testing.T) {
	q := queue.New[int](0)
	var c queue.Channel[int]
	run(t, func(ctx context.Context) error {
		rctx, cancel := within(ctx, time.Second)
		defer cancel()
		c.Receive(rctx) // binds c to this loop
		return q.Put(ctx, 1)
	})
	run(t, func(ctx context.Context) error {
		_, err1 := q.Get(ctx)
		err2, err3 := q.Put(ctx, 2), q.Join(ctx)
		err4 := c.Send(ctx, 1)
		_, err5 := c.Receive(ctx)
		for i, err := range []error{err1, err2, err3, err4, err5} {
			expect(t, errors.Is(err, scheduler.ErrWrongLoop), "call #%d (Get, Put, Join, Send, Receive) = %v, want ErrWrongLoop", i, err)
		}
		return nil
	})
	expect(t, q.Len() == 1, "Len = %d, want 1: the second loop took or put nothing", q.Len())
}

func TestZeroQueuePanicsOnPut(t *testing.T) {
	isQueueMessage := func(p any) bool {
		s, ok := p.(string)
		return ok && strings.HasPrefix(s, "queue: ")
	}
	var q queue.Queue[int]
	p := panicOf(func() { q.TryPut(1) })
	expect(t, isQueueMessage(p), "TryPut on a zero Queue panicked with %v, want a \"queue: \" message", p)
	var lq queue.LifoQueue[int]
	p = panicOf(func() { lq.TryPut(1) })
	expect(t, isQueueMessage(p), "TryPut on a zero LifoQueue panicked with %v, want a \"queue: \" message", p)
	var pq queue.PriorityQueue[int]
	run(t, func(ctx context.Context) error {
		p = panicOf(func() { pq.Put(ctx, 1) })
		return nil
	})
	expect(t, isQueueMessage(p), "Put on a zero PriorityQueue panicked with %v, want a \"queue: \" message", p)
}

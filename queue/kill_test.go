package queue_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/queue"
	"github.com/evergo/evergo/scheduler"
)

// Kills and deadlines: an item or a value handed to a task that never
// takes it is not lost, and does not jump the queue.

func TestKilledGetterHandsItsItemToNextParkedGet(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](0)
		var got int
		g1 := spawn(ctx, func(ctx context.Context) error {
			_, err := q.Get(ctx)
			return err
		})
		g2 := spawn(ctx, func(ctx context.Context) (err error) {
			got, err = q.Get(ctx)
			return err
		})
		settle(ctx, g1, g2)
		q.TryPut(1) // handed to g1, which has not resumed yet
		expectState(t, "g1", g1, scheduler.StateRunnable)
		if err := g1.Kill(ctx); err != nil {
			return err
		}
		err := g2.Join(ctx)
		expect(t, err == nil && got == 1, "g2 got %d, %v, want 1 (g1's)", got, err)
		err = g1.Join(ctx)
		expect(t, errors.Is(err, scheduler.ErrKilled), "g1.Join = %v, want ErrKilled", err)
		expect(t, q.Len() == 0, "Len = %d, want 0", q.Len())
		return nil
	})
}

func TestKilledGetterGivesItemBackToFrontOfQueue(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](2)
		g := spawn(ctx, func(ctx context.Context) error {
			_, err := q.Get(ctx)
			return err
		})
		settle(ctx, g)
		q.TryPut(1) // handed to g, which has not resumed yet
		q.TryPut(2)
		q.TryPut(3)
		if err := g.Kill(ctx); err != nil {
			return err
		}
		expect(t, q.Len() == q.Cap()+1, "Len = %d after the give-back, want Cap+1 = %d", q.Len(), q.Cap()+1)
		err := q.TryPut(9)
		expect(t, errors.Is(err, queue.ErrFull), "TryPut = %v, want ErrFull", err)
		p := spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 4) })
		settle(ctx, p)
		var got []int
		for range 4 {
			v, err := q.TryGet()
			if err != nil {
				return err
			}
			got = append(got, v)
			expect(t, q.Len() <= q.Cap(), "Len = %d after a Get, over Cap %d", q.Len(), q.Cap())
		}
		expect(t, slices.Equal(got, []int{1, 2, 3, 4}), "TryGets = %v, want [1 2 3 4]", got)
		return p.Join(ctx)
	})
}

func TestTimedOutOrKilledPutIsNotInQueue(t *testing.T) {
	run(t, func(ctx context.Context) error {
		q := queue.New[int](1)
		q.TryPut(1)
		start := scheduler.Now(ctx)
		pctx, cancel := within(ctx, time.Hour)
		defer cancel()
		err := q.Put(pctx, 2)
		expect(t, errors.Is(err, context.DeadlineExceeded), "Put = %v, want context.DeadlineExceeded", err)
		waited := scheduler.Now(ctx).Sub(start)
		expect(t, waited == time.Hour, "Put timed out after %v, want 1h", waited)
		// A timed-out Put that has not resumed yet is passed over too.
		p := spawn(ctx, func(ctx context.Context) error {
			pctx, cancel := within(ctx, time.Hour)
			defer cancel()
			return q.Put(pctx, 3)
		})
		sleep(ctx, time.Hour)
		expectState(t, "the timed-out Put", p, scheduler.StateRunnable)
		v, err := q.TryGet()
		expect(t, v == 1 && err == nil, "TryGet = %d, %v, want 1", v, err)
		_, err = q.TryGet()
		expect(t, errors.Is(err, queue.ErrEmpty), "TryGet = %v, want ErrEmpty: no timed-out Put is in the queue", err)
		err = p.Join(ctx)
		expect(t, errors.Is(err, context.DeadlineExceeded), "the second Put = %v, want context.DeadlineExceeded", err)
		// Nor is a Put killed while parked.
		q.TryPut(1)
		p = spawn(ctx, func(ctx context.Context) error { return q.Put(ctx, 4) })
		settle(ctx, p)
		if err := p.Kill(ctx); err != nil {
			return err
		}
		q.TryGet()
		_, err = q.TryGet()
		expect(t, errors.Is(err, queue.ErrEmpty), "TryGet = %v, want ErrEmpty: the killed Put is not in the queue", err)
		return nil
	})
}

func TestItemsKilledGetsGiveBackComeOutInTheOrderTheyWerePut(t *testing.T) {
	for _, order := range [][2]int{{0, 1}, {1, 0}} { // which getter is killed first
		run(t, func(ctx context.Context) error {
			q := queue.New[int](0)
			var gs [2]*scheduler.Task
			for i := range gs {
				gs[i] = spawn(ctx, func(ctx context.Context) error {
					_, err := q.Get(ctx)
					return err
				})
			}
			settle(ctx, gs[:]...)
			q.TryPut(5) // handed to gs[0]
			q.TryPut(6) // handed to gs[1]
			q.TryPut(7) // into the queue
			for _, i := range order {
				gs[i].Kill(ctx)
			}
			got, err := getN[int](ctx, q, 3)
			if err != nil {
				return err
			}
			expect(t, slices.Equal(got, []int{5, 6, 7}), "killing getters %v: Gets = %v, want [5 6 7]", order, got)
			return nil
		})
	}
}

func TestValuesKilledReceiversWereHandedComeOutInTheOrderSent(t *testing.T) {
	for _, order := range [][2]int{{0, 1}, {1, 0}} { // which receiver is killed first
		run(t, func(ctx context.Context) error {
			var c queue.Channel[int]
			var rs [2]*scheduler.Task
			for i := range rs {
				rs[i] = spawn(ctx, func(ctx context.Context) error {
					_, err := c.Receive(ctx)
					return err
				})
			}
			settle(ctx, rs[:]...)
			c.Send(ctx, 5) // handed to rs[0]
			c.Send(ctx, 6) // handed to rs[1]
			for _, i := range order {
				rs[i].Kill(ctx)
			}
			var got []int
			for range 2 {
				v, err := c.Receive(ctx)
				if err != nil {
					return err
				}
				got = append(got, v)
			}
			expect(t, slices.Equal(got, []int{5, 6}), "killing receivers %v: Receives = %v, want [5 6]", order, got)
			return nil
		})
	}
}

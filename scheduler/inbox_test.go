package scheduler_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
)

// untilState yields until task is in state s: for a wake-up that comes from
// another goroutine, without a clock.
func untilState(ctx context.Context, task *scheduler.Task, s scheduler.State) {
	for task.State() != s {
		scheduler.Sleep(ctx, 0)
	}
}

func TestInboxReceiversServedInFIFOOrder(t *testing.T) {
	var got []string
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 8)
		var tasks []*scheduler.Task
		for _, name := range []string{"a", "b", "c"} {
			tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
				v, err := in.Receive(ctx)
				got = append(got, name+itoa(v))
				return err
			}))
		}
		scheduler.Sleep(ctx, 0) // all three park, in order
		go func() {
			for i := 1; i <= 3; i++ {
				in.Send(context.Background(), i)
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

func itoa(i int) string { return string(rune('0' + i)) }

// A task that calls Receive while others wait queues behind them, even when
// the items are there already (their wake-up not delivered yet).
func TestInboxReceiveQueuesBehindParkedReceivers(t *testing.T) {
	var got []string
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 8)
		first := mustGo(t, ctx, func(ctx context.Context) error {
			v, err := in.Receive(ctx)
			got = append(got, "first"+itoa(v))
			return err
		})
		scheduler.Sleep(ctx, 0)
		sent := make(chan struct{})
		go func() {
			in.Send(context.Background(), 1)
			in.Send(context.Background(), 2)
			close(sent)
		}()
		<-sent // on the loop's goroutine, on purpose: the wake-up is posted, not run
		v, err := in.Receive(ctx)
		got = append(got, "main"+itoa(v))
		if err != nil {
			return err
		}
		return first.Join(ctx)
	})
	if want := []string{"main2", "first1"}; !slices.Equal(got, want) {
		t.Fatalf("received %v, want %v (first1 handed first)", got, want)
	}
}

func TestInboxSendFromGoroutineBlocksAtTheBoundUntilATaskReceives(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 2)
		full := make(chan error, 2)
		third := make(chan struct{})
		go func() {
			bg := context.Background()
			in.Send(bg, 1)
			in.Send(bg, 2)
			full <- in.TrySend(3)
			expired, cancel := context.WithCancel(bg)
			cancel()
			full <- in.Send(expired, 3) // full: it waits, and its ctx is done
			if err := in.Send(bg, 3); err != nil {
				t.Errorf("Send(3) = %v", err)
			}
			close(third)
		}()
		for _, want := range []error{scheduler.ErrInboxFull, context.Canceled} {
			if err, _, _ := scheduler.Recv(ctx, (<-chan error)(full)); err != want {
				t.Fatalf("Send into a full inbox = %v, want %v", err, want)
			}
		}
		select {
		case <-third:
			t.Fatal("Send(3) returned before anything was received")
		default:
		}
		if n := in.Len(); n != 2 {
			t.Fatalf("Len = %d, want 2", n)
		}
		if v, err := in.Receive(ctx); v != 1 || err != nil {
			t.Fatalf("Receive = %d, %v; want 1", v, err)
		}
		if _, _, err := scheduler.Recv(ctx, (<-chan struct{})(third)); err != nil {
			return err
		}
		for _, want := range []int{2, 3} {
			if v, err := in.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive = %d, %v; want %d", v, err, want)
			}
		}
		return nil
	})
}

func TestInboxSendFromTaskParksWhenFull(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		in.TrySend(1)
		ran := false
		sender := mustGo(t, ctx, func(ctx context.Context) error { return in.Send(ctx, 2) })
		other := mustGo(t, ctx, func(context.Context) error { ran = true; return nil })
		scheduler.Sleep(ctx, 0)
		if s := sender.State(); s != scheduler.StateParked || !ran {
			t.Fatalf("sender %v, other task ran: %v; want parked, true", s, ran)
		}
		for _, want := range []int{1, 2} {
			if v, err := in.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive = %d, %v; want %d", v, err, want)
			}
		}
		if err := other.Join(ctx); err != nil {
			return err
		}
		return sender.Join(ctx)
	})
}

func TestInboxSendFromCallbackIntoFullInboxFailsWithErrNoTask(t *testing.T) {
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		in := scheduler.NewInbox[int](l, 1)
		var errs []error
		l.CallSoon(func(ctx context.Context) {
			errs = append(errs, in.Send(ctx, 1), in.Send(ctx, 2))
		})
		scheduler.Sleep(ctx, 0)
		if !slices.Equal(errs, []error{nil, scheduler.ErrNoTask}) {
			t.Fatalf("Send from a callback = %v, want [nil ErrNoTask]", errs)
		}
		return nil
	})
}

func TestInboxTrySendFullAndClosed(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[string](scheduler.LoopOf(ctx), 1)
		if err := in.TrySend("a"); err != nil {
			t.Fatalf("TrySend = %v", err)
		}
		if err := in.TrySend("b"); err != scheduler.ErrInboxFull {
			t.Fatalf("TrySend into a full inbox = %v, want ErrInboxFull", err)
		}
		in.Close()
		in.Close() // does nothing
		if err := in.TrySend("c"); err != scheduler.ErrInboxClosed {
			t.Fatalf("TrySend after Close = %v, want ErrInboxClosed", err)
		}
		if err := in.Send(ctx, "c"); err != scheduler.ErrInboxClosed {
			t.Fatalf("Send after Close = %v, want ErrInboxClosed", err)
		}
		// What was in stays in, for the receivers.
		if v, err := in.TryReceive(); v != "a" || err != nil {
			t.Fatalf("TryReceive = %q, %v; want a", v, err)
		}
		if _, err := in.TryReceive(); err != scheduler.ErrInboxClosed {
			t.Fatalf("TryReceive of a closed, drained inbox = %v, want ErrInboxClosed", err)
		}
		if _, err := in.Receive(ctx); err != scheduler.ErrInboxClosed {
			t.Fatalf("Receive of a closed, drained inbox = %v, want ErrInboxClosed", err)
		}
		return nil
	})
}

func TestInboxTryReceiveEmpty(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		if _, err := in.TryReceive(); err != scheduler.ErrInboxEmpty {
			t.Fatalf("TryReceive = %v, want ErrInboxEmpty", err)
		}
		return nil
	})
}

func TestInboxCloseWakesReceiversAndBlockedSenders(t *testing.T) {
	run(t, func(ctx context.Context) error {
		l := scheduler.LoopOf(ctx)
		empty := scheduler.NewInbox[int](l, 1)
		full := scheduler.NewInbox[int](l, 1)
		full.TrySend(0)
		var errs []error
		var tasks []*scheduler.Task
		for range 2 {
			tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
				_, err := empty.Receive(ctx)
				errs = append(errs, err)
				return nil
			}))
		}
		tasks = append(tasks, mustGo(t, ctx, func(ctx context.Context) error {
			errs = append(errs, full.Send(ctx, 1))
			return nil
		}))
		goSent := make(chan error, 1)
		go func() { goSent <- full.Send(context.Background(), 2) }()
		scheduler.Sleep(ctx, 0) // the tasks park
		// A task parked in Send counts as blocked (see Deadlocks on Inbox):
		// once empty's receivers are woken, nothing the loop knows of
		// would wake the sender, and a goroutine that has yet to close
		// full must say so, as any goroutine that will post does.
		closed := l.Expect()
		go func() { empty.Close(); full.Close(); closed(nil) }()
		for _, task := range tasks {
			task.Join(ctx)
		}
		err, _, _ := scheduler.Recv(ctx, (<-chan error)(goSent))
		errs = append(errs, err)
		for i, err := range errs {
			if err != scheduler.ErrInboxClosed {
				t.Errorf("waiter %d: %v, want ErrInboxClosed", i, err)
			}
		}
		return nil
	})
}

// A task parked in Send waits for the loop's own receivers: when none is
// left, the loop reports the deadlock.
func TestInboxParkedSenderIsADeadlock(t *testing.T) {
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		in.TrySend(1)
		return in.Send(ctx, 2)
	})
	var de *scheduler.DeadlockError
	if !errors.As(err, &de) || len(de.Tasks) != 1 || de.Tasks[0].What != "Inbox.Send" {
		t.Fatalf("Run = %v, want a deadlock of main in Inbox.Send", err)
	}
}

func TestInboxReceiveTimesOutOnTheLoopClock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		start := scheduler.Now(ctx)
		tctx, cancel := scheduler.WithTimeout(ctx, time.Hour)
		defer cancel()
		if _, err := in.Receive(tctx); err != context.DeadlineExceeded {
			t.Fatalf("Receive = %v, want DeadlineExceeded", err)
		}
		if d := scheduler.Now(ctx).Sub(start); d != time.Hour {
			t.Fatalf("Receive returned after %v, want 1h", d)
		}
		// It left the queue: the next item goes to the next receiver.
		in.TrySend(7)
		if v, err := in.TryReceive(); v != 7 || err != nil {
			t.Fatalf("TryReceive = %d, %v; want 7", v, err)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

// A receiver killed after an item was handed to it, before it took it:
// the item goes to the next receiver, or back to the front.
func TestInboxKilledReceiverLosesNoItem(t *testing.T) {
	for _, next := range []string{"parked receiver", "front"} {
		t.Run(next, func(t *testing.T) {
			run(t, func(ctx context.Context) error {
				in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 4)
				var got []int
				receive := func(ctx context.Context) error {
					v, err := in.Receive(ctx)
					got = append(got, v)
					return err
				}
				victim := mustGo(t, ctx, receive)
				var heir *scheduler.Task
				if next == "parked receiver" {
					heir = mustGo(t, ctx, receive)
				}
				scheduler.Sleep(ctx, 0)
				in.Send(ctx, 1) // to be handed to the victim, which becomes runnable
				if heir == nil {
					in.Send(ctx, 2) // 1 goes back in front of it
				}
				untilState(ctx, victim, scheduler.StateRunnable)
				victim.Kill(ctx)
				if heir != nil {
					if err := heir.Join(ctx); err != nil { // 1 went to the heir
						return err
					}
					in.Send(ctx, 2)
				} else if err := receive(ctx); err != nil {
					return err
				}
				if err := receive(ctx); err != nil {
					return err
				}
				if !slices.Equal(got, []int{1, 2}) {
					t.Fatalf("received %v, want [1 2]", got)
				}
				return nil
			})
		})
	}
}

// The same, with the item from a goroutine: the kill comes between the
// posted wake-up and the victim's resumption.
func TestInboxKilledReceiverLosesNoItemFromGoroutine(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 4)
		victim := mustGo(t, ctx, func(ctx context.Context) error {
			_, err := in.Receive(ctx)
			return err
		})
		scheduler.Sleep(ctx, 0)
		go in.Send(context.Background(), 1)
		untilState(ctx, victim, scheduler.StateRunnable)
		victim.Kill(ctx)
		if v, err := in.Receive(ctx); v != 1 || err != nil {
			t.Fatalf("Receive = %d, %v; want 1", v, err)
		}
		return nil
	})
}

func TestInboxParkedReceiverKeepsLoopFromReportingDeadlock(t *testing.T) {
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		parked := mustGo(t, ctx, func(ctx context.Context) error {
			_, err := in.Receive(ctx)
			return err
		})
		scheduler.Sleep(ctx, 0)
		release := make(chan struct{})
		go func() { <-release; in.Send(context.Background(), 1) }()
		close(release)
		return parked.Join(ctx) // the loop waits for the goroutine, however late
	})
}

// Once the receiver leaves (its timeout, a kill, the inbox's closing), the
// loop reports a deadlock again.
func TestInboxDeadlockReportedOnceReceiverLeaves(t *testing.T) {
	leave := map[string]func(ctx context.Context, in *scheduler.Inbox[int]){
		"timeout": func(ctx context.Context, in *scheduler.Inbox[int]) {
			tctx, cancel := scheduler.WithTimeout(ctx, time.Second)
			defer cancel()
			in.Receive(tctx)
		},
		"kill": func(ctx context.Context, in *scheduler.Inbox[int]) {
			task := mustGo(t, ctx, func(ctx context.Context) error { _, err := in.Receive(ctx); return err })
			scheduler.Sleep(ctx, 0)
			task.Kill(ctx)
		},
		"close": func(ctx context.Context, in *scheduler.Inbox[int]) {
			task := mustGo(t, ctx, func(ctx context.Context) error { _, err := in.Receive(ctx); return err })
			scheduler.Sleep(ctx, 0)
			in.Close()
			task.Join(ctx)
		},
	}
	for name, leave := range leave {
		t.Run(name, func(t *testing.T) {
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				leave(ctx, scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1))
				return scheduler.Park(ctx, "forever")
			}, scheduler.WithVirtualClock())
			var de *scheduler.DeadlockError
			if !errors.As(err, &de) || len(de.Tasks) != 1 || de.Tasks[0].What != "forever" {
				t.Fatalf("Run = %v, want a deadlock of main waiting forever", err)
			}
		})
	}
}

func TestInboxClosedWhenItsLoopEnds(t *testing.T) {
	sent := make(chan error, 1)
	var in *scheduler.Inbox[int]
	run(t, func(ctx context.Context) error {
		in = scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		in.TrySend(1)
		go func() { sent <- in.Send(context.Background(), 2) }()
		return nil
	})
	if err := <-sent; err != scheduler.ErrInboxClosed {
		t.Fatalf("Send blocked as the loop ended = %v, want ErrInboxClosed", err)
	}
	if err := in.TrySend(3); err != scheduler.ErrInboxClosed {
		t.Fatalf("TrySend after the loop's end = %v, want ErrInboxClosed", err)
	}
}

func TestInboxReceiveRefusesContextsWithoutTaskOrOfAnotherLoop(t *testing.T) {
	var other *scheduler.Inbox[int]
	run(t, func(ctx context.Context) error {
		other = scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		return nil
	})
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		if _, err := in.Receive(context.Background()); err != scheduler.ErrNoTask {
			t.Errorf("Receive without a task = %v, want ErrNoTask", err)
		}
		if _, err := other.Receive(ctx); err != scheduler.ErrWrongLoop {
			t.Errorf("Receive by a task of another loop = %v, want ErrWrongLoop", err)
		}
		return nil
	})
}

// A task of another loop sending into a full inbox parks on its own loop,
// whose other tasks run meanwhile.
func TestInboxSendFromAnotherLoopsTaskParksOnItsLoop(t *testing.T) {
	ready := make(chan *scheduler.Inbox[int])
	parked := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		run(t, func(ctx context.Context) error {
			in := <-ready
			sender := mustGo(t, ctx, func(ctx context.Context) error { return in.Send(ctx, 2) })
			scheduler.Sleep(ctx, 0)
			if s := sender.State(); s != scheduler.StateParked {
				t.Errorf("sender %v, want parked", s)
			}
			close(parked)
			return sender.Join(ctx)
		})
	}()
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 1)
		in.TrySend(1)
		ready <- in
		if _, _, err := scheduler.Recv(ctx, (<-chan struct{})(parked)); err != nil {
			return err
		}
		for _, want := range []int{1, 2} {
			if v, err := in.Receive(ctx); v != want || err != nil {
				t.Fatalf("Receive = %d, %v; want %d", v, err, want)
			}
		}
		return nil
	})
	wg.Wait()
}

// Many goroutines send, many tasks receive, some with timeouts that make
// them leave and come back, some killed: every item is received once.
func TestInboxManySendersManyReceiversLoseNothing(t *testing.T) {
	const senders, perSender, receivers = 4, 500, 6
	seen := make(map[int]int)
	run(t, func(ctx context.Context) error {
		in := scheduler.NewInbox[int](scheduler.LoopOf(ctx), 8)
		var wg sync.WaitGroup
		for s := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range perSender {
					if err := in.Send(context.Background(), s*perSender+i); err != nil {
						t.Errorf("Send: %v", err)
						return
					}
				}
			}()
		}
		allSent := make(chan struct{})
		go func() { wg.Wait(); close(allSent) }()
		receive := func(ctx context.Context) error {
			for n := 0; ; n++ {
				rctx, cancel := ctx, context.CancelFunc(func() {})
				if n%3 == 0 {
					rctx, cancel = scheduler.WithTimeout(ctx, time.Microsecond)
				}
				v, err := in.Receive(rctx)
				cancel()
				switch {
				case err == nil:
					seen[v]++
				case errors.Is(err, scheduler.ErrInboxClosed):
					return nil
				case !errors.Is(err, context.DeadlineExceeded):
					return err
				}
			}
		}
		var tasks []*scheduler.Task
		for range receivers {
			tasks = append(tasks, mustGo(t, ctx, receive))
		}
		for i := 0; i < 20; i++ { // kill and replace a few, wherever they are
			scheduler.Sleep(ctx, 0)
			tasks[i%receivers].Kill(ctx)
			tasks[i%receivers] = mustGo(t, ctx, receive)
		}
		if _, _, err := scheduler.Recv(ctx, (<-chan struct{})(allSent)); err != nil {
			return err
		}
		in.Close()
		for _, task := range tasks {
			if err := task.Join(ctx); err != nil {
				return err
			}
		}
		return nil
	})
	if len(seen) != senders*perSender {
		t.Fatalf("received %d distinct items, want %d", len(seen), senders*perSender)
	}
	for v, n := range seen {
		if n != 1 {
			t.Fatalf("item %d received %d times", v, n)
		}
	}
}

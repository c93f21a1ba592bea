package scheduler_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/evergo/evergo/scheduler"
	"go.uber.org/goleak"
	"golang.org/x/sys/unix"
)

// busy is a program with every kind of switch point: yields, sleeps on the
// virtual clock, spawns, joins, callbacks and kills.
func busy(ctx context.Context) error {
	l := scheduler.LoopOf(ctx)
	var ts []*scheduler.Task
	for i := range 12 {
		t, err := scheduler.Go(ctx, func(ctx context.Context) error {
			for j := range 4 {
				switch (i + j) % 4 {
				case 0:
					scheduler.Sleep(ctx, 0)
				case 1:
					scheduler.Sleep(ctx, time.Duration(i%3)*time.Millisecond)
				case 2:
					child, _ := scheduler.Go(ctx, func(ctx context.Context) error {
						return scheduler.Sleep(ctx, 0)
					})
					child.Join(ctx)
				case 3:
					l.CallSoon(func(context.Context) {})
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		ts = append(ts, t)
	}
	scheduler.Sleep(ctx, time.Millisecond)
	ts[5].Kill(ctx)
	for _, t := range ts {
		t.Join(ctx)
	}
	return nil
}

func traceOf(t *testing.T, seed uint64) scheduler.Trace {
	t.Helper()
	var tr scheduler.Trace
	err := scheduler.Run(context.Background(), busy,
		scheduler.WithSeed(seed), scheduler.WithVirtualClock(), scheduler.WithTrace(&tr))
	if err != nil {
		t.Fatal(err)
	}
	return tr
}

func TestSameSeedGivesIdenticalTrace100RunsAtGOMAXPROCS1_2_8(t *testing.T) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(0))
	want := traceOf(t, 7)
	for _, procs := range []int{1, 2, 8} {
		runtime.GOMAXPROCS(procs)
		for run := range 100 {
			if got := traceOf(t, 7); !slices.Equal(got, want) {
				t.Fatalf("GOMAXPROCS=%d run %d: trace\n%v\nwant\n%v", procs, run, got, want)
			}
		}
	}
}

func TestDifferentSeedsGiveDifferentTraces(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(10) {
		seen[fmt.Sprint(traceOf(t, seed))] = true
	}
	if len(seen) < 5 {
		t.Fatalf("10 seeds gave only %d different traces", len(seen))
	}
}

func TestVirtualClock10000TasksSleepingAnHourFireInOrder(t *testing.T) {
	const n = 10_000
	var woke []int
	wall := time.Now()
	run(t, func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		for i := range n {
			d := time.Hour + time.Duration((i*7919)%n)*time.Millisecond // shuffled deadlines
			mustGo(t, ctx, func(ctx context.Context) error {
				if err := scheduler.Sleep(ctx, d); err != nil {
					return err
				}
				if got := scheduler.Now(ctx).Sub(start); got != d {
					t.Errorf("task woke at %v, want %v", got, d)
				}
				woke = append(woke, (i*7919)%n)
				return nil
			})
		}
		return nil
	}, scheduler.WithVirtualClock())
	if len(woke) != n || !slices.IsSorted(woke) {
		t.Fatalf("%d tasks woke, in order: %v", len(woke), slices.IsSorted(woke))
	}
	t.Logf("10,000 tasks slept a virtual hour in %v of wall time", time.Since(wall))
}

// Each kind of switch point a task can be killed at.
var switchPoints = map[string]func(ctx context.Context, fd *scheduler.FD) error{
	"yield": func(ctx context.Context, _ *scheduler.FD) error {
		for {
			if err := scheduler.Sleep(ctx, 0); err != nil {
				return err
			}
		}
	},
	"sleep": func(ctx context.Context, _ *scheduler.FD) error { return scheduler.Sleep(ctx, time.Hour) },
	"park":  func(ctx context.Context, _ *scheduler.FD) error { return scheduler.Park(ctx, "test") },
	"join": func(ctx context.Context, _ *scheduler.FD) error {
		other, _ := scheduler.Go(ctx, func(ctx context.Context) error { return scheduler.Sleep(ctx, time.Hour) })
		return other.Join(ctx)
	},
	"fd": func(ctx context.Context, fd *scheduler.FD) error { return fd.Wait(ctx, scheduler.Read) },
	"deadline park": func(ctx context.Context, _ *scheduler.FD) error {
		c, cancel := context.WithTimeout(ctx, time.Hour)
		defer cancel()
		return scheduler.Park(c, "x")
	},
}

func TestKillAtEachSwitchPointLeavesNoGoroutine(t *testing.T) {
	for name, wait := range switchPoints {
		t.Run(name, func(t *testing.T) {
			a, b := socketpair(t)
			_ = b
			deferred := false
			run(t, func(ctx context.Context) error {
				fd, err := scheduler.Register(ctx, a)
				if err != nil {
					return err
				}
				defer fd.Close()
				victim := mustGo(t, ctx, func(ctx context.Context) error {
					defer func() { deferred = true }()
					return wait(ctx, fd)
				})
				scheduler.Sleep(ctx, 0)
				scheduler.Sleep(ctx, 0)
				if err := victim.Kill(ctx); err != nil {
					return err
				}
				if err := victim.Join(ctx); !errors.Is(err, scheduler.ErrKilled) {
					t.Errorf("Join = %v, want ErrKilled", err)
				}
				return nil
			}, scheduler.WithVirtualClock())
			if !deferred {
				t.Error("the killed task's deferred call did not run")
			}
			goleak.VerifyNone(t)
		})
	}
}

// socketpair returns a connected pair of non-blocking Unix sockets, closed
// when the test ends.
func socketpair(t *testing.T) (int, int) {
	t.Helper()
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		unix.Close(fds[0])
		unix.Close(fds[1])
	})
	return fds[0], fds[1]
}

func TestFDWaitWakesWhenPeerWrites(t *testing.T) {
	a, b := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fd.Close()
		buf := make([]byte, 8)
		if _, err := unix.Read(a, buf); err != unix.EAGAIN {
			t.Fatalf("read before the write: %v, want EAGAIN", err)
		}
		mustGo(t, ctx, func(ctx context.Context) error {
			_, err := unix.Write(b, []byte("ping"))
			return err
		})
		if err := fd.Wait(ctx, scheduler.Read); err != nil {
			return err
		}
		n, err := unix.Read(a, buf)
		if err != nil || string(buf[:n]) != "ping" {
			t.Errorf("read %q, %v after Wait", buf[:n], err)
		}
		return nil
	})
}

func TestFDDeadlineWakesParkedWaiterAndCanBeMoved(t *testing.T) {
	a, _ := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fd.Close()
		var got error
		waiter := mustGo(t, ctx, func(ctx context.Context) error {
			got = fd.Wait(ctx, scheduler.Read)
			return nil
		})
		fd.SetDeadline(scheduler.Read, scheduler.Now(ctx).Add(time.Hour))
		scheduler.Sleep(ctx, 0)
		fd.SetDeadline(scheduler.Read, scheduler.Now(ctx).Add(time.Second)) // moved while parked
		start := scheduler.Now(ctx)
		waiter.Join(ctx)
		if !errors.Is(got, os.ErrDeadlineExceeded) {
			t.Errorf("Wait = %v, want os.ErrDeadlineExceeded", got)
		}
		if d := scheduler.Now(ctx).Sub(start); d != time.Second {
			t.Errorf("deadline fired after %v, want the moved 1s", d)
		}
		fd.SetDeadline(scheduler.Read, time.Time{})
		if s := scheduler.LoopOf(ctx).Stats(); s.FDs != 1 || s.FDWaits != 0 {
			t.Errorf("stats after the deadline: %+v", s)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestFDCloseWakesWaitersWithErrClosed(t *testing.T) {
	a, _ := socketpair(t)
	run(t, func(ctx context.Context) error {
		fd, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		var got [2]error
		var ts []*scheduler.Task
		for i := range got {
			ts = append(ts, mustGo(t, ctx, func(ctx context.Context) error {
				got[i] = fd.Wait(ctx, scheduler.Read)
				return nil
			}))
		}
		scheduler.Sleep(ctx, 0)
		if err := fd.Close(); err != nil {
			return err
		}
		for _, task := range ts {
			task.Join(ctx)
		}
		for i, err := range got {
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("waiter %d: %v, want net.ErrClosed", i, err)
			}
		}
		if err := fd.Close(); !errors.Is(err, net.ErrClosed) {
			t.Errorf("second Close = %v", err)
		}
		return nil
	})
}

func TestFDNumberReusedAfterCloseGetsNoStaleReadiness(t *testing.T) {
	run(t, func(ctx context.Context) error {
		a, b := socketpair(t)
		old, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		unix.Write(b, []byte("stale")) // readiness for the old registration
		old.Close()
		// Reuse the number a for a fresh socket that has nothing to read.
		fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
		if err != nil {
			return err
		}
		defer unix.Close(fds[1])
		if err := unix.Dup3(fds[0], a, unix.O_CLOEXEC); err != nil {
			return err
		}
		unix.Close(fds[0])
		fresh, err := scheduler.Register(ctx, a)
		if err != nil {
			return err
		}
		defer fresh.Close()
		fresh.SetDeadline(scheduler.Read, scheduler.Now(ctx).Add(time.Second))
		if err := fresh.Wait(ctx, scheduler.Read); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("Wait on the reused number = %v, want the deadline: no stale readiness", err)
		}
		return nil
	}, scheduler.WithVirtualClock())
}

func TestLoopsOnEightGoroutinesAtOnceDoNotMix(t *testing.T) {
	want := traceOf(t, 3)
	errs := make(chan error, 8)
	for range 8 {
		go func() {
			for range 20 {
				var tr scheduler.Trace
				err := scheduler.Run(context.Background(), busy,
					scheduler.WithSeed(3), scheduler.WithVirtualClock(), scheduler.WithTrace(&tr))
				if err == nil && !slices.Equal(tr, want) {
					err = fmt.Errorf("trace %v, want %v", tr, want)
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for range 8 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

package prefork_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
)

// guard bounds every wait: a failure guard, never an ordering.
const guard = 30 * time.Second

// A sup is a supervisor process of the test binary and its log.
type sup struct {
	t      *testing.T
	cmd    *exec.Cmd
	events chan logEvent // closed at the supervisor's stdout EOF
	seen   []logEvent
	addr   string
	done   bool
}

func startSupervisor(t *testing.T, workers int) *sup {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=supervisor", workersEnv+"="+strconv.Itoa(workers))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &sup{t: t, cmd: cmd, events: make(chan logEvent, 1024)}
	go func() {
		defer close(s.events)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			e, err := parseEvent(sc.Bytes())
			if err != nil {
				e = logEvent{Msg: "unparsed: " + sc.Text()}
			}
			s.events <- e
		}
	}()
	t.Cleanup(func() {
		if !s.done { // a failed test: the workers get SIGTERM through Pdeathsig
			cmd.Process.Kill()
			for range s.events {
			}
			cmd.Wait()
		}
	})
	s.addr = s.waitFor("listening", func(e logEvent) bool { return e.Msg == "listening" }).Addr
	return s
}

// waitFor returns the first event from now on that matches.
func (s *sup) waitFor(what string, match func(logEvent) bool) logEvent {
	s.t.Helper()
	timeout := time.After(guard)
	for {
		select {
		case e, ok := <-s.events:
			if !ok {
				s.t.Fatalf("supervisor exited while waiting for %s", what)
			}
			s.seen = append(s.seen, e)
			if match(e) {
				return e
			}
		case <-timeout:
			s.t.Fatalf("no %s after %v; events: %+v", what, guard, s.seen)
		}
	}
}

// waitGeneration waits until generation gen is all ready, and returns the
// pids of its workers.
func (s *sup) waitGeneration(gen int) []int {
	s.t.Helper()
	s.waitFor(fmt.Sprintf("generation %d ready", gen), func(e logEvent) bool {
		return e.Msg == "generation ready" && e.Gen == gen
	})
	slots := map[int]int{} // the last ready worker of each slot
	for _, e := range s.seen {
		if e.Msg == "worker ready" && e.Gen == gen {
			slots[e.Slot] = e.PID
		}
	}
	var pids []int
	for _, pid := range slots {
		pids = append(pids, pid)
	}
	return pids
}

// waitExited waits until every pid in pids has exited, and returns their
// statuses.
func (s *sup) waitExited(pids []int) map[int]string {
	s.t.Helper()
	status := map[int]string{}
	for _, pid := range pids {
		for _, e := range s.seen {
			if (e.Msg == "worker exited" || e.Msg == "worker exited unasked") && e.PID == pid {
				status[pid] = e.Status
			}
		}
		if _, ok := status[pid]; !ok {
			e := s.waitFor(fmt.Sprintf("exit of worker %d", pid), func(e logEvent) bool {
				return (e.Msg == "worker exited" || e.Msg == "worker exited unasked") && e.PID == pid
			})
			status[pid] = e.Status
		}
	}
	return status
}

func (s *sup) signal(sig os.Signal) {
	s.t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		s.t.Fatal(err)
	}
}

// stop sends SIGTERM and checks that the supervisor exits 0 and leaves no
// worker behind.
func (s *sup) stop() {
	s.t.Helper()
	s.signal(syscall.SIGTERM)
	timeout := time.After(guard)
	for open := true; open; {
		select {
		case e, ok := <-s.events:
			if open = ok; ok {
				s.seen = append(s.seen, e)
			}
		case <-timeout:
			s.t.Fatalf("supervisor still running %v after SIGTERM", guard)
		}
	}
	s.done = true
	if err := s.cmd.Wait(); err != nil {
		s.t.Fatalf("supervisor: %v", err)
	}
	if last := s.seen[len(s.seen)-1]; last.Msg != "stopped" {
		s.t.Errorf("supervisor's last event is %q, want stopped", last.Msg)
	}
	for _, e := range s.seen {
		if e.Msg != "worker started" {
			continue
		}
		if err := syscall.Kill(e.PID, 0); !errors.Is(err, syscall.ESRCH) {
			s.t.Errorf("worker %d still exists after the supervisor exited (kill -0: %v)", e.PID, err)
		}
	}
}

// get asks for / on a new connection and returns the pid that answered.
func get(c *http.Client, addr string) (int, error) {
	resp, err := c.Get("http://" + addr + "/")
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err
	}
	if resp.StatusCode != http.StatusOK {
		return 0, fmt.Errorf("status %s", resp.Status)
	}
	return strconv.Atoi(string(b))
}

// hitAll asks with new connections from 8 goroutines until every pid in
// want has answered, and fails on an error or a pid not in want.
func hitAll(t *testing.T, addr string, want []int) {
	t.Helper()
	tr := &http.Transport{DisableKeepAlives: true}
	defer tr.CloseIdleConnections()
	c := &http.Client{Transport: tr, Timeout: guard}
	var mu sync.Mutex
	seen := map[int]int{}
	known := map[int]bool{}
	for _, pid := range want {
		known[pid] = true
	}
	var wg sync.WaitGroup
	var failure error
	end := time.Now().Add(guard)
	for range 8 {
		wg.Go(func() {
			for time.Now().Before(end) {
				pid, err := get(c, addr)
				mu.Lock()
				if err == nil && !known[pid] {
					err = fmt.Errorf("answered by %d, not a worker of %v", pid, want)
				}
				if err != nil && failure == nil {
					failure = err
				}
				seen[pid]++
				stop := failure != nil || len(seen) == len(want)
				mu.Unlock()
				if stop {
					return
				}
			}
		})
	}
	wg.Wait()
	if failure != nil {
		t.Fatal(failure)
	}
	if len(seen) != len(want) {
		t.Fatalf("in %v, answers came from %v, want every one of %v", guard, seen, want)
	}
	t.Logf("answers per worker: %v", seen)
}

func TestWorkersShareTheSocket(t *testing.T) {
	s := startSupervisor(t, 3)
	pids := s.waitGeneration(1)
	if len(pids) != 3 {
		t.Fatalf("generation 1 has workers %v, want 3", pids)
	}
	hitAll(t, s.addr, pids)
	s.stop()
	for pid, status := range s.waitExited(pids) {
		if status != "exit status 0" {
			t.Errorf("worker %d: %s, want exit status 0 (a complete drain)", pid, status)
		}
	}
}

func TestKilledWorkerIsRestarted(t *testing.T) {
	s := startSupervisor(t, 2)
	pids := s.waitGeneration(1)
	var victim logEvent
	for _, e := range s.seen {
		if e.Msg == "worker ready" && e.PID == pids[0] {
			victim = e
		}
	}
	if err := syscall.Kill(victim.PID, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	s.waitFor("the killed worker's exit", func(e logEvent) bool {
		return e.Msg == "worker exited unasked" && e.PID == victim.PID
	})
	again := s.waitFor("its successor", func(e logEvent) bool {
		return e.Msg == "worker ready" && e.Gen == 1 && e.Slot == victim.Slot
	})
	if again.PID == victim.PID {
		t.Fatalf("the successor has the killed worker's pid %d", again.PID)
	}
	hitAll(t, s.addr, []int{pids[1], again.PID})
	s.stop()
}

// TestReloadUnderLoadLosesNoRequest is item 5 of issue 22: keep-alive
// clients hammer the server through two reloads; not one request may fail.
func TestReloadUnderLoadLosesNoRequest(t *testing.T) {
	s := startSupervisor(t, 2)
	gen1 := s.waitGeneration(1)
	load := startLoad(t, s.addr)
	load.waitPID(t, gen1)
	old := gen1
	for gen := 2; gen <= 3; gen++ {
		s.signal(syscall.SIGHUP)
		pids := s.waitGeneration(gen)
		for pid, status := range s.waitExited(old) {
			if status != "exit status 0" {
				t.Errorf("old worker %d: %s, want exit status 0 (a complete drain)", pid, status)
			}
		}
		load.waitPID(t, pids) // the load goes on, on the new workers
		old = pids
	}
	sum := load.finish(t)
	t.Logf("load: %d requests, %d failed, answered by %d workers", sum.OK+sum.Failed, sum.Failed, len(sum.PIDs))
	if sum.Failed != 0 || sum.OK == 0 {
		t.Errorf("load: %d ok, %d failed: %v", sum.OK, sum.Failed, sum.Errors)
	}
	s.stop()
}

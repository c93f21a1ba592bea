package prefork_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// loadClients is the number of goroutines of the load, each a loop of
// GETs through one keep-alive http.Client.
const loadClients = 8

// A loadSummary is the load process's last line.
type loadSummary struct {
	OK, Failed int
	Errors     []string // the first few
	PIDs       map[int]int
}

// loadMain runs the load until its stdin closes: on stdout, a line
// "pid N" for each worker pid seen for the first time, and at the end the
// summary as JSON.
func loadMain() error {
	addr := os.Getenv(addrEnv)
	tr := &http.Transport{MaxIdleConnsPerHost: loadClients}
	c := &http.Client{Transport: tr, Timeout: guard}
	var stop atomic.Bool
	go func() {
		io.Copy(io.Discard, os.Stdin)
		stop.Store(true)
	}()
	var mu sync.Mutex
	sum := loadSummary{PIDs: map[int]int{}}
	var wg sync.WaitGroup
	for range loadClients {
		wg.Go(func() {
			for !stop.Load() {
				pid, err := get(c, addr)
				mu.Lock()
				if err != nil {
					sum.Failed++
					if len(sum.Errors) < 10 {
						sum.Errors = append(sum.Errors, err.Error())
					}
				} else {
					sum.OK++
					if sum.PIDs[pid]++; sum.PIDs[pid] == 1 {
						fmt.Printf("pid %d\n", pid)
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	tr.CloseIdleConnections()
	return json.NewEncoder(os.Stdout).Encode(sum)
}

// A load is the load process.
type load struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	lines chan string // closed at its stdout's EOF
	pids  map[int]bool
	done  bool
}

func startLoad(t *testing.T, addr string) *load {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), roleEnv+"=load", addrEnv+"="+addr)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	l := &load{cmd: cmd, stdin: stdin, lines: make(chan string, 1024), pids: map[int]bool{}}
	go func() {
		defer close(l.lines)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			l.lines <- sc.Text()
		}
	}()
	t.Cleanup(func() {
		if !l.done {
			cmd.Process.Kill()
			for range l.lines {
			}
			cmd.Wait()
		}
	})
	return l
}

// waitPID waits until one of pids has answered the load.
func (l *load) waitPID(t *testing.T, pids []int) {
	t.Helper()
	timeout := time.After(guard)
	for {
		for _, pid := range pids {
			if l.pids[pid] {
				return
			}
		}
		select {
		case line, ok := <-l.lines:
			if !ok {
				t.Fatal("the load exited")
			}
			if p, ok := strings.CutPrefix(line, "pid "); ok {
				pid, _ := strconv.Atoi(p)
				l.pids[pid] = true
			}
		case <-timeout:
			t.Fatalf("none of %v answered the load in %v", pids, guard)
		}
	}
}

// finish stops the load and returns its summary.
func (l *load) finish(t *testing.T) loadSummary {
	t.Helper()
	l.stdin.Close()
	var last string
	timeout := time.After(guard)
	for open := true; open; {
		select {
		case line, ok := <-l.lines:
			if open = ok; ok {
				last = line
			}
		case <-timeout:
			t.Fatalf("the load still runs %v after its stdin closed", guard)
		}
	}
	l.done = true
	if err := l.cmd.Wait(); err != nil {
		t.Fatalf("load: %v", err)
	}
	var sum loadSummary
	if err := json.Unmarshal([]byte(last), &sum); err != nil {
		t.Fatalf("load's summary %q: %v", last, err)
	}
	return sum
}

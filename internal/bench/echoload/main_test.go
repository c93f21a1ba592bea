// The tests are in package main, since a command's package cannot be
// imported: they call command and run as the binary would be called.
package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// server listens on 127.0.0.1 and serves each connection with handle
// until the test ends, when it closes the listener and every connection
// and waits for their goroutines.
func server(t *testing.T, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		conns []net.Conn
	)
	wg.Go(func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			wg.Go(func() { handle(c) })
		}
	})
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return ln.Addr().String()
}

// echo sends back what it reads.
func echo(c net.Conn) { io.Copy(c, c) }

// corrupt sends back what it reads with its first byte changed.
func corrupt(c net.Conn) {
	buf := make([]byte, 4096)
	for {
		n, err := c.Read(buf)
		if err != nil {
			return
		}
		buf[0]++
		if _, err := c.Write(buf[:n]); err != nil {
			return
		}
	}
}

// silent reads and never answers.
func silent(c net.Conn) { io.Copy(io.Discard, c) }

func cfg(addr string) config {
	return config{addr: addr, conns: 4, size: 64, d: 50 * time.Millisecond, timeout: 5 * time.Second}
}

func TestRunCountsEchoedMessages(t *testing.T) {
	res, err := run(context.Background(), cfg(server(t, echo)))
	if err != nil {
		t.Fatal(err)
	}
	if res.msgs == 0 || res.errors != 0 || res.p50 <= 0 || res.p99 < res.p50 {
		t.Errorf("run against an echo server = %+v, want messages, no errors and 0 < p50 ≤ p99", res)
	}
}

func TestRunFailsOnCorruptEcho(t *testing.T) {
	res, err := run(context.Background(), cfg(server(t, corrupt)))
	if !errors.Is(err, errCorrupt) {
		t.Fatalf("run against a corrupting server: err = %v, want errCorrupt", err)
	}
	if res.msgs != 0 || res.errors == 0 {
		t.Errorf("run against a corrupting server = %+v, want no messages and errors", res)
	}
}

func TestRunFailsWhenNoEchoWithinTimeout(t *testing.T) {
	c := cfg(server(t, silent))
	c.timeout = 10 * time.Millisecond
	_, err := run(context.Background(), c)
	if !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("run against a server that never answers: err = %v, want os.ErrDeadlineExceeded", err)
	}
}

func TestRunFailsWhenNothingListens(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	if _, err := run(context.Background(), cfg(addr)); err == nil {
		t.Fatal("run against a closed port succeeded")
	}
}

func TestRunStopsWhenCtxEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The server cancels ctx once it has echoed a message, so that ctx
	// ends in the middle of the run.
	var once sync.Once
	c := cfg(server(t, func(c net.Conn) {
		buf := make([]byte, 64)
		for {
			if _, err := io.ReadFull(c, buf); err != nil {
				return
			}
			if _, err := c.Write(buf); err != nil {
				return
			}
			once.Do(cancel)
		}
	}))
	c.d = time.Hour
	res, err := run(ctx, c)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("run whose ctx ends: err = %v, want context.Canceled", err)
	}
	if res.errors != 0 {
		t.Errorf("run whose ctx ends = %+v, want no errors", res)
	}
}

// TestCommandPrintsOneLine checks the line that internal/bench/echo reads:
// msgs/s N p50 D p99 D errors N, and the exit codes.
func TestCommandPrintsOneLine(t *testing.T) {
	for _, tc := range []struct {
		name   string
		handle func(net.Conn)
		code   int
		errors string
	}{
		{"echo", echo, 0, "0"},
		{"corrupt", corrupt, 1, "1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			args := []string{"-addr", server(t, tc.handle), "-c", "1", "-size", "16", "-d", "50ms"}
			if code := command(context.Background(), args, &stdout, &stderr); code != tc.code {
				t.Errorf("exit code %d, want %d (stderr %q)", code, tc.code, stderr.String())
			}
			f := strings.Fields(stdout.String())
			if len(f) != 8 || f[0] != "msgs/s" || f[2] != "p50" || f[4] != "p99" || f[6] != "errors" || f[7] != tc.errors {
				t.Fatalf("stdout %q, want msgs/s N p50 D p99 D errors %s", stdout.String(), tc.errors)
			}
			for _, d := range []string{f[3], f[5]} {
				if _, err := time.ParseDuration(d); err != nil {
					t.Errorf("percentile %q: %v", d, err)
				}
			}
		})
	}
}

func TestCommandRefusesBadFlags(t *testing.T) {
	for _, args := range [][]string{{"-c", "0"}, {"-size", "0"}, {"-size", "2000000"}, {"-d", "0"}, {"-timeout", "-1s"}, {"-nosuch"}} {
		var stdout, stderr bytes.Buffer
		if code := command(context.Background(), args, &stdout, &stderr); code != 2 {
			t.Errorf("echoload %v: exit code %d, want 2", args, code)
		}
		if stdout.Len() != 0 {
			t.Errorf("echoload %v printed %q", args, stdout.String())
		}
	}
}

// TestCommandMarksThePingPong checks -marks: "start" and "end" lines
// before the figures.
func TestCommandMarksThePingPong(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-addr", server(t, echo), "-c", "2", "-size", "16", "-d", "50ms", "-marks"}
	if code := command(context.Background(), args, &stdout, &stderr); code != 0 {
		t.Fatalf("exit code %d, want 0 (stderr %q)", code, stderr.String())
	}
	lines := strings.Split(strings.TrimSpace(stdout.String()), "\n")
	if len(lines) != 3 || lines[0] != "start" || lines[1] != "end" || !strings.HasPrefix(lines[2], "msgs/s ") {
		t.Fatalf("stdout %q, want start, end and the figures", stdout.String())
	}
}

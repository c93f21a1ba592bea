// Command echoload is a closed-loop load generator for a TCP echo server:
// each of -c connections writes a -size byte message, reads it back whole,
// checks it, and writes the next, for -d. It prints one line,
//
//	msgs/s 48712 p50 912µs p99 4.71ms errors 0
//
// (the messages echoed per second, the median and 99th percentile round
// trip of all of them) and exits 1 if any connection failed: a dial or
// I/O error, a round trip over -timeout, or an echo that differs from the
// message. The first such error stops the run and goes to stderr.
//
//	go run ./internal/bench/echoload -addr 127.0.0.1:9000 -c 50 -size 64 -d 3s
//
// With -marks it also prints "start" on a line of its own once every
// connection is dialed and the clock starts, and "end" once the last
// round trip is done and before the connections are closed, each as it
// happens: internal/bench/echo reads the server's CPU time at the two
// marks, so that its CPU per message is that of the ping-pong alone, not
// of accepting and closing the connections (which, at thousands of
// connections, is not a small part of a run of seconds).
//
// internal/bench/echo builds it and runs it against each server it
// measures.
package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// maxSize bounds -size, the bytes of one message.
const maxSize = 1 << 20

// errCorrupt is the error of a connection whose echo differed from the
// message it sent.
var errCorrupt = errors.New("echo differs from the message sent")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(command(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// command runs echoload with the command-line arguments args and returns
// its exit code.
func command(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("echoload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg config
	fs.StringVar(&cfg.addr, "addr", "127.0.0.1:9000", "echo server's host:port")
	fs.IntVar(&cfg.conns, "c", 50, "connections")
	fs.IntVar(&cfg.size, "size", 64, "message bytes")
	fs.DurationVar(&cfg.d, "d", 3*time.Second, "duration")
	fs.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "bound on each dial and each round trip")
	marks := fs.Bool("marks", false, `print "start" and "end" lines around the ping-pong`)
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if cfg.conns < 1 || cfg.size < 1 || cfg.size > maxSize || cfg.d <= 0 || cfg.timeout <= 0 {
		fmt.Fprintf(stderr, "echoload: need -c ≥ 1, 1 ≤ -size ≤ %d, -d > 0 and -timeout > 0\n", maxSize)
		return 2
	}
	if *marks {
		cfg.mark = func(s string) { fmt.Fprintln(stdout, s) }
	}
	res, err := run(ctx, cfg)
	fmt.Fprintf(stdout, "msgs/s %.0f p50 %v p99 %v errors %d\n", res.rate, res.p50, res.p99, res.errors)
	if err != nil {
		fmt.Fprintf(stderr, "echoload: %v\n", err)
		return 1
	}
	return 0
}

// config is one run's parameters, all of them required.
type config struct {
	addr    string
	conns   int           // connections, each with one message in flight
	size    int           // bytes of a message
	d       time.Duration // how long connections start new messages
	timeout time.Duration // bound on each dial and each round trip
	// mark, if not nil, is called with "start" once every connection is
	// dialed and with "end" once the ping-pong is over, before the
	// connections are closed.
	mark func(string)
}

// result is what a run measured.
type result struct {
	msgs     int64   // messages echoed intact
	rate     float64 // msgs per second of the run
	p50, p99 time.Duration
	errors   int // connections that failed, not counting those closed to stop the run
}

// run dials cfg.conns connections to cfg.addr, then runs the ping-pong on
// each of them for cfg.d and returns the figures. Its error is the first
// connection's failure, which stops the others, or ctx's error if ctx
// ends first; the result then counts what was done until then.
func run(ctx context.Context, cfg config) (result, error) {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	// Dial every connection before the clock starts, so that the rate is
	// that of the ping-pong alone.
	d := net.Dialer{Timeout: cfg.timeout}
	conns := make([]net.Conn, 0, cfg.conns)
	defer func() {
		for _, c := range conns {
			c.Close() // a second Close of a conn the AfterFunc closed does nothing
		}
	}()
	for i := range cfg.conns {
		c, err := d.DialContext(ctx, "tcp", cfg.addr)
		if err != nil {
			return result{errors: 1}, fmt.Errorf("connection %d: %w", i, err)
		}
		conns = append(conns, c)
		// A failure elsewhere, or ctx's end, unblocks this connection.
		context.AfterFunc(ctx, func() { c.Close() })
	}

	if cfg.mark != nil {
		cfg.mark("start")
	}
	start := time.Now()
	end := start.Add(cfg.d)
	lat := make([][]time.Duration, cfg.conns) // lat[i] is written by connection i's goroutine only
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			var err error
			lat[i], err = pingPong(c, i, cfg, end)
			if err == nil || errors.Is(err, net.ErrClosed) && ctx.Err() != nil {
				return // done, or closed because the run stopped
			}
			failed.Add(1)
			cancel(fmt.Errorf("connection %d: %w", i, err)) // the first cause is kept
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if cfg.mark != nil {
		cfg.mark("end")
	}

	all := slices.Concat(lat...)
	slices.Sort(all)
	res := result{
		msgs:   int64(len(all)),
		rate:   float64(len(all)) / elapsed.Seconds(),
		p50:    percentile(all, 0.50),
		p99:    percentile(all, 0.99),
		errors: int(failed.Load()),
	}
	return res, context.Cause(ctx)
}

// pingPong sends messages on c and reads their echoes until end, and
// returns the round trip of each. Connection i's n-th message is the bytes
// i+n+j, so that an echo of another connection's message, or of an
// earlier one, shows as corrupt.
func pingPong(c net.Conn, i int, cfg config, end time.Time) ([]time.Duration, error) {
	out := make([]byte, cfg.size)
	in := make([]byte, cfg.size)
	var lat []time.Duration
	for n := 0; ; n++ {
		t := time.Now()
		if !t.Before(end) {
			return lat, nil
		}
		for j := range out {
			out[j] = byte(i + n + j)
		}
		if err := c.SetDeadline(t.Add(cfg.timeout)); err != nil {
			return lat, err
		}
		if _, err := c.Write(out); err != nil {
			return lat, err
		}
		if _, err := io.ReadFull(c, in); err != nil {
			return lat, err
		}
		if !bytes.Equal(in, out) {
			return lat, fmt.Errorf("message %d: %w", n, errCorrupt)
		}
		lat = append(lat, time.Since(t))
	}
}

// percentile returns the nearest-rank q-quantile of the sorted samples, or
// 0 if there are none.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(i, 0)]
}

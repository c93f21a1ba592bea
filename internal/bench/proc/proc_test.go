package proc_test

import (
	"os"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/internal/bench/proc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var sink int // keeps the work below from being optimized away

func TestCPUTimeGrowsWhileTheProcessWorks(t *testing.T) {
	before, err := proc.CPUTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// Work until the kernel has counted a tick more: no clock involved.
	x := 0
	for {
		for i := range 1_000_000 {
			x += i
		}
		sink = x
		now, err := proc.CPUTime(os.Getpid())
		if err != nil {
			t.Fatal(err)
		}
		if now < before {
			t.Fatalf("CPU time went back from %v to %v", before, now)
		}
		if now > before {
			return
		}
	}
}

func TestCPUTimeOfNoProcessFails(t *testing.T) {
	if _, err := proc.CPUTime(-1); err == nil {
		t.Error("CPUTime(-1) did not fail")
	}
}

// TestParseStatReadsUtimeStime checks ParseStat on a /proc/PID/stat line
// whose command holds a space and a parenthesis.
func TestParseStatReadsUtimeStime(t *testing.T) {
	line := "4242 (http ser) v) S 1 4242 4242 0 -1 4194560 1234 0 0 0 731 129 0 0 20 0 3 0 99 12345678 2048 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n"
	c, err := proc.ParseStat([]byte(line))
	if err != nil {
		t.Fatal(err)
	}
	if c.User != 7310*time.Millisecond || c.Sys != 1290*time.Millisecond || c.Total() != 8600*time.Millisecond {
		t.Errorf("ParseStat = %+v, want user 7.31s, sys 1.29s", c)
	}
	for _, bad := range []string{"4242 no command", "4242 (x) S 1 2 3", "4242 (x) S 1 4242 4242 0 -1 4194560 1234 0 0 0 7x1 129 0"} {
		if c, err := proc.ParseStat([]byte(bad)); err == nil {
			t.Errorf("ParseStat(%q) = %+v, want an error", bad, c)
		}
	}
}

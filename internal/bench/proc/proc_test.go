package proc_test

import (
	"os"
	"testing"

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

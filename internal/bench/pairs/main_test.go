package main

import (
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

const output = `goos: linux
BenchmarkSpawnJoinX-2   	 5000000	       250.0 ns/op
BenchmarkSpawnJoin-2   	 6000000	       199.3 ns/op	      48 B/op	       1 allocs/op
BenchmarkParkedTaskMemory 	       1	 123 ns/op	      3236 B/task
PASS
`

func TestParseReadsTheNamedBenchmarksFigureAndAllocs(t *testing.T) {
	v, allocs, err := parse([]byte(output), "SpawnJoin", "ns/op")
	if err != nil || v != 199.3 || allocs != 1 {
		t.Fatalf("parse = %v, %v, %v; want 199.3, 1, nil (not SpawnJoinX's line)", v, allocs, err)
	}
	v, _, err = parse([]byte(output), "ParkedTaskMemory", "B/task")
	if err != nil || v != 3236 {
		t.Fatalf("parse of a metric of its own = %v, %v; want 3236", v, err)
	}
}

func TestParseFailsWithoutTheUnitOrTheBenchmark(t *testing.T) {
	if _, _, err := parse([]byte(output), "SpawnJoin", "B/task"); err == nil {
		t.Error("parse of a unit the line lacks succeeded")
	}
	if _, _, err := parse([]byte(output), "YieldPingPong", "ns/op"); err == nil {
		t.Error("parse of a benchmark not in the output succeeded")
	}
}

func TestMedianOfOddAndEvenCounts(t *testing.T) {
	if m := median([]float64{3, 1, 2}); m != 2 {
		t.Errorf("median of 3, 1, 2 = %v, want 2", m)
	}
	if m := median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("median of 4, 1, 3, 2 = %v, want 2.5", m)
	}
}

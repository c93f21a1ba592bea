package main

import (
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// TestParseReadsEcholoadLine checks parse against the line that
// internal/bench/echoload prints.
func TestParseReadsEcholoadLine(t *testing.T) {
	r, err := parse("msgs/s 48712 p50 912µs p99 4.71ms errors 0\n")
	if err != nil {
		t.Fatal(err)
	}
	if r.rate != 48712 || r.p50 != 912*time.Microsecond || r.p99 != 4710*time.Microsecond {
		t.Errorf("parse = %+v, want rate 48712, p50 912µs, p99 4.71ms", r)
	}
	if _, err := parse("msgs/s many p50 1ms p99 2ms errors 0"); err == nil {
		t.Error("parse accepted a rate that is not a number")
	}
}

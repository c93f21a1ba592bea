package main

import (
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

// wrkReport is what Debian's wrk 4.1.0 prints with --latency.
const wrkReport = `Running 5s test @ http://127.0.0.1:40123/
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.13ms  610.41us  14.02ms   89.71%
    Req/Sec    45.61k     3.12k   49.30k    74.00%
  Latency Distribution
     50%    0.94ms
     75%    1.20ms
     90%    1.71ms
     99%    4.99ms
  227012 requests in 5.00s, 24.90MB read
Requests/sec:  45386.17
Transfer/sec:      4.98MB
`

// TestParseWrkReadsLatencyReport checks parseWrk against wrk's report.
func TestParseWrkReadsLatencyReport(t *testing.T) {
	w, err := parseWrk(wrkReport)
	if err != nil {
		t.Fatal(err)
	}
	want := wrk{rate: 45386.17, requests: 227012, p50: 940 * time.Microsecond, p75: 1200 * time.Microsecond,
		p90: 1710 * time.Microsecond, p99: 4990 * time.Microsecond}
	if w != want {
		t.Errorf("parseWrk = %+v, want %+v", w, want)
	}
}

// TestParseWrkReportsErrors checks that the socket-error and non-2xx lines
// are kept, and that other units of latency are read.
func TestParseWrkReportsErrors(t *testing.T) {
	s := strings.Replace(wrkReport, "     99%    4.99ms\n", "     99%    1.02s\n", 1)
	s = strings.Replace(s, "Requests/sec:", "  Socket errors: connect 0, read 12, write 0, timeout 3\n  Non-2xx or 3xx responses: 7\nRequests/sec:", 1)
	w, err := parseWrk(s)
	if err != nil {
		t.Fatal(err)
	}
	if w.p99 != 1020*time.Millisecond {
		t.Errorf("p99 = %v, want 1.02s", w.p99)
	}
	if want := "socket errors: connect 0, read 12, write 0, timeout 3; Non-2xx or 3xx responses: 7"; w.errors != want {
		t.Errorf("errors = %q, want %q", w.errors, want)
	}
}

// TestParseWrkRefusesIncompleteReports checks that a report without
// --latency's distribution, or with a malformed figure, is an error.
func TestParseWrkRefusesIncompleteReports(t *testing.T) {
	noLatency := strings.Replace(wrkReport, "     50%    0.94ms\n", "", 1)
	badRate := strings.Replace(wrkReport, "45386.17", "many", 1)
	badLatency := strings.Replace(wrkReport, "4.99ms", "4.99 ms", 1)
	for name, s := range map[string]string{"no p50": noLatency, "bad rate": badRate, "bad p99": badLatency, "empty": ""} {
		if w, err := parseWrk(s); err == nil {
			t.Errorf("%s: parseWrk = %+v, want an error", name, w)
		}
	}
}

// TestParseStatsReadsServerCounters checks parseStats against the line the
// servers' /stats answers.
func TestParseStatsReadsServerCounters(t *testing.T) {
	m, err := parseStats("mallocs 688 bytes 185048 gcs 3\n")
	if err != nil {
		t.Fatal(err)
	}
	if m != (memStats{mallocs: 688, bytes: 185048, gcs: 3}) {
		t.Errorf("parseStats = %+v", m)
	}
	for _, bad := range []string{"", "mallocs 1 bytes 2", "mallocs x bytes 2 gcs 3", "allocs 1 bytes 2 gcs 3"} {
		if _, err := parseStats(bad); err == nil {
			t.Errorf("parseStats(%q): want an error", bad)
		}
	}
}

// TestWrkSecondsRoundsUp checks the durations given to wrk's -d.
func TestWrkSecondsRoundsUp(t *testing.T) {
	for d, want := range map[time.Duration]string{5 * time.Second: "5s", 300 * time.Millisecond: "1s", 0: "1s", 2500 * time.Millisecond: "3s"} {
		if got := wrkSeconds(d); got != want {
			t.Errorf("wrkSeconds(%v) = %q, want %q", d, got, want)
		}
	}
}

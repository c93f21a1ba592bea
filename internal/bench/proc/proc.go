// Package proc reads what the benchmark commands measure of other
// processes (their CPU time) and of the machine (its load), and holds the
// little they share besides (a free port, a median).
package proc

import (
	"bytes"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// CPU is a process's CPU time so far, all threads.
type CPU struct{ User, Sys time.Duration }

// Total returns user and system time together.
func (c CPU) Total() time.Duration { return c.User + c.Sys }

// CPUTime returns the user and system time that process pid has used so
// far, all threads, from /proc: see Times.
func CPUTime(pid int) (time.Duration, error) {
	c, err := Times(pid)
	return c.Total(), err
}

// Times returns the user and system time that process pid has used so
// far, all threads, from /proc/PID/stat, in clock ticks of USER_HZ, which
// Linux fixes at 100 for this interface: a run of seconds is what makes
// 10 ms precise enough.
func Times(pid int) (CPU, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return CPU{}, err
	}
	c, err := ParseStat(b)
	if err != nil {
		return CPU{}, fmt.Errorf("/proc/%d/stat: %v", pid, err)
	}
	return c, nil
}

// ParseStat reads utime and stime (fields 14 and 15) from the text of a
// /proc/PID/stat.
func ParseStat(b []byte) (CPU, error) {
	// The fields after the command, which is in parentheses and may hold
	// spaces and parentheses: state is field 3, utime 14 and stime 15.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return CPU{}, fmt.Errorf("no command in %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return CPU{}, fmt.Errorf("short: %q", b)
	}
	var ticks [2]int64
	for i, s := range f[11:13] {
		var err error
		if ticks[i], err = strconv.ParseInt(s, 10, 64); err != nil {
			return CPU{}, err
		}
	}
	return CPU{User: time.Duration(ticks[0]) * 10 * time.Millisecond, Sys: time.Duration(ticks[1]) * 10 * time.Millisecond}, nil
}

// LoadAvg returns the 1, 5 and 15-minute load averages, for a benchmark's
// report.
func LoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown (" + err.Error() + ")"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return strings.TrimSpace(string(b))
	}
	return strings.Join(f[:3], " ")
}

// FreeAddr returns a loopback address with a port free now, for a server
// the benchmark starts.
func FreeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// Median returns the median of v (the upper one of an even count),
// sorting v.
func Median(v []float64) float64 {
	slices.Sort(v)
	return v[len(v)/2]
}

// MedianBy returns the median of f over xs, as Median does: the median of
// one figure of several runs' results.
func MedianBy[T any](xs []T, f func(T) float64) float64 {
	v := make([]float64, len(xs))
	for i, x := range xs {
		v[i] = f(x)
	}
	return Median(v)
}

// Command pairs runs the budget benchmarks of fiber, scheduler, locks and
// queue beside their baselines, alternated A B A B, each run in a process
// of its own, and prints for each pair the medians of both, the median of
// the per-round ratios A/B with its range, and the load average before and
// after.
//
//	go run ./internal/bench/pairs -rounds 5
//	go run ./internal/bench/pairs -rounds 9 -pairs SpawnJoin,LockUnlock
//
// A round runs A, then B, each as one benchmark of a test binary built once
// with go test -c (-benchtime as given, -count 1), so that a slow stretch
// of the machine falls on both sides of a ratio rather than on one
// benchmark's whole series, and no benchmark inherits another's heap or
// stacks (the memory pair measures what the runtime holds, which a process
// that ran the other one first would have grown already).
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/evergo/evergo/internal/bench/proc"
)

// pair is a benchmark A beside its baseline B in package pkg, compared on
// unit (ns/op, or a metric the benchmarks report).
type pair struct {
	a, b, pkg, unit, benchtime, budget string
}

var pairs = []pair{
	{"SwitchMainFiber", "IterPullRoundTrip", "./fiber", "ns/op", "", "≤ 1.3×"},
	{"SwitchFiberFiber", "IterPullRoundTrip", "./fiber", "ns/op", "", "≤ 2.5×"},
	{"NewSwitchEnd", "GoChanJoin", "./fiber", "ns/op", "", "≤ 0.7×"},
	{"YieldPingPong", "IterPullRoundTrip", "./scheduler", "ns/op", "", "≤ 1.5×"},
	{"YieldPingPongWatched", "YieldPingPong", "./scheduler", "ns/op", "", "≤ 1.05×"},
	{"SpawnJoin", "GoChanJoin", "./scheduler", "ns/op", "", "≤ 0.7×"},
	{"ParkedTaskMemory", "ParkedGoroutineMemory", "./scheduler", "B/task", "1x", "≤ 1.3×"},
	{"CallLater", "TimeAfterFunc", "./scheduler", "ns/op", "", "—"},
	{"InboxFromGoroutine", "ChanBetweenGoroutines", "./scheduler", "ns/op", "", "≤ 1.5×"},
	{"GroupGoWait", "ErrgroupGoWait", "./scheduler", "ns/op", "", "—"},
	{"LockUnlock", "SyncMutex", "./locks", "ns/op", "", "≤ 1.0×"},
	{"SemaphoreHandoff", "ChanSemaphoreHandoff", "./locks", "ns/op", "", "—"},
	{"QueuePingPong", "ChanPingPong", "./queue", "ns/op", "", "≤ 0.6×"},
}

func main() {
	log.SetFlags(0)
	rounds := flag.Int("rounds", 5, "A B rounds per pair")
	only := flag.String("pairs", "", "comma-separated benchmarks A to run (default: all)")
	benchtime := flag.String("benchtime", "1s", "-benchtime of each run (the memory pair runs 1x)")
	flag.Parse()

	var run []pair
	for _, p := range pairs {
		if *only == "" || slices.Contains(strings.Split(*only, ","), p.a) {
			run = append(run, p)
		}
	}
	if len(run) == 0 {
		log.Fatalf("no pair named in -pairs %q", *only)
	}
	dir, err := os.MkdirTemp("", "evergo-pairs")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	bins := map[string]string{}
	for _, p := range run {
		if bins[p.pkg] != "" {
			continue
		}
		bin := filepath.Join(dir, filepath.Base(p.pkg)+".test")
		cmd := exec.Command("go", "test", "-c", "-o", bin, p.pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			log.Fatalf("go test -c %s: %v", p.pkg, err)
		}
		bins[p.pkg] = bin
	}

	fmt.Printf("load average before: %s\n", proc.LoadAvg())
	fmt.Printf("%-18s %-22s %6s %12s %12s %8s %15s %9s  %s\n",
		"benchmark", "baseline", "unit", "A median", "B median", "ratio", "ratio range", "allocs", "budget")
	for _, p := range run {
		bt := *benchtime
		if p.benchtime != "" {
			bt = p.benchtime
		}
		var as, bs, ratios, aAllocs, bAllocs []float64
		for range *rounds {
			a, aa := measure(bins[p.pkg], p.a, p.unit, bt)
			b, ba := measure(bins[p.pkg], p.b, p.unit, bt)
			as, bs, ratios = append(as, a), append(bs, b), append(ratios, a/b)
			aAllocs, bAllocs = append(aAllocs, aa), append(bAllocs, ba)
		}
		fmt.Printf("%-18s %-22s %6s %12.4g %12.4g %7.2f× %6.2f×–%5.2f× %4.0f/%-4.0f  %s\n",
			p.a, p.b, p.unit, median(as), median(bs), median(ratios),
			slices.Min(ratios), slices.Max(ratios), median(aAllocs), median(bAllocs), p.budget)
	}
	fmt.Printf("load average after: %s\n", proc.LoadAvg())
}

// measure runs benchmark name alone in a process of its own and returns its
// figure in unit and its allocs/op.
func measure(bin, name, unit, benchtime string) (v, allocs float64) {
	cmd := exec.Command(bin, "-test.run", "^$", "-test.bench", "^Benchmark"+name+"$",
		"-test.benchmem", "-test.count", "1", "-test.benchtime", benchtime)
	cmd.Dir = filepath.Dir(bin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Run(); err != nil {
		log.Fatalf("%s: %v\n%s", name, err, out.Bytes())
	}
	v, allocs, err := parse(out.Bytes(), name, unit)
	if err != nil {
		log.Fatal(err)
	}
	return v, allocs
}

// parse reads the result of benchmark name from go test's output: its
// figure in unit and its allocs/op (0 without -benchmem).
func parse(out []byte, name, unit string) (v, allocs float64, err error) {
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "Benchmark"+name && !strings.HasPrefix(f[0], "Benchmark"+name+"-") {
			continue
		}
		v = -1
		// The fields after the name and b.N come in pairs: value, unit.
		for i := 2; i+1 < len(f); i += 2 {
			x, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				continue
			}
			switch f[i+1] {
			case unit:
				v = x
			case "allocs/op":
				allocs = x
			}
		}
		if v < 0 {
			return 0, 0, fmt.Errorf("%s: no %s in %q", name, unit, sc.Text())
		}
		return v, allocs, nil
	}
	return 0, 0, fmt.Errorf("%s: no result in\n%s", name, out)
}

func median(xs []float64) float64 {
	s := slices.Sorted(slices.Values(xs))
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

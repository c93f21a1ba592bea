package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/scheduler"
)

// progress shows a crawl's progress while it runs: a line redrawn ten times
// a second on a terminal, a log line every so often elsewhere.
type progress struct {
	w    io.Writer
	c    *crawl.Crawler
	tty  bool
	task *scheduler.Task
}

func startProgress(ctx context.Context, c *crawl.Crawler, w io.Writer, every time.Duration) *progress {
	p := &progress{w: w, c: c, tty: isTerminal(w)}
	if p.tty {
		every = 100 * time.Millisecond
	}
	p.task, _ = scheduler.Spawn(ctx, "progress", func(ctx context.Context) error {
		for {
			if err := scheduler.Sleep(ctx, every); err != nil {
				return err
			}
			p.show(scheduler.Now(ctx))
		}
	})
	return p
}

func (p *progress) show(now time.Time) {
	s := p.c.Progress()
	if p.tty {
		line := fmt.Sprintf("%s done · %s queued · %d in flight · %s · %s pages/s · %s",
			count(s.Done), count(s.Queued), s.InFlight, plural(s.Errors, "error"), count(int(s.Rate())), duration(s.Elapsed))
		// \r and "erase line": the line is redrawn in place, which works
		// only while it fits: a wrapped line would leave a trail.
		fmt.Fprintf(p.w, "\r\x1b[2K%s", fit(line, width(p.w)))
		return
	}
	fmt.Fprintf(p.w, "%s %s done, %s queued, %d in flight, %s, %s pages/s\n",
		now.Format(time.TimeOnly), count(s.Done), count(s.Queued), s.InFlight, plural(s.Errors, "error"), count(int(s.Rate())))
}

// stop ends the display and clears a terminal's line. May park.
func (p *progress) stop(ctx context.Context) {
	if p.task != nil {
		p.task.Kill(ctx)
	}
	if p.tty {
		fmt.Fprint(p.w, "\r\x1b[2K")
	}
}

// fit cuts line to at most cols characters, with an ellipsis when cut.
func fit(line string, cols int) string {
	if cols <= 0 || utf8.RuneCountInString(line) < cols {
		return line
	}
	r := []rune(line)
	return string(r[:max(cols-2, 0)]) + "…"
}

// width returns the columns of the terminal w, or 0 when it cannot tell.
func width(w io.Writer) int {
	f, ok := w.(*os.File)
	if !ok {
		return 0
	}
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// writeSummary prints the closing report of a crawl.
func writeSummary(w io.Writer, s *crawl.Summary) {
	head := "Done"
	if s.Interrupted {
		head = "Interrupted"
	}
	// A rate only where it means something: Rate is 0 before two pages or
	// within the first millisecond.
	rate := ""
	if r := s.Rate(); r > 0 {
		rate = fmt.Sprintf(" at %s pages/s", count(int(r+0.5)))
	}
	fmt.Fprintf(w, "%s after %s: %s%s, %s, %s\n",
		head, duration(s.Elapsed), plural(s.Done, "page"), rate, size(s.Bytes), plural(s.Connections, "connection"))
	if len(s.Status) > 0 {
		codes := slices.Sorted(maps.Keys(s.Status))
		var b strings.Builder
		for _, code := range codes {
			fmt.Fprintf(&b, "  %d ×%s", code, count(s.Status[code]))
		}
		fmt.Fprintf(w, "  status %s\n", b.String())
	}
	if s.Errors > 0 {
		fmt.Fprintf(w, "  errors   %s: %s\n", count(s.Errors), byCount(s.ErrorKinds))
	}
	if len(s.Skipped) > 0 {
		fmt.Fprintf(w, "  skipped  %s\n", byCount(s.Skipped))
	}
	listed(w, "blocked", slices.Sorted(maps.Keys(s.Unreachable)), func(host string) string {
		return cut(host) + ": " + s.Unreachable[host]
	})
	listed(w, "failed", s.FailedSeeds, func(f crawl.SeedFailure) string { return cut(f.URL) + ": " + f.Error })
	listed(w, "slowest", s.Slowest, func(r crawl.Result) string {
		return fmt.Sprintf("%7s  %s", duration(r.Duration), cut(r.URL))
	})
}

// maxListed is how many lines a list of the summary shows.
const maxListed = 10

// listed prints items under label, one a line, the first maxListed of
// them and how many more there are.
func listed[T any](w io.Writer, label string, items []T, line func(T) string) {
	for i, it := range items {
		if i == maxListed {
			fmt.Fprintf(w, "  %-8s and %s more\n", "", count(len(items)-maxListed))
			return
		}
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-8s %s\n", label, line(it))
	}
}

// maxURL is how much of a URL the summary shows.
const maxURL = 100

// cut shortens a URL longer than maxURL characters in its middle, where
// an ellipsis stands for what was cut: the host and the end stay.
func cut(u string) string {
	r := []rune(u)
	if len(r) <= maxURL {
		return u
	}
	half := (maxURL - 1) / 2
	return string(r[:half]) + "…" + string(r[len(r)-(maxURL-1-half):])
}

// plural writes n and noun, in the plural unless n is 1: "1 page",
// "2,000 pages".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return count(n) + " " + noun + "s"
}

// byCount lists m's keys with their counts, the largest first.
func byCount(m map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(m), func(a, b string) int {
		if c := cmp.Compare(m[b], m[a]); c != 0 {
			return c
		}
		return strings.Compare(a, b)
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + " ×" + count(m[k])
	}
	return strings.Join(parts, ", ")
}

// count writes n with thousands separators: 12,345.
func count(n int) string {
	s := strconv.Itoa(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, d := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(d)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// size writes a byte count for a person: 1.6 MiB.
func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// duration writes d with three figures at most and a unit that fits it:
// 840 µs, 12.5 ms, 2.35 s, 1 min 05 s.
func duration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return sig3(float64(d)/float64(time.Millisecond)) + " ms"
	case d < time.Minute:
		return sig3(d.Seconds()) + " s"
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%d min %02d s", int(d.Minutes()), int(d.Seconds())%60)
}

// sig3 writes x, from 1 to 1000, with three significant figures.
func sig3(x float64) string {
	switch {
	case x < 10:
		return strconv.FormatFloat(x, 'f', 2, 64)
	case x < 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	return strconv.FormatFloat(x, 'f', 0, 64)
}

// byteSize is a flag.Value for a size in bytes: 1048576, 512KiB, 10MiB, 1GiB.
type byteSize int64

func (b *byteSize) String() string { return size(int64(*b)) }

func (b *byteSize) Set(s string) error {
	units := []struct {
		suffix string
		mult   int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}, {"", 1}}
	for _, u := range units {
		num, ok := strings.CutSuffix(strings.TrimSpace(s), u.suffix)
		if !ok {
			continue
		}
		n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
		if err != nil || n < 0 {
			return fmt.Errorf("%q is not a size such as 65536, 512KiB or 10MiB", s)
		}
		*b = byteSize(n * float64(u.mult))
		return nil
	}
	return fmt.Errorf("%q is not a size such as 65536, 512KiB or 10MiB", s)
}

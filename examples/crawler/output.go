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
		line := fmt.Sprintf("%s done · %s queued · %d in flight · %s errors · %s pages/s · %s",
			count(s.Done), count(s.Queued), s.InFlight, count(s.Errors), count(int(s.Rate())), seconds(s.Elapsed))
		// \r and "erase line": the line is redrawn in place, which works
		// only while it fits: a wrapped line would leave a trail.
		fmt.Fprintf(p.w, "\r\x1b[2K%s", fit(line, width(p.w)))
		return
	}
	fmt.Fprintf(p.w, "%s %s done, %s queued, %d in flight, %s errors, %s pages/s\n",
		now.Format(time.TimeOnly), count(s.Done), count(s.Queued), s.InFlight, count(s.Errors), count(int(s.Rate())))
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
	fmt.Fprintf(w, "%s after %s: %s pages at %s pages/s, %s, %s connections\n",
		head, seconds(s.Elapsed), count(s.Done), count(int(s.Rate())), size(s.Bytes), count(s.Connections))
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
	for i, r := range s.Slowest {
		label := "slowest"
		if i > 0 {
			label = ""
		}
		fmt.Fprintf(w, "  %-8s %7s  %s\n", label, millis(r.Duration), r.URL)
	}
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

func seconds(d time.Duration) string { return fmt.Sprintf("%.2fs", d.Seconds()) }

func millis(d time.Duration) string {
	return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000)
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

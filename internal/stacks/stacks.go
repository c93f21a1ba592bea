// Package stacks reads goroutine stacks the way the runtime prints them
// (runtime.Stack): the calling goroutine's id, and every goroutine's state
// and frames. The loop's live dump, its deadlock report and its
// blocked-loop watchdog use it to say where a task is.
//
// The runtime's text is the only portable way to see another goroutine's
// stack, and its format is stable in practice (panics, SIGQUIT dumps and
// pprof's goroutine profile at debug=2 print it), though not promised:
// what the parser does not recognise it skips, so a change of format costs
// detail, never a crash.
package stacks

import (
	"bytes"
	"runtime"
	"strconv"
	"strings"
)

// ID returns the calling goroutine's id, as stack traces print it
// ("goroutine 7 [running]:"), or 0 if the header cannot be read. It costs a
// traceback of the caller (about a microsecond): call it once per
// goroutine, not per operation.
func ID() uint64 {
	var buf [64]byte
	id, _ := header(buf[:runtime.Stack(buf[:], false)])
	return id
}

// A Goroutine is one goroutine of a dump.
type Goroutine struct {
	ID     uint64
	State  string  // its wait reason or status: "running", "coroutine", "chan receive"...
	Frames []Frame // innermost first
	Text   string  // its entry as the runtime printed it, header included
}

// A Frame is one call in a goroutine's stack.
type Frame struct {
	Func string // package-qualified: "github.com/evergo/evergo/queue.(*Queue[...]).Get"
	File string // absolute path
	Line int
}

// All returns a dump of every goroutine of the process, by id. It stops
// the world while the runtime writes the stacks: for diagnostics, not for
// hot paths.
func All() map[uint64]*Goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return Parse(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Parse reads a dump in runtime.Stack's format. Entries it cannot read are
// left out.
func Parse(dump []byte) map[uint64]*Goroutine {
	gs := make(map[uint64]*Goroutine)
	for entry := range bytes.SplitSeq(dump, []byte("\n\n")) {
		entry = bytes.TrimSpace(entry)
		first, rest, _ := bytes.Cut(entry, []byte("\n"))
		id, state := header(first)
		if id == 0 {
			continue
		}
		g := &Goroutine{ID: id, State: state, Text: string(entry)}
		lines := strings.Split(string(rest), "\n")
		for i := 0; i+1 < len(lines); i += 2 {
			fn, loc := lines[i], lines[i+1]
			if strings.HasPrefix(fn, "created by ") || !strings.HasPrefix(loc, "\t") {
				break
			}
			if p := strings.LastIndexByte(fn, '('); p > 0 {
				fn = fn[:p] // the arguments
			}
			loc = strings.TrimPrefix(loc, "\t")
			if sp := strings.IndexByte(loc, ' '); sp >= 0 {
				loc = loc[:sp] // the pc offset
			}
			c := strings.LastIndexByte(loc, ':')
			if c < 0 {
				break
			}
			line, err := strconv.Atoi(loc[c+1:])
			if err != nil {
				break
			}
			g.Frames = append(g.Frames, Frame{Func: fn, File: loc[:c], Line: line})
		}
		gs[id] = g
	}
	return gs
}

// header reads "goroutine 7 [chan receive, 2 minutes]:" into 7 and "chan
// receive".
func header(b []byte) (id uint64, state string) {
	rest, ok := bytes.CutPrefix(b, []byte("goroutine "))
	if !ok {
		return 0, ""
	}
	num, rest, _ := bytes.Cut(rest, []byte(" "))
	id, err := strconv.ParseUint(string(num), 10, 64)
	if err != nil {
		return 0, ""
	}
	if open := bytes.IndexByte(rest, '['); open >= 0 {
		state = string(rest[open+1:])
		if end := strings.IndexAny(state, ",]"); end >= 0 {
			state = state[:end]
		}
	}
	return id, state
}

// Package returns the import path of the package a frame's function
// belongs to: "github.com/evergo/evergo/queue" for
// "github.com/evergo/evergo/queue.(*Queue[...]).Get".
func Package(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if dot := strings.IndexByte(fn[slash+1:], '.'); dot >= 0 {
		return fn[:slash+1+dot]
	}
	return fn
}

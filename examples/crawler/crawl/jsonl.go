package crawl

import (
	"context"
	"encoding/json"
	"io"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// MarshalJSON writes r as an object with the fields' json names and the
// duration as "duration_ms", in milliseconds. Never parks.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	return json.Marshal(struct {
		plain
		DurationMS float64 `json:"duration_ms"`
	}{plain(r), float64(r.Duration.Microseconds()) / 1000})
}

// A JSONL writes results as JSON lines, one object per line, for the tasks
// of one loop. Write only appends to a buffer and never parks: a fetching
// task killed by a Ctrl-C can never leave half a line behind. Once 64 KiB
// are buffered, a task of the JSONL's own hands them to the writer, and
// Flush hands over the rest. Its Write fits Config.OnResult.
type JSONL struct {
	w       io.Writer
	pending []byte // lines not handed to w yet
	spare   []byte // the buffer w had last, for reuse
	writing bool   // a drain task is started
	mu      locks.Lock
	err     error
}

// jsonlChunk is how much a JSONL buffers before it writes.
const jsonlChunk = 64 << 10

// NewJSONL returns a JSONL writing to w, which may park (an ioco.File,
// say). Never parks.
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: w} }

// Write appends r as one line. Once a write to the writer has failed,
// lines are dropped: a crawl goes on when its output fails, and Flush
// returns the error. Never parks.
func (j *JSONL) Write(ctx context.Context, r *Result) {
	if j.err != nil {
		return
	}
	line, err := json.Marshal(r)
	if err != nil {
		j.fail(err)
		return
	}
	j.pending = append(append(j.pending, line...), '\n')
	if len(j.pending) >= jsonlChunk && !j.writing {
		// Not started from ctx's task's cancellation: the drain lives on
		// when the task that wrote is killed.
		if _, err := scheduler.Spawn(ctx, "jsonl", j.drain); err == nil {
			j.writing = true
		}
	}
}

// drain is the task that writes the buffer while it is full.
func (j *JSONL) drain(ctx context.Context) error {
	defer func() { j.writing = false }()
	if err := j.mu.Lock(ctx); err != nil {
		return err
	}
	defer j.mu.Unlock(ctx)
	for len(j.pending) >= jsonlChunk && j.err == nil {
		j.writeOut()
	}
	return nil
}

// writeOut hands the pending lines to w, which may park; Write appends to
// the other buffer meanwhile. Called with mu held.
func (j *JSONL) writeOut() {
	buf := j.pending
	j.pending = j.spare[:0]
	if _, err := j.w.Write(buf); err != nil {
		j.fail(err)
	}
	j.spare = buf[:0]
}

func (j *JSONL) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// Flush writes out every line written so far, waiting for a write under
// way first, and returns the first error of the writes so far. May park.
func (j *JSONL) Flush(ctx context.Context) error {
	if err := j.mu.Lock(ctx); err != nil {
		return err
	}
	defer j.mu.Unlock(ctx)
	for len(j.pending) > 0 && j.err == nil {
		j.writeOut()
	}
	return j.err
}

package crawl

import (
	"bufio"
	"context"
	"encoding/json"
	"io"

	"github.com/evergo/evergo/locks"
)

// MarshalJSON writes r as an object with the fields' json names and the
// duration as "duration_ms", in milliseconds.
func (r *Result) MarshalJSON() ([]byte, error) {
	type plain Result // without this method
	return json.Marshal(struct {
		*plain
		DurationMS float64 `json:"duration_ms"`
	}{(*plain)(r), float64(r.Duration.Microseconds()) / 1000})
}

// A JSONL writes results as JSON lines, one object per line, through a
// buffer, for the tasks of one loop: a task that writes while another one
// is parked flushing waits for it, so lines never mix. Its Write fits
// Config.OnResult.
type JSONL struct {
	mu  locks.Lock
	w   *bufio.Writer
	err error
}

// NewJSONL returns a JSONL writing to w, which may park (an ioco.File, say).
func NewJSONL(w io.Writer) *JSONL { return &JSONL{w: bufio.NewWriterSize(w, 64<<10)} }

// Write writes r as one line. Its error, if any, is kept for Flush, and
// later writes are dropped: a crawl goes on when its output fails. May park.
func (j *JSONL) Write(ctx context.Context, r *Result) {
	line, err := json.Marshal(r)
	if err != nil {
		j.fail(err)
		return
	}
	if err := j.mu.Lock(ctx); err != nil {
		return
	}
	defer j.mu.Unlock(ctx)
	if j.err != nil {
		return
	}
	if _, err := j.w.Write(append(line, '\n')); err != nil {
		j.fail(err)
	}
}

func (j *JSONL) fail(err error) {
	if j.err == nil {
		j.err = err
	}
}

// Flush writes out what is buffered and returns the first error of the
// writes so far. May park.
func (j *JSONL) Flush(ctx context.Context) error {
	if err := j.mu.Lock(ctx); err != nil {
		return err
	}
	defer j.mu.Unlock(ctx)
	if j.err == nil {
		j.err = j.w.Flush()
	}
	return j.err
}

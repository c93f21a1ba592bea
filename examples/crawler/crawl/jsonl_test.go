package crawl_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"os"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func TestJSONLWritesOneObjectPerResult(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 40, Seed: 6})
	srv := serve(t, site)
	var buf bytes.Buffer
	j := crawl.NewJSONL(&buf)
	var results []crawl.Result
	var flushErr error
	run(t, func(ctx context.Context) error {
		c, err := crawl.New(crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 4,
			OnResult: func(ctx context.Context, r *crawl.Result) {
				results = append(results, *r)
				j.Write(ctx, r)
			}})
		if err != nil {
			return err
		}
		if _, err := c.Run(ctx); err != nil {
			return err
		}
		flushErr = j.Flush(ctx)
		return nil
	})
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}
	var lines []map[string]any
	sc := bufio.NewScanner(&buf)
	for sc.Scan() {
		var obj map[string]any
		if err := json.Unmarshal(sc.Bytes(), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", len(lines)+1, err, sc.Bytes())
		}
		lines = append(lines, obj)
	}
	if len(lines) != len(results) || len(results) == 0 {
		t.Fatalf("%d lines for %d results", len(lines), len(results))
	}
	kinds := map[string]bool{}
	located := 0
	for i, obj := range lines {
		r := results[i]
		want := map[string]any{
			"url":         r.URL,
			"depth":       float64(r.Depth),
			"bytes":       float64(r.Bytes),
			"links":       float64(r.Links),
			"duration_ms": float64(r.Duration.Microseconds()) / 1000,
		}
		if r.Status != 0 {
			want["status"] = float64(r.Status)
		}
		if r.Error != "" {
			want["error"], want["kind"] = r.Error, r.Kind
			kinds[r.Kind] = true
		}
		if r.Location != "" {
			want["location"] = r.Location
			located++
		}
		if r.ContentType != "" {
			want["content_type"] = r.ContentType
		}
		if !maps.Equal(obj, want) {
			t.Errorf("line %d: %v\nwant %v", i+1, obj, want)
		}
	}
	// The lines have the errors of every kind, and redirects with their
	// location.
	if !kinds["http 404"] || !kinds["http 500"] || located == 0 {
		t.Errorf("error kinds in the lines: %v; %d with a location", kinds, located)
	}
}

// A callWriter hands what it is given to w, and records the size of each
// call, made or under way.
type callWriter struct {
	w     io.Writer
	calls []int
}

func (c *callWriter) Write(p []byte) (int, error) {
	c.calls = append(c.calls, len(p))
	return c.w.Write(p)
}

func TestJSONLDrainsInTheBackgroundAndFlushWritesEveryLineOnce(t *testing.T) {
	const lines = 1000 // of about 300 bytes: more than 64 KiB in each half
	pair, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	// A small send buffer: a write of 64 KiB parks until the reader reads.
	if err := syscall.SetsockoptInt(pair[0], syscall.SOL_SOCKET, syscall.SO_SNDBUF, 4096); err != nil {
		t.Fatal(err)
	}
	wf, rf := os.NewFile(uintptr(pair[0]), "jsonl-out"), os.NewFile(uintptr(pair[1]), "jsonl-in")
	defer rf.Close()
	defer wf.Close()             // closed once the loop is done with it; Close twice is harmless
	start := make(chan struct{}) // the reader reads once closed
	var out bytes.Buffer
	read := make(chan error, 1)
	go func() {
		<-start
		_, err := io.Copy(&out, rf)
		read <- err
	}()
	startReading := sync.OnceFunc(func() { close(start) })
	defer startReading()

	line := func(i int) *crawl.Result {
		return &crawl.Result{URL: fmt.Sprintf("http://example.com/page/%d", i), Depth: i, Status: 200,
			Error: strings.Repeat("x", 200), Duration: time.Duration(i) * time.Microsecond}
	}
	var beforeDrain, whileParked, afterFirstHalf int
	var calls []int
	var flushErr error
	run(t, func(ctx context.Context) error {
		conn, err := ioco.FileConn(ctx, wf)
		if err != nil {
			return err
		}
		defer conn.Close()
		w := &callWriter{w: conn}
		j := crawl.NewJSONL(w)
		for i := range lines / 2 {
			j.Write(ctx, line(i))
		}
		beforeDrain = len(w.calls) // no switch point yet: the drain task has not run
		scheduler.Sleep(ctx, 0)    // it runs, and parks in the writer
		afterFirstHalf = len(w.calls)
		for i := lines / 2; i < lines; i++ {
			j.Write(ctx, line(i))
		}
		whileParked = len(w.calls)
		startReading()
		flushErr = j.Flush(ctx)
		calls = w.calls
		return nil
	})
	if flushErr != nil {
		t.Fatalf("Flush: %v", flushErr)
	}
	wf.Close() // the reader sees the end of what was written
	if err := <-read; err != nil {
		t.Fatalf("reading what the JSONL wrote: %v", err)
	}
	if beforeDrain != 0 || afterFirstHalf != 1 || whileParked != 1 {
		t.Errorf("writer calls: %d after %d Writes, %d once the loop ran others, %d after more Writes;"+
			" want 0, 1 (the drain task's) and still 1", beforeDrain, lines/2, afterFirstHalf, whileParked)
	}
	if len(calls) == 0 || calls[0] < 64<<10 {
		t.Errorf("writer calls of %v bytes; want the first of 64 KiB or more", calls)
	}
	got := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(got) != lines {
		t.Fatalf("%d lines written, want %d", len(got), lines)
	}
	for i, l := range got {
		var obj struct {
			URL   string `json:"url"`
			Depth int    `json:"depth"`
		}
		if err := json.Unmarshal([]byte(l), &obj); err != nil {
			t.Fatalf("line %d is not JSON: %v\n%s", i+1, err, l)
		}
		if obj.URL != line(i).URL || obj.Depth != i {
			t.Fatalf("line %d is for %s, depth %d; want %s, each line once in order", i+1, obj.URL, obj.Depth, line(i).URL)
		}
	}
}

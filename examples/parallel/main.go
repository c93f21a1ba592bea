// Command parallel is a small xargs -P on an evergo loop: it runs a
// command for each line of its standard input, at most -P at once, and
// prints each line the commands write as it comes, after the input line
// the command was run for. Every child is an ioco.Cmd: its pipes are read
// by tasks, its exit waited for on its pidfd, and Ctrl-C kills them all.
//
//	printf 'a\nb\nc\n' | go run ./examples/parallel -P 2 echo hello
//	ls *.go | go run ./examples/parallel -P 4 sh -c 'wc -l {}'
//	ls *.go | go run ./examples/parallel -watch . gofmt -l
//
// {} in the arguments is replaced by the input line; without one, the
// line is the last argument (as xargs -I{} and xargs -n1). Standard
// output lines go to standard output and standard error lines to
// standard error, each as "line: text". With -watch DIR, once every
// command has run, it watches DIR and the directories in it (inotify) and
// runs them all again after each change, until Ctrl-C.
//
// Exit status, as xargs's: 0 when every command succeeded, 123 when any
// failed (the failures are listed on standard error), 130 after Ctrl-C,
// 2 for bad usage or input.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	"strings"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func main() { os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr)) }

// maxLine bounds a line read from a child: a longer one is cut there.
const maxLine = 1 << 20

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parallel", flag.ContinueOnError)
	fs.SetOutput(stderr)
	procs := fs.Int("P", runtime.NumCPU(), "commands run at once")
	watch := fs.String("watch", "", "after the run, watch this directory and run again on each change")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: parallel [-P n] [-watch dir] command [args...] < lines")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() == 0 || *procs < 1 {
		fs.Usage()
		return 2
	}
	lines, err := readLines(stdin)
	if err != nil {
		fmt.Fprintln(stderr, "parallel: reading input:", err)
		return 2
	}
	status := 0
	err = scheduler.Run(context.Background(), func(ctx context.Context) error {
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		h, err := scheduler.LoopOf(ctx).AddSignalHandler(os.Interrupt, func(context.Context, os.Signal) { cancel() })
		if err != nil {
			return err
		}
		defer h.Remove()
		var w *ioco.Watcher
		if *watch != "" {
			if w, err = ioco.Watch(ctx); err != nil {
				return err
			}
			defer w.Close()
			if err := w.AddRecursive(*watch); err != nil {
				return err
			}
		}
		for {
			failed := runAll(ctx, fs.Args(), lines, *procs, stdout, stderr)
			switch {
			case ctx.Err() != nil:
				status = 130
				return nil
			case failed > 0:
				fmt.Fprintf(stderr, "parallel: %d of %d commands failed\n", failed, len(lines))
				status = 123
			default:
				status = 0
			}
			if w == nil {
				return nil
			}
			changed, err := nextChange(ctx, w)
			if ctx.Err() != nil {
				status = 130
				return nil
			}
			if err != nil {
				return err
			}
			fmt.Fprintf(stderr, "parallel: %s changed: running again\n", changed)
		}
	})
	if err != nil {
		fmt.Fprintln(stderr, "parallel:", err)
		return 2
	}
	return status
}

// readLines returns the non-empty lines of r.
func readLines(r io.Reader) ([]string, error) {
	var lines []string
	s := bufio.NewScanner(r)
	s.Buffer(nil, maxLine)
	for s.Scan() {
		if l := strings.TrimSpace(s.Text()); l != "" {
			lines = append(lines, l)
		}
	}
	return lines, s.Err()
}

// runAll runs the command for every line, at most procs at once, and
// returns how many failed. May park.
func runAll(ctx context.Context, command, lines []string, procs int, stdout, stderr io.Writer) (failed int) {
	var g scheduler.Group
	g.SetLimit(procs)
	for _, line := range lines {
		if ctx.Err() != nil {
			break
		}
		g.Go(ctx, func(tctx context.Context) error {
			// A task's context carries its spawner's values, not its
			// cancellation: Ctrl-C's is passed on, to reach the command.
			tctx, cancel := context.WithCancel(tctx)
			defer cancel()
			defer context.AfterFunc(ctx, cancel)()
			if err := runOne(tctx, command, line, stdout, stderr); err != nil {
				failed++
				if ctx.Err() == nil {
					fmt.Fprintf(stderr, "%s: %v\n", line, err)
				}
			}
			return nil
		})
	}
	// Waited for with a ctx Ctrl-C does not end: the commands it kills
	// are reaped before the loop, and the process, end.
	g.Wait(context.WithoutCancel(ctx))
	return failed
}

// runOne runs the command for line, copying its output lines as they
// come, prefixed with line. May park.
func runOne(ctx context.Context, command []string, line string, stdout, stderr io.Writer) error {
	args := make([]string, 0, len(command))
	replaced := false
	for _, a := range command[1:] {
		if strings.Contains(a, "{}") {
			a, replaced = strings.ReplaceAll(a, "{}", line), true
		}
		args = append(args, a)
	}
	if !replaced {
		args = append(args, line)
	}
	cmd := ioco.CommandContext(ctx, command[0], args...)
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	errPipe, err := cmd.StderrPipe()
	if err != nil {
		return err
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	var g scheduler.Group
	g.Go(ctx, func(context.Context) error { return prefixLines(outPipe, stdout, line) })
	g.Go(ctx, func(context.Context) error { return prefixLines(errPipe, stderr, line) })
	copyErr := g.Wait(context.WithoutCancel(ctx)) // both pipes read to their end before Wait closes them
	if err := cmd.Wait(); err != nil {
		return err
	}
	return copyErr
}

// prefixLines copies r to w a line at a time, each after prefix. May park.
func prefixLines(r io.Reader, w io.Writer, prefix string) error {
	s := bufio.NewScanner(r)
	s.Buffer(nil, maxLine)
	for s.Scan() {
		fmt.Fprintf(w, "%s: %s\n", prefix, s.Text())
	}
	if err := s.Err(); err != nil && !errors.Is(err, os.ErrClosed) {
		return err
	}
	return nil
}

// nextChange parks until something changes under the watched directory,
// then lets the changes that follow within 100 ms (a save that writes
// and renames, a checkout) pass, and returns the first one's path.
func nextChange(ctx context.Context, w *ioco.Watcher) (string, error) {
	e, err := w.Next(ctx)
	if err != nil && !errors.Is(err, ioco.ErrOverflow) {
		return "", err
	}
	settle, cancel := scheduler.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	for {
		if _, err := w.Next(settle); err != nil && !errors.Is(err, ioco.ErrOverflow) {
			break // the 100 ms are over, or ctx ended
		}
	}
	if e.Name == "" {
		return "something (events were lost)", nil
	}
	return e.Name, nil
}

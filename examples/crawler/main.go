// Command crawler crawls web sites on one evergo loop: a fetching task per
// unit of concurrency, all on one thread, each reading like blocking code.
//
//	go run ./examples/crawler                       # the embedded demo site
//	go run ./examples/crawler -o pages.jsonl https://go.dev/
//
// With no URL it serves a generated demo site on 127.0.0.1 (package
// demosite: a few thousand linked pages, with broken links, redirects,
// a redirect loop, robots.txt and files that are not HTML) and crawls that,
// so that it works on a machine with no network.
//
// While it runs it shows one live progress line on a terminal, and a log
// line every two seconds when its output is not a terminal. At the end it
// prints a summary: pages, bytes, status codes, errors by kind, what was
// skipped and why, the slowest pages. The errors of single pages never stop
// the crawl; they are counted, and written to the -o file with the rest.
//
// Ctrl-C (SIGINT) or SIGTERM stops the crawl cleanly: the fetches under way
// are cancelled, the -o file is flushed, the summary printed, and the exit
// status is 130 (143 for SIGTERM), as a shell reports a command the signal
// killed. A second signal exits at once.
//
// Exit status: 0 when the crawl ran to its end and fetched at least one
// seed (whatever the other pages' errors), 1 when it could not run or
// failed, 2 for bad flags, 3 when no seed could be fetched (each seed's
// error is in the summary), 130 or 143 when interrupted. -h prints the
// flags and exits with 0.
//
// -o FILE writes a JSON line per page to FILE; -o - writes them to
// standard output, and then the banner, the progress and the summary go
// to standard error.
//
// The defaults are meant for crawling other people's sites: one host (the
// seeds'), robots.txt honoured, at most 10,000 pages, 10 links deep,
// 10 MiB a page, 1 MiB of response header, 15 s a request (connecting,
// waiting and reading, all in). -delay spaces two fetches from one host,
// from the end of one to the start of the next, as wget's -w does;
// robots.txt's Crawl-delay, if longer, wins, up to
// -max-crawl-delay (30 s). A robots.txt that cannot be fetched, or answers
// 5xx or 429, keeps the crawler out of its host, and the summary says so.
// URLs are written without user:password@, and no credentials are sent.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

func main() { os.Exit(run(os.Args[1:], os.Stdout, os.Stderr)) }

// options are the command's flags.
type options struct {
	crawl.Config
	out         string
	quiet       bool
	demoPages   int
	demoLatency time.Duration
	every       time.Duration // between two progress log lines
}

func parse(args []string, stderr io.Writer) (*options, error) {
	o := &options{}
	fs := flag.NewFlagSet("crawler", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: crawler [flags] [URL...]\n\n"+
			"Crawls the URLs given, or the embedded demo site when there are none.\n\n")
		fs.PrintDefaults()
	}
	fs.IntVar(&o.Concurrency, "c", 32, "`fetches` at once: tasks on the loop")
	fs.IntVar(&o.MaxDepth, "depth", 10, "follow links this `deep` from a seed (0: no limit)")
	fs.IntVar(&o.MaxPages, "max-pages", 10000, "fetch at most this many `pages` (0: no limit)")
	fs.BoolVar(&o.SameHost, "same-host", true, "follow links only to the seeds' hosts")
	fs.DurationVar(&o.Timeout, "timeout", 15*time.Second, "give up on a request after this `long`, connecting included")
	o.MaxBody = 10 << 20
	fs.Var((*byteSize)(&o.MaxBody), "max-body", "keep at most this much of a page: bytes, or with KiB, MiB, GiB")
	fs.DurationVar(&o.Delay, "delay", 0, "at least this `long` from the end of one fetch from a host to the start of the next (robots.txt's Crawl-delay, if longer, wins)")
	fs.DurationVar(&o.MaxCrawlDelay, "max-crawl-delay", crawl.DefaultMaxCrawlDelay, "cut a robots.txt Crawl-delay longer than this `long` to it")
	fs.StringVar(&o.UserAgent, "user-agent", "evergo-crawler/0.1 (+https://github.com/evergo/evergo)", "the User-Agent `header`, also matched against robots.txt")
	fs.StringVar(&o.out, "o", "", "write a JSON line per page to this `file`, - for standard output (url, status, depth, bytes, links, duration_ms, error, kind, location)")
	fs.BoolVar(&o.quiet, "quiet", false, "no banner or progress: only the summary")
	fs.IntVar(&o.demoPages, "demo-pages", 2000, "demo site: `pages` (without URL arguments)")
	fs.DurationVar(&o.demoLatency, "demo-latency", 10*time.Millisecond, "demo site: how `long` each response waits")
	fs.DurationVar(&o.every, "log-every", 2*time.Second, "between two progress lines when the output is not a terminal")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	o.Seeds = fs.Args()
	for _, bad := range []struct {
		is  bool
		msg string
	}{
		{o.Concurrency < 1, "-c must be at least 1"},
		{o.MaxDepth < 0, "-depth cannot be negative"},
		{o.MaxPages < 0, "-max-pages cannot be negative"},
		{o.Timeout < 0, "-timeout cannot be negative"},
		{o.Delay < 0, "-delay cannot be negative"},
		{o.MaxCrawlDelay <= 0, "-max-crawl-delay must be positive"},
		{o.MaxBody < 1, "-max-body must be at least 1 byte"},
		{o.demoPages < 1, "-demo-pages must be at least 1"},
		{o.demoLatency < 0, "-demo-latency cannot be negative"},
		{o.every <= 0, "-log-every must be positive"},
	} {
		if bad.is {
			return nil, usageError(fs, bad.msg)
		}
	}
	for _, s := range o.Seeds {
		if _, err := crawl.Normalize(s); err != nil {
			return nil, usageError(fs, fmt.Sprintf("%q is not an absolute http or https URL", s))
		}
	}
	return o, nil
}

// errUsage is parse's error for flags that parse but make no sense; it
// has printed why, and the usage.
var errUsage = errors.New("crawler: bad usage")

func usageError(fs *flag.FlagSet, msg string) error {
	fmt.Fprintf(fs.Output(), "crawler: %s\n", msg)
	fs.Usage()
	return errUsage
}

func run(args []string, stdout, stderr io.Writer) int {
	o, err := parse(args, stderr)
	lines := stdout // for -o -
	switch {
	case errors.Is(err, flag.ErrHelp) && !errors.Is(err, errUsage):
		return 0 // -h: the usage was asked for
	case err != nil:
		return 2
	}
	if o.out == "-" {
		// The lines go to standard output, and what a person reads to
		// standard error, as curl -o - does.
		stdout = stderr
	} else if o.out != "" {
		// Known unwritable before the demo site starts; the loop creates
		// it again, empty, for the crawl.
		f, err := os.Create(o.out)
		if err != nil {
			fmt.Fprintf(stderr, "crawler: -o: %v\n", err)
			return 1
		}
		f.Close()
	}
	if len(o.Seeds) == 0 {
		stop, seed, err := serveDemo(o.demoPages, o.demoLatency)
		if err != nil {
			fmt.Fprintf(stderr, "crawler: demo site: %v\n", err)
			return 1
		}
		defer stop()
		o.Seeds = []string{seed}
		if !o.quiet {
			fmt.Fprintf(stdout, "Demo site of %s pages, %v a response, at %s\n",
				count(o.demoPages), o.demoLatency, seed)
		}
	}
	var res outcome
	err = scheduler.Run(context.Background(), func(ctx context.Context) error {
		res, err = crawlOnLoop(ctx, o, stdout, lines)
		return err
	})
	sum, outErr := res.sum, res.outErr
	if sum == nil {
		fmt.Fprintf(stderr, "crawler: %v\n", err)
		return 1
	}
	writeSummary(stdout, sum)
	if outErr != nil {
		fmt.Fprintf(stderr, "crawler: %s: %v\n", o.out, outErr)
	}
	if err != nil {
		fmt.Fprintf(stderr, "crawler: %v\n", err)
	}
	switch {
	case err != nil, outErr != nil:
		return 1
	case res.signal != nil:
		return 128 + int(res.signal.(syscall.Signal)) // 130 for SIGINT, 143 for SIGTERM
	case sum.NoSeedFetched():
		return exitNoSeed
	}
	return 0
}

// exitNoSeed is the exit status of a crawl that fetched none of its seeds.
const exitNoSeed = 3

// outcome is what crawlOnLoop did: the summary (nil if the crawl could not
// start) and the -o file's error.
type outcome struct {
	sum    *crawl.Summary
	outErr error
	signal os.Signal // the signal that interrupted the crawl, if one did
}

// crawlOnLoop runs the crawl in the loop's main task, with the -o file
// (lines, for -o -), the progress display and the signal handlers around
// it; stdout is where a person reads.
func crawlOnLoop(ctx context.Context, o *options, stdout, lines io.Writer) (outcome, error) {
	var out *crawl.JSONL
	var file *ioco.File
	if o.out == "-" {
		out = crawl.NewJSONL(lines)
		o.OnResult = out.Write
	} else if o.out != "" {
		f, err := ioco.Create(ctx, o.out)
		if err != nil {
			return outcome{}, err
		}
		file, out = f, crawl.NewJSONL(f)
		o.OnResult = out.Write
	}
	c, err := crawl.New(o.Config)
	if err != nil {
		if file != nil {
			file.Close()
		}
		return outcome{}, err
	}

	// Ctrl-C cancels crawlCtx, which ends c.Run; ctx stays live for what
	// comes after: flushing the output must not fail for the cancellation.
	crawlCtx, interrupt := context.WithCancel(ctx)
	defer interrupt()
	loop := scheduler.LoopOf(ctx)
	var signal os.Signal
	onSignal := func(ctx context.Context, sig os.Signal) {
		if signal != nil {
			os.Exit(128 + int(sig.(syscall.Signal))) // a second one: the user means it
		}
		signal = sig
		interrupt()
	}
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
		h, err := loop.AddSignalHandler(sig, onSignal)
		if err != nil {
			return outcome{}, err
		}
		defer h.Remove()
	}

	var display *progress
	if !o.quiet {
		// The seeds as they are requested: without a password.
		seeds := make([]string, len(o.Seeds))
		for i, s := range o.Seeds {
			seeds[i], _ = crawl.Normalize(s) // parse checked them
		}
		fmt.Fprintf(stdout, "Crawling %s with %s\n", strings.Join(seeds, " "), plural(o.Concurrency, "fetcher"))
		display = startProgress(ctx, c, stdout, o.every)
	}
	sum, err := c.Run(crawlCtx)
	if display != nil {
		display.stop(ctx)
	}
	var outErr error
	if out != nil {
		outErr = out.Flush(ctx)
		if file != nil {
			if cerr := file.Close(); outErr == nil {
				outErr = cerr
			}
		}
	}
	if errors.Is(err, context.Canceled) && signal != nil {
		err = nil // the summary says so
	}
	return outcome{sum, outErr, signal}, err
}

// serveDemo serves a demo site on a free port of 127.0.0.1 with package
// net/http, on goroutines beside the loop, and returns its URL.
func serveDemo(pages int, latency time.Duration) (stop func(), seed string, err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: demosite.New(demosite.Config{Pages: pages, Latency: latency})}
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.Serve(ln)
	}()
	stop = func() {
		srv.Close()
		<-done
	}
	return stop, "http://" + ln.Addr().String() + "/", nil
}

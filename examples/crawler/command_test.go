package main_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"unicode/utf8"

	"go.uber.org/goleak"
	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/internal/cmdtest"
)

// crawler is the command's binary, built once by TestMain.
var crawler string

func TestMain(m *testing.M) { goleak.VerifyTestMain(m, cmdtest.Build(&crawler)) }

// summaryPages reads the page count from the summary's first line.
var summaryLine = regexp.MustCompile(`(?m)^(Done|Interrupted) after [0-9.]+ (?:µs|ms|s|min [0-9]+ s): ([0-9,]+) pages?`)

func summaryPages(t *testing.T, out string) (head string, pages int) {
	t.Helper()
	m := summaryLine.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("no summary in the output:\n%s", out)
	}
	n, err := strconv.Atoi(strings.ReplaceAll(m[2], ",", ""))
	if err != nil {
		t.Fatal(err)
	}
	return m[1], n
}

// jsonLines reads the -o file, checking that every line is a whole object.
func jsonLines(t *testing.T, path string) []map[string]any {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var lines []map[string]any
	if len(data) == 0 {
		return nil
	}
	if data[len(data)-1] != '\n' {
		t.Errorf("%s ends in the middle of a line", path)
	}
	for i, l := range bytes.Split(bytes.TrimSuffix(data, []byte("\n")), []byte("\n")) {
		var obj map[string]any
		if err := json.Unmarshal(l, &obj); err != nil {
			t.Fatalf("line %d of %s: %v: %q", i+1, path, err, l)
		}
		lines = append(lines, obj)
	}
	return lines
}

func TestCommandCrawlsTheDemoSiteAndWritesTheSummaryAndOneLinePerPage(t *testing.T) {
	out := filepath.Join(t.TempDir(), "pages.jsonl")
	cmd := exec.Command(crawler, "-demo-pages", "150", "-demo-latency", "0s", "-o", out)
	stdout, err := cmd.Output()
	if err != nil {
		t.Fatalf("crawler: %v\n%s", err, stdout)
	}
	text := string(stdout)
	head, pages := summaryPages(t, text)
	if head != "Done" {
		t.Errorf("summary begins %q, want Done", head)
	}
	for _, want := range []string{"Demo site of 150 pages", "Crawling http://127.0.0.1:",
		"  status   200 ×", "404 ×", "500 ×1", "302 ×2", "robots.txt ×", "other host ×", "  slowest "} {
		if !strings.Contains(text, want) {
			t.Errorf("output lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "\r") {
		t.Errorf("output to a file holds a carriage return, as a terminal's progress line would:\n%q", text)
	}
	lines := jsonLines(t, out)
	if len(lines) != pages {
		t.Errorf("%d JSON lines, summary says %d pages", len(lines), pages)
	}
	for _, key := range []string{"url", "depth", "bytes", "links", "duration_ms"} {
		if _, ok := lines[0][key]; !ok {
			t.Errorf("first line %v has no %q", lines[0], key)
		}
	}
}

func TestCommandStopsOnInterruptWithTheSummaryAndCompleteOutput(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		exit int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		t.Run(tc.sig.String(), func(t *testing.T) { testInterrupt(t, tc.sig, tc.exit) })
	}
}

func testInterrupt(t *testing.T, sig syscall.Signal, status int) {
	out := filepath.Join(t.TempDir(), "pages.jsonl")
	// A slow site and few fetchers: the crawl would take a minute, and the
	// first progress line with pages done says it is under way.
	cmd := exec.Command(crawler, "-demo-pages", "2000", "-demo-latency", "30ms", "-c", "4",
		"-log-every", "50ms", "-o", out)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(stdout)
	var text strings.Builder
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("no progress line before the end of the output: %v\n%s", err, text.String())
		}
		text.WriteString(line)
		if strings.Contains(line, " done, ") && !strings.Contains(line, " 0 done, ") {
			break
		}
	}
	if err := cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	rest, _ := bufio.NewReader(r).ReadString(0) // to the end of the output
	text.WriteString(rest)
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != status {
		t.Errorf("exit: %v, want status %d", err, status)
	}
	head, pages := summaryPages(t, text.String())
	if head != "Interrupted" {
		t.Errorf("summary begins %q, want Interrupted:\n%s", head, text.String())
	}
	if pages == 0 || pages > 1000 {
		t.Errorf("summary says %d pages: not a crawl stopped early", pages)
	}
	if lines := jsonLines(t, out); len(lines) != pages {
		t.Errorf("%d JSON lines, summary says %d pages", len(lines), pages)
	}
}

func TestCommandRejectsBadFlagsAndURLsWithUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"-c", "0"}, "-c must be at least 1"},
		{[]string{"-max-body", "lots"}, `"lots" is not a size`},
		{[]string{"-max-body", "0"}, "-max-body must be at least 1 byte"},
		{[]string{"-depth", "-1"}, "-depth cannot be negative"},
		{[]string{"-delay", "-1s"}, "-delay cannot be negative"},
		{[]string{"ftp://example.com/"}, "not an absolute http or https URL"},
		{[]string{"example.com"}, "not an absolute http or https URL"},
		{[]string{"-no-such-flag"}, "flag provided but not defined"},
	} {
		cmd := exec.Command(crawler, tc.args...)
		out, err := cmd.CombinedOutput()
		var exit *exec.ExitError
		if !errors.As(err, &exit) || exit.ExitCode() != 2 {
			t.Errorf("crawler %q: %v, want exit status 2\n%s", tc.args, err, out)
		}
		if !strings.Contains(string(out), tc.says) || !strings.Contains(string(out), "usage: crawler") {
			t.Errorf("crawler %q does not say %q with the usage:\n%s", tc.args, tc.says, out)
		}
	}
}

func TestCommandHelpPrintsTheUsageAndSucceeds(t *testing.T) {
	out, err := exec.Command(crawler, "-h").CombinedOutput()
	if err != nil {
		t.Errorf("crawler -h: %v, want exit status 0", err)
	}
	if !strings.Contains(string(out), "usage: crawler") || !strings.Contains(string(out), "-max-pages") {
		t.Errorf("crawler -h prints no usage:\n%s", out)
	}
}

func TestCommandQuietPrintsOnlyTheSummary(t *testing.T) {
	stdout, err := exec.Command(crawler, "-quiet", "-demo-pages", "50", "-demo-latency", "0s").Output()
	if err != nil {
		t.Fatalf("crawler: %v\n%s", err, stdout)
	}
	text := string(stdout)
	if head, _ := summaryPages(t, text); head != "Done" {
		t.Errorf("summary begins %q, want Done", head)
	}
	if !strings.HasPrefix(text, "Done after ") {
		t.Errorf("-quiet output does not begin with the summary:\n%s", text)
	}
}

func TestCommandFailsClearlyWhenTheOutputFileCannotBeCreated(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "no", "such", "dir", "pages.jsonl")
	cmd := exec.Command(crawler, "-demo-pages", "10", "-demo-latency", "0s", "-o", bad)
	out, err := cmd.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Errorf("exit: %v, want status 1\n%s", err, out)
	}
	if !strings.Contains(string(out), "crawler: -o: ") || !strings.Contains(string(out), "no such file or directory") {
		t.Errorf("the error does not say what failed:\n%s", out)
	}
	if strings.Contains(string(out), "Demo site") || strings.Contains(string(out), "Crawling") {
		t.Errorf("the crawl began before the output file was known to be unwritable:\n%s", out)
	}
}

// openPTY opens a pseudo-terminal of cols columns and returns its two
// ends, closed when the test ends.
func openPTY(t *testing.T, cols uint16) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	fd := int(master.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	if err := unix.IoctlSetWinsize(int(slave.Fd()), unix.TIOCSWINSZ, &unix.Winsize{Row: 24, Col: cols}); err != nil {
		t.Fatal(err)
	}
	return master, slave
}

func TestCommandRedrawsOneProgressLineThatFitsTheTerminal(t *testing.T) {
	const cols = 40
	master, slave := openPTY(t, cols)
	cmd := exec.Command(crawler, "-demo-pages", "200", "-demo-latency", "10ms", "-c", "2")
	cmd.Stdout = slave
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	slave.Close() // the child's copy is the last: its exit ends the output
	read := make(chan []byte)
	go func() {
		// A read on the master fails (EIO) once no one holds the slave.
		data, _ := io.ReadAll(master)
		read <- data
	}()
	err := cmd.Wait()
	out := string(<-read)
	if err != nil {
		t.Fatalf("crawler: %v\n%q", err, out)
	}
	redraws := strings.Split(out, "\r\x1b[2K")
	if len(redraws) < 3 {
		t.Fatalf("no progress line redrawn in place on a terminal:\n%q", out)
	}
	cut := 0
	for _, r := range redraws[1:] {
		line, _, _ := strings.Cut(strings.ReplaceAll(r, "\n", "\r"), "\r")
		if !strings.Contains(line, " done") {
			continue // the summary, after the last clear
		}
		if n := utf8.RuneCountInString(line); n >= cols {
			t.Errorf("progress line of %d characters on a terminal of %d columns: %q", n, cols, line)
		}
		if strings.HasSuffix(line, "…") {
			cut++
		}
	}
	if cut == 0 {
		t.Errorf("no progress line was cut to the terminal's width:\n%q", out)
	}
	// The display clears its line before the summary.
	if _, pages := summaryPages(t, redraws[len(redraws)-1]); pages == 0 {
		t.Errorf("no pages in the summary:\n%q", out)
	}
}

// serveSite serves pages by path, as HTML, on a server of the test's.
func serveSite(t *testing.T, pages map[string]string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// exitStatus returns the exit status that err from exec says, 0 for nil.
func exitStatus(t *testing.T, err error) int {
	t.Helper()
	var exit *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &exit):
		return exit.ExitCode()
	}
	t.Fatal(err)
	return -1
}

func TestCommandExitsWithThreeWhenNoSeedCouldBeFetched(t *testing.T) {
	// A port that nothing listens on: a listener's, closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()
	missing := serveSite(t, nil) + "/missing"

	out, err := exec.Command(crawler, "-quiet", refused, missing).Output()
	if status := exitStatus(t, err); status != 3 {
		t.Errorf("crawler of seeds that all fail: exit status %d, want 3\n%s", status, out)
	}
	for _, want := range []string{"  failed   " + refused + ": robots.txt unreachable: ", "connection refused",
		"           " + missing + ": 404 Not Found", "  blocked  " + strings.TrimSuffix(refused, "/") + ": robots.txt unreachable"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out)
		}
	}

	ok := serveSite(t, map[string]string{"/": "<p>fine</p>"})
	out, err = exec.Command(crawler, "-quiet", refused, ok+"/").Output()
	if status := exitStatus(t, err); status != 0 {
		t.Errorf("crawler of a failing seed and a good one: exit status %d, want 0\n%s", status, out)
	}
}

func TestCommandWritesTheLinesToStandardOutputForDashO(t *testing.T) {
	dir := t.TempDir()
	cmd := exec.Command(crawler, "-o", "-", "-demo-pages", "30", "-demo-latency", "0s")
	cmd.Dir = dir
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("crawler -o -: %v\n%s", err, stderr.String())
	}
	_, pages := summaryPages(t, stderr.String())
	if !strings.Contains(stderr.String(), "Demo site of 30 pages") {
		t.Errorf("the banner is not on standard error:\n%s", stderr.String())
	}
	path := filepath.Join(dir, "stdout.jsonl")
	if err := os.WriteFile(path, stdout.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	if lines := jsonLines(t, path); len(lines) != pages || pages == 0 {
		t.Errorf("%d JSON lines on standard output, the summary says %d pages", len(lines), pages)
	}
	if _, err := os.Stat(filepath.Join(dir, "-")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("crawler -o - made a file named -: %v", err)
	}
}

func TestCommandSummaryOfATinyCrawlMakesSense(t *testing.T) {
	long := "/" + strings.Repeat("long-", 60)
	site := serveSite(t, map[string]string{"/": `<a href="` + long + `">x</a>`, long: "<p>the end</p>"})
	seed := strings.Replace(site, "http://", "http://user:secret@", 1) + "/"
	out, err := exec.Command(crawler, "-max-pages", "1", seed).Output()
	if err != nil {
		t.Fatalf("crawler: %v\n%s", err, out)
	}
	text := string(out)
	if _, pages := summaryPages(t, text); pages != 1 || !strings.Contains(text, ": 1 page, ") ||
		!strings.Contains(text, ", 1 connection\n") || !strings.Contains(text, "with 32 fetchers") {
		t.Errorf("the summary of one page does not say 1 page and 1 connection:\n%s", text)
	}
	if strings.Contains(text, "pages/s") || strings.Contains(text, " 0.00s") {
		t.Errorf("the summary of one page has a rate or a duration of zero:\n%s", text)
	}
	if strings.Contains(text, "secret") {
		t.Errorf("the output shows the seed's password:\n%s", text)
	}

	out, err = exec.Command(crawler, "-quiet", site+"/").Output()
	if err != nil {
		t.Fatalf("crawler: %v\n%s", err, out)
	}
	for _, l := range strings.Split(string(out), "\n") {
		if n := utf8.RuneCountInString(l); n > 130 {
			t.Errorf("a summary line of %d characters: %q", n, l)
		}
	}
	if !strings.Contains(string(out), "…") {
		t.Errorf("the long URL is not cut in the summary:\n%s", out)
	}
}

package crawl_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

func TestFetchKindOfAFailureToConnectIsConnect(t *testing.T) {
	dial := func(errno syscall.Errno) error {
		return &net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("connect", errno)}
	}
	for _, tc := range []struct {
		err  error
		kind string
	}{
		{dial(syscall.EHOSTUNREACH), "connect"},
		{dial(syscall.ENETUNREACH), "connect"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: os.NewSyscallError("socket", syscall.EMFILE)}, "connect"},
		{fmt.Errorf("wrapped: %w", dial(syscall.EHOSTUNREACH)), "connect"},
		{dial(syscall.ECONNREFUSED), "connection refused"},
		{dial(syscall.ETIMEDOUT), "timeout"},
		{&net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "nowhere.invalid", IsNotFound: true}}, "dns"},
		{&net.OpError{Op: "read", Net: "tcp", Err: os.NewSyscallError("read", syscall.EHOSTUNREACH)}, "bad response"},
		{&net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.ENETDOWN)}, "bad response"},
	} {
		if k := crawl.Kind(tc.err); k != tc.kind {
			t.Errorf("Kind(%v) = %q, want %q", tc.err, k, tc.kind)
		}
	}
}

// run runs main as the first task of a loop and fails t with the loop's
// error. Tasks report what they find with t.Errorf, or hand it out through
// variables that the test checks once run returns.
func run(t *testing.T, main func(ctx context.Context) error) {
	t.Helper()
	if err := scheduler.Run(context.Background(), main); err != nil {
		t.Fatalf("scheduler.Run: %v", err)
	}
}

// serve starts an httptest server for h, closed when the test ends.
func serve(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// parse parses the absolute URL s or fails t.
func parse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// A recorder counts the requests that reach the handler it wraps, and the
// connections, when it is the server's ConnState hook.
type recorder struct {
	h     http.Handler
	mu    sync.Mutex
	paths []string
	conns atomic.Int32
}

func (r *recorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.mu.Lock()
	r.paths = append(r.paths, req.URL.Path)
	r.mu.Unlock()
	r.h.ServeHTTP(w, req)
}

func (r *recorder) connState(_ net.Conn, st http.ConnState) {
	if st == http.StateNew {
		r.conns.Add(1)
	}
}

// Paths returns the paths requested so far, in the order they came.
// For the test's goroutine, not for a task.
func (r *recorder) Paths() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.paths...)
}

// count returns how many requests were for path.
func (r *recorder) count(path string) int {
	n := 0
	for _, p := range r.Paths() {
		if p == path {
			n++
		}
	}
	return n
}

// serveRecorded serves h through a recorder, which it returns.
func serveRecorded(t *testing.T, h http.Handler) (*httptest.Server, *recorder) {
	t.Helper()
	rec := &recorder{h: h}
	srv := httptest.NewUnstartedServer(rec)
	srv.Config.ConnState = rec.connState
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, rec
}

// fetchOnce fetches u with f on a loop of its own and returns what Fetch
// returned; f's idle connections are closed before the loop ends.
func fetchOnce(t *testing.T, f *crawl.Fetcher, u string, redirect crawl.RedirectFunc) (*crawl.Response, error) {
	t.Helper()
	pu := parse(t, u)
	var resp *crawl.Response
	var err error
	run(t, func(ctx context.Context) error {
		defer f.Close()
		resp, err = f.Fetch(ctx, pu, redirect)
		return nil
	})
	return resp, err
}

func TestFetchStopsARedirectLoop(t *testing.T) {
	srv, rec := serveRecorded(t, demosite.New(demosite.Config{Pages: 10}))
	resp, err := fetchOnce(t, &crawl.Fetcher{}, srv.URL+"/loop/a", nil)
	if !errors.Is(err, crawl.ErrRedirectLoop) || resp != nil {
		t.Fatalf("Fetch /loop/a = %v, %v; want nil and an error wrapping ErrRedirectLoop", resp, err)
	}
	if k := crawl.Kind(err); k != "redirect loop" {
		t.Errorf("Kind(%v) = %q, want %q", err, k, "redirect loop")
	}
	if got, want := strings.Join(rec.Paths(), " "), "/loop/a /loop/b"; got != want {
		t.Errorf("requests made: %s; want %s, each once", got, want)
	}
}

// chain serves /r/N as a redirect to /r/N+1, up to /r/end, a page.
func chain(end int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/r/"))
		switch {
		case err != nil:
			http.NotFound(w, r)
		case n == end:
			fmt.Fprint(w, "the end of the chain")
		default:
			http.Redirect(w, r, "/r/"+strconv.Itoa(n+1), http.StatusFound)
		}
	})
}

func TestFetchFollowsMaxRedirectsAndNoMore(t *testing.T) {
	srv, rec := serveRecorded(t, chain(3))
	resp, err := fetchOnce(t, &crawl.Fetcher{MaxRedirects: 3}, srv.URL+"/r/0", nil)
	if err != nil {
		t.Fatalf("Fetch of a chain of 3 redirects with MaxRedirects 3: %v", err)
	}
	if resp.Status != 200 || resp.URL.Path != "/r/3" || resp.Redirects != 3 || string(resp.Body) != "the end of the chain" {
		t.Errorf("Fetch of a chain of 3 redirects = %d %s after %d redirects, body %q; want 200 /r/3 after 3",
			resp.Status, resp.URL, resp.Redirects, resp.Body)
	}

	resp, err = fetchOnce(t, &crawl.Fetcher{MaxRedirects: 2}, srv.URL+"/r/0", nil)
	if !errors.Is(err, crawl.ErrTooManyRedirects) || resp != nil {
		t.Fatalf("Fetch of a chain of 3 redirects with MaxRedirects 2 = %v, %v; want ErrTooManyRedirects", resp, err)
	}
	if k := crawl.Kind(err); k != "too many redirects" {
		t.Errorf("Kind(%v) = %q, want %q", err, k, "too many redirects")
	}
	if got, want := len(rec.Paths()), 4+3; got != want {
		t.Errorf("the server got %d requests, want %d (4 for the first fetch, 3 for the second)", got, want)
	}
}

func TestFetchWithNegativeMaxRedirectsReturnsTheRedirectItself(t *testing.T) {
	srv, rec := serveRecorded(t, chain(3))
	resp, err := fetchOnce(t, &crawl.Fetcher{MaxRedirects: -1}, srv.URL+"/r/0", nil)
	if err != nil {
		t.Fatalf("Fetch with MaxRedirects -1: %v", err)
	}
	if resp.Status != http.StatusFound || resp.URL.Path != "/r/0" || resp.Redirects != 0 {
		t.Errorf("Fetch with MaxRedirects -1 = %d from %s after %d redirects; want the 302 of /r/0", resp.Status, resp.URL, resp.Redirects)
	}
	if got := rec.Paths(); len(got) != 1 {
		t.Errorf("requests made: %v; want /r/0 alone", got)
	}
}

func TestFetchGivesUpAnEndlessChainAfterTenRedirects(t *testing.T) {
	srv, rec := serveRecorded(t, chain(-1)) // distinct URLs, never a loop
	_, err := fetchOnce(t, &crawl.Fetcher{}, srv.URL+"/r/0", nil)
	if !errors.Is(err, crawl.ErrTooManyRedirects) {
		t.Fatalf("Fetch of an endless chain = %v, want ErrTooManyRedirects", err)
	}
	if got := rec.Paths(); len(got) != 11 || got[10] != "/r/10" {
		t.Errorf("requests made: %v; want /r/0 to /r/10 (10 redirects followed by default)", got)
	}
}

func TestFetchAsksTheRedirectFuncBeforeFollowing(t *testing.T) {
	srv, rec := serveRecorded(t, demosite.New(demosite.Config{Pages: 10}))
	var asked []string
	follow := func(next *url.URL) error { asked = append(asked, next.Path); return nil }
	resp, err := fetchOnce(t, &crawl.Fetcher{}, srv.URL+"/go/3", follow)
	if err != nil || resp.Status != 200 || resp.URL.String() != srv.URL+"/page/3" || resp.Redirects != 1 {
		t.Fatalf("Fetch /go/3, following: %+v, %v; want 200 from /page/3 after one redirect", resp, err)
	}
	if len(asked) != 1 || asked[0] != "/page/3" {
		t.Errorf("the RedirectFunc was asked about %v, want [/page/3]", asked)
	}

	stop := func(*url.URL) error { return crawl.ErrStopRedirect }
	resp, err = fetchOnce(t, &crawl.Fetcher{}, srv.URL+"/go/3", stop)
	if err != nil || resp.Status != http.StatusMovedPermanently || resp.URL.Path != "/go/3" || resp.Redirects != 0 {
		t.Fatalf("Fetch /go/3, stopping: %+v, %v; want the 301 of /go/3 itself", resp, err)
	}

	refuse := errors.New("not there")
	resp, err = fetchOnce(t, &crawl.Fetcher{}, srv.URL+"/go/3", func(*url.URL) error { return refuse })
	if !errors.Is(err, refuse) || resp != nil {
		t.Fatalf("Fetch /go/3, refusing: %v, %v; want the RedirectFunc's error", resp, err)
	}
	if got, want := strings.Join(rec.Paths(), " "), "/go/3 /page/3 /go/3 /go/3"; got != want {
		t.Errorf("requests made: %s; want %s", got, want)
	}
}

func TestFetchCapsAHugeBodyAndDoesNotReuseItsConnection(t *testing.T) {
	const max = 64 << 10
	srv, rec := serveRecorded(t, demosite.New(demosite.Config{Pages: 10}))
	type step struct {
		status    int
		n         int
		truncated bool
		dials     int
		err       error
	}
	var steps []step
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{MaxBody: max}
		defer f.Close()
		for _, path := range []string{"/page/1", "/big", "/page/1"} {
			resp, err := f.Fetch(ctx, parse(t, srv.URL+path), nil)
			s := step{err: err, dials: f.Dials()}
			if err == nil {
				s.status, s.n, s.truncated = resp.Status, len(resp.Body), resp.Truncated
				if path == "/big" && !bytes.HasPrefix(resp.Body, []byte("<!DOCTYPE html>")) {
					t.Errorf("the capped body of /big begins %q, not as the page does", resp.Body[:32])
				}
				resp.Release()
			}
			steps = append(steps, s)
		}
		return nil
	})
	if len(steps) != 3 {
		t.Fatalf("steps: %+v", steps)
	}
	for i, s := range steps {
		if s.err != nil || s.status != 200 {
			t.Fatalf("fetch %d: %d, %v; want a 200", i, s.status, s.err)
		}
	}
	if s := steps[0]; s.truncated || s.n == 0 || s.dials != 1 {
		t.Errorf("/page/1: %+v; want a whole body on the first connection", s)
	}
	if s := steps[1]; !s.truncated || s.n != max || s.dials != 1 {
		t.Errorf("/big: %+v; want %d bytes, truncated, on the kept connection", s, max)
	}
	if s := steps[2]; s.truncated || s.n != steps[0].n || s.dials != 2 {
		t.Errorf("/page/1 after /big: %+v; want the same body on a new connection (2 dials)", s)
	}
	if n := rec.conns.Load(); n != 2 {
		t.Errorf("the server saw %d connections, want 2", n)
	}
}

// encodings serves the same page four ways: /length with a Content-Length,
// /chunked in chunks, /gzip compressed with a Content-Length, and
// /gzip-chunked compressed in chunks; and reports what the requests asked.
func encodings(t *testing.T, page string, acceptGzip *atomic.Int32) http.Handler {
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(page))
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
			acceptGzip.Add(1)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		half := len(page) / 2
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", strconv.Itoa(len(page)))
			w.Write([]byte(page))
		case "/chunked":
			w.Write([]byte(page[:half]))
			w.(http.Flusher).Flush() // no Content-Length now: chunked
			w.Write([]byte(page[half:]))
		case "/gzip":
			w.Header().Set("Content-Encoding", "gzip")
			w.Header().Set("Content-Length", strconv.Itoa(gz.Len()))
			w.Write(gz.Bytes())
		case "/gzip-chunked":
			w.Header().Set("Content-Encoding", "gzip")
			zw := gzip.NewWriter(w)
			zw.Write([]byte(page[:half]))
			zw.Flush()
			w.(http.Flusher).Flush()
			zw.Write([]byte(page[half:]))
			zw.Close()
		default:
			http.NotFound(w, r)
		}
	})
}

func TestFetchKeepsOneConnectionThroughGzipAndChunkedBodies(t *testing.T) {
	page := "<!DOCTYPE html><p>" + strings.Repeat("the same page, sent four ways. ", 300) + "</p>\n"
	var acceptGzip atomic.Int32
	srv, rec := serveRecorded(t, encodings(t, page, &acceptGzip))
	paths := []string{"/length", "/chunked", "/gzip", "/gzip-chunked", "/gzip-chunked", "/chunked", "/gzip", "/length", "/nowhere"}
	var bodies []string
	var statuses []int
	var dials int
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		for _, p := range paths {
			resp, err := f.Fetch(ctx, parse(t, srv.URL+p), nil)
			if err != nil {
				t.Errorf("Fetch %s: %v", p, err)
				return nil
			}
			bodies = append(bodies, string(resp.Body))
			statuses = append(statuses, resp.Status)
			resp.Release()
		}
		dials = f.Dials()
		return nil
	})
	if len(bodies) != len(paths) {
		t.Fatalf("%d of %d fetches made", len(bodies), len(paths))
	}
	for i, p := range paths[:len(paths)-1] {
		if statuses[i] != 200 || bodies[i] != page {
			t.Errorf("Fetch %s: %d, a body of %d bytes; want 200 and the page's %d bytes, decoded",
				p, statuses[i], len(bodies[i]), len(page))
		}
	}
	if statuses[len(paths)-1] != 404 {
		t.Errorf("Fetch /nowhere: %d, want 404", statuses[len(paths)-1])
	}
	if dials != 1 || rec.conns.Load() != 1 {
		t.Errorf("%d fetches made %d dials and the server saw %d connections; want 1 and 1",
			len(paths), dials, rec.conns.Load())
	}
	if n := acceptGzip.Load(); n != int32(len(paths)) {
		t.Errorf("%d of %d requests had Accept-Encoding: gzip", n, len(paths))
	}
}

func TestFetchReadsAnEmptyBodyMarkedGzip(t *testing.T) {
	// Some servers label every response gzip, those without a body too.
	mux := http.NewServeMux()
	mux.HandleFunc("/no-content", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Header().Set("Location", "/no-content")
		w.WriteHeader(http.StatusMovedPermanently)
	})
	srv := serve(t, mux)
	var got []string
	var dials int
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		stop := func(*url.URL) error { return crawl.ErrStopRedirect }
		for i, path := range []string{"/no-content", "/moved", "/moved"} {
			redirect := crawl.RedirectFunc(stop)
			if i == 2 {
				redirect = nil // followed, this time
			}
			resp, err := f.Fetch(ctx, parse(t, srv.URL+path), redirect)
			if err != nil {
				got = append(got, err.Error())
				continue
			}
			got = append(got, fmt.Sprintf("%d %q", resp.Status, resp.Body))
			resp.Release()
		}
		dials = f.Dials()
		return nil
	})
	if s := strings.Join(got, ", "); s != `204 "", 301 "", 204 ""` {
		t.Errorf("fetches of empty bodies marked gzip: %s; want 204, 301 and 204, each with its empty body", s)
	}
	if dials != 1 {
		t.Errorf("%d dials; want 1, the connection kept after each empty body", dials)
	}
}

func TestFetchRetriesWhenTheServerClosedAKeptConnection(t *testing.T) {
	srv, rec := serveRecorded(t, demosite.New(demosite.Config{Pages: 10}))
	var dials []int
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{}
		defer f.Close()
		pool, err := futures.NewThreadPool(1)
		if err != nil {
			return err
		}
		defer pool.Shutdown(ctx, true)
		for i, path := range []string{"/page/1", "/page/2", "/page/3", "/page/4"} {
			if i == 2 {
				// The server closes the connection that f keeps; the
				// close blocks a goroutine, not the loop.
				closed, err := futures.Submit(ctx, pool, func(context.Context) (struct{}, error) {
					srv.CloseClientConnections()
					return struct{}{}, nil
				})
				if err != nil {
					return err
				}
				if _, err := closed.Get(ctx); err != nil {
					return err
				}
			}
			resp, err := f.Fetch(ctx, parse(t, srv.URL+path), nil)
			if err != nil || resp.Status != 200 {
				t.Errorf("Fetch %s: %v, %v; want a 200", path, resp, err)
				return nil
			}
			resp.Release()
			dials = append(dials, f.Dials())
		}
		return nil
	})
	if fmt.Sprint(dials) != "[1 1 2 2]" {
		t.Errorf("dials after each fetch: %v; want [1 1 2 2]: one more after the server closed the kept one", dials)
	}
	if got, want := strings.Join(rec.Paths(), " "), "/page/1 /page/2 /page/3 /page/4"; got != want {
		t.Errorf("requests served: %s; want %s", got, want)
	}
}

// hijack serves a request by taking its connection over and doing fn to
// it. The server forgets a connection taken over: the test waits at its
// end for fn to be done with them, so that no fd outlives it.
func hijack(t *testing.T, fn func(c net.Conn, r *http.Request)) http.HandlerFunc {
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after the server's Close, registered later
	return func(w http.ResponseWriter, r *http.Request) {
		wg.Add(1)
		defer wg.Done()
		c, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		fn(c, r)
	}
}

// reset closes c with an RST: SO_LINGER 0, then close.
func reset(t *testing.T) http.HandlerFunc {
	return hijack(t, func(c net.Conn, _ *http.Request) {
		if err := c.(*net.TCPConn).SetLinger(0); err != nil {
			t.Errorf("SetLinger: %v", err)
		}
		c.Close()
	})
}

// writeAndClose writes s on c instead of a response and closes it.
func writeAndClose(t *testing.T, s string) http.HandlerFunc {
	return hijack(t, func(c net.Conn, _ *http.Request) {
		c.Write([]byte(s))
		c.Close()
	})
}

// failures serves a request that fails each way a fetch can, at the path
// named by the kind it must get.
func failures(t *testing.T) *http.ServeMux {
	mux := http.NewServeMux()
	mux.Handle("/connection-reset", reset(t))
	mux.Handle("/bad-response", writeAndClose(t, "SSH-2.0-not-http\r\n\r\n"))
	mux.Handle("/connection-closed", writeAndClose(t, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nten bytes."))
	mux.Handle("/hang-up", writeAndClose(t, ""))
	mux.HandleFunc("/bad-body", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Encoding", "gzip")
		w.Write([]byte("this is not gzip"))
	})
	mux.HandleFunc("/timeout", func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done() // no answer until the client hangs up
	})
	return mux
}

func TestFetchErrorsHaveTheirKind(t *testing.T) {
	srv := serve(t, failures(t))
	// A port that nothing listens on: a listener's, closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	for _, tc := range []struct{ url, kind string }{
		{srv.URL + "/connection-reset", "connection reset"},
		{srv.URL + "/bad-response", "bad response"},
		{srv.URL + "/connection-closed", "connection closed"},
		{srv.URL + "/hang-up", "connection closed"},
		{srv.URL + "/bad-body", "bad body"},
		{srv.URL + "/timeout", "timeout"},
		{refused, "connection refused"},
	} {
		// A Timeout for the case that needs one alone: the others end by
		// themselves, however slow the machine.
		f := &crawl.Fetcher{}
		if tc.kind == "timeout" {
			f.Timeout = 50 * time.Millisecond
		}
		resp, err := fetchOnce(t, f, tc.url, nil)
		if err == nil {
			t.Errorf("Fetch %s = %d, want an error of kind %q", tc.url, resp.Status, tc.kind)
			continue
		}
		if k := crawl.Kind(err); k != tc.kind {
			t.Errorf("Fetch %s: Kind(%v) = %q, want %q", tc.url, err, k, tc.kind)
		}
		t.Logf("%s: %v", tc.kind, err)
	}
}

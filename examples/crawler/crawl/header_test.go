package crawl_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/scheduler"
)

// fetchPeer fetches http://peer.test/ with f on a loop of its own (f dials
// what the test gave it) and returns what Fetch returned, the body read.
func fetchPeer(t *testing.T, f *crawl.Fetcher) (status int, body string, err error) {
	t.Helper()
	resp, err := fetchOnce(t, f, "http://peer.test/", nil)
	if err != nil {
		return 0, "", err
	}
	defer resp.Release()
	return resp.Status, string(resp.Body), nil
}

// checkHeaderTooLarge fails t unless err is a fetch's error for a header
// over its limit, with a short message.
func checkHeaderTooLarge(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, crawl.ErrHeaderTooLarge) || crawl.Kind(err) != "header too large" {
		t.Fatalf("Fetch = %v (kind %q); want ErrHeaderTooLarge, of kind \"header too large\"", err, crawl.Kind(err))
	}
	if n := len(err.Error()); n > 500 {
		t.Errorf("the error's text is %d bytes long; want a few hundred at most", n)
	}
}

func TestFetchFailsOnEndlessResponseHeaders(t *testing.T) {
	for _, tc := range []struct{ name, head, chunk string }{
		{"OneEndlessLine", "HTTP/1.1 200 OK\r\nX-Endless: ", strings.Repeat("a", 4096)},
		{"EndlessShortLines", "HTTP/1.1 200 OK\r\n", strings.Repeat("X-Line: a\r\n", 400)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// The default limit, with no Timeout: the limit alone ends it.
			f := &crawl.Fetcher{}
			dialFlood(t, f, tc.head, tc.chunk)
			_, _, err := fetchPeer(t, f)
			checkHeaderTooLarge(t, err)
			if !strings.Contains(err.Error(), fmt.Sprint(crawl.DefaultMaxResponseHeaderBytes)) {
				t.Errorf("the error %q does not say the limit, %d bytes", err, crawl.DefaultMaxResponseHeaderBytes)
			}
		})
	}
}

func TestFetchBoundsTheResponseHeaderToMaxResponseHeaderBytes(t *testing.T) {
	const header = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 5\r\n\r\n"
	for _, tc := range []struct {
		limit int64
		ok    bool
	}{{int64(len(header)), true}, {int64(len(header)) - 1, false}} {
		t.Run(fmt.Sprint(tc.limit), func(t *testing.T) {
			f := &crawl.Fetcher{MaxResponseHeaderBytes: tc.limit}
			dialPeers(t, f, header+"hello")
			status, body, err := fetchPeer(t, f)
			if !tc.ok {
				checkHeaderTooLarge(t, err)
				return
			}
			if err != nil || status != 200 || body != "hello" {
				t.Errorf("Fetch with a header of %d bytes, limit %d = %d %q, %v; want the 200",
					len(header), tc.limit, status, body, err)
			}
		})
	}
	t.Run("Negative", func(t *testing.T) {
		f := &crawl.Fetcher{MaxResponseHeaderBytes: -1}
		dialPeers(t, f, header+"hello")
		if _, _, err := fetchPeer(t, f); err == nil || !strings.Contains(err.Error(), "MaxResponseHeaderBytes") {
			t.Errorf("Fetch with MaxResponseHeaderBytes -1 = %v; want an error naming the field", err)
		}
	})
}

// An endlessConn is a connection whose reads never wait, as a socket's
// never do while a server keeps bytes coming: a response header, then body
// bytes without end. It keeps a read deadline as ioco's conns do: a read
// made once it has passed on the loop's clock fails. Writes go nowhere.
type endlessConn struct {
	net.Conn
	loop     *scheduler.Loop
	deadline time.Time
	header   string
	served   int64 // bytes read
}

func (c *endlessConn) Read(p []byte) (int, error) {
	if !c.deadline.IsZero() && !c.loop.Now().Before(c.deadline) {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	if c.header != "" {
		n := copy(p, c.header)
		c.header = c.header[n:]
		c.served += int64(n)
		return n, nil
	}
	for i := range p {
		p[i] = 'a'
	}
	c.served += int64(len(p))
	return len(p), nil
}

func (c *endlessConn) SetDeadline(t time.Time) error     { c.deadline = t; return nil }
func (c *endlessConn) SetReadDeadline(t time.Time) error { c.deadline = t; return nil }
func (*endlessConn) Write(p []byte) (int, error)         { return len(p), nil }
func (*endlessConn) Close() error                        { return nil }
func (*endlessConn) RemoteAddr() net.Addr                { return &net.TCPAddr{} }
func (*endlessConn) LocalAddr() net.Addr                 { return &net.TCPAddr{} }
func (*endlessConn) SetWriteDeadline(time.Time) error    { return nil }

func TestFetchEndsByItsDeadlineWhileBytesKeepComing(t *testing.T) {
	// No read waits, where a task hears of its context's end, and the
	// body's cap is far off: the fetch's deadline must end it all the
	// same, long before the cap.
	const maxBody = 256 << 20
	f := &crawl.Fetcher{Timeout: 10 * time.Millisecond, MaxBody: maxBody}
	var conns []*endlessConn
	crawl.DialWith(f, func(ctx context.Context, _, _ string) (net.Conn, error) {
		c := &endlessConn{loop: scheduler.LoopOf(ctx), header: "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n"}
		conns = append(conns, c)
		return c, nil
	})
	var err error
	run(t, func(ctx context.Context) error {
		defer f.Close()
		_, err = f.Fetch(ctx, parse(t, "http://peer.test/"), nil)
		return nil
	})
	if !errors.Is(err, os.ErrDeadlineExceeded) || crawl.Kind(err) != "timeout" {
		t.Fatalf("Fetch = %v (kind %q); want a timeout", err, crawl.Kind(err))
	}
	if len(conns) != 1 {
		t.Fatalf("%d connections made, want 1", len(conns))
	}
	if n := conns[0].served; n >= maxBody {
		t.Errorf("the fetch read %d bytes; want fewer than the cap, %d", n, maxBody)
	}
}

func TestFetchCallsATimeoutInTheHeaderATimeout(t *testing.T) {
	// A deadline that passes when part of a line has come: bufio hands
	// the part to net/http as a whole line, which it cannot parse.
	for _, tc := range []struct{ name, sent string }{
		{"StatusLine", "HTTP/"},
		{"HeaderLine", "HTTP/1.1 200 OK\r\nContent-Len"},
		{"HeaderValue", "HTTP/1.1 200 OK\r\nContent-Length: 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &crawl.Fetcher{Timeout: 50 * time.Millisecond}
			dialPeers(t, f, tc.sent)
			status, body, err := fetchPeer(t, f)
			if !errors.Is(err, os.ErrDeadlineExceeded) || crawl.Kind(err) != "timeout" {
				t.Errorf("Fetch of a server that sent %q and no more = %d %q, %v (kind %q); want a timeout",
					tc.sent, status, body, err, crawl.Kind(err))
			}
		})
	}
}

func TestFetchCallsAHeaderCutShortAConnectionClosed(t *testing.T) {
	f := &crawl.Fetcher{}
	p := dialPeers(t, f, "HTTP/1.1 200 OK\r\nContent-Len")
	p.eof = true
	_, _, err := fetchPeer(t, f)
	if k := crawl.Kind(err); k != "connection closed" {
		t.Errorf("Fetch of a header cut short by the end of file = %v (kind %q); want kind \"connection closed\"", err, k)
	}
}

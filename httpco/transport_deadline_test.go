package httpco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/scheduler"
)

// A floodConn is a server that never stops sending: a response header,
// then body bytes for as long as it is read. Its reads never wait, as a
// socket's never do while a server keeps up, and they keep deadlines as
// ioco's conns do: a read made once the read deadline has passed on the
// loop's clock fails with os.ErrDeadlineExceeded. Writes go nowhere.
type floodConn struct {
	net.Conn
	loop     *scheduler.Loop
	header   string
	deadline time.Time
}

func (c *floodConn) Read(p []byte) (int, error) {
	if !c.deadline.IsZero() && !c.loop.Now().Before(c.deadline) {
		return 0, &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	}
	if c.header != "" {
		n := copy(p, c.header)
		c.header = c.header[n:]
		return n, nil
	}
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func (c *floodConn) SetDeadline(t time.Time) error     { c.deadline = t; return nil }
func (c *floodConn) SetReadDeadline(t time.Time) error { c.deadline = t; return nil }
func (*floodConn) SetWriteDeadline(time.Time) error    { return nil }
func (*floodConn) Write(p []byte) (int, error)         { return len(p), nil }
func (*floodConn) Close() error                        { return nil }
func (*floodConn) RemoteAddr() net.Addr                { return &net.TCPAddr{} }
func (*floodConn) LocalAddr() net.Addr                 { return &net.TCPAddr{} }

func TestTransportEndsAtTheContextDeadlineWhileBytesKeepComing(t *testing.T) {
	// The body never ends and no read waits, so the task never parks and
	// the context's end never reaches it: only the connection's deadline,
	// which the Transport takes from the context, stops the read. Without
	// it the read goes on to the limit, 256 MiB.
	const limit = 256 << 20
	tr := &httpco.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
		return &floodConn{loop: scheduler.LoopOf(ctx), header: "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"}, nil
	}}
	var n int64
	var err error
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		ctx, cancel := scheduler.WithTimeout(ctx, 20*time.Millisecond)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://flood.test/", nil)
		var resp *http.Response
		if resp, err = client.Do(req); err != nil {
			return // the deadline met the header: a timeout too
		}
		defer resp.Body.Close()
		n, err = io.Copy(io.Discard, io.LimitReader(resp.Body, limit))
	})
	var nerr net.Error
	if !errors.As(err, &nerr) || !nerr.Timeout() || n >= limit {
		t.Fatalf("reading a body that never ends, with a deadline: %d bytes, %v; want a timeout before the limit", n, err)
	}
}

func TestTransportFailsWithTheContextsCause(t *testing.T) {
	// The server answers no request; the request's context is cancelled
	// with a cause once the request is written, from the trace's hook.
	release := make(chan struct{})
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	defer close(release) // before the server's Close, registered earlier
	cause := errors.New("the test lost interest")
	var err error
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		ctx, cancel := context.WithCancelCause(ctx)
		defer cancel(nil)
		ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
			WroteRequest: func(httptrace.WroteRequestInfo) { cancel(cause) },
		})
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		var resp *http.Response
		if resp, err = client.Do(req); err == nil {
			resp.Body.Close()
		}
	})
	if !errors.Is(err, cause) {
		t.Fatalf("Do with a context cancelled with a cause = %v; want the cause", err)
	}
	// Cancelled before the request: the cause too.
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		ctx, cancel := context.WithCancelCause(ctx)
		cancel(cause)
		_, err = getBody(ctx, client, srv.URL)
	})
	if !errors.Is(err, cause) {
		t.Fatalf("Do with a context cancelled with a cause before = %v; want the cause", err)
	}
}

// A cutConn sends sent and then fails every read with err, as a server
// that stopped in the middle of a header (io.EOF) or a deadline that
// passed there would. Writes go nowhere.
type cutConn struct {
	net.Conn
	sent string
	err  error
}

func (c *cutConn) Read(p []byte) (int, error) {
	if c.sent == "" {
		return 0, c.err
	}
	n := copy(p, c.sent)
	c.sent = c.sent[n:]
	return n, nil
}

func (*cutConn) SetDeadline(time.Time) error      { return nil }
func (*cutConn) SetReadDeadline(time.Time) error  { return nil }
func (*cutConn) SetWriteDeadline(time.Time) error { return nil }
func (*cutConn) Write(p []byte) (int, error)      { return len(p), nil }
func (*cutConn) Close() error                     { return nil }
func (*cutConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (*cutConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }

func TestTransportReportsTheReadErrorThatCutAHeaderShort(t *testing.T) {
	// bufio hands a line cut short by an error to net/http as a whole
	// one: "HTTP/" would be a malformed response, where the server hung
	// up or the deadline passed.
	timeout := &net.OpError{Op: "read", Net: "tcp", Err: os.ErrDeadlineExceeded}
	for _, tc := range []struct {
		name, sent string
		err, want  error
	}{
		{"EOFInStatusLine", "HTTP/", io.EOF, io.ErrUnexpectedEOF},
		{"EOFInHeaderLine", "HTTP/1.1 200 OK\r\nContent-Len", io.EOF, io.ErrUnexpectedEOF},
		{"EOFBeforeAnything", "", io.EOF, io.EOF},
		{"TimeoutInStatusLine", "HTTP/", timeout, os.ErrDeadlineExceeded},
		{"TimeoutInHeaderValue", "HTTP/1.1 200 OK\r\nContent-Length: 1", timeout, os.ErrDeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := &httpco.Transport{DialContext: func(context.Context, string, string) (net.Conn, error) {
				return &cutConn{sent: tc.sent, err: tc.err}, nil
			}}
			var err error
			onLoop(t, tr, func(ctx context.Context, client *http.Client) {
				_, err = getBody(ctx, client, "http://cut.test/")
			})
			if !errors.Is(err, tc.want) {
				t.Errorf("GET from a server that sent %q, then %v: %v; want %v", tc.sent, tc.err, err, tc.want)
			}
		})
	}
}

func TestTransportResponseCarriesTheRequestGiven(t *testing.T) {
	// The Transport writes a copy that asks for gzip: the response's
	// Request is the caller's all the same, as with net/http.
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
		resp, err := client.Transport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.Request != req {
			t.Errorf("resp.Request = %p, want the request given, %p", resp.Request, req)
		}
	})
}

func TestTransportLeavesAWallClockDeadlineOffAVirtualClock(t *testing.T) {
	// A day of virtual time has passed: Client.Timeout's deadline, on the
	// wall clock, is no time of the loop's, and must not end the request.
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		if err := scheduler.Sleep(ctx, 24*time.Hour); err != nil {
			t.Fatal(err)
		}
		client.Timeout = 30 * time.Second
		if body, err := getBody(ctx, client, srv.URL); body != "ok" || err != nil {
			t.Errorf("GET with Client.Timeout after a virtual day: %q, %v; want ok", body, err)
		}
	}, scheduler.WithVirtualClock())
}

func TestTransportKeepsTheConnectionOfARequestWhoseDeadlinePassedBeforeItWent(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	onLoop(t, httpco.NewTransport(), func(ctx context.Context, client *http.Client) {
		if body, err := getBody(ctx, client, srv.URL); body != "ok" || err != nil {
			t.Fatalf("first GET: %q, %v", body, err)
		}
		late, cancel := scheduler.WithTimeout(ctx, time.Millisecond)
		defer cancel()
		// The deadline passes with no park, so the loop has not ended
		// the context yet when the request is made.
		for deadline, _ := late.Deadline(); scheduler.Now(ctx).Before(deadline); {
		}
		if _, err := getBody(late, client, srv.URL); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("GET after its deadline: %v; want a timeout", err)
		}
		if body, err := getBody(ctx, client, srv.URL); body != "ok" || err != nil {
			t.Errorf("GET after: %q, %v", body, err)
		}
	})
	if n := conns.Load(); n != 1 {
		t.Errorf("the server saw %d connections, want 1: the late request neither dialed nor spoilt the kept one", n)
	}
}

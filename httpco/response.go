package httpco

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"strconv"
	"time"

	"golang.org/x/net/http/httpguts"

	"github.com/evergo/evergo/scheduler"
)

// A response is the http.ResponseWriter of one request. The header goes
// out (is committed) at the first Flush, once the handler has written
// more than bufferLimit bytes, or as the handler returns; until then the
// body is kept, so that a small response gets a Content-Length.
type response struct {
	cn        *conn
	req       *http.Request
	header    http.Header
	status    int  // 0 until WriteHeader
	committed bool // the header is in cn.bw
	chunked   bool // the body goes out chunked
	cw        io.WriteCloser
	body      []byte // kept until committed
	written   int64  // body bytes the handler wrote
	declared  int64  // the Content-Length the handler set; -1: none
	close     bool   // close the connection after this response
	continued bool   // "100 Continue" was sent, or is not wanted
	readBody  bool   // the handler read from the body
	returned  bool   // the handler returned: Write, Flush and Hijack refuse
	hijacked  *hijackedConn
}

// bufferLimit is how much of a body is kept before the header goes out:
// a response no longer than that gets a Content-Length (net/http's 2048).
const bufferLimit = 2048

func newResponse(cn *conn, req *http.Request) *response {
	w := &response{cn: cn, req: req, header: make(http.Header), declared: -1, body: cn.body[:0]}
	w.close = req.Close || !req.ProtoAtLeast(1, 1) && !keepAlive(req)
	return w
}

// keepAlive reports an HTTP/1.0 request's "Connection: keep-alive".
func keepAlive(req *http.Request) bool {
	for _, v := range req.Header["Connection"] {
		if v == "keep-alive" || v == "Keep-Alive" {
			return true
		}
	}
	return false
}

// expect handles the request's Expect header: "100-continue" is answered
// when the handler first reads the body, anything else with 417. It
// reports whether the handler may run.
func (w *response) expect() bool {
	ex := w.req.Header.Get("Expect")
	w.continued = ex == ""
	switch {
	case ex == "":
	case ex == "100-continue" && w.req.ProtoAtLeast(1, 1) && w.req.ContentLength != 0:
		w.req.Body = &continueReader{w: w, r: w.req.Body}
	case ex == "100-continue":
		w.continued = true
	default:
		w.cn.reject(statusError{http.StatusExpectationFailed, ""})
		return false
	}
	return true
}

// continueReader sends "100 Continue" before the first read of the body.
type continueReader struct {
	w *response
	r io.ReadCloser
}

func (c *continueReader) Read(p []byte) (int, error) {
	if w := c.w; !w.continued {
		w.continued = true
		if !w.committed {
			w.cn.bw.WriteString("HTTP/1.1 100 Continue\r\n\r\n")
			if err := w.cn.bw.Flush(); err != nil {
				return 0, err
			}
		}
	}
	c.w.readBody = true
	return c.r.Read(p)
}

func (c *continueReader) Close() error { return c.r.Close() }

// Header returns the header to be sent. Never parks.
func (w *response) Header() http.Header { return w.header }

// WriteHeader sets the status, as net/http's: once; 1xx statuses other
// than 101 go out at once and may be followed by others. Never parks
// (a 1xx one may park the task to write it).
func (w *response) WriteHeader(code int) {
	if w.hijacked != nil || w.status != 0 || w.committed {
		return // superfluous, as net/http's (which logs it)
	}
	if code < 100 || code > 999 {
		panic("httpco: invalid WriteHeader code " + strconv.Itoa(code))
	}
	if code >= 100 && code <= 199 && code != http.StatusSwitchingProtocols {
		w.cn.bw.WriteString("HTTP/1.1 " + strconv.Itoa(code) + " " + http.StatusText(code) + "\r\n")
		w.header.Write(w.cn.bw)
		w.cn.bw.WriteString("\r\n")
		w.cn.bw.Flush()
		return
	}
	w.status = code
	if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.declared = n
		} else {
			w.header.Del("Content-Length") // as net/http: an invalid one is dropped
		}
	}
}

// bodyAllowed reports whether the status lets a response have a body.
func bodyAllowed(code int) bool {
	return code >= 200 && code != http.StatusNoContent && code != http.StatusNotModified
}

// Write writes body bytes, as net/http's. After the handler has returned
// it fails with ErrHandlerReturned (a task the handler started may still
// hold w). May park the calling task.
func (w *response) Write(p []byte) (int, error) {
	if w.hijacked != nil {
		return 0, http.ErrHijacked
	}
	if w.returned {
		return 0, ErrHandlerReturned
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if !bodyAllowed(w.status) {
		return 0, http.ErrBodyNotAllowed
	}
	w.written += int64(len(p))
	if w.declared >= 0 && w.written > w.declared {
		return 0, http.ErrContentLength
	}
	if !w.committed {
		if len(w.body)+len(p) <= bufferLimit {
			w.body = append(w.body, p...)
			return len(p), nil
		}
		if err := w.commit(false); err != nil {
			return 0, err
		}
	}
	return w.writeBody(p)
}

// WriteString is Write of a string, for io.WriteString.
func (w *response) WriteString(s string) (int, error) { return w.Write([]byte(s)) }

func (w *response) writeBody(p []byte) (int, error) {
	if w.req.Method == http.MethodHead {
		return len(p), nil
	}
	if w.chunked {
		return w.cw.Write(p)
	}
	return w.cn.writeAfter(p)
}

// commit writes the status line and the header, then the body kept so
// far. final says that the handler has returned: the body is complete.
//
// Budget: BenchmarkHelloHttpco's allocations. What the server adds to the
// handler's header (Date, Content-Length, Content-Type, Transfer-Encoding,
// Connection) is written after it rather than stored in it: a map entry
// costs an allocation for its value, and the map may grow.
func (w *response) commit(final bool) error {
	if w.status == 0 {
		w.WriteHeader(http.StatusOK) // reads a Content-Length the handler set
	}
	w.committed = true
	h := w.header
	has := func(k string) bool { _, ok := h[k]; return ok }
	allowed := bodyAllowed(w.status)
	length, chunked := -1, false // what goes out besides h
	if _, ok := h["Content-Length"]; ok && w.declared < 0 {
		// Set after WriteHeader, it is not enforced, and so not sent: the
		// body is framed otherwise (net/http would not send it either).
		delete(h, "Content-Length")
	}
	switch {
	case !allowed:
		h.Del("Content-Length")
		h.Del("Transfer-Encoding")
	case w.declared >= 0:
		// The length declared at WriteHeader is the one enforced: a
		// field changed since (net/http would not send the change) must
		// not announce another.
		if cl := h["Content-Length"]; len(cl) != 1 || !isLength(cl[0], w.declared) {
			h.Set("Content-Length", strconv.FormatInt(w.declared, 10))
		}
	case final && (w.req.Method != http.MethodHead || len(w.body) > 0):
		length = len(w.body)
	case final:
	case w.req.ProtoAtLeast(1, 1) && !has("Transfer-Encoding"):
		chunked = true
		w.chunked = w.req.Method != http.MethodHead
	default:
		w.close = true // HTTP/1.0: the body ends with the connection
	}
	ctype := ""
	if allowed && !has("Content-Type") && len(w.body) > 0 && !has("Content-Encoding") {
		ctype = http.DetectContentType(w.body)
	}
	if w.cn.s.inShutdown || httpguts.HeaderValuesContainsToken(h["Connection"], "close") {
		w.close = true
	}
	connection := ""
	switch {
	case w.close && !has("Connection"):
		connection = "close"
	case w.close:
		h.Set("Connection", "close") // over the handler's other value
	case !w.req.ProtoAtLeast(1, 1) && !has("Connection"):
		connection = "keep-alive"
	}

	bw := w.cn.bw
	bw.WriteString("HTTP/1.1 ")
	bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(w.status), 10))
	bw.WriteString(" ")
	bw.WriteString(http.StatusText(w.status))
	bw.WriteString("\r\n")
	if err := h.Write(bw); err != nil {
		return err
	}
	if !has("Date") {
		writeField(bw, "Date", w.cn.s.date())
	}
	if length >= 0 {
		bw.WriteString("Content-Length: ")
		bw.Write(strconv.AppendInt(bw.AvailableBuffer(), int64(length), 10))
		bw.WriteString("\r\n")
	}
	if ctype != "" {
		writeField(bw, "Content-Type", ctype)
	}
	if chunked {
		writeField(bw, "Transfer-Encoding", "chunked")
	}
	if connection != "" {
		writeField(bw, "Connection", connection)
	}
	bw.WriteString("\r\n")
	if w.chunked {
		w.cw = httputil.NewChunkedWriter(bw)
	}
	if len(w.body) > 0 {
		_, err := w.writeBody(w.body)
		w.body = w.body[:0]
		return err
	}
	return nil
}

// isLength reports whether s is the decimal form of n.
func isLength(s string, n int64) bool {
	v, err := strconv.ParseInt(s, 10, 64)
	return err == nil && v == n
}

// writeField writes one header field, whose value is valid.
func writeField(bw *bufio.Writer, key, value string) {
	bw.WriteString(key)
	bw.WriteString(": ")
	bw.WriteString(value)
	bw.WriteString("\r\n")
}

// Flush sends the header and what was written so far. May park the
// calling task.
func (w *response) Flush() { w.FlushError() }

// FlushError is Flush with its error, for http.ResponseController. May
// park the calling task.
func (w *response) FlushError() error {
	if w.hijacked != nil {
		return http.ErrHijacked
	}
	if w.returned {
		return ErrHandlerReturned
	}
	if w.status == 0 {
		w.WriteHeader(http.StatusOK)
	}
	if !w.committed {
		if err := w.commit(false); err != nil {
			return err
		}
	}
	return w.cn.bw.Flush()
}

// SetReadDeadline moves the connection's read deadline, for
// http.ResponseController. Never parks.
func (w *response) SetReadDeadline(t time.Time) error { return w.cn.c.SetReadDeadline(t) }

// SetWriteDeadline moves the connection's write deadline, for
// http.ResponseController. Never parks.
func (w *response) SetWriteDeadline(t time.Time) error { return w.cn.c.SetWriteDeadline(t) }

// finish completes the response after the handler returned, and drains
// what the handler left of the request's body. It reports whether the
// connection may serve another request.
func (w *response) finish() bool {
	if w.hijacked != nil {
		return false
	}
	if !w.committed {
		if err := w.commit(true); err != nil {
			return false
		}
	}
	if w.chunked {
		w.cw.Close() // the last chunk; no trailers
		w.cn.bw.WriteString("\r\n")
	}
	if w.declared >= 0 && w.written < w.declared && w.req.Method != http.MethodHead {
		w.close = true // the body is short: the client cannot tell where it ends
	}
	if err := w.cn.bw.Flush(); err != nil {
		return false
	}
	if w.close {
		return false
	}
	if !w.continued && !w.readBody {
		return false // the client may still be waiting to send the body
	}
	if w.req.Body == http.NoBody {
		return !w.cn.s.inShutdown
	}
	n, err := io.CopyN(io.Discard, w.req.Body, maxDrain+1)
	return n <= maxDrain && (err == io.EOF || err == nil && n == 0) && !w.cn.s.inShutdown
}

// Hijack hands the connection over to the handler, as net/http's: a
// header whose status WriteHeader set is sent first, and then the server
// writes nothing more on it, and the handler (or the tasks it hands
// the connection to) closes it. The returned reader holds what the client
// sent beyond the request. Its task serves nothing else until the
// connection is closed: Shutdown waits for that, and kills the task that
// waits if its ctx ends first. May park the calling task, to send what
// went before it.
func (w *response) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if w.hijacked != nil {
		return nil, nil, http.ErrHijacked
	}
	if w.returned {
		return nil, nil, ErrHandlerReturned
	}
	if w.status != 0 && !w.committed {
		// As net/http's: a status set by WriteHeader goes out, with its
		// header (a "101 Switching Protocols", a proxy's "200" to a
		// CONNECT); body bytes kept so far do not.
		w.body = w.body[:0]
		if err := w.commit(false); err != nil {
			return nil, nil, err
		}
	}
	if w.committed {
		if err := w.cn.bw.Flush(); err != nil {
			return nil, nil, err
		}
	}
	w.hijacked = &hijackedConn{Conn: w.cn.c}
	w.cn.hj = w.hijacked
	w.cn.c.SetDeadline(time.Time{})
	return w.hijacked, bufio.NewReadWriter(w.cn.br, w.cn.bw), nil
}

// A hijackedConn is a connection the handler took over: its Close wakes
// the connection's task, which waits for it.
type hijackedConn struct {
	net.Conn
	closed bool
	waiter *scheduler.Task
}

func (c *hijackedConn) Close() error {
	err := c.Conn.Close()
	if !c.closed {
		c.closed = true
		if c.waiter != nil {
			c.waiter.Wake()
		}
	}
	return err
}

// wait parks the connection's task until the hijacked connection is
// closed.
func (c *hijackedConn) wait(ctx context.Context) {
	if c.closed {
		return
	}
	c.waiter = scheduler.Current(ctx)
	for !c.closed {
		if err := scheduler.Park(ctx, "httpco: hijacked connection"); err != nil {
			return
		}
	}
}

package httpco

import (
	"io"
	"net"
)

// A connWriter is what a connection's bufio.Writer writes to: the conn,
// and, while a body too big for the buffer waits to follow what the buffer
// holds (a response's header), the two together in one WriteBuffers, one
// system call where they would take two (ioco's conns have it).
type connWriter struct {
	c    net.Conn
	bufs interface { // c, if it writes several buffers at once
		WriteBuffers(net.Buffers) (int64, error)
	}
	tail     []byte      // set by writeAfter for the length of its Flush
	tailSent int         // how much of tail went out
	v        net.Buffers // the pair handed to WriteBuffers, kept to spare an allocation
}

func newConnWriter(c net.Conn) *connWriter {
	w := &connWriter{c: c, v: make(net.Buffers, 2)}
	if b, ok := c.(interface {
		WriteBuffers(net.Buffers) (int64, error)
	}); ok {
		w.bufs = b
	}
	return w
}

// Write writes p, then tail if one is set.
func (w *connWriter) Write(p []byte) (int, error) {
	if w.tail == nil {
		return w.c.Write(p)
	}
	w.v[0], w.v[1] = p, w.tail
	n, err := w.bufs.WriteBuffers(w.v)
	w.v[0], w.v[1] = nil, nil
	if n > int64(len(p)) {
		w.tailSent = int(n) - len(p)
		n = int64(len(p))
	}
	return int(n), err
}

// writeAfter writes p after what bw holds. When p does not fit in bw and
// the conn writes several buffers at once, the two go out together, and p
// is not copied; otherwise bw takes p as usual. May park the calling task.
func (cn *conn) writeAfter(p []byte) (int, error) {
	// Budget: internal/bench/http's 16k case, one sendmsg per response
	// where bufio makes two sendtos (its 4 KiB buffer, then the rest).
	bw, cw := cn.bw, cn.cw
	if cw.bufs == nil || bw.Buffered() == 0 || len(p) <= bw.Available() {
		return bw.Write(p)
	}
	cw.tail = p
	err := bw.Flush()
	n := cw.tailSent
	cw.tail, cw.tailSent = nil, 0
	if err == nil && n < len(p) {
		err = io.ErrShortWrite
	}
	return n, err
}

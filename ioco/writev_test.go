package ioco_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// WriteBuffers writes many buffers, empty ones among them and more than
// one system call takes, each byte once and in order, parking while the
// socket is full; the buffers are left as they were.
func TestWriteBuffersWritesEveryBufferInOrderAndParks(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		defer c.Close()
		var v net.Buffers
		var want []byte
		for i := range 20 {
			b := bytes.Repeat([]byte{byte('a' + i)}, (i%4)*300<<10) // 0, 300 KiB, 600 KiB, 900 KiB
			v = append(v, b)
			want = append(want, b...)
		}
		lens := make([]int, len(v))
		for i, b := range v {
			lens[i] = len(b)
		}
		reader, _ := scheduler.Spawn(ctx, "reader", func(ctx context.Context) error {
			got := make([]byte, len(want))
			if _, err := io.ReadFull(c, got); err != nil {
				return err
			}
			if !bytes.Equal(got, want) {
				t.Error("the bytes read back differ from the buffers' concatenation")
			}
			return nil
		})
		n, err := c.(*ioco.TCPConn).WriteBuffers(v)
		if n != int64(len(want)) || err != nil {
			t.Errorf("WriteBuffers = %d, %v; want %d, nil", n, err, len(want))
		}
		for i, b := range v {
			if len(b) != lens[i] {
				t.Errorf("buffer %d has %d bytes after the write, want %d: it was consumed", i, len(b), lens[i])
			}
		}
		return reader.Join(ctx)
	})
}

// WriteBuffers fails as Write does: after the deadline, and on a closed
// conn.
func TestWriteBuffersFailsAsWriteDoes(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		tc := c.(*ioco.TCPConn)
		tc.SetWriteDeadline(time.Unix(1, 0))
		if _, err := tc.WriteBuffers(net.Buffers{[]byte("x")}); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("after the deadline: %v, want os.ErrDeadlineExceeded", err)
		}
		tc.Close()
		if _, err := tc.WriteBuffers(net.Buffers{[]byte("x")}); !errors.Is(err, net.ErrClosed) {
			t.Errorf("on a closed conn: %v, want net.ErrClosed", err)
		}
		return nil
	})
}

// A Unix stream conn has it too, and nothing to write writes nothing.
func TestUnixConnWriteBuffers(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		path := t.TempDir() + "/s"
		ln, err := ioco.Listen(ctx, "unix", path)
		if err != nil {
			return err
		}
		defer ln.Close()
		accepted, _ := scheduler.Spawn(ctx, "accept", func(ctx context.Context) error {
			s, err := ln.Accept()
			if err != nil {
				return err
			}
			defer s.Close()
			got, err := io.ReadAll(s)
			if string(got) != "header;body" {
				t.Errorf("read %q, %v; want header;body", got, err)
			}
			return nil
		})
		c, err := ioco.Dial(ctx, "unix", path)
		if err != nil {
			return err
		}
		uc := c.(*ioco.UnixConn)
		if n, err := uc.WriteBuffers(nil); n != 0 || err != nil {
			t.Errorf("WriteBuffers(nil) = %d, %v; want 0, nil", n, err)
		}
		if n, err := uc.WriteBuffers(net.Buffers{[]byte("header;"), nil, []byte("body")}); n != 11 || err != nil {
			t.Errorf("WriteBuffers = %d, %v; want 11, nil", n, err)
		}
		uc.Close()
		return accepted.Join(ctx)
	})
}

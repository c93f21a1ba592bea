package ioco_test

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// onUnixPair runs fn in a task of a new loop with the two ends of a
// connected Unix stream socket pair, closed when fn returns.
func onUnixPair(t *testing.T, fn func(ctx context.Context, a, b *ioco.UnixConn) error) {
	t.Helper()
	runLoop(t, func(ctx context.Context) error {
		mine, theirs := socketFiles(t)
		ca, cb, err := fileConns(ctx, mine, theirs)
		mine.Close()
		theirs.Close()
		if err != nil {
			return err
		}
		defer ca.Close()
		defer cb.Close()
		return fn(ctx, ca.(*ioco.UnixConn), cb.(*ioco.UnixConn))
	})
}

// receiveFDs reads one message from c and returns its data and the
// descriptors it carried.
func receiveFDs(t *testing.T, c *ioco.UnixConn) (string, []int) {
	t.Helper()
	b, oob := make([]byte, 64), make([]byte, unix.CmsgSpace(4*4))
	n, oobn, flags, _, err := c.ReadMsgUnix(b, oob)
	if err != nil || flags&unix.MSG_CTRUNC != 0 {
		t.Fatalf("ReadMsgUnix = %d, %d, flags %#x, %v", n, oobn, flags, err)
	}
	msgs, err := unix.ParseSocketControlMessage(oob[:oobn])
	if err != nil {
		t.Fatal(err)
	}
	var fds []int
	for _, m := range msgs {
		got, err := unix.ParseUnixRights(&m)
		if err != nil {
			t.Fatal(err)
		}
		fds = append(fds, got...)
	}
	return string(b[:n]), fds
}

func TestUnixConnHandsAListeningSocketToAnotherHolder(t *testing.T) {
	// What a supervisor does for its workers: the listener goes over a
	// Unix socket, and the receiver serves on it with FileListener. A
	// client dialing the original address reaches the receiver.
	before := openFDs(t)
	onUnixPair(t, func(ctx context.Context, a, b *ioco.UnixConn) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		lnFile, err := ln.(interface{ File() (*os.File, error) }).File()
		if err != nil {
			ln.Close()
			return err
		}
		n, oobn, err := a.WriteMsgUnix([]byte("listener"), unix.UnixRights(int(lnFile.Fd())), nil)
		lnFile.Close()
		addr := ln.Addr().String()
		ln.Close() // the receiver's copy stays open
		if err != nil || n != len("listener") || oobn == 0 {
			t.Fatalf("WriteMsgUnix = %d, %d, %v", n, oobn, err)
		}
		data, fds := receiveFDs(t, b)
		if data != "listener" || len(fds) != 1 {
			t.Fatalf("received %q with %d descriptors, want the listener's one", data, len(fds))
		}
		if fl, err := unix.FcntlInt(uintptr(fds[0]), unix.F_GETFD, 0); err != nil || fl&unix.FD_CLOEXEC == 0 {
			t.Errorf("the received descriptor's flags %#x, %v: want close-on-exec", fl, err)
		}
		received := os.NewFile(uintptr(fds[0]), "received")
		adopted, err := ioco.FileListener(ctx, received)
		received.Close()
		if err != nil {
			return err
		}
		defer adopted.Close()
		if _, err := scheduler.Spawn(ctx, "client", func(ctx context.Context) error {
			c, err := ioco.Dial(ctx, "tcp", addr)
			if err != nil {
				return err
			}
			defer c.Close()
			_, err = io.WriteString(c, "hello")
			return err
		}); err != nil {
			return err
		}
		c, err := adopted.Accept()
		if err != nil {
			return err
		}
		defer c.Close()
		got, err := io.ReadAll(c)
		if string(got) != "hello" || err != nil {
			t.Errorf("on the handed-over listener: %q, %v; want hello", got, err)
		}
		return nil
	})
	if n := openFDs(t); n != before {
		t.Errorf("%d fds open after, %d before", n, before)
	}
}

func TestUnixConnReadMsgTellsOfDescriptorsThatDidNotFit(t *testing.T) {
	onUnixPair(t, func(ctx context.Context, a, b *ioco.UnixConn) error {
		var p [2]int
		if err := unix.Pipe2(p[:], unix.O_CLOEXEC); err != nil {
			return err
		}
		defer unix.Close(p[0])
		defer unix.Close(p[1])
		if _, _, err := a.WriteMsgUnix([]byte("two"), unix.UnixRights(p[0], p[1]), nil); err != nil {
			return err
		}
		buf, oob := make([]byte, 8), make([]byte, unix.CmsgLen(4)) // room for one, and less than two (CmsgSpace rounds up)
		n, _, flags, _, err := b.ReadMsgUnix(buf, oob)
		if err != nil || string(buf[:n]) != "two" || flags&unix.MSG_CTRUNC == 0 {
			t.Errorf("ReadMsgUnix with room for one of two descriptors = %q, flags %#x, %v; want the data and MSG_CTRUNC", buf[:n], flags, err)
		}
		msgs, _ := unix.ParseSocketControlMessage(oob)
		for _, m := range msgs {
			fds, _ := unix.ParseUnixRights(&m)
			for _, fd := range fds {
				unix.Close(fd)
			}
		}
		// The end of the stream, and a message to an address on a
		// connected socket.
		a.Close()
		if _, _, _, _, err := b.ReadMsgUnix(buf, oob); err != io.EOF {
			t.Errorf("ReadMsgUnix after the peer closed = %v, want io.EOF", err)
		}
		if _, _, err := b.WriteMsgUnix([]byte("x"), nil, &net.UnixAddr{Name: "/nowhere", Net: "unix"}); !errors.Is(err, net.ErrWriteToConnected) {
			t.Errorf("WriteMsgUnix to an address = %v, want net.ErrWriteToConnected", err)
		}
		return nil
	})
}

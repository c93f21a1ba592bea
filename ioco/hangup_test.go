package ioco_test

import (
	"context"
	"net"
	"testing"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// OnHangUp tells a server that its client closed the connection, without
// a read; a conn that is not ioco's is refused.
func TestOnHangUpNoticesThePeerClosing(t *testing.T) {
	runLoop(t, func(ctx context.Context) error {
		ln, c := dialEcho(t, ctx)
		defer ln.Close()
		srv, err := ioco.Dial(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return err
		}
		defer srv.Close()
		me := scheduler.Current(ctx)
		gone := false
		if !ioco.OnHangUp(srv, func() { gone = true; me.Wake() }) {
			t.Fatal("OnHangUp refused a TCPConn")
		}
		srv.(*ioco.TCPConn).CloseWrite() // the echo server closes its side in turn
		c.Close()
		if err := scheduler.Park(ctx, "the hang-up"); err != nil {
			return err
		}
		if !gone {
			t.Error("woken without the hang-up")
		}
		a, b := net.Pipe()
		defer a.Close()
		defer b.Close()
		if ioco.OnHangUp(a, func() {}) {
			t.Error("OnHangUp accepted a net.Pipe conn")
		}
		return nil
	})
}

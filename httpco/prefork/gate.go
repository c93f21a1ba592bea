package prefork

import (
	"context"
	"net"
	"time"

	"github.com/evergo/evergo/locks"
	"github.com/evergo/evergo/scheduler"
)

// A gate stands between a loop's listener and its httpco.Server, so that
// a draining worker never closes a connection before answering the first
// request on it.
//
// Why: httpco.Server.Shutdown (rightly, for a kept-alive connection)
// closes at once every connection that waits for a request, the ones just
// accepted included, and a connection whose task had not started when
// Shutdown began is closed unread. A client's first request on a new
// connection is not retried by net/http's Transport (nor by most clients)
// when the connection is closed under it: "the server hung up on a fresh
// connection" is an error, where a kept-alive connection closed while idle
// is retried. net/http's own Shutdown avoids it by treating a new
// connection as idle only after 5 s. So a draining loop first stops
// accepting (the connections still in the kernel's backlog go to the
// other workers, which share the socket), then waits until every
// connection it accepted has brought its first bytes (or closed, or
// newConnGrace passed), and only then calls Shutdown: each of those
// connections is then in a request, answered with "Connection: close".
//
// Everything here runs on the gate's loop: no locks.
type gate struct {
	net.Listener                 // the loop's listener of the inherited socket
	ctx          context.Context // the Serve task's: Accept parks in it once draining
	draining     bool            // drain was called: the listener is closed
	closed       locks.Event     // Close was called (by the Server's Shutdown or Close)
	fresh        int             // accepted connections that brought no byte yet and are open
	settled      locks.Event     // draining and fresh is 0
}

// Accept takes the next connection. Once draining, it parks until Close
// and then fails with net.ErrClosed, so that the Server's Serve ends only
// when its Shutdown has begun. May park the calling task.
func (g *gate) Accept() (net.Conn, error) {
	if !g.draining {
		c, err := g.Listener.Accept()
		if err == nil {
			g.fresh++
			return &freshConn{Conn: c, g: g, fresh: true}, nil
		}
		if !g.draining {
			return nil, err
		}
	}
	g.closed.Wait(g.ctx) // ErrKilled: the task is dying; ErrClosed it is
	return nil, &net.OpError{Op: "accept", Net: g.Addr().Network(), Addr: g.Addr(), Err: net.ErrClosed}
}

// Close closes the listener, if drain has not already, and lets a parked
// Accept return. Never parks.
func (g *gate) Close() error {
	g.closed.Set()
	if g.draining {
		return nil
	}
	g.draining = true
	return g.Listener.Close()
}

// drain stops accepting and waits until every accepted connection has
// brought its first bytes or closed, for at most grace (or until ctx
// ends). May park the calling task.
func (g *gate) drain(ctx context.Context, grace time.Duration) {
	if !g.draining {
		g.draining = true
		g.Listener.Close() // a parked Accept returns net.ErrClosed, and parks in the gate
	}
	if g.fresh == 0 {
		return
	}
	ctx, cancel := scheduler.WithTimeout(ctx, grace)
	defer cancel()
	g.settled.Wait(ctx)
}

// settle counts one fresh connection out.
func (g *gate) settle() {
	if g.fresh--; g.fresh == 0 && g.draining {
		g.settled.Set()
	}
}

// A freshConn tells its gate when its first bytes came.
type freshConn struct {
	net.Conn
	g     *gate
	fresh bool // no byte read yet, and open
}

func (c *freshConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if c.fresh && (n > 0 || err != nil) {
		c.fresh = false
		c.g.settle()
	}
	return n, err
}

func (c *freshConn) Close() error {
	if c.fresh {
		c.fresh = false
		c.g.settle()
	}
	return c.Conn.Close()
}

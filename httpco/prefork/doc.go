// Package prefork runs an HTTP server as Spawning ran eventlet's: a
// supervisor process listens on one socket and keeps N worker processes
// serving it, restarts a worker that dies, and reloads gracefully (new
// workers start serving new requests while the old ones finish theirs
// and exit). Each worker serves with httpco on evergo's loops, one loop
// per core.
//
//	func main() {
//		if prefork.IsWorker() {
//			err := prefork.Serve(context.Background(), mux) // until SIGTERM: drains, returns nil
//			...
//		}
//		s := &prefork.Supervisor{Workers: 2, Addr: ":8080"}
//		err := s.Run(context.Background()) // until SIGTERM or SIGINT: drains the workers, returns nil
//		...
//	}
//
// The same binary plays both parts: the supervisor starts workers by
// running itself again (Supervisor.Command's default) with EnvWorker set.
//
// # The socket
//
// The supervisor listens once, with package net, and hands the socket to
// every worker as fd 3 (exec.Cmd.ExtraFiles). A worker takes it with
// ListenerFile and gives each of its loops a listener of its own with
// ioco.FileListener: all the loops of all the workers accept on one
// socket, with one accept queue. That, rather than SO_REUSEPORT (one
// socket per listener, as examples/echo does), is what makes a reload
// lose nothing: a connection waiting in the queue belongs to no worker,
// so a worker that stops accepting leaves it to the others, and while the
// supervisor lives the socket stays open and connections queue even if
// no worker accepts for a moment. With SO_REUSEPORT, the connections
// queued on a closing socket are reset.
//
// The supervisor's file of the socket is made with os.NewFile, not
// net.TCPListener.File: see socketFile in supervisor.go for the trap
// (os/exec would turn the shared socket blocking at each Start, and a
// worker's loop would then block in accept4).
//
// # Readiness
//
// A worker is up when it says so: it writes one byte to fd 4, the write
// end of a pipe whose read end the supervisor holds. Serve writes it
// (Ready) once every loop has its listener and signal handling is in
// place; a worker that exits or closes fd 4 without writing it was never
// ready. The supervisor does not take Start's return for readiness: a
// reload tells the old workers to drain only after every new one is
// ready, so that some worker accepts at every moment and the accept
// queue never waits on a process that is still starting (or that cannot
// start: a broken new binary leaves the old workers serving).
//
// # Workers
//
// The states of a worker, as the supervisor sees them:
//
//	starting → serving   it wrote its readiness byte
//	starting → exited    it died before: restarted with backoff, if its set still serves
//	serving  → exited    it died unasked (crash, SIGKILL, Serve's error): restarted with backoff,
//	                     if its set still serves
//	starting → draining  SIGTERM sent: a newer set is all ready, a newer reload came, or the
//	serving  → draining  supervisor stops
//	draining → exited    it drained and exited, or was killed with SIGKILL ShutdownTimeout + 5 s
//	                     after SIGTERM; never restarted
//
// Restarts: a worker that exits unasked is started again in its slot
// after 100 ms, then after twice the last delay for each exit that
// follows, at most 10 s; a worker that lived 10 s or more resets the
// delay to 100 ms. A Start that fails (the binary is gone) counts as such
// an exit, except before any worker has ever been ready: then Run stops
// and returns the error.
//
// The workers run in a process group of their own (a terminal's Ctrl-C
// reaches the supervisor only, which drains them in order) and get
// SIGTERM if the supervisor dies (Pdeathsig: Linux, and bound to the
// thread that started them, which Go does not end while the program runs
// unless it was locked to a goroutine that exited).
//
// # Reload
//
// On SIGHUP the supervisor starts a new set of Workers workers, running
// Command anew: by default the executable at the path it was started
// from, so that a binary replaced there (go build -o, then kill -HUP) is
// the new code; `go run` builds to a temporary path and reloads the same
// code. The old set serves on until every new worker is ready, then gets
// SIGTERM. A new worker that dies before it is ready is restarted with
// backoff while the old set serves. A SIGHUP during a reload abandons
// the set not yet all ready (its workers drain) for a newer one; the set
// that serves stays until the newest is ready.
//
// What happens to requests during a reload: a connection queued in the
// socket is accepted by some worker, old or new; a request being served
// by an old worker is answered, with "Connection: close"; a kept-alive
// connection of an old worker waiting for its next request is closed,
// and a client that sends a request on it at that moment sees it closed
// before any response, which net/http's Transport (and most clients)
// retry for idempotent requests on a reused connection; a connection an
// old worker accepted just before draining gets its first request
// answered before it is closed (see Draining). A client of
// kept-alive connections that sends idempotent requests sees no error.
// A non-idempotent request (POST) sent on a kept-alive connection in the
// instant it is closed fails, as with any HTTP/1.1 server that closes
// idle connections.
//
// # Draining
//
// A worker drains on SIGTERM (or SIGINT, or Serve's ctx ending): each of
// its loops calls httpco.Server.Shutdown with ShutdownTimeout. It stops
// accepting (the connections still queued in the socket go to the other
// workers), kept-alive connections waiting for their next request close
// at once, a new connection's first request is served (a client does not
// retry a request on a new connection closed under it), requests being
// served are answered with "Connection: close", and the handlers still
// running when the timeout passes are killed. Serve returns nil after a
// complete drain, and the worker exits 0.
//
// # Stopping
//
// On SIGTERM or SIGINT (or ctx's end) the supervisor drains every worker,
// restarts none, waits for all of them to exit and returns nil (a worker
// still alive ShutdownTimeout + 5 s after SIGTERM is killed). A second
// SIGTERM or SIGINT kills them at once. Run returns only when no worker
// process is left. Connections that were still in the socket's queue
// when the last worker stopped accepting are reset when the supervisor
// closes the socket.
//
// # Calling context
//
// Supervisor.Run is ordinary Go, not a loop of evergo: it waits on
// processes and signals, which block threads, and serves no connection.
// Serve runs loops of its own on goroutines of its own; call it from an
// ordinary goroutine (main). IsWorker, ListenerFile and Ready are safe to
// call from any goroutine. Errors are returned, not logged; the
// supervisor reports its workers' lives to Supervisor.Logger, since
// nobody waits on them.
package prefork

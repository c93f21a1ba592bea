// Package ioco is cooperative I/O for the tasks of a loop: TCP, Unix and
// UDP sockets, TLS, name lookups and files, as net.Conn, net.Listener and
// net.PacketConn values whose calls read like blocking code and park only
// the task that makes them. crypto/tls, bufio and net/http's request and
// response framing work on them unchanged.
//
//	ln, err := ioco.Listen(ctx, "tcp", ":8080")
//	for {
//		c, err := ln.Accept() // parks this task; the loop runs the others
//		...
//		scheduler.Go(ctx, func(ctx context.Context) error {
//			defer c.Close()
//			_, err := io.Copy(c, c) // an echo, one task per connection
//			return err
//		})
//	}
//
// # How a read parks and wakes
//
// Every socket is non-blocking and registered once, edge-triggered, with
// its loop's poller (see scheduler.FD and internal/poll). A Read makes the
// read(2) at once; when it fails with EAGAIN, the task parks on the socket
// until the poller reports it readable, its deadline passes, or the socket
// is closed, and then tries again. A read that returned less than it was
// asked for emptied the receive queue, so the next Read on a stream parks
// for the next readable edge first and spares the read(2) that would fail;
// once the peer has hung up, no edge will come, and reads try at once. A
// Write writes until all of its buffer is out, parking whenever the send
// buffer is full. Accept, connect and the UDP calls work the same way.
// Nagle's algorithm is off for TCP (TCP_NODELAY), as in package net: many
// small messages go out at once.
//
// Reads and writes of a conn are recvfrom(2) and sendto(2) with
// MSG_DONTWAIT, which never block, even on a socket that the holder of a
// FileConn's original file has put back into blocking mode; so they are raw
// system calls, which the runtime does not track (an ordinary one wakes the
// runtime's monitor thread whenever it was idle). The loop's own sleep is a
// park in the runtime's poller, where the loop's goroutine holds no thread
// (see internal/poll). On the echo benchmark (internal/bench/echo) one loop
// serves a message in about 10 µs of CPU, where package net's goroutine per
// connection takes about 14 µs.
//
// # Deadlines
//
// SetDeadline, SetReadDeadline and SetWriteDeadline take times on the
// loop's clock, which is the wall clock unless the loop runs on a virtual
// one. A call parked when its deadline passes, or made after (even one that
// would not have to wait: bytes are there to read), fails with an
// error that satisfies errors.Is(err, os.ErrDeadlineExceeded) and whose
// Timeout method reports true; moving a deadline applies to calls already
// parked, and a zero time removes it. The calls that take a ctx (Dial,
// DialTLS, WaitReadable, the files') end when ctx does, and then return
// ctx's error (wrapped in a *net.OpError by Dial, as package net does) only
// once ctx itself reports it; a deadline of scheduler.WithTimeout is on the
// loop's clock, one of package context on the wall clock.
//
// # Closing
//
// Close wakes the tasks parked on the socket with an error that satisfies
// errors.Is(err, net.ErrClosed), takes the socket out of the poller and
// then closes it, so that its number cannot be reused while the poller
// still knows it; a later socket under the same number never gets the old
// one's readiness. CloseWrite shuts the writing side down: the peer reads
// end of file and may still write back.
//
// # Calling context
//
// A conn, a listener and a File belong to the loop they were made on, and
// are used by its tasks only. Their methods take no ctx (net.Conn has
// none): a call that may park parks the task that runs on the loop at that
// moment (scheduler.Loop.Running), with that task's context, so a Kill
// reaches it. Called from a callback, where no task runs, they fail with
// an error that says so. Calling them from another goroutine, or from a
// task of another loop, is not supported: Go has no way to tell the caller's
// goroutine cheaply, so such a call would park whatever task of the conn's
// loop runs then. Hand work to a conn's loop through scheduler.Loop.Post.
// Several loops (one per core, say) may each Listen on one port with
// ListenConfig{ReusePort: true}.
//
// # Serving
//
// Server is a stream server in net/http.Server's shape (gevent's
// StreamServer, Evergreen's TCPServer): Serve accepts on a listener of the
// loop and runs Handler on each connection in a task of its own, named
// "ioco.Server conn", closing the connection when Handler returns; a
// panic in Handler is logged with its stack and the other connections go
// on. Shutdown closes the listeners and waits for the handlers, killing
// those still running when its ctx ends (their deferred calls run); Close
// closes the listeners and every connection at once and never parks.
// MaxConns bounds the handlers running at once: at the bound Serve stops
// accepting and clients wait in the kernel's backlog. Accept errors that
// say descriptors or buffers are short (EMFILE, ENFILE, ENOBUFS,
// ECONNABORTED) are logged and waited out on the loop's clock, 5 ms
// doubling to 1 s, back to 5 ms after a connection is accepted, as
// net/http does. A Server belongs to the loop of its first Serve; Serve's
// ctx ending closes it as Close does. Serve and Shutdown may park the
// calling task. FileListener takes over a listening socket made elsewhere
// (a supervisor's, passed down through exec.Cmd's ExtraFiles), as
// net.FileListener does. A process hands a socket to another as in
// package net: File gives a duplicate of a conn's or a listener's
// descriptor, and a UnixConn's WriteMsgUnix sends it (unix.UnixRights),
// ReadMsgUnix receives it, close-on-exec.
//
// # Names and files
//
// Dial resolves a host that is not an IP address with the loop's
// Resolver (LoopResolver), a DNS stub resolver whose queries go over this
// package's own conns and park only the asking task; where
// nsswitch.conf's hosts line names sources other than files and dns, it
// asks the system resolver (net.DefaultResolver) on the loop's thread pool
// (futures.LoopPool) instead. See the comment at the top of resolver.go
// for its choices. Dial tries each address in order; a name that does not
// resolve gives a *net.DNSError inside the *net.OpError. Regular files
// are always ready to epoll, so the calls of Open's File, ReadFile and
// WriteFile run on the thread pool. Pipe and NewFile make Files of what
// epoll can wait on (pipes, FIFOs, terminals, devices, eventfds): those
// are non-blocking on the poller, with deadlines, and park only the
// calling task; NewFile refuses a regular file with ErrNotPollable.
//
// # Processes
//
// CommandContext makes a Cmd, os/exec's Cmd for tasks: os/exec looks the
// path up and sets the environment up, and os.StartProcess forks and
// execs, but Wait parks the calling task on the child's pidfd, on the
// poller (no goroutine, thread or thread-pool slot per child, no SIGCHLD
// handler taking other code's children; the thread pool only on a kernel
// without pidfds), and the pipes (StdinPipe, StdoutPipe, StderrPipe) are
// Files on the poller, their child ends blocking, as programs expect. A
// Stdin, Stdout or Stderr that is no *os.File is copied by a task of the
// loop, not a goroutine. ctx's end calls Cancel (a kill by default), and
// WaitDelay bounds both the wait for the child after it and the wait for
// its pipes after it exits (a grandchild may hold them), as in os/exec,
// whose errors these are (*exec.ExitError, exec.ErrNotFound,
// exec.ErrWaitDelay). os/exec's rule holds: read a StdoutPipe to its end
// before Wait, which closes it; a child writing more than a pipe holds to
// a pipe nobody reads waits for a reader, as it would under os/exec.
//
// StartPTY runs a Cmd on a pseudo-terminal (github.com/creack/pty opens
// the pair) and returns the master end, a File on the poller: a task
// reads the program's screen from it and types into it. SetWinsize and
// Winsize set and read a terminal's size; ForwardWinsize keeps a pty's
// size that of the process's own terminal, at each SIGWINCH; MakeRaw
// (golang.org/x/term) puts the process's terminal in raw mode, and gives
// the function that restores it.
//
// # Watching files
//
// Watch makes a Watcher on inotify, its descriptor on the poller: Next
// parks the calling task until a change comes (OpCreate, OpWrite,
// OpRemove, OpRename, OpChmod, as fsnotify names them), and a queue that
// overflowed is the error ErrOverflow in place of the events lost, not
// silence. Add and Remove change what is watched; AddRecursive watches a
// tree and the directories made in it from then on (a file made in a new
// directory before its watch is in place is not reported). WatchStat is
// pyuv's FSPoll for file systems inotify does not see into (NFS, FUSE): a
// StatWatcher compares stat(2) every interval on the loop's clock, the
// stats on the thread pool, while a task waits in its Next.
//
// # Errors
//
// Errors have package net's shapes: *net.OpError with the operation, the
// network and the addresses, wrapping os.NewSyscallError for system calls;
// io.EOF at end of stream.
package ioco

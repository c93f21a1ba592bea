//go:build linux

// Package poll is the loop's readiness backend on Linux: one epoll instance
// that says which file descriptors a read or a write will not block on, and
// one eventfd through which other goroutines wake the loop.
//
// The loop uses it like this. Add each non-blocking fd once, with a tag of
// the caller's choosing. Try reads and writes until they return EAGAIN.
// Then Wait; for each Event whose Tag matches the fd's current registration,
// remember the directions it reports and resume whoever waits for them;
// ignore the others. Delete an fd before closing it.
//
// # Some facts about epoll
//
// epoll is easy to use in a way that works in tests and fails in production.
// The facts that matter here, and what this package does about each:
//
// epoll registers the open file description, not the fd number. An entry in
// the interest list is keyed by the pair (description, number) and lives as
// long as the description does. close(fd) removes the entry only when fd was
// the last reference to the description: if the fd was dup'ed, or is shared
// with a child process (even with close-on-exec, a child holds every fd from
// fork until exec), the description stays open, the entry stays alive, and
// epoll goes on reporting events under the old number, which by then may
// name a different file. Nor can the entry be removed any more:
// EPOLL_CTL_DEL finds it through the number, which now fails with EBADF or
// finds the new file instead. Hence two rules. Always Delete before close.
// And every registration carries a tag, a number the caller picks (a
// generation counter, say) that comes back in each of its events, so that an
// event of an older registration of a reused number can be told from one of
// the current registration and dropped. The tag also covers a quieter case:
// one Wait returns a batch of events, and while the caller handles the first
// of them it may close an fd and open another under the same number; the
// later events of the batch that name that number belong to the old file.
//
// epoll reports readiness in one of three ways. Level-triggered, the
// default, reports an fd at every epoll_wait for as long as it is ready. A
// socket with room in its send buffer, which is nearly always, or with data
// that no task is reading yet, would be reported at every Wait, and the loop
// would spin. One-shot (EPOLLONESHOT) reports an fd once and then disables
// it until EPOLL_CTL_MOD re-arms it: one more system call for every wait on
// every fd, and reading and writing share the one entry, so re-arming one
// direction must not forget that a task waits on the other. Edge-triggered
// (EPOLLET) reports an fd when its state changes. This package registers
// each fd once, edge-triggered, for both directions
// (EPOLLIN|EPOLLOUT|EPOLLRDHUP|EPOLLET): no epoll_ctl per wait, and an idle
// fd costs nothing. Two rules follow for the caller. First, a reader reads
// until EAGAIN, and a writer writes until EAGAIN, before it waits: an edge is
// a change, and data left unread after an edge makes no new one. (Linux does
// report another edge whenever more data arrives on a socket, but that is
// how sockets wake their waiters, not a promise of epoll.) Second, an edge
// that arrives while nobody waits for that direction is reported once and
// never again, so the caller must remember it ("readable since the last
// EAGAIN") and let the next reader try at once instead of parking. An fd
// that is already ready when it is added gets one event: EPOLL_CTL_ADD looks
// at the current state once. A new socket is writable, so nearly every Add
// is followed by a Writable event.
//
// EPOLLRDHUP means the peer shut down its writing side, by shutdown(SHUT_WR)
// or by closing. Wait reports it as Readable, because a read now returns end
// of file without blocking; on an edge-triggered fd whose data has all been
// read, it is the only sign of that. EPOLLHUP (both directions are shut down,
// or the peer is gone) and EPOLLERR (an error is pending, such as a refused
// connect) are reported whether or not they were asked for, and each makes
// both directions ready: the read or write will not block, it returns the
// error or end of file. So Wait folds epoll's flags into the two directions
// the caller acts on: Readable is EPOLLIN, EPOLLRDHUP, EPOLLHUP or EPOLLERR;
// Writable is EPOLLOUT, EPOLLHUP or EPOLLERR.
//
// Other goroutines wake the loop through an eventfd: one fd holding an
// 8-byte counter. Wake adds 1 to it and Wait reads it, which resets it to 0,
// so any number of Wakes before that read merge into one wake-up, and Wake
// never waits for the loop (the counter saturates only near 2^64, and then a
// wake-up is pending anyway). The traditional self-pipe needs two fds, and
// its buffer fills when wake-ups come faster than the loop drains them, after
// which writes fail with EAGAIN or block. Unlike the sockets, the eventfd is
// registered level-triggered: it stays ready until Wait drains it, so a Wake
// that lands while the loop is busy running tasks is seen at the next Wait,
// however late that is, and is never lost to a Wait that returned for
// another reason.
//
// # Waiting without blocking a thread
//
// A Wait that finds nothing ready does not block its thread in epoll_wait.
// The epoll fd is itself pollable (it is readable while its ready list is
// not empty), so New hands it, non-blocking, to the Go runtime's own poller
// as an *os.File, and Wait parks the goroutine there through the file's
// RawConn until the runtime reports it readable, then collects the events
// with epoll_wait and a zero timeout. A positive timeout is the file's read
// deadline. The runtime's poller sleeps in whole milliseconds when the
// process has nothing else to do, so a short timeout still takes about a
// millisecond, as epoll_wait's own timeout did.
//
// Blocking in epoll_wait itself costs more than the extra level. A goroutine
// in a system call keeps its P; after 20 µs the runtime's monitor thread
// takes the P back and starts another thread to look for work, and when the
// call returns the goroutine must find a P again, often on another thread:
// futex wake-ups and thread migrations on every sleep of the loop, and a
// monitor that never rests. Parked in the runtime's poller, the loop's
// goroutine gives its P up as a goroutine waiting on a net.Conn does: other
// goroutines of the process run on it meanwhile, at GOMAXPROCS=1 too, and
// the runtime's own epoll_wait wakes it. The echo benchmark
// (internal/bench/echo) measured one loop at 15.3 µs of CPU per message
// with the thread blocked in epoll_wait and 12.1 µs parked this way.
//
// The epoll_wait with a zero timeout is a raw system call: it never blocks,
// and entering an ordinary system call tells the runtime's monitor, which
// wakes it if it was asleep. EINTR is retried. Once a deadline has passed,
// the runtime does not call back into the RawConn at all, so Wait then polls
// once itself: a run of timeouts too short to park in cannot keep the fds
// from being looked at.
//
// # Calling context
//
// A Poller is not safe for concurrent use except where stated. Add, Delete,
// Wait and Close belong to the goroutine that runs the loop and must not run
// concurrently with each other. Wake is safe to call from any goroutine, at
// any time, including during and after Close.
//
// Wake does not by itself order memory. A goroutine that hands work to the
// loop publishes it first (under a mutex, or with an atomic) and then calls
// Wake; the loop looks for work after every Wait that reports woken. Wait
// drains the counter before it returns, so a Wake that comes later makes the
// next Wait return at once: work published before a Wake is never left
// unnoticed.
//
// # Errors
//
// After Close, every method returns os.ErrClosed. Failed system calls come
// back as *os.SyscallError wrapping the unix.Errno, so errors.Is(err,
// unix.EEXIST) tells an fd that was added twice, and errors.Is(err,
// unix.ENOENT) a Delete of an fd that was not added.
package poll

// Command rawepoll is an echo server with no scheduler: one goroutine, one
// edge-triggered epoll instance, and recvfrom(2) and sendto(2) made as raw
// system calls, the way ioco makes them. internal/bench/echo measures it
// with -raw, as the floor of an echo server's CPU per message on one
// thread. Each connection has a 16 KiB buffer, as the echo servers of
// examples/echo do, so that the memory a message touches is comparable.
//
//	go run ./internal/bench/echo/rawepoll -addr 127.0.0.1:9000
//
// It runs until killed.
package main

import (
	"flag"
	"log"
	"net/netip"
	"unsafe"

	"golang.org/x/sys/unix"
)

// conn is a connection's state: what it read and has still to write.
type conn struct {
	fd         int
	buf        []byte
	start, end int // buf[start:end] is still to be written
}

func main() {
	log.SetFlags(0)
	addr := flag.String("addr", "127.0.0.1:9000", "address to listen on")
	flag.Parse()
	ap, err := netip.ParseAddrPort(*addr)
	if err != nil || !ap.Addr().Is4() {
		log.Fatalf("rawepoll: -addr %q: want an IPv4 host:port", *addr)
	}
	ln, err := unix.Socket(unix.AF_INET, unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		log.Fatal(err)
	}
	if err := unix.SetsockoptInt(ln, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1); err != nil {
		log.Fatal(err)
	}
	if err := unix.Bind(ln, &unix.SockaddrInet4{Port: int(ap.Port()), Addr: ap.Addr().As4()}); err != nil {
		log.Fatal(err)
	}
	if err := unix.Listen(ln, 4096); err != nil {
		log.Fatal(err)
	}
	ep, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		log.Fatal(err)
	}
	if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, ln, &unix.EpollEvent{Events: unix.EPOLLIN, Fd: int32(ln)}); err != nil {
		log.Fatal(err)
	}
	conns := map[int32]*conn{}
	var events [128]unix.EpollEvent
	for {
		n, err := unix.EpollWait(ep, events[:], -1)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		for _, ev := range events[:n] {
			if int(ev.Fd) == ln {
				accept(ep, ln, conns)
				continue
			}
			c := conns[ev.Fd]
			if c == nil {
				continue
			}
			if !serve(c) {
				delete(conns, ev.Fd)
				unix.Close(c.fd) // closing removes it from the epoll instance
			}
		}
	}
}

// accept takes every pending connection and registers it.
func accept(ep, ln int, conns map[int32]*conn) {
	for {
		fd, _, err := unix.Accept4(ln, unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
		switch err {
		case nil:
		case unix.EINTR, unix.ECONNABORTED:
			continue
		case unix.EAGAIN:
			return
		default:
			log.Printf("rawepoll: accept: %v", err)
			return
		}
		ev := unix.EpollEvent{Events: unix.EPOLLIN | unix.EPOLLOUT | unix.EPOLLRDHUP | unix.EPOLLET, Fd: int32(fd)}
		if err := unix.EpollCtl(ep, unix.EPOLL_CTL_ADD, fd, &ev); err != nil {
			log.Printf("rawepoll: epoll_ctl: %v", err)
			unix.Close(fd)
			continue
		}
		conns[int32(fd)] = &conn{fd: fd, buf: make([]byte, 16<<10)}
	}
}

// serve writes what is pending and echoes what can be read, until the
// socket would block or a read came back short: the receive queue was
// empty then, and data that comes later makes another edge (ioco spares
// the read that would fail with EAGAIN the same way). It reports false
// once the connection is done.
func serve(c *conn) bool {
	short := false
	for {
		for c.start < c.end {
			n, err := rawIO(unix.SYS_SENDTO, c.fd, c.buf[c.start:c.end], unix.MSG_DONTWAIT|unix.MSG_NOSIGNAL)
			switch err {
			case 0:
				c.start += n
				continue
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return true // the next writable edge resumes it
			}
			return false
		}
		if short {
			return true
		}
		n, err := rawIO(unix.SYS_RECVFROM, c.fd, c.buf, unix.MSG_DONTWAIT)
		switch {
		case err == unix.EINTR:
			continue
		case err == unix.EAGAIN:
			return true
		case err != 0 || n == 0:
			return false
		}
		c.start, c.end = 0, n
		short = n < len(c.buf)
	}
}

func rawIO(trap uintptr, fd int, b []byte, flags int) (int, unix.Errno) {
	n, _, e := unix.RawSyscall6(trap, uintptr(fd), uintptr(unsafe.Pointer(&b[0])), uintptr(len(b)), uintptr(flags), 0, 0)
	return int(n), e
}

package crawl_test

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/ioco"
)

// A peerSite puts socketpairs under a Fetcher in place of TCP
// connections, and the test holds the server's end of each: it writes
// the server's bytes itself, in the order it needs. A write to a Unix
// socket is in its peer's receive queue when it returns, so what the test
// wrote before a fetch is there for the fetch to read, without a wait.
type peerSite struct {
	t     *testing.T
	pre   []string // written on the server's end of each connection, by dial, before the fetch gets it
	peers []int    // the server's ends, by dial
	eof   bool     // the server's end stops writing after pre: the fetch reads the end of file
}

// dialPeers makes f dial a peerSite that writes pre[i] on its i-th
// connection; the server's ends are closed when the test ends.
func dialPeers(t *testing.T, f *crawl.Fetcher, pre ...string) *peerSite {
	p := newPeers(t, pre...)
	crawl.DialWith(f, p.dial)
	return p
}

// newPeers returns a peerSite that writes pre[i] on its i-th connection;
// the server's ends are closed when the test ends.
func newPeers(t *testing.T, pre ...string) *peerSite {
	p := &peerSite{t: t, pre: pre}
	t.Cleanup(func() {
		for _, fd := range p.peers {
			unix.Close(fd)
		}
	})
	return p
}

func (p *peerSite) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server, err := socketpair()
	if err != nil {
		return nil, err
	}
	p.peers = append(p.peers, server)
	if i := len(p.peers) - 1; i < len(p.pre) {
		p.write(i, p.pre[i])
	}
	if p.eof {
		if err := closeWrite(server); err != nil {
			return nil, err
		}
	}
	f := os.NewFile(uintptr(client), "client")
	defer f.Close() // the conn has a duplicate
	return ioco.FileConn(ctx, f)
}

// write writes s on the server's end of the i-th connection. s must fit
// in the socket's buffer (some 200 KiB): nobody reads it meanwhile.
func (p *peerSite) write(i int, s string) {
	p.t.Helper()
	if _, err := unix.Write(p.peers[i], []byte(s)); err != nil {
		p.t.Errorf("writing on the server's end of connection %d: %v", i, err)
	}
}

// socketpair returns the two ends of a Unix stream socketpair, blocking.
func socketpair() (a, b int, err error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, -1, os.NewSyscallError("socketpair", err)
	}
	return fds[0], fds[1], nil
}

// dialFlood makes f dial socketpairs whose server's end a goroutine fills
// with head and then chunk, again and again, for as long as the client
// reads: a server that never stops sending. Each goroutine ends when the
// client's end is closed, and the test waits for them when it ends.
func dialFlood(t *testing.T, f *crawl.Fetcher, head, chunk string) {
	var wg sync.WaitGroup
	var mu sync.Mutex
	var servers []int
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, fd := range servers {
			unix.Shutdown(fd, unix.SHUT_RDWR) // wakes a writer the client left
		}
		wg.Wait()
		for _, fd := range servers {
			unix.Close(fd)
		}
	})
	crawl.DialWith(f, func(ctx context.Context, _, _ string) (net.Conn, error) {
		client, server, err := socketpair()
		if err != nil {
			return nil, err
		}
		mu.Lock()
		servers = append(servers, server)
		mu.Unlock()
		wg.Add(1)
		go func() {
			defer wg.Done()
			data := []byte(head)
			for {
				if _, err := unix.SendmsgN(server, data, nil, nil, unix.MSG_NOSIGNAL); err != nil {
					if !errors.Is(err, unix.EPIPE) && !errors.Is(err, unix.ECONNRESET) {
						t.Errorf("flooding: %v", err)
					}
					return
				}
				data = []byte(chunk)
			}
		}()
		f := os.NewFile(uintptr(client), "client")
		defer f.Close()
		return ioco.FileConn(ctx, f)
	})
}

// closeWrite shuts the writing side of fd down: its peer reads the end of
// file.
func closeWrite(fd int) error {
	return os.NewSyscallError("shutdown", unix.Shutdown(fd, unix.SHUT_WR))
}

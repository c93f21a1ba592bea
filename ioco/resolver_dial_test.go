package ioco_test

import (
	"context"
	"io"
	"net"
	"strconv"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// Dial resolves a host name with the loop's Resolver: from its hosts file,
// and through DNS, each address then dialed.
func TestDialResolvesThroughTheLoopsResolver(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("bydns.test.", "127.0.0.1", 60))
	runLoop(t, func(ctx context.Context) error {
		r, err := ioco.LoopResolver(ctx)
		if err != nil {
			return err
		}
		*r = *testResolver(t, s, "127.0.0.1 byhosts.test\n") // before its first lookup
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		scheduler.Go(ctx, func(ctx context.Context) error {
			for {
				c, err := ln.Accept()
				if err != nil {
					return nil
				}
				io.WriteString(c, "hi")
				c.Close()
			}
		})
		for _, host := range []string{"byhosts.test", "bydns.test"} {
			c, err := ioco.Dial(ctx, "tcp", net.JoinHostPort(host, port))
			if err != nil {
				t.Errorf("Dial %s: %v", host, err)
				continue
			}
			if b, _ := io.ReadAll(c); string(b) != "hi" {
				t.Errorf("Dial %s: read %q", host, b)
			}
			c.Close()
		}
		if n := s.queries("bydns.test.", dnsmessage.TypeA); n == 0 {
			t.Error("the DNS server was not asked for bydns.test")
		}
		if n := s.queries("byhosts.test.", dnsmessage.TypeA); n != 0 {
			t.Errorf("the DNS server was asked %d times for a name the hosts file has", n)
		}
		return nil
	})
}

// A nameserver that does not answer is passed over for the next one.
func TestResolverAsksTheNextNameserverWhenOneIsSilent(t *testing.T) {
	silent, good := newDNSServer(t), newDNSServer(t)
	silent.set(silent.silent, "two.test.")
	good.add(a("two.test.", "192.0.2.2", 60))
	r := testResolver(t, good, "")
	r.Conf.Nameservers = []string{silent.Addr, good.Addr}
	// The silent one costs one wait; the timeout is also the good one's
	// bound to answer, which a loaded machine may stretch: a second.
	r.Conf.Timeout, r.Conf.Attempts = time.Second, 1
	runLoop(t, func(ctx context.Context) error {
		wantIPs(t, ctx, r, "ip4", "two.test.", "192.0.2.2")
		return nil
	})
	if n := silent.queries("two.test.", dnsmessage.TypeA); n != 1 {
		t.Errorf("the silent server was asked %d times, want 1", n)
	}
}

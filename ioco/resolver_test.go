package ioco_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/evergo/evergo/internal/parktest"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// writeFile writes a file of the test's and returns its path.
func writeFile(tb testing.TB, name, text string) string {
	tb.Helper()
	path := filepath.Join(tb.TempDir(), name)
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		tb.Fatal(err)
	}
	return path
}

// testResolver is a Resolver that asks s only, with a hosts file of its
// own and nsswitch.conf's "files dns": nothing of the machine's.
func testResolver(tb testing.TB, s *dnsServer, hosts string) *ioco.Resolver {
	return &ioco.Resolver{
		Conf:         &ioco.ResolvConf{Nameservers: []string{s.Addr}, Ndots: 1, Timeout: 5 * time.Second, Attempts: 2},
		HostsFile:    writeFile(tb, "hosts", hosts),
		NSSwitchFile: writeFile(tb, "nsswitch.conf", "hosts: files dns\n"),
	}
}

// dnsErr returns err's *net.DNSError, failing the test without one.
func dnsErr(t *testing.T, err error) *net.DNSError {
	t.Helper()
	var d *net.DNSError
	if !errors.As(err, &d) {
		t.Fatalf("error %v (%T), want a *net.DNSError", err, err)
	}
	return d
}

// wantIPs checks that r finds the addresses want for host on network.
func wantIPs(t *testing.T, ctx context.Context, r *ioco.Resolver, network, host string, want ...string) {
	t.Helper()
	ips, err := r.LookupNetIP(ctx, network, host)
	got := make([]string, len(ips))
	for i, ip := range ips {
		got[i] = ip.String()
	}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("LookupNetIP(%s, %q) = %v, %v; want %v", network, host, got, err, want)
	}
}

func TestResolverLookupHostAsksAAndAAAA(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("dual.test.", "192.0.2.1", 60), aaaa("dual.test.", "2001:db8::1", 60), a("dual.test.", "192.0.2.2", 60))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		got, err := r.LookupHost(ctx, "dual.test")
		if err != nil {
			return err
		}
		if want := []string{"192.0.2.1", "192.0.2.2", "2001:db8::1"}; !slices.Equal(got, want) {
			t.Errorf("LookupHost = %v, want %v", got, want)
		}
		wantIPs(t, ctx, r, "ip6", "dual.test", "2001:db8::1")
		return nil
	})
}

func TestResolverFollowsACNAMEChainWithinTheAnswer(t *testing.T) {
	s := newDNSServer(t)
	s.add(cname("www.test.", "web.test.", 60), cname("web.test.", "host.test.", 60), a("host.test.", "192.0.2.7", 60))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		wantIPs(t, ctx, r, "ip4", "www.test", "192.0.2.7")
		if n := s.queries("host.test.", dnsmessage.TypeA); n != 0 {
			t.Errorf("the chain's end was asked %d times, want 0: the answer held it", n)
		}
		return nil
	})
}

func TestResolverNXDOMAINAndNoRecordOfTheTypeAreNotFound(t *testing.T) {
	s := newDNSServer(t)
	s.add(aaaa("v6only.test.", "2001:db8::6", 60))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		_, err := r.LookupHost(ctx, "missing.test")
		d := dnsErr(t, err)
		if !d.IsNotFound || d.IsTimeout || d.IsTemporary || d.Name != "missing.test" || d.Server != s.Addr {
			t.Errorf("error %+v, want IsNotFound only, Name missing.test, Server %s", d, s.Addr)
		}
		_, err = r.LookupNetIP(ctx, "ip4", "v6only.test")
		if d := dnsErr(t, err); !d.IsNotFound {
			t.Errorf("error %+v for a name with no A record, want IsNotFound", d)
		}
		return nil
	})
}

func TestResolverSERVFAILIsTemporaryAfterEveryAttempt(t *testing.T) {
	s := newDNSServer(t)
	s.set(s.servfail, "broken.test.")
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		_, err := r.LookupNetIP(ctx, "ip4", "broken.test")
		d := dnsErr(t, err)
		if !d.IsTemporary || d.IsNotFound || d.IsTimeout || d.Name != "broken.test" {
			t.Errorf("error %+v, want IsTemporary only, Name broken.test", d)
		}
		if n := s.queries("broken.test.", dnsmessage.TypeA); n != 2 {
			t.Errorf("the server was asked %d times, want 2 (Attempts)", n)
		}
		return nil
	})
}

// The timeouts are on the loop's clock: on a virtual clock, which runs
// with the wall clock while a task waits on a socket (so they are short).
func TestResolverServerThatNeverAnswersTimesOutOnTheLoopsClock(t *testing.T) {
	s := newDNSServer(t)
	s.set(s.silent, "mute.test.")
	r := testResolver(t, s, "")
	r.Conf.Timeout = 20 * time.Millisecond
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		start := scheduler.Now(ctx)
		_, err := r.LookupNetIP(ctx, "ip4", "mute.test")
		d := dnsErr(t, err)
		if !d.IsTimeout || !d.Timeout() || d.IsNotFound || !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("error %+v, want IsTimeout, satisfying errors.Is(err, os.ErrDeadlineExceeded)", d)
		}
		if n := s.queries("mute.test.", dnsmessage.TypeA); n != 2 {
			t.Errorf("the server was asked %d times, want 2 (Attempts)", n)
		}
		if took := scheduler.Now(ctx).Sub(start); took < 2*r.Conf.Timeout {
			t.Errorf("the loop's clock moved %v, want at least two timeouts", took)
		}
		return nil
	}, scheduler.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
}

func TestResolverLookupEndsWithItsContext(t *testing.T) {
	s := newDNSServer(t)
	s.set(s.silent, "mute.test.")
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		ctx, cancel := scheduler.WithTimeout(ctx, 10*time.Millisecond)
		defer cancel()
		_, err := r.LookupHost(ctx, "mute.test")
		if d := dnsErr(t, err); !d.IsTimeout || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %+v, want IsTimeout and context.DeadlineExceeded", d)
		}
		return nil
	})
}

// resolverCalls are the Resolver's lookups, each of a name that the
// server never answers, for the rules every parking call keeps.
func resolverCalls(t *testing.T) map[string]parktest.Setup {
	s := newDNSServer(t)
	s.set(s.silent, "mute.test.")
	s.set(s.silent, "_x._tcp.mute.test.")
	r := testResolver(t, s, "")
	lookup := func(f func(ctx context.Context) error) parktest.Setup {
		return func(ctx context.Context) func(ctx context.Context) error {
			// A Resolver belongs to the loop of its first lookup: a fresh
			// one for each of the checks' loops, its files read by a first
			// lookup (a name the server does not know), so that the checks
			// end in a query, not in the reading of the files.
			*r = ioco.Resolver{Conf: r.Conf, HostsFile: r.HostsFile, NSSwitchFile: r.NSSwitchFile}
			r.LookupHost(ctx, "unknown.test")
			return f
		}
	}
	return map[string]parktest.Setup{
		"Resolver.LookupHost": lookup(func(ctx context.Context) error { _, err := r.LookupHost(ctx, "mute.test"); return err }),
		"Resolver.LookupSRV":  lookup(func(ctx context.Context) error { _, _, err := r.LookupSRV(ctx, "x", "tcp", "mute.test"); return err }),
	}
}

func TestResolverLookupsReturnOnlyWhatTheirContextReports(t *testing.T) {
	parktest.ReturnsOnlyWhatCtxReports(t, resolverCalls(t))
}

func TestResolverLookupsOfADyingTaskReturnErrKilled(t *testing.T) {
	parktest.DyingTaskGetsErrKilled(t, resolverCalls(t))
}

func TestResolverRetriesOverTCPAfterATruncatedAnswer(t *testing.T) {
	s := newDNSServer(t)
	s.set(s.truncate, "big.test.")
	s.add(txt("big.test.", "first part, ", "second part"))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		got, err := r.LookupTXT(ctx, "big.test")
		if err != nil {
			return err
		}
		if want := []string{"first part, second part"}; !slices.Equal(got, want) {
			t.Errorf("LookupTXT = %q, want %q", got, want)
		}
		if all, tcp := s.total(); all != 2 || tcp != 1 {
			t.Errorf("%d questions, %d over TCP; want 2 and 1", all, tcp)
		}
		return nil
	})
}

func TestResolverIgnoresAnAnswerWithAWrongID(t *testing.T) {
	s := newDNSServer(t)
	s.set(s.wrongID, "spoofed.test.")
	s.add(a("spoofed.test.", "192.0.2.8", 60))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		wantIPs(t, ctx, r, "ip4", "spoofed.test", "192.0.2.8")
		return nil
	})
}

func TestResolverCachedAnswerAsksNothing(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("cached.test.", "192.0.2.9", 60))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		for range 3 {
			if _, err := r.LookupHost(ctx, "cached.test"); err != nil {
				return err
			}
			if _, err := r.LookupHost(ctx, "nowhere.test"); dnsErr(t, err).IsNotFound != true {
				t.Errorf("LookupHost(nowhere.test) = %v, want not found", err)
			}
		}
		for _, name := range []string{"cached.test.", "nowhere.test."} {
			for _, qt := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
				if n := s.queries(name, qt); n != 1 {
					t.Errorf("%s %v asked %d times, want 1", name, qt, n)
				}
			}
		}
		return nil
	})
}

func TestResolverCacheExpiresWithTheTTLOnTheLoopsClock(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("short.test.", "192.0.2.10", 30))
	r := testResolver(t, s, "")
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		step := func(sleep time.Duration, wantQueries int) error {
			if err := scheduler.Sleep(ctx, sleep); err != nil {
				return err
			}
			if _, err := r.LookupNetIP(ctx, "ip4", "short.test"); err != nil {
				return err
			}
			if n := s.queries("short.test.", dnsmessage.TypeA); n != wantQueries {
				t.Errorf("after %v more, %d questions, want %d", sleep, n, wantQueries)
			}
			return nil
		}
		if err := step(0, 1); err != nil {
			return err
		}
		if err := step(29*time.Second, 1); err != nil { // still fresh
			return err
		}
		return step(2*time.Second, 2) // 31 s after the answer: expired
	}, scheduler.WithVirtualClock())
	if err != nil {
		t.Fatal(err)
	}
}

func TestResolverSearchListFollowsNdots(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("app.corp.test.", "192.0.2.11", 60), a("svc.net.test.", "192.0.2.12", 60), a("only.net.", "192.0.2.13", 60))
	r := testResolver(t, s, "")
	r.Conf.Search, r.Conf.Ndots = []string{"corp.test"}, 2
	runLoop(t, func(ctx context.Context) error {
		for _, tc := range []struct {
			host, want string
			asked      []string // in the order asked
			notAsked   []string
		}{
			{"app", "192.0.2.11", []string{"app.corp.test."}, []string{"app."}},
			{"svc.net.test", "192.0.2.12", []string{"svc.net.test."}, []string{"svc.net.test.corp.test."}},
			{"only.net", "192.0.2.13", []string{"only.net.corp.test.", "only.net."}, nil},
			{"svc.net.test.", "192.0.2.12", nil, nil}, // absolute: no search (and cached)
		} {
			wantIPs(t, ctx, r, "ip4", tc.host, tc.want)
			for _, name := range tc.asked {
				if n := s.queries(name, dnsmessage.TypeA); n != 1 {
					t.Errorf("for %q, %s asked %d times, want 1", tc.host, name, n)
				}
			}
			for _, name := range tc.notAsked {
				if n := s.queries(name, dnsmessage.TypeA); n != 0 {
					t.Errorf("for %q, %s asked %d times, want 0", tc.host, name, n)
				}
			}
		}
		return nil
	})
}

func TestResolverHostsFileAnswersFirst(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("both.test.", "192.0.2.1", 60), ptr("99.2.0.192.in-addr.arpa.", "dns.test."))
	r := testResolver(t, s, "# comment\n192.0.2.99 both.test alias.test # trailing\n")
	runLoop(t, func(ctx context.Context) error {
		got, err := r.LookupHost(ctx, "BOTH.test.")
		if err != nil {
			return err
		}
		if want := []string{"192.0.2.99"}; !slices.Equal(got, want) {
			t.Errorf("LookupHost = %v, want %v", got, want)
		}
		names, err := r.LookupAddr(ctx, "192.0.2.99")
		if err != nil {
			return err
		}
		if want := []string{"both.test.", "alias.test."}; !slices.Equal(names, want) {
			t.Errorf("LookupAddr = %v, want %v", names, want)
		}
		if all, _ := s.total(); all != 0 {
			t.Errorf("the server was asked %d questions, want 0", all)
		}
		return nil
	})
}

func TestResolverLookupMXSRVTXTAndPTR(t *testing.T) {
	s := newDNSServer(t)
	s.add(
		mx("mail.test.", 20, "mx2.test."), mx("mail.test.", 10, "mx1.test."),
		srv("_sip._udp.voip.test.", 10, 5, 5060, "b.voip.test."), srv("_sip._udp.voip.test.", 10, 60, 5060, "a.voip.test."),
		srv("_sip._udp.voip.test.", 0, 0, 5070, "first.voip.test."),
		txt("info.test.", "v=spf1 -all"), txt("info.test.", "hello"),
		ptr("1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa.", "six.test."),
	)
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		mxs, err := r.LookupMX(ctx, "mail.test")
		if err != nil {
			return err
		}
		if len(mxs) != 2 || *mxs[0] != (net.MX{Host: "mx1.test.", Pref: 10}) || *mxs[1] != (net.MX{Host: "mx2.test.", Pref: 20}) {
			t.Errorf("LookupMX = %v %v, want mx1 (10) then mx2 (20)", mxs[0], mxs[1])
		}
		cn, srvs, err := r.LookupSRV(ctx, "sip", "udp", "voip.test")
		if err != nil {
			return err
		}
		var targets []string
		for _, s := range srvs {
			targets = append(targets, s.Target)
		}
		if want := []string{"first.voip.test.", "a.voip.test.", "b.voip.test."}; cn != "_sip._udp.voip.test." || !slices.Equal(targets, want) {
			t.Errorf("LookupSRV = %q %v, want _sip._udp.voip.test. %v", cn, targets, want)
		}
		txts, err := r.LookupTXT(ctx, "info.test")
		if err != nil {
			return err
		}
		if want := []string{"v=spf1 -all", "hello"}; !slices.Equal(txts, want) {
			t.Errorf("LookupTXT = %q, want %q", txts, want)
		}
		names, err := r.LookupAddr(ctx, "2001:db8::1")
		if err != nil {
			return err
		}
		if want := []string{"six.test."}; !slices.Equal(names, want) {
			t.Errorf("LookupAddr = %v, want %v", names, want)
		}
		if _, err := r.LookupAddr(ctx, "192.0.2.200"); !dnsErr(t, err).IsNotFound {
			t.Errorf("LookupAddr of an address without PTR = %v, want not found", err)
		}
		return nil
	})
}

// As package net's pure-Go resolver reads nsswitch.conf: mdns matters to
// names under .local only, which go to the system's resolver (Fallback
// here), and another name still goes through DNS; a source it does not
// know sends every name to the system's resolver.
func TestResolverFallsBackWhereNSSwitchNeedsTheSystem(t *testing.T) {
	s := newDNSServer(t)
	s.add(a("fallback.test.", "192.0.2.20", 60), a("printer.local.", "192.0.2.21", 60))
	for _, c := range []struct {
		hosts, name string
		system      bool
	}{
		{"files mdns4_minimal [NOTFOUND=return] dns", "printer.local.", true},
		{"files mdns4_minimal [NOTFOUND=return] dns", "fallback.test.", false},
		{"files ldap dns", "fallback.test.", true},
	} {
		var dialed atomic.Int32
		r := testResolver(t, s, "")
		r.NSSwitchFile = writeFile(t, "nsswitch.conf", "passwd: files\nhosts: "+c.hosts+"\n")
		r.Fallback = &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			dialed.Add(1)
			var d net.Dialer
			return d.DialContext(ctx, network, s.Addr)
		}}
		runLoop(t, func(ctx context.Context) error {
			want := map[string]string{"fallback.test.": "192.0.2.20", "printer.local.": "192.0.2.21"}[c.name]
			wantIPs(t, ctx, r, "ip4", c.name, want)
			if asked := dialed.Load() > 0; asked != c.system {
				t.Errorf("hosts: %s, %s: the system's resolver asked: %v, want %v", c.hosts, c.name, asked, c.system)
			}
			return nil
		})
	}
}

func TestResolverRefusesACallerWithoutATaskOrOfAnotherLoop(t *testing.T) {
	s := newDNSServer(t)
	r := testResolver(t, s, "127.0.0.9 local.test\n")
	if _, err := r.LookupHost(context.Background(), "local.test"); !errors.Is(err, scheduler.ErrNoTask) {
		t.Errorf("LookupHost without a task = %v, want scheduler.ErrNoTask", err)
	}
	runLoop(t, func(ctx context.Context) error {
		_, err := r.LookupHost(ctx, "local.test")
		return err
	})
	runLoop(t, func(ctx context.Context) error {
		if _, err := r.LookupHost(ctx, "local.test"); !errors.Is(err, scheduler.ErrWrongLoop) {
			t.Errorf("LookupHost from another loop = %v, want scheduler.ErrWrongLoop", err)
		}
		return nil
	})
}

func TestParseResolvConfReadsWhatGlibcReads(t *testing.T) {
	conf := ioco.ParseResolvConf([]byte(`# comment
nameserver 192.0.2.53
nameserver 2001:db8::53 ; comment
nameserver bogus
domain ignored.test
search a.test b.test.
options ndots:3 timeout:2 attempts:9 rotate
nameserver 192.0.2.54
nameserver 192.0.2.55
`))
	want := ioco.ResolvConf{
		Nameservers: []string{"192.0.2.53:53", "[2001:db8::53]:53", "192.0.2.54:53"},
		Search:      []string{"a.test", "b.test"}, Ndots: 3, Timeout: 2 * time.Second, Attempts: 5, Rotate: true,
	}
	if !slices.Equal(conf.Nameservers, want.Nameservers) || !slices.Equal(conf.Search, want.Search) ||
		conf.Ndots != want.Ndots || conf.Timeout != want.Timeout || conf.Attempts != want.Attempts || !conf.Rotate {
		t.Errorf("ParseResolvConf = %+v, want %+v", *conf, want)
	}
	empty := ioco.ParseResolvConf(nil)
	if !slices.Equal(empty.Nameservers, []string{"127.0.0.1:53", "[::1]:53"}) || empty.Ndots != 1 ||
		empty.Timeout != 5*time.Second || empty.Attempts != 2 {
		t.Errorf("ParseResolvConf of nothing = %+v, want the defaults", *empty)
	}
}

// Names from answers that are not domain names are dropped, with an
// error beside the valid ones, as package net drops them; a name that is
// not one is not asked of any server.
func TestResolverDropsInvalidNamesFromAnswers(t *testing.T) {
	s := newDNSServer(t)
	s.add(mx("mail.test.", 10, "good.test."), mx("mail.test.", 20, "bad name\".test."),
		ptr("9.2.0.192.in-addr.arpa.", "ok.test."), ptr("9.2.0.192.in-addr.arpa.", "evil\n.test."))
	r := testResolver(t, s, "")
	runLoop(t, func(ctx context.Context) error {
		mxs, err := r.LookupMX(ctx, "mail.test.")
		if len(mxs) != 1 || mxs[0].Host != "good.test." || err == nil {
			t.Errorf("LookupMX = %v, %v; want good.test. alone and an error", mxs, err)
		}
		names, err := r.LookupAddr(ctx, "192.0.2.9")
		if len(names) != 1 || names[0] != "ok.test." || err == nil {
			t.Errorf("LookupAddr = %q, %v; want ok.test. alone and an error", names, err)
		}
		before, _ := s.total()
		if _, err := r.LookupHost(ctx, "bad name.test."); !dnsErr(t, err).IsNotFound {
			t.Errorf("LookupHost of a name with a space = %v, want not found", err)
		}
		if after, _ := s.total(); after != before {
			t.Errorf("%d queries for a name that is not one, want none", after-before)
		}
		return nil
	})
}

// A hosts entry with an IPv6 zone, or an IPv4 address asked as an
// IPv4-mapped one, is found by LookupAddr.
func TestResolverLookupAddrFindsZonedAndMappedHostsEntries(t *testing.T) {
	s := newDNSServer(t)
	r := testResolver(t, s, "fe80::1%lo zoned.test\n192.0.2.7 four.test\n")
	runLoop(t, func(ctx context.Context) error {
		for addr, want := range map[string]string{"fe80::1%lo": "zoned.test.", "::ffff:192.0.2.7": "four.test."} {
			if names, err := r.LookupAddr(ctx, addr); len(names) != 1 || names[0] != want {
				t.Errorf("LookupAddr(%s) = %q, %v; want %s", addr, names, err, want)
			}
		}
		return nil
	})
}

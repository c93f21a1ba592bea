package ioco

// # The resolver
//
// Resolver is a DNS stub resolver for the tasks of a loop, in
// *net.Resolver's shape: its lookups ask the nameservers over this
// package's own UDP and TCP conns, so a lookup parks only the task that
// makes it, on the loop's poller, where net.Resolver's would hold a
// goroutine (or, with cgo, a thread) each. The choices:
//
//   - Configuration is the system's, read once, at a Resolver's first
//     lookup, through ReadFile (the loop's thread pool): resolv.conf(5)
//     for nameservers, search list, ndots, timeout, attempts and rotate;
//     hosts(5), which answers before DNS; and nsswitch.conf(5)'s hosts
//     line. Fields override each file, for tests and for programs that
//     know better; Reload reads them again.
//   - nsswitch.conf's hosts line is read as package net's pure-Go
//     resolver reads it. An mdns source matters to names under .local
//     and myhostname to the machine's own names: those go to
//     net.DefaultResolver (or Fallback) on the loop's thread pool, the
//     others through files and dns. A source it does not know (resolve,
//     ldap, wins ...) sends every name of LookupHost and LookupNetIP, and
//     LookupAddr, there: only the C library knows how to ask it. LookupMX,
//     LookupSRV and LookupTXT always ask DNS, as package net's do.
//   - Each query goes out from a fresh socket (a random source port) with
//     a random ID; a reply with another ID or another question is ignored,
//     not taken for an error, so a stale or forged datagram cannot end a
//     lookup. A reply with the TC bit is asked again over TCP. The
//     nameservers are tried in order (or rotated), Attempts rounds, each
//     query bounded by Timeout on the loop's clock (scheduler.WithTimeout),
//     so under scheduler.WithVirtualClock the timeouts are virtual; while
//     a task waits on a socket the virtual clock runs with the wall clock,
//     as the scheduler's doc says.
//   - A name that is not absolute goes through the search list: as it is
//     first when it has Ndots dots or more, last otherwise.
//   - LookupHost and LookupNetIP("ip") ask A and then AAAA, one after the
//     other, and return the IPv4 addresses first, each in the answer's
//     order; there is no RFC 6724 sorting, as there is no routing table
//     to sort by without a system call per address.
//   - CNAME chains are followed within an answer, never with a second
//     query (recursive nameservers send the whole chain).
//   - Answers are cached by name and type until their least TTL runs out
//     on the loop's clock (at most a day); a negative answer (NXDOMAIN, or
//     no record of the type) for its SOA's minimum, at most 5 minutes, or
//     5 s without an SOA. The cache is bounded by CacheSize and belongs to
//     the Resolver, so one per loop: no lock anywhere.
//   - Errors are *net.DNSError as package net's: IsNotFound for NXDOMAIN
//     and no data, IsTimeout when no nameserver answered in time,
//     IsTemporary for SERVFAIL. A lookup that its ctx ends (or a Kill)
//     returns a *net.DNSError whose Unwrap gives ctx's error (or
//     scheduler.ErrKilled), as package net's does.

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"os"
	"slices"
	"strings"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/evergo/evergo/futures"
	"github.com/evergo/evergo/scheduler"
)

// Where a Resolver reads its configuration by default.
const (
	DefaultResolvConfFile = "/etc/resolv.conf"
	DefaultHostsFile      = "/etc/hosts"
	DefaultNSSwitchFile   = "/etc/nsswitch.conf"
)

// A Resolver looks names up for the tasks of one loop: a DNS stub resolver
// over this package's conns, with a hosts file and a cache (see the
// package doc's section on it). Its zero value reads the system's files
// at its first lookup. Set its fields before the first lookup and leave
// them. A Resolver belongs to the loop of its first lookup, and refuses
// the tasks of another with an error wrapping scheduler.ErrWrongLoop. It
// must not be copied after first use.
type Resolver struct {
	noCopy noCopy

	// Conf is the DNS configuration. nil: ResolvConfFile's.
	Conf *ResolvConf
	// ResolvConfFile is read when Conf is nil. "": DefaultResolvConfFile.
	ResolvConfFile string
	// HostsFile answers LookupHost, LookupNetIP and LookupAddr before
	// DNS (or after, as nsswitch.conf says). "": DefaultHostsFile.
	HostsFile string
	// NSSwitchFile's hosts line orders the hosts file and DNS, or sends
	// those lookups to Fallback. "": DefaultNSSwitchFile.
	NSSwitchFile string
	// Fallback is asked on the loop's thread pool when NSSwitchFile names
	// sources other than files and dns. nil: net.DefaultResolver.
	Fallback *net.Resolver
	// CacheSize bounds the answers cached. 0: 1024; negative: no cache.
	CacheSize int

	loop   *scheduler.Loop // of the first lookup; fixed then
	files  *resolverFiles  // read at the first lookup after Reload
	cache  dnsCache
	rotate int // the next nameserver to start at, with Conf.Rotate
}

// resolverFiles is what a Resolver read from its files.
type resolverFiles struct {
	conf     *ResolvConf
	hosts    *hostsTable
	ns       nsSwitch
	order    hostOrder // ns.order
	hostname string    // the machine's, for nsswitch's myhostname
}

type loopResolverKey struct{}

// LoopResolver returns the Resolver of the loop that ctx carries, a zero
// Resolver made at the first call: the one to use where no other is
// configured. It fails with scheduler.ErrNoLoop for a ctx without a loop.
// Never parks.
func LoopResolver(ctx context.Context) (*Resolver, error) {
	l := scheduler.LoopOf(ctx)
	if l == nil {
		return nil, scheduler.ErrNoLoop
	}
	if r, ok := l.Value(loopResolverKey{}).(*Resolver); ok {
		return r, nil
	}
	r := &Resolver{}
	l.SetValue(loopResolverKey{}, r)
	return r, nil
}

// Reload forgets the files read and the answers cached: the next lookup
// reads the files again. Never parks.
func (r *Resolver) Reload() {
	r.files = nil
	r.cache.clear()
}

// LookupHost returns the addresses of host, as strings: LookupNetIP(ctx,
// "ip", host). May park the calling task.
func (r *Resolver) LookupHost(ctx context.Context, host string) ([]string, error) {
	ips, err := r.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	addrs := make([]string, len(ips))
	for i, ip := range ips {
		addrs[i] = ip.String()
	}
	return addrs, nil
}

// LookupNetIP returns the addresses of host for network: "ip" (IPv4 and
// IPv6, asking A and AAAA), "ip4" or "ip6". An IP address is returned as
// it is. May park the calling task.
func (r *Resolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	switch network {
	case "ip", "ip4", "ip6":
	default:
		return nil, net.UnknownNetworkError(network)
	}
	if ip, err := netip.ParseAddr(host); err == nil {
		if !fits(network, ip) {
			return nil, &net.DNSError{Err: "no suitable address found", Name: host, IsNotFound: true}
		}
		return []netip.Addr{ip}, nil
	}
	f, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	if host == "" {
		return nil, hostNotFound(host, "")
	}
	if f.ns.system(host, f.hostname) {
		fb := r.fallback() // read here, on the loop
		return onPool(ctx, func(ctx context.Context) ([]netip.Addr, error) {
			return fb.LookupNetIP(ctx, network, host)
		})
	}
	if f.order != orderDNS && f.order != orderDNSFiles {
		if ips := f.hosts.lookupHost(network, host); len(ips) > 0 {
			return ips, nil
		}
	}
	if f.order == orderFiles {
		return nil, hostNotFound(host, "")
	}
	qtypes := []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA}
	switch network {
	case "ip4":
		qtypes = qtypes[:1]
	case "ip6":
		qtypes = qtypes[1:]
	}
	answers, err := r.search(ctx, f.conf, host, qtypes)
	if err != nil {
		if isNotFound(err) && f.order == orderDNSFiles {
			if ips := f.hosts.lookupHost(network, host); len(ips) > 0 {
				return ips, nil
			}
		}
		return nil, err
	}
	var ips []netip.Addr
	for _, a := range answers {
		for _, rr := range a.records {
			switch b := rr.Body.(type) {
			case *dnsmessage.AResource:
				ips = append(ips, netip.AddrFrom4(b.A))
			case *dnsmessage.AAAAResource:
				ips = append(ips, netip.AddrFrom16(b.AAAA))
			}
		}
	}
	return ips, nil
}

// LookupAddr returns the names of addr, absolute (with a trailing dot):
// the hosts file's, or the PTR records'. May park the calling task.
func (r *Resolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return nil, &net.DNSError{Err: "unrecognized address", Name: addr}
	}
	f, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	if f.order == orderFallback {
		fb := r.fallback() // read here, on the loop
		return onPool(ctx, func(ctx context.Context) ([]string, error) {
			return fb.LookupAddr(ctx, addr)
		})
	}
	fromHosts := func() []string { return slices.Clone(f.hosts.byAddr[ip.Unmap().WithZone("")]) }
	if f.order != orderDNS && f.order != orderDNSFiles {
		if names := fromHosts(); len(names) > 0 {
			return names, nil
		}
	}
	if f.order == orderFiles {
		return nil, hostNotFound(addr, "")
	}
	a, err := r.query(ctx, f.conf, reverseName(ip), dnsmessage.TypePTR)
	if err == nil && a.notFound {
		err = hostNotFound(addr, a.server)
	}
	if err != nil {
		if names := fromHosts(); isNotFound(err) && f.order == orderDNSFiles && len(names) > 0 {
			return names, nil
		}
		return nil, named(err, addr)
	}
	names := make([]string, 0, len(a.records))
	for _, rr := range a.records {
		if n := rr.Body.(*dnsmessage.PTRResource).PTR.String(); validName(n) {
			names = append(names, n)
		}
	}
	if len(names) < len(a.records) {
		return names, errInvalidNames(addr, a.server)
	}
	return names, nil
}

// LookupSRV looks up the SRV records of _service._proto.name (of name
// itself when service and proto are both empty), through the search list,
// and returns the name they belong to (the end of the CNAME chain) and
// the records, by priority and, within one, by weight, the heaviest
// first: an order that does not change from one call to the next, where
// package net's shuffles by weight (RFC 2782). May park the calling task.
func (r *Resolver) LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error) {
	target := name
	if service != "" || proto != "" {
		target = "_" + service + "._" + proto + "." + name
	}
	a, err := r.dnsOnly(ctx, target, dnsmessage.TypeSRV)
	if err != nil {
		return "", nil, err
	}
	srvs := make([]*net.SRV, 0, len(a.records))
	for _, rr := range a.records {
		s := rr.Body.(*dnsmessage.SRVResource)
		if t := s.Target.String(); validName(t) {
			srvs = append(srvs, &net.SRV{Target: t, Port: s.Port, Priority: s.Priority, Weight: s.Weight})
		}
	}
	slices.SortStableFunc(srvs, func(x, y *net.SRV) int {
		if x.Priority != y.Priority {
			return int(x.Priority) - int(y.Priority)
		}
		return int(y.Weight) - int(x.Weight)
	})
	if len(srvs) < len(a.records) || !validName(a.cname) {
		return a.cname, srvs, errInvalidNames(target, a.server)
	}
	return a.cname, srvs, nil
}

// LookupMX returns the MX records of name, through the search list, by
// preference (within one, in the answer's order, where package net
// shuffles). May park the calling task.
func (r *Resolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	a, err := r.dnsOnly(ctx, name, dnsmessage.TypeMX)
	if err != nil {
		return nil, err
	}
	mxs := make([]*net.MX, 0, len(a.records))
	for _, rr := range a.records {
		m := rr.Body.(*dnsmessage.MXResource)
		if h := m.MX.String(); validName(h) {
			mxs = append(mxs, &net.MX{Host: h, Pref: m.Pref})
		}
	}
	slices.SortStableFunc(mxs, func(x, y *net.MX) int { return int(x.Pref) - int(y.Pref) })
	if len(mxs) < len(a.records) {
		return mxs, errInvalidNames(name, a.server)
	}
	return mxs, nil
}

// validName reports whether name is a domain name as DNS answers may
// carry them to a program: dot-separated labels of 1 to 63 letters,
// digits, hyphens and underscores, not beginning or ending with a hyphen,
// 253 bytes in all at most (one more for a final dot). Names from answers
// that are not are dropped, as package net drops them, so that a hostile
// server cannot hand a program a "name" with spaces, quotes or control
// bytes in it.
func validName(name string) bool {
	name = strings.TrimSuffix(name, ".")
	if name == "" || len(name) > 253 {
		return false
	}
	for label := range strings.SplitSeq(name, ".") {
		if len(label) == 0 || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			c := label[i]
			if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// errInvalidNames is the error returned beside the valid records of an
// answer some of whose names validName refused, as package net's.
func errInvalidNames(name, server string) error {
	return &net.DNSError{Err: "DNS response contained records which contain invalid names", Name: name, Server: server}
}

// LookupTXT returns the TXT records of name, through the search list,
// each record's strings joined into one, as package net does. May park
// the calling task.
func (r *Resolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	a, err := r.dnsOnly(ctx, name, dnsmessage.TypeTXT)
	if err != nil {
		return nil, err
	}
	txts := make([]string, 0, len(a.records))
	for _, rr := range a.records {
		txts = append(txts, strings.Join(rr.Body.(*dnsmessage.TXTResource).TXT, ""))
	}
	return txts, nil
}

// dnsOnly looks name up through the search list for one type, in DNS
// only, as package net does for MX, SRV and TXT. May park the calling
// task.
func (r *Resolver) dnsOnly(ctx context.Context, name string, qtype dnsmessage.Type) (*dnsAnswer, error) {
	f, err := r.begin(ctx)
	if err != nil {
		return nil, err
	}
	answers, err := r.search(ctx, f.conf, name, []dnsmessage.Type{qtype})
	if err != nil {
		return nil, err
	}
	return answers[0], nil
}

// search asks each name of host's search list for qtypes until one has
// records of any of them, and returns those answers. When none has, the
// error is the first that was not "not found" (a timeout says more than
// a miss elsewhere in the list), or else "no such host". Errors name host.
// May park the calling task.
func (r *Resolver) search(ctx context.Context, conf *ResolvConf, host string, qtypes []dnsmessage.Type) ([]*dnsAnswer, error) {
	if !validName(host) {
		return nil, hostNotFound(host, "") // no server is asked a name that cannot be
	}
	var firstErr error
	server := ""
	for _, name := range conf.nameList(host) {
		var got []*dnsAnswer
		for _, qt := range qtypes {
			a, err := r.query(ctx, conf, name, qt)
			switch {
			case err != nil && (ctx.Err() != nil || errors.Is(err, scheduler.ErrKilled)):
				return nil, named(err, host)
			case err != nil:
				if firstErr == nil && !isNotFound(err) {
					firstErr = err
				}
			case a.notFound:
				server = a.server
			default:
				got = append(got, a)
			}
		}
		if len(got) > 0 {
			return got, nil
		}
	}
	if firstErr != nil {
		return nil, named(firstErr, host)
	}
	return nil, hostNotFound(host, server)
}

// begin checks that ctx may make a lookup of r, and returns r's files,
// reading them first if need be. May park the calling task.
func (r *Resolver) begin(ctx context.Context) (*resolverFiles, error) {
	if scheduler.Current(ctx) == nil {
		return nil, scheduler.ErrNoTask
	}
	l := scheduler.LoopOf(ctx)
	if r.loop == nil {
		r.loop = l
	} else if r.loop != l {
		return nil, errResolverLoop
	}
	if r.files != nil {
		return r.files, nil
	}
	f := &resolverFiles{conf: r.Conf}
	read := func(name, def string) ([]byte, error) {
		if name == "" {
			name = def
		}
		b, err := ReadFile(ctx, name)
		if err != nil && (ctx.Err() != nil || errors.Is(err, scheduler.ErrKilled)) {
			return nil, err
		}
		return b, nil // a file that cannot be read counts as empty
	}
	if f.conf == nil {
		b, err := read(r.ResolvConfFile, DefaultResolvConfFile)
		if err != nil {
			return nil, err
		}
		f.conf = ParseResolvConf(b)
	}
	b, err := read(r.HostsFile, DefaultHostsFile)
	if err != nil {
		return nil, err
	}
	f.hosts = parseHosts(b)
	if b, err = read(r.NSSwitchFile, DefaultNSSwitchFile); err != nil {
		return nil, err
	}
	f.ns = parseNSSwitch(b)
	f.order = f.ns.order
	if f.ns.myhostname {
		f.hostname, _ = os.Hostname()
	}
	r.files = f
	return f, nil
}

var errResolverLoop = errors.Join(errors.New("ioco: a Resolver belongs to the loop of its first lookup"), scheduler.ErrWrongLoop)

func (r *Resolver) fallback() *net.Resolver {
	if r.Fallback != nil {
		return r.Fallback
	}
	return net.DefaultResolver
}

func (r *Resolver) cacheSize() int {
	if r.CacheSize == 0 {
		return defaultCacheSize
	}
	return r.CacheSize
}

// onPool runs fn on the loop's thread pool (futures.LoopPool) and parks
// the calling task until it returns; ctx's deadline, carried over as a
// deadline of package context's, bounds fn. May park the calling task.
func onPool[T any](ctx context.Context, fn func(ctx context.Context) (T, error)) (T, error) {
	var zero T
	pool, err := futures.LoopPool(ctx)
	if err != nil {
		return zero, err
	}
	// The call's own context, made here: cancelled as Get returns (ctx
	// ended, or the task is killed), so that the pool's goroutine is
	// freed then rather than at the system resolver's own timeouts.
	callCtx, cancel := context.WithCancel(context.Background())
	if deadline, ok := ctx.Deadline(); ok {
		callCtx, cancel = context.WithDeadline(context.Background(), deadline)
	}
	defer cancel()
	f, err := futures.Submit(ctx, pool, func(context.Context) (T, error) { return fn(callCtx) })
	if err != nil {
		return zero, err
	}
	return f.Get(ctx)
}

// isNotFound reports whether err says that a name has no answer.
func isNotFound(err error) bool {
	var d *net.DNSError
	return errors.As(err, &d) && d.IsNotFound
}

// named returns err with the name the caller asked for in it: errors of
// the exchanges name the absolute name asked.
func named(err error, name string) error {
	var d *net.DNSError
	if errors.As(err, &d) {
		c := *d
		c.Name = name
		return &c
	}
	return err
}

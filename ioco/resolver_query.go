package ioco

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"strings"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/evergo/evergo/scheduler"
)

// The DNS side of a Resolver: one question to the nameservers over UDP
// (TCP after a truncated answer), the answer's CNAME chain, and the cache.

const (
	// ednsSize is the UDP payload size offered with EDNS(0), as package
	// net's (DNS flag day 2020): big enough for most answers, small enough
	// to avoid IP fragmentation. It is also the UDP read buffer's size.
	ednsSize = 1232
	// maxCNAMEHops bounds a CNAME chain followed within one answer.
	maxCNAMEHops = 10
	// noSOANegativeTTL is how long a negative answer without an SOA record
	// is cached; maxNegativeTTL caps an SOA's (RFC 2308 allows hours: a
	// name just created should not stay missing that long here).
	noSOANegativeTTL = 5
	maxNegativeTTL   = 300
	// maxTTL caps a positive answer's time in the cache.
	maxTTL = 24 * 60 * 60
	// defaultCacheSize is the number of answers cached when CacheSize is 0.
	defaultCacheSize = 1024
)

// A dnsAnswer is what a nameserver answered to one question, as far as a
// lookup needs it. It is immutable once made: the cache hands out the same
// one to every lookup.
type dnsAnswer struct {
	notFound bool                  // NXDOMAIN, or no record of the type asked
	cname    string                // the name at the end of the CNAME chain, absolute
	records  []dnsmessage.Resource // of the type asked, owned by cname
	ttl      uint32                // seconds it may be cached
	server   string                // "ip:port" of the nameserver that answered
}

// query returns the answer to (name, qtype), name absolute: the cache's
// if it holds one still fresh on the loop's clock, otherwise the
// nameservers', which it then caches. May park the calling task.
func (r *Resolver) query(ctx context.Context, conf *ResolvConf, name string, qtype dnsmessage.Type) (*dnsAnswer, error) {
	key := cacheKey{strings.ToLower(name), qtype}
	if a, ok := r.cache.get(key, scheduler.Now(ctx)); ok {
		return a, nil
	}
	a, err := r.ask(ctx, conf, name, qtype)
	if err != nil {
		return nil, err
	}
	if size := r.cacheSize(); size > 0 && a.ttl > 0 {
		r.cache.put(key, a, scheduler.Now(ctx), size)
	}
	return a, nil
}

// ask puts the question to the nameservers, each in turn, for
// conf.Attempts rounds, until one answers it (with records or without);
// a timeout, a failure (SERVFAIL, REFUSED) or a reply that does not parse
// moves on to the next. It returns the last error when none answered.
// May park the calling task.
func (r *Resolver) ask(ctx context.Context, conf *ResolvConf, name string, qtype dnsmessage.Type) (*dnsAnswer, error) {
	qname, err := dnsmessage.NewName(name)
	if err != nil {
		return nil, hostNotFound(name, "")
	}
	q := dnsmessage.Question{Name: qname, Type: qtype, Class: dnsmessage.ClassINET}
	msg, err := buildQuery(q)
	if err != nil { // a label longer than 63 bytes, say
		return nil, hostNotFound(name, "")
	}
	servers := conf.servers()
	start := 0
	if conf.Rotate {
		start = r.rotate
		r.rotate++
	}
	var lastErr error
	for range conf.attempts() {
		for i := range servers {
			server := servers[(start+i)%len(servers)]
			reply, err := exchange(ctx, server, q, msg, conf.timeout())
			if err != nil {
				if cerr := ctx.Err(); cerr != nil || errors.Is(err, scheduler.ErrKilled) {
					return nil, endedError(name, server, cerr, err)
				}
				lastErr = exchangeError(name, server, err)
				continue
			}
			a, derr := parseReply(reply, q)
			if derr != nil {
				derr.Name, derr.Server = name, server
				lastErr = derr
				continue
			}
			a.server = server
			return a, nil
		}
	}
	return nil, lastErr
}

// buildQuery builds the query for q, with an EDNS(0) record offering
// ednsSize, and with room for TCP's 2-byte length in front: the message
// itself is msg[2:]. Its ID is set per exchange.
func buildQuery(q dnsmessage.Question) ([]byte, error) {
	b := dnsmessage.NewBuilder(make([]byte, 2, 514), dnsmessage.Header{RecursionDesired: true})
	b.EnableCompression()
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAdditionals(); err != nil {
		return nil, err
	}
	var rh dnsmessage.ResourceHeader
	if err := rh.SetEDNS0(ednsSize, dnsmessage.RCodeSuccess, false); err != nil {
		return nil, err
	}
	if err := b.OPTResource(rh, dnsmessage.OPTResource{}); err != nil {
		return nil, err
	}
	msg, err := b.Finish()
	if err != nil {
		return nil, err
	}
	n := len(msg) - 2
	msg[0], msg[1] = byte(n>>8), byte(n)
	return msg, nil
}

// exchange sends msg (built by buildQuery) to server over UDP under a
// fresh random ID and source port, and returns the reply to it; replies
// with another ID or question are ignored (stale, or forged). A truncated
// reply sends msg again over TCP. timeout, on the loop's clock, bounds
// both. May park the calling task.
func exchange(ctx context.Context, server string, q dnsmessage.Question, msg []byte, timeout time.Duration) ([]byte, error) {
	// A timeout of its own only when it ends before ctx: one cut to ctx's
	// deadline could expire, when made, before ctx's own timer has run,
	// and the lookup would report a timeout that ctx does not report yet.
	if d, ok := ctx.Deadline(); !ok || scheduler.Now(ctx).Add(timeout).Before(d) {
		var cancel context.CancelFunc
		ctx, cancel = scheduler.WithTimeout(ctx, timeout)
		defer cancel()
	}
	id := uint16(rand.Uint32())
	msg[2], msg[3] = byte(id>>8), byte(id)
	c, err := Dial(ctx, "udp", server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	uc := c.(*UDPConn)
	if _, err := uc.Write(msg[2:]); err != nil {
		return nil, err
	}
	buf := make([]byte, ednsSize)
	for {
		n, err := uc.readCtx(ctx, buf)
		if err != nil {
			return nil, err
		}
		h, ok := replyTo(buf[:n], id, q)
		if !ok {
			continue
		}
		if h.Truncated {
			return exchangeTCP(ctx, server, id, q, msg)
		}
		return buf[:n], nil
	}
}

// exchangeTCP sends msg, with its length in front, to server over TCP and
// reads the reply, which must be to id and q. May park the calling task.
func exchangeTCP(ctx context.Context, server string, id uint16, q dnsmessage.Question, msg []byte) ([]byte, error) {
	c, err := Dial(ctx, "tcp", server)
	if err != nil {
		return nil, err
	}
	defer c.Close()
	tc := c.(*TCPConn)
	if _, err := tc.Write(msg); err != nil {
		return nil, err
	}
	var n [2]byte
	if err := tc.readFullCtx(ctx, n[:]); err != nil {
		return nil, err
	}
	reply := make([]byte, int(n[0])<<8|int(n[1]))
	if err := tc.readFullCtx(ctx, reply); err != nil {
		return nil, err
	}
	if _, ok := replyTo(reply, id, q); !ok {
		return nil, errors.New("reply over TCP to another query")
	}
	return reply, nil
}

// readCtx reads into b, non-empty, parking the task that ctx carries
// until the socket is readable or ctx ends: the conn's Read parks on its
// running task's own context, which knows nothing of a query's timeout.
// May park the calling task.
func (fd *netFD) readCtx(ctx context.Context, b []byte) (int, error) {
	for {
		n, err := sysRead(fd.sysfd, b)
		switch err {
		case nil:
			return n, nil
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			if err := fd.pfd.Wait(ctx, scheduler.Read); err != nil {
				return 0, err
			}
			continue
		}
		return 0, os.NewSyscallError("read", err)
	}
}

// readFullCtx fills b from a stream with readCtx. May park the calling
// task.
func (fd *netFD) readFullCtx(ctx context.Context, b []byte) error {
	for len(b) > 0 {
		n, err := fd.readCtx(ctx, b)
		if err != nil {
			return err
		}
		if n == 0 {
			return io.ErrUnexpectedEOF
		}
		b = b[n:]
	}
	return nil
}

// replyTo reports whether b is a reply to the query id asking q, and
// returns its header.
func replyTo(b []byte, id uint16, q dnsmessage.Question) (dnsmessage.Header, bool) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err != nil || h.ID != id || !h.Response {
		return h, false
	}
	got, err := p.Question()
	if err != nil || got.Type != q.Type || got.Class != q.Class || !strings.EqualFold(got.Name.String(), q.Name.String()) {
		return h, false
	}
	return h, true
}

// parseReply makes the answer to q out of a reply: the records of q's
// type at the end of the CNAME chain that starts at q's name, and how long
// to cache them (the least TTL along the chain; for a negative answer the
// SOA's, RFC 2308). SERVFAIL, other failures and a lame referral are
// errors, for the caller to try the next nameserver.
func parseReply(b []byte, q dnsmessage.Question) (*dnsAnswer, *net.DNSError) {
	var p dnsmessage.Parser
	h, err := p.Start(b)
	if err == nil {
		err = p.SkipAllQuestions()
	}
	var answers, authorities []dnsmessage.Resource
	if err == nil {
		answers, err = p.AllAnswers()
	}
	if err == nil {
		authorities, err = p.AllAuthorities()
	}
	if err != nil {
		return nil, &net.DNSError{Err: "cannot unmarshal DNS message"}
	}
	switch h.RCode {
	case dnsmessage.RCodeSuccess, dnsmessage.RCodeNameError:
	case dnsmessage.RCodeServerFailure:
		return nil, &net.DNSError{Err: "server misbehaving", IsTemporary: true}
	default:
		return nil, &net.DNSError{Err: "server misbehaving"}
	}
	if h.RCode == dnsmessage.RCodeSuccess && !h.Authoritative && !h.RecursionAvailable &&
		len(answers) == 0 && len(authorities) == 0 {
		return nil, &net.DNSError{Err: "lame referral"}
	}
	a := &dnsAnswer{cname: q.Name.String(), ttl: maxTTL}
	if h.RCode == dnsmessage.RCodeSuccess {
		a.follow(answers, q.Type)
	}
	if len(a.records) == 0 {
		a.notFound = true
		a.ttl = negativeTTL(authorities)
	}
	return a, nil
}

// follow follows the CNAME chain from a.cname through answers and keeps
// the records of qtype at its end.
func (a *dnsAnswer) follow(answers []dnsmessage.Resource, qtype dnsmessage.Type) {
	for range maxCNAMEHops {
		next := ""
		for _, rr := range answers {
			if c, ok := rr.Body.(*dnsmessage.CNAMEResource); ok && qtype != dnsmessage.TypeCNAME &&
				strings.EqualFold(rr.Header.Name.String(), a.cname) {
				next = c.CNAME.String()
				a.ttl = min(a.ttl, rr.Header.TTL)
				break
			}
		}
		if next == "" {
			break
		}
		a.cname = next
	}
	for _, rr := range answers {
		if rr.Header.Type == qtype && rr.Header.Class == dnsmessage.ClassINET &&
			strings.EqualFold(rr.Header.Name.String(), a.cname) {
			a.records = append(a.records, rr)
			a.ttl = min(a.ttl, rr.Header.TTL)
		}
	}
}

// negativeTTL is how long a negative answer may be cached: its SOA's
// minimum or TTL, the lesser (RFC 2308), capped at maxNegativeTTL, or
// noSOANegativeTTL without an SOA.
func negativeTTL(authorities []dnsmessage.Resource) uint32 {
	for _, rr := range authorities {
		if soa, ok := rr.Body.(*dnsmessage.SOAResource); ok {
			return min(rr.Header.TTL, soa.MinTTL, maxNegativeTTL)
		}
	}
	return noSOANegativeTTL
}

// exchangeError is the error of an exchange with server that failed, or
// found no answer in time.
func exchangeError(name, server string, err error) *net.DNSError {
	// Temporary, as package net's are: another try may get through.
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return &net.DNSError{Err: "i/o timeout", Name: name, Server: server, IsTimeout: true, IsTemporary: true, UnwrapErr: os.ErrDeadlineExceeded}
	}
	return &net.DNSError{Err: err.Error(), Name: name, Server: server, IsTemporary: true, UnwrapErr: err}
}

// endedError is the error of a lookup that its ctx ended (cerr), or a Kill
// (err): errors.Is finds either through it, as through package net's.
func endedError(name, server string, cerr, err error) *net.DNSError {
	if cerr == nil || errors.Is(err, scheduler.ErrKilled) {
		cerr = err // a dying task's context is cancelled too: the kill is the news
	}
	return &net.DNSError{Err: cerr.Error(), Name: name, Server: server,
		IsTimeout: errors.Is(cerr, context.DeadlineExceeded), UnwrapErr: cerr}
}

// The cache of answers, by lower-case absolute name and type, each until
// its TTL runs out on the loop's clock. When full, it drops the expired
// answers and then the oldest.
type dnsCache struct {
	m     map[cacheKey]cacheEntry
	order []cacheKey // the keys of m, oldest first, for eviction
}

type cacheKey struct {
	name  string
	qtype dnsmessage.Type
}

type cacheEntry struct {
	a       *dnsAnswer
	expires time.Time
}

// get returns the answer for k if it is fresh at now. An expired one
// stays until put replaces it or evict drops it, so that every key in the
// map is in order once.
func (c *dnsCache) get(k cacheKey, now time.Time) (*dnsAnswer, bool) {
	e, ok := c.m[k]
	if !ok || !now.Before(e.expires) {
		return nil, false
	}
	return e.a, true
}

// put caches a for k from now until its TTL runs out, keeping size
// answers at most.
func (c *dnsCache) put(k cacheKey, a *dnsAnswer, now time.Time, size int) {
	if c.m == nil {
		c.m = map[cacheKey]cacheEntry{}
	}
	if _, ok := c.m[k]; !ok {
		if len(c.m) >= size {
			c.evict(now, size-1)
		}
		c.order = append(c.order, k)
	}
	c.m[k] = cacheEntry{a, now.Add(time.Duration(a.ttl) * time.Second)}
}

// evict drops the answers expired at now, and then the oldest until size
// are left at most.
func (c *dnsCache) evict(now time.Time, size int) {
	kept := c.order[:0]
	for _, k := range c.order {
		if e, ok := c.m[k]; ok && now.Before(e.expires) {
			kept = append(kept, k)
		} else {
			delete(c.m, k)
		}
	}
	drop := 0
	for ; len(c.m) > size; drop++ {
		delete(c.m, kept[drop])
	}
	n := copy(c.order, kept[drop:])
	clear(c.order[n:])
	c.order = c.order[:n]
}

// clear empties the cache.
func (c *dnsCache) clear() {
	c.m = nil
	c.order = nil
}

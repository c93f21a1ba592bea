package ioco_test

import (
	"encoding/binary"
	"io"
	"net"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// A dnsServer is a tiny authoritative DNS server on 127.0.0.1 for the
// resolver's tests and benchmarks: UDP and TCP on one port, on goroutines
// of package net's, answering from a zone of records and counting the
// questions it gets. Behaviours by name make it fail on purpose.
type dnsServer struct {
	Addr string // "127.0.0.1:port", for UDP and TCP

	udp net.PacketConn
	tcp net.Listener
	wg  sync.WaitGroup

	mu       sync.Mutex
	zone     map[string][]dnsmessage.Resource // by lower-case absolute name
	count    map[string]int                   // questions by "name TYPE"
	tcpCount int                              // questions over TCP
	conns    map[net.Conn]bool                // open TCP conns, closed by close
	// By lower-case absolute name: answer SERVFAIL; never answer; answer
	// over UDP with the TC bit and no records; send a reply with another
	// ID (and a wrong address) before the right one.
	servfail, silent, truncate, wrongID map[string]bool
}

// newDNSServer starts a server, stopped when the test ends.
func newDNSServer(tb testing.TB) *dnsServer {
	tb.Helper()
	s := &dnsServer{
		zone: map[string][]dnsmessage.Resource{}, count: map[string]int{}, conns: map[net.Conn]bool{},
		servfail: map[string]bool{}, silent: map[string]bool{}, truncate: map[string]bool{}, wrongID: map[string]bool{},
	}
	for try := 0; s.tcp == nil; try++ {
		udp, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			tb.Fatal(err)
		}
		tcp, err := net.Listen("tcp", udp.LocalAddr().String())
		if err != nil {
			udp.Close()
			if try == 10 {
				tb.Fatal(err)
			}
			continue
		}
		s.udp, s.tcp, s.Addr = udp, tcp, udp.LocalAddr().String()
	}
	s.wg.Add(2)
	go s.serveUDP()
	go s.serveTCP()
	tb.Cleanup(s.close)
	return s
}

func (s *dnsServer) close() {
	s.udp.Close()
	s.tcp.Close()
	s.mu.Lock()
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

// add puts records into the zone.
func (s *dnsServer) add(rrs ...dnsmessage.Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, rr := range rrs {
		k := strings.ToLower(rr.Header.Name.String())
		s.zone[k] = append(s.zone[k], rr)
	}
}

// set turns a behaviour on for name (absolute).
func (s *dnsServer) set(behaviour map[string]bool, name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	behaviour[strings.ToLower(name)] = true
}

// queries is how many questions for (name, qtype) came, over UDP and TCP.
func (s *dnsServer) queries(name string, qtype dnsmessage.Type) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.count[strings.ToLower(name)+" "+qtype.String()]
}

// total is how many questions came, and how many of them over TCP.
func (s *dnsServer) total() (all, tcp int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.count {
		all += n
	}
	return all, s.tcpCount
}

func (s *dnsServer) serveUDP() {
	defer s.wg.Done()
	buf := make([]byte, 1500)
	for {
		n, from, err := s.udp.ReadFrom(buf)
		if err != nil {
			return // closed
		}
		for _, reply := range s.answer(buf[:n], false) {
			s.udp.WriteTo(reply, from)
		}
	}
}

func (s *dnsServer) serveTCP() {
	defer s.wg.Done()
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			return // closed
		}
		s.mu.Lock()
		s.conns[c] = true
		s.mu.Unlock()
		s.wg.Add(1)
		go s.serveConn(c)
	}
}

func (s *dnsServer) serveConn(c net.Conn) {
	defer s.wg.Done()
	defer func() {
		s.mu.Lock()
		delete(s.conns, c)
		s.mu.Unlock()
		c.Close()
	}()
	for {
		var n [2]byte
		if _, err := io.ReadFull(c, n[:]); err != nil {
			return
		}
		msg := make([]byte, binary.BigEndian.Uint16(n[:]))
		if _, err := io.ReadFull(c, msg); err != nil {
			return
		}
		for _, reply := range s.answer(msg, true) {
			c.Write(binary.BigEndian.AppendUint16(nil, uint16(len(reply))))
			c.Write(reply)
		}
	}
}

// answer returns the replies to the query msg: none, one, or a forged one
// and then the right one.
func (s *dnsServer) answer(msg []byte, tcp bool) [][]byte {
	var p dnsmessage.Parser
	h, err := p.Start(msg)
	if err != nil {
		return nil
	}
	q, err := p.Question()
	if err != nil {
		return nil
	}
	name := strings.ToLower(q.Name.String())
	s.mu.Lock()
	defer s.mu.Unlock()
	s.count[name+" "+q.Type.String()]++
	if tcp {
		s.tcpCount++
	}
	if s.silent[name] {
		return nil
	}
	m := dnsmessage.Message{
		Header: dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true,
			RecursionDesired: h.RecursionDesired, RecursionAvailable: true},
		Questions: []dnsmessage.Question{q},
	}
	switch {
	case s.servfail[name]:
		m.RCode = dnsmessage.RCodeServerFailure
	case s.truncate[name] && !tcp:
		m.Truncated = true
	default:
		m.Answers = s.records(name, q.Type)
		if len(m.Answers) == 0 {
			if len(s.zone[name]) == 0 {
				m.RCode = dnsmessage.RCodeNameError
			}
			m.Authorities = []dnsmessage.Resource{soa("test.", 60)}
		}
	}
	var replies [][]byte
	if s.wrongID[name] {
		forged := m
		forged.ID++
		forged.Answers = []dnsmessage.Resource{a(q.Name.String(), "6.6.6.6", 60)}
		replies = append(replies, pack(forged))
	}
	return append(replies, pack(m))
}

// records are name's records of qtype, after the CNAME chain from name.
// s.mu is held.
func (s *dnsServer) records(name string, qtype dnsmessage.Type) []dnsmessage.Resource {
	var out []dnsmessage.Resource
	for hop := 0; hop < 10; hop++ {
		next := ""
		for _, rr := range s.zone[name] {
			if c, ok := rr.Body.(*dnsmessage.CNAMEResource); ok && qtype != dnsmessage.TypeCNAME {
				out = append(out, rr)
				next = strings.ToLower(c.CNAME.String())
			}
		}
		if next == "" {
			break
		}
		name = next
	}
	for _, rr := range s.zone[name] {
		if rr.Header.Type == qtype {
			out = append(out, rr)
		}
	}
	return out
}

func pack(m dnsmessage.Message) []byte {
	b, err := m.Pack()
	if err != nil {
		panic(err)
	}
	return b
}

// Records for the zone.

func rr(name string, t dnsmessage.Type, ttl uint32, body dnsmessage.ResourceBody) dnsmessage.Resource {
	return dnsmessage.Resource{
		Header: dnsmessage.ResourceHeader{Name: dnsmessage.MustNewName(name), Type: t, Class: dnsmessage.ClassINET, TTL: ttl},
		Body:   body,
	}
}

func a(name, ip string, ttl uint32) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeA, ttl, &dnsmessage.AResource{A: netip.MustParseAddr(ip).As4()})
}

func aaaa(name, ip string, ttl uint32) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeAAAA, ttl, &dnsmessage.AAAAResource{AAAA: netip.MustParseAddr(ip).As16()})
}

func cname(name, target string, ttl uint32) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeCNAME, ttl, &dnsmessage.CNAMEResource{CNAME: dnsmessage.MustNewName(target)})
}

func mx(name string, pref uint16, host string) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeMX, 60, &dnsmessage.MXResource{Pref: pref, MX: dnsmessage.MustNewName(host)})
}

func srv(name string, prio, weight, port uint16, target string) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeSRV, 60, &dnsmessage.SRVResource{Priority: prio, Weight: weight, Port: port, Target: dnsmessage.MustNewName(target)})
}

func txt(name string, parts ...string) dnsmessage.Resource {
	return rr(name, dnsmessage.TypeTXT, 60, &dnsmessage.TXTResource{TXT: parts})
}

func ptr(name, host string) dnsmessage.Resource {
	return rr(name, dnsmessage.TypePTR, 60, &dnsmessage.PTRResource{PTR: dnsmessage.MustNewName(host)})
}

func soa(zone string, minTTL uint32) dnsmessage.Resource {
	return rr(zone, dnsmessage.TypeSOA, minTTL, &dnsmessage.SOAResource{
		NS: dnsmessage.MustNewName("ns." + zone), MBox: dnsmessage.MustNewName("admin." + zone),
		Serial: 1, Refresh: 3600, Retry: 600, Expire: 86400, MinTTL: minTTL,
	})
}

package ioco

import (
	"bufio"
	"bytes"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"
)

// The files a Resolver reads: resolv.conf(5), hosts(5) and the hosts line
// of nsswitch.conf(5), parsed as glibc and package net's Go resolver read
// them. A file that cannot be read counts as empty, so its defaults hold.

// Defaults of a ResolvConf, as glibc's and package net's.
const (
	defaultNdots    = 1
	defaultTimeout  = 5 * time.Second
	defaultAttempts = 2
	maxNameservers  = 3 // glibc's MAXNS: later nameserver lines are ignored
)

// defaultNameservers are asked when a ResolvConf names none, as package
// net's Go resolver does.
var defaultNameservers = []string{"127.0.0.1:53", "[::1]:53"}

// A ResolvConf is the configuration of a Resolver's DNS queries, as
// resolv.conf(5) gives it. Its zero value asks the default nameservers
// with no search list, ndots:0, and the default timeout and attempts.
type ResolvConf struct {
	// Nameservers are the servers asked, as "host:port" with host an IP
	// address, in order. None: 127.0.0.1:53 and [::1]:53.
	Nameservers []string
	// Search is the search list: domains (without a trailing dot) tried
	// after a name that is not absolute, in order.
	Search []string
	// Ndots is how many dots a name needs to be tried as it is before the
	// search list (with fewer, it is tried after). 0 is ndots:0; the
	// files' default is 1.
	Ndots int
	// Timeout bounds each query, on the loop's clock. Zero: 5 s.
	Timeout time.Duration
	// Attempts is how many rounds of the nameservers a query makes before
	// it gives up. Zero: 2.
	Attempts int
	// Rotate starts each query at the next nameserver (options rotate),
	// spreading the load instead of asking the first one first.
	Rotate bool
}

// ParseResolvConf parses the text of a resolv.conf(5) file: nameserver
// (three at most, port 53), search, domain (a search list of one) and
// options ndots:N (at most 15), timeout:N (seconds, 1 to 30), attempts:N
// (1 to 5) and rotate. Lines it does not know are ignored, as glibc does.
// Defaults: ndots 1, timeout 5 s, attempts 2, and the default
// nameservers when none is named. Never parks.
func ParseResolvConf(data []byte) *ResolvConf {
	conf := &ResolvConf{Ndots: defaultNdots, Timeout: defaultTimeout, Attempts: defaultAttempts}
	for line := range lines(data) {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		switch f[0] {
		case "nameserver":
			if len(f) > 1 && len(conf.Nameservers) < maxNameservers {
				if ip, err := netip.ParseAddr(f[1]); err == nil {
					conf.Nameservers = append(conf.Nameservers, netip.AddrPortFrom(ip, 53).String())
				}
			}
		case "domain":
			if len(f) > 1 {
				conf.Search = []string{strings.TrimSuffix(f[1], ".")}
			}
		case "search":
			conf.Search = conf.Search[:0:0]
			for _, d := range f[1:] {
				if d = strings.TrimSuffix(d, "."); d != "" {
					conf.Search = append(conf.Search, d)
				}
			}
		case "options":
			for _, o := range f[1:] {
				conf.option(o)
			}
		}
	}
	if len(conf.Nameservers) == 0 {
		conf.Nameservers = defaultNameservers
	}
	return conf
}

// option applies one word of an options line.
func (conf *ResolvConf) option(o string) {
	name, val, _ := strings.Cut(o, ":")
	n, err := strconv.Atoi(val)
	switch {
	case name == "rotate":
		conf.Rotate = true
	case err != nil:
	case name == "ndots":
		conf.Ndots = min(max(n, 0), 15)
	case name == "timeout":
		conf.Timeout = time.Duration(min(max(n, 1), 30)) * time.Second
	case name == "attempts":
		conf.Attempts = min(max(n, 1), 5)
	}
}

// lines yields the lines of data without their comments (from '#' or ';').
func lines(data []byte) func(yield func(string) bool) {
	return func(yield func(string) bool) {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := sc.Text()
			if i := strings.IndexAny(line, "#;"); i >= 0 {
				line = line[:i]
			}
			if !yield(line) {
				return
			}
		}
	}
}

// hostsTable is a parsed hosts file. Names are kept lower-case and without
// a trailing dot; byAddr's names are absolute (with the dot), as PTR
// answers' are.
type hostsTable struct {
	byName map[string][]netip.Addr
	byAddr map[netip.Addr][]string
}

// parseHosts parses the text of a hosts(5) file: an address, then its
// names, per line.
func parseHosts(data []byte) *hostsTable {
	h := &hostsTable{byName: map[string][]netip.Addr{}, byAddr: map[netip.Addr][]string{}}
	for line := range lines(data) {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		ip, err := netip.ParseAddr(f[0])
		if err != nil {
			continue
		}
		for _, name := range f[1:] {
			key := hostKey(name)
			h.byName[key] = append(h.byName[key], ip)
			k := ip.Unmap().WithZone("") // as LookupAddr asks: no zone, IPv4 unmapped
			h.byAddr[k] = append(h.byAddr[k], key+".")
		}
	}
	return h
}

// hostKey is the key of name in a hostsTable.
func hostKey(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }

// lookupHost returns the addresses of name fit for network ("ip", "ip4"
// or "ip6"), in the file's order.
func (h *hostsTable) lookupHost(network, name string) []netip.Addr {
	var ips []netip.Addr
	for _, ip := range h.byName[hostKey(name)] {
		if fits(network, ip) {
			ips = append(ips, ip)
		}
	}
	return ips
}

// fits reports whether ip is an address of network.
func fits(network string, ip netip.Addr) bool {
	switch network {
	case "ip4":
		return ip.Unmap().Is4()
	case "ip6":
		return ip.Is6() && !ip.Is4In6()
	}
	return true
}

// The sources of the hosts line of nsswitch.conf, as a Resolver follows
// them.
type hostOrder int

const (
	orderFilesDNS hostOrder = iota // files, then dns: also with no file or no hosts line
	orderDNSFiles
	orderFiles
	orderDNS
	orderFallback // a source other than files and dns: package net's resolver
)

// An nsSwitch is what the hosts line of an nsswitch.conf(5) says: the
// order of files and dns, and whether mdns (multicast DNS, for names
// under .local) or myhostname (the machine's own name) come into it.
type nsSwitch struct {
	order            hostOrder
	mdns, myhostname bool
}

// parseNSSwitch reads the hosts line of an nsswitch.conf(5), as package
// net's pure-Go resolver does: action criteria in brackets
// ("[NOTFOUND=return]") are skipped; mdns sources (mdns4_minimal ...)
// matter only to names under .local and myhostname only to the machine's
// own names, which the system's resolver is then asked for (see
// nsSwitch.system); any other source (resolve, ldap, wins ...) makes the
// order orderFallback: only the system's own resolver knows it.
func parseNSSwitch(data []byte) nsSwitch {
	for line := range lines(data) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "hosts:")
		if !ok {
			continue
		}
		var srcs []string
		depth := 0
		for _, w := range strings.Fields(rest) {
			if strings.HasPrefix(w, "[") {
				depth++
			}
			if depth == 0 {
				srcs = append(srcs, w)
			}
			if strings.HasSuffix(w, "]") {
				depth = max(depth-1, 0)
			}
		}
		var ns nsSwitch
		srcs = slices.DeleteFunc(srcs, func(w string) bool {
			switch {
			case strings.HasPrefix(w, "mdns"):
				ns.mdns = true
			case w == "myhostname":
				ns.myhostname = true
			default:
				return false
			}
			return true
		})
		ns.order = sourcesOrder(srcs)
		return ns
	}
	return nsSwitch{order: orderFilesDNS}
}

// system reports whether host is to be asked of the system's resolver:
// every name under orderFallback, a name under .local when mdns is a
// source, the machine's own names when myhostname is.
func (ns nsSwitch) system(host, hostname string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	switch {
	case ns.order == orderFallback:
		return true
	case ns.mdns && (strings.HasSuffix(h, ".local") || h == "local"):
		return true
	case ns.myhostname && (h == "localhost" || strings.HasSuffix(h, ".localhost") ||
		h == "localhost.localdomain" || hostname != "" && h == strings.ToLower(hostname)):
		return true
	}
	return false
}

// sourcesOrder is the order of a hosts line's sources.
func sourcesOrder(srcs []string) hostOrder {
	switch strings.Join(srcs, " ") {
	case "", "files dns":
		return orderFilesDNS
	case "dns files":
		return orderDNSFiles
	case "files":
		return orderFiles
	case "dns":
		return orderDNS
	}
	return orderFallback
}

// reverseName is the PTR name of ip: 4.3.2.1.in-addr.arpa. for 1.2.3.4,
// and the nibbles of an IPv6 address under ip6.arpa.
func reverseName(ip netip.Addr) string {
	ip = ip.Unmap()
	var b strings.Builder
	if ip.Is4() {
		a := ip.As4()
		for i := 3; i >= 0; i-- {
			b.WriteString(strconv.Itoa(int(a[i])))
			b.WriteByte('.')
		}
		b.WriteString("in-addr.arpa.")
		return b.String()
	}
	const hex = "0123456789abcdef"
	a := ip.As16()
	for i := 15; i >= 0; i-- {
		b.WriteByte(hex[a[i]&0xf])
		b.WriteByte('.')
		b.WriteByte(hex[a[i]>>4])
		b.WriteByte('.')
	}
	b.WriteString("ip6.arpa.")
	return b.String()
}

// nameList is the names to ask for name, in order: name alone if it is
// absolute (ends in a dot), else name with each search domain appended,
// after name itself when it has at least ndots dots and before it
// otherwise. Every name returned is absolute.
func (conf *ResolvConf) nameList(name string) []string {
	if strings.HasSuffix(name, ".") {
		return []string{name}
	}
	names := make([]string, 0, len(conf.Search)+1)
	asIs := strings.Count(name, ".") >= conf.Ndots
	if asIs {
		names = append(names, name+".")
	}
	for _, d := range conf.Search {
		names = append(names, name+"."+d+".")
	}
	if !asIs {
		names = append(names, name+".")
	}
	return names
}

// servers is the nameservers to ask, the defaults if conf names none.
func (conf *ResolvConf) servers() []string {
	if len(conf.Nameservers) == 0 {
		return defaultNameservers
	}
	return conf.Nameservers
}

// timeout and attempts are conf's, or the defaults for zero.
func (conf *ResolvConf) timeout() time.Duration {
	if conf.Timeout <= 0 {
		return defaultTimeout
	}
	return conf.Timeout
}

func (conf *ResolvConf) attempts() int {
	if conf.Attempts <= 0 {
		return defaultAttempts
	}
	return conf.Attempts
}

// hostNotFound is the error of a name that has no answer.
func hostNotFound(name, server string) *net.DNSError {
	return &net.DNSError{Err: "no such host", Name: name, Server: server, IsNotFound: true}
}

package crawl

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// ErrNotHTTP is the error of Normalize for a URL that is not an absolute
// http or https URL with a host: a mailto: or javascript: link, say, or a
// relative one that was not resolved against its page.
var ErrNotHTTP = errors.New("crawl: not an absolute http or https URL")

// Normalize returns the canonical form of an absolute http or https URL:
// the key by which the frontier tells a page it has seen from a new one.
// Two URLs that name the same resource in the ways RFC 3986 section 6
// calls syntax-based normalization get the same form:
//
//   - scheme and host in lower case, and the port dropped where it is the
//     scheme's default (80 for http, 443 for https);
//   - the fragment dropped, as it never reaches the server;
//   - "." and ".." segments of the path resolved, and an empty path "/";
//   - percent-escapes in the path in upper case, and escaped unreserved
//     characters (letters, digits, "-", ".", "_", "~") decoded.
//
// The query is kept as written: its order and its escapes can matter to
// the server. It fails with an error wrapping ErrNotHTTP, or the parse
// error. Never parks.
func Normalize(raw string) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	n, err := normalize(u)
	if err != nil {
		return "", err
	}
	return n.String(), nil
}

// normalize is Normalize on a parsed URL; it returns a new one.
func normalize(u *url.URL) (*url.URL, error) {
	scheme := strings.ToLower(u.Scheme)
	if scheme != "http" && scheme != "https" || u.Host == "" || u.Opaque != "" {
		return nil, &url.Error{Op: "normalize", URL: u.Redacted(), Err: ErrNotHTTP}
	}
	// Escapes first, as RFC 3986 orders it: a decoded "%2E" is a dot that
	// the segment resolution must see.
	c := *u
	if err := setEscapedPath(&c, normalizeEscapes(u.EscapedPath())); err != nil {
		return nil, &url.Error{Op: "normalize", URL: u.Redacted(), Err: err}
	}
	n := c.ResolveReference(&c) // an absolute reference: this resolves its dot segments
	n.Scheme = scheme
	n.Fragment, n.RawFragment = "", ""
	host, port := strings.ToLower(n.Hostname()), n.Port()
	if host == "" {
		return nil, &url.Error{Op: "normalize", URL: u.Redacted(), Err: ErrNotHTTP}
	}
	if port == "" || scheme == "http" && port == "80" || scheme == "https" && port == "443" {
		port = ""
	}
	switch {
	case port != "":
		n.Host = net.JoinHostPort(host, port)
	case strings.Contains(host, ":"):
		n.Host = "[" + host + "]" // IPv6
	default:
		n.Host = host
	}
	if n.Path == "" {
		n.Path, n.RawPath = "/", ""
	}
	return n, nil
}

// setEscapedPath sets u's path from its escaped form p.
func setEscapedPath(u *url.URL, p string) error {
	path, err := url.PathUnescape(p)
	if err != nil {
		return err
	}
	u.Path, u.RawPath = path, p
	return nil
}

// normalizeEscapes upper-cases the hex digits of the percent-escapes in s
// and decodes those of unreserved characters, which mean the same
// unescaped (RFC 3986 sections 6.2.2.1 and 6.2.2.2). Malformed escapes are
// left as they are.
func normalizeEscapes(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '%' || i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
			b.WriteByte(s[i])
			continue
		}
		c := unhex(s[i+1])<<4 | unhex(s[i+2])
		if isUnreserved(c) {
			b.WriteByte(c)
		} else {
			b.WriteByte('%')
			b.WriteByte(upper(s[i+1]))
			b.WriteByte(upper(s[i+2]))
		}
		i += 2
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c >= 'a':
		return c - 'a' + 10
	}
	return c - 'A' + 10
}

func upper(c byte) byte {
	if 'a' <= c && c <= 'f' {
		return c - 'a' + 'A'
	}
	return c
}

func isUnreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

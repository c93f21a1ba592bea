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
// It also makes the URL fit to be sent and written down: the userinfo
// (user:password@) is dropped, so that no credentials reach a request, the
// output or the summary (the crawler authenticates nowhere); and the bytes of the query that may not go on a request line as they are
// (RFC 9112 section 3.2 wants ASCII: bytes above 0x7F, spaces, controls,
// and `"<>\^`+"`"+`{|}`) are percent-encoded, as a browser does. The query
// is otherwise kept as written: its order and its escapes can matter to the
// server. The form returned is the URL as the Fetcher requests it. It fails
// with an error wrapping ErrNotHTTP, or the parse error. Never parks.
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
	n.User = nil
	n.RawQuery = escapeQuery(n.RawQuery)
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

// escapeQuery percent-encodes the bytes of the raw query q that may not be
// sent as they are; the others, and the escapes already there, stay.
func escapeQuery(q string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	for i := 0; i < len(q); i++ {
		c := q[i]
		if c > ' ' && c < 0x7F && !strings.ContainsRune(`"<>\^`+"`"+`{|}`, rune(c)) {
			if b.Len() > 0 {
				b.WriteByte(c)
			}
			continue
		}
		if b.Len() == 0 {
			b.Grow(len(q) + 8)
			b.WriteString(q[:i])
		}
		b.WriteByte('%')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&0xF])
	}
	if b.Len() == 0 {
		return q
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

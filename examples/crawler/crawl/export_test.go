package crawl

import (
	"context"
	"net"
	"net/url"
)

// OnParse makes c call fn before it parses the HTML page u, in the task
// that fetched it: the tests' way to make a page's parse panic.
func OnParse(c *Crawler, fn func(u *url.URL)) { c.parsing = fn }

// DialWith makes f connect with dial, in place of ioco.Dial (for https
// too, the TLS handshake then made over what dial returns): the tests' way
// to put a socketpair under a fetch.
func DialWith(f *Fetcher, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	f.dialHook = dial
}

// CrawlDialWith is DialWith for the Fetcher of c.
func CrawlDialWith(c *Crawler, dial func(ctx context.Context, network, addr string) (net.Conn, error)) {
	c.f.dialHook = dial
}

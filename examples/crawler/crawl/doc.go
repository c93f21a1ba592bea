// Package crawl is the library part of the evergo crawler
// (examples/crawler): what its command runs and its tests drive.
//
// A Crawler runs on the loop of the task that calls its Run. Concurrency
// tasks take URLs from a frontier (a queue.Queue, first in first out, so
// the crawl goes breadth first) and fetch them with a Fetcher; the links of
// every text/html page (Links) go back into the frontier, once each by
// their normalized form (Normalize). All of the crawl's state lives on the
// loop, so it needs no mutex: a task changes it only between two parks.
//
//	err := scheduler.Run(ctx, func(ctx context.Context) error {
//		c, err := crawl.New(crawl.Config{Seeds: []string{"https://example.org/"}, SameHost: true})
//		if err != nil {
//			return err
//		}
//		sum, err := c.Run(ctx)
//		...
//	})
//
// # Fetching
//
// A Fetcher makes its requests on an httpco.Transport of its own, as an
// *http.Client would: the Transport keeps the connections (over ioco, TLS
// for https with only http/1.1 in ALPN, names resolved by the loop's
// ioco.Resolver), writes the requests and reads the responses with
// net/http's framing, so chunked and Content-Length bodies are read as
// net/http reads them. It keeps every connection that ends at a response
// boundary for the next request to the same scheme, host and port: up to
// MaxIdlePerHost per server and MaxIdle in all, closing the one idle
// longest to make room, so a crawl across many hosts holds a bounded
// number of descriptors. A connection with bytes after its response, that
// nobody asked for, is not kept, nor is one that the server closed or
// wrote to while it sat idle, as far as the loop has polled (net/http
// closes it too: "Unsolicited response received on idle HTTP channel"). A
// GET that fails on a kept connection before any byte of the response is
// made again on a new one, as net/http's Transport does. Informational
// responses (103 Early Hints) before the real one are read past, as many
// as come, as in net/http.
//
// What the Fetcher adds is the crawler's policy. It asks for gzip and
// decodes it itself, into readers it reuses; keeps the body up to MaxBody
// bytes after decoding (a longer one is cut there and marked Truncated,
// and its connection closed); and follows redirects itself, as the
// crawler records each of them (see Choices). The earlier of ctx's
// deadline and Timeout bounds a whole fetch, connecting and redirects
// included, on the loop's clock (a Crawler's wait for a host's turn comes
// before it and does not count); ctx's end, or a Kill of its task, stops
// it at any point. The deadline is the connection's too: a server that
// keeps bytes coming never makes a read wait, where a task would hear of
// its context's end, yet its fetch ends on time. A deadline that passes in
// the middle of a line of the header is a timeout, not a malformed
// response, and an end of file there is a connection closed.
//
// Everything read from a server is bounded. A response's header (status
// line, fields, blank line) may be MaxResponseHeaderBytes long, 1 MiB by
// default, as net/http's server allows a request's (its Transport allows
// 10 MiB), counted with the informational responses before it; a longer
// one fails with ErrHeaderTooLarge, of kind "header too large". The body
// is cut at MaxBody. The text of a fetch's error is cut to a few hundred
// bytes, as net/http's errors quote what they could not parse.
//
// # Choices
//
// Where the crawler had room to choose, it chose as a careful person would
// when crawling someone else's site:
//
//   - A redirect is a result of its own, with its target in Location,
//     resolved and normalized; the target is then crawled as a link found
//     on it would be, at the same depth, if it was not seen yet. So a
//     crawl records the same results whatever order its fetches end in,
//     as a redirect's result never depends on whether its target came
//     first. Chains are bounded: a redirect that is the MaxRedirects-th
//     (10) in a row is an error of kind "too many redirects", and its
//     target is not crawled; a loop ends by itself, as no URL is fetched
//     twice. A seed's redirect to another host (http to https,
//     example.org to www.example.org) says where the site is: that host
//     joins the seeds' for the same-host rule.
//   - robots.txt is fetched by the first task that needs a host, while the
//     others wait for it (github.com/temoto/robotstxt parses it). As RFC
//     9309 section 2.3.1 says, one that answers 4xx allows everything, and
//     one that cannot be reached (a timeout, a reset, a refused
//     connection, a TLS failure, a name that does not resolve) or answers
//     5xx allows nothing; so does a 429, as for Google's crawler. Such a
//     host is named in Summary.Unreachable with why, and its URLs counted
//     as skipped for SkipUnreachable. Too many redirects count as no
//     robots.txt, which allows everything.
//   - The group that matches the User-Agent applies, its Crawl-delay too,
//     cut to MaxCrawlDelay (DefaultMaxCrawlDelay, 30 s, as Apache Nutch's
//     fetcher.max.crawl.delay; the command's -max-crawl-delay), when it is
//     longer than Delay. With either set, the requests to a host go one at
//     a time, and each starts at least that long after the previous fetch
//     from the host ended, robots.txt's included, as wget's -w spaces its
//     retrievals: the gap is measured from that actual end, so a task that
//     wakes late never shortens the gap after it. The redirects of
//     robots.txt are followed
//     at once, as wget and net/http do.
//   - URLs are written without their userinfo (see Normalize): the crawler
//     sends no credentials, and no password reaches the output or the
//     summary.
//   - A seed that gives no page (its fetch failed, its status was 400 or
//     more, robots.txt kept the crawler out) is in Summary.FailedSeeds
//     with why; NoSeedFetched reports a crawl whose seeds all failed.
//   - A page's result is recorded when its fetch ends; a status of 400 or
//     more is an error of kind "http 404" and so on, and a fetch error has
//     the kind Kind gives; the error's text is cut to a few hundred bytes. Neither stops the crawl. Nor does a panic while
//     a page is fetched or parsed (a parser's, on a page from the wild): it
//     is the page's error, of kind "panic". A panic of OnResult is the
//     caller's own bug, and ends the crawl with it.
//   - MaxDepth and MaxPages bound the crawl; the URLs they leave out are
//     counted in Summary.Skipped, as are those of other hosts and those
//     robots.txt disallows. Once MaxPages fetches have begun, every new
//     URL found is counted as skipped for the limit.
//   - Run's ctx cancelled (Ctrl-C in the command) kills the fetching tasks,
//     which closes their connections; the results of fetches that were
//     under way are not recorded, and Run returns the summary so far,
//     marked Interrupted. A Kill of the task in Run leaves nothing behind
//     either: the fetching tasks are killed right after it, and the kept
//     connections closed.
//   - JSONL.Write never parks, so a killed task never leaves half a line;
//     a task of the JSONL's own writes the buffer out.
package crawl

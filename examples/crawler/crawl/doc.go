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
// A Fetcher speaks HTTP/1.1 over ioco connections, TLS for https, with the
// names resolved on the loop's thread pool. net/http writes the requests
// and reads the responses (Request.Write, http.ReadResponse), so chunked
// and Content-Length bodies are read as net/http reads them. It asks for
// gzip and decodes it, keeps the body up to MaxBody bytes after decoding
// (a longer one is cut there and marked Truncated, and its connection
// closed), and keeps every connection that ends at a response boundary for
// the next request to the same scheme, host and port: up to MaxIdlePerHost
// per server and MaxIdle in all, closing the one idle longest to make room,
// so a crawl across many hosts holds a bounded number of descriptors. A
// connection with bytes after its response, that nobody asked for, is not
// kept, nor is one that receives any while it is idle (below). A request that fails on a kept connection before any byte of the
// response is made again on a new one, as net/http's Transport does for a
// GET. Informational responses (103 Early Hints) before the real one are
// read past, up to 5, as the Transport does. Over TLS the Fetcher offers
// only http/1.1 in ALPN. The earlier of ctx's deadline and Timeout bounds
// a whole fetch, connecting and redirects included, on the loop's clock;
// to stop one sooner, kill its task. The deadline is checked at every
// read as well as by the connection: a server that keeps bytes coming
// never makes a read wait, yet its fetch ends on time. A deadline that
// passes in the middle of a line of the header is a timeout, not a
// malformed response.
//
// Everything read from a server is bounded. A response's header (status
// line, fields, blank line) may be MaxResponseHeaderBytes long, 1 MiB by
// default, as net/http's server allows a request's (its Transport allows
// 10 MiB); a longer one fails with ErrHeaderTooLarge, of kind "header too
// large". Each informational response has a header of its own, as in
// net/http. The body is cut at MaxBody. The text of a fetch's error is cut
// to a few hundred bytes, as net/http's errors quote what they could not
// parse.
//
// A connection is reused only if nothing came on it while it sat idle:
// right before the next request, the socket is asked (a peek that does
// not wait) and, over TLS, the TLS layer's buffer read with a deadline
// already passed. A connection with a byte to read, an end of file or an
// error is closed: an unsolicited response would be read as the next
// request's (net/http closes it too: "Unsolicited response received on
// idle HTTP channel").
//
// # Choices
//
// Where the crawler had room to choose, it chose as a careful person would
// when crawling someone else's site:
//
//   - Redirects are followed up to MaxRedirects (10) in one fetch when they
//     stay on the host and lead to a URL not seen yet; a redirect back to a
//     URL of the same chain is ErrRedirectLoop. A redirect to a URL seen
//     already is the page's result as it is (a 301, say), so no URL is
//     fetched twice; one to another host goes to the frontier, where the
//     same-host rule and robots.txt judge it. A seed's redirect to another
//     host (http to https, example.org to www.example.org) says where the
//     site is: that host joins the seeds' for the same-host rule.
//   - robots.txt is fetched by the first task that needs a host, while the
//     others wait for it; a robots.txt that cannot be fetched allows
//     everything, and one that answers 5xx allows nothing, as Google's
//     crawler does (github.com/temoto/robotstxt parses it). The group that
//     matches the User-Agent applies, its Crawl-delay too when it is longer
//     than Delay.
//   - A page's result is recorded when its fetch ends; a status of 400 or
//     more is an error of kind "http 404" and so on, and a fetch error has
//     the kind Kind gives. Neither stops the crawl. Nor does a panic while
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

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
// the next request to the same scheme, host and port. A request that fails
// on a kept connection before any byte of the response is made again on a
// new one, as net/http's Transport does for a GET. Timeout bounds a whole
// fetch, connecting and redirects included, on the loop's clock.
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
//     same-host rule and robots.txt judge it.
//   - robots.txt is fetched by the first task that needs a host, while the
//     others wait for it; a robots.txt that cannot be fetched allows
//     everything, and one that answers 5xx allows nothing, as Google's
//     crawler does (github.com/temoto/robotstxt parses it). The group that
//     matches the User-Agent applies, its Crawl-delay too when it is longer
//     than Delay.
//   - A page's result is recorded when its fetch ends; a status of 400 or
//     more is an error of kind "http 404" and so on, and a fetch error has
//     the kind Kind gives. Neither stops the crawl.
//   - MaxDepth and MaxPages bound the crawl; the URLs they leave out are
//     counted in Summary.Skipped, as are those of other hosts and those
//     robots.txt disallows.
//   - Run's ctx cancelled (Ctrl-C in the command) kills the fetching tasks,
//     which closes their connections; the results of fetches that were
//     under way are not recorded, and Run returns the summary so far,
//     marked Interrupted.
//   - JSONL.Write never parks, so a killed task never leaves half a line;
//     a task of the JSONL's own writes the buffer out.
package crawl

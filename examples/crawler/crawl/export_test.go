package crawl

import "net/url"

// OnParse makes c call fn before it parses the HTML page u, in the task
// that fetched it: the tests' way to make a page's parse panic.
func OnParse(c *Crawler, fn func(u *url.URL)) { c.parsing = fn }

package crawl

import (
	"io"
	"net/url"
	"strings"

	"golang.org/x/net/html"
)

// Links returns the links of the HTML document r, fetched from page: the
// href of every <a>, resolved against the first <base href> if the document
// has one (itself resolved against page) or else against page, and
// normalized (see Normalize). Links that are not http or https (mailto:,
// javascript:) and hrefs that do not parse are left out, as is a link to
// the page itself; each link appears once, in document order. Malformed
// HTML is read the way a browser would; the error is r's, if reading it
// failed. Parks only when reading r does.
func Links(page *url.URL, r io.Reader) ([]string, error) {
	base := page
	haveBase := false
	self, _ := normalize(page)
	seen := map[string]bool{}
	var links []string
	z := html.NewTokenizer(r)
	for {
		switch z.Next() {
		case html.ErrorToken:
			if err := z.Err(); err != io.EOF {
				return links, err
			}
			return links, nil
		case html.StartTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if !hasAttr || tag != "a" && tag != "base" {
				continue
			}
			href, ok := attr(z, "href")
			if !ok {
				continue
			}
			ref, err := url.Parse(strings.TrimSpace(href))
			if err != nil {
				continue
			}
			if tag == "base" {
				if !haveBase {
					haveBase = true
					base = page.ResolveReference(ref)
				}
				continue
			}
			n, err := normalize(base.ResolveReference(ref))
			if err != nil {
				continue
			}
			s := n.String()
			if seen[s] || self != nil && s == self.String() {
				continue
			}
			seen[s] = true
			links = append(links, s)
		}
	}
}

// attr returns the value of the tag's attribute key, read from z.
func attr(z *html.Tokenizer, key string) (string, bool) {
	for {
		k, v, more := z.TagAttr()
		if string(k) == key {
			return string(v), true
		}
		if !more {
			return "", false
		}
	}
}

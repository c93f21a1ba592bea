// Package demosite is the crawler's demo site: a generated web site of
// linked pages, served on 127.0.0.1, that the crawler crawls when it is
// given no URL, and that its tests and benchmark crawl. The site is a pure
// function of its Config: the same seed gives the same pages and links.
//
// Beside the pages (/, and /page/0 to /page/N-1) it has what a crawler must
// cope with on the real web: links to pages that do not exist (404),
// redirects (/go/N, 301 to /page/N), a redirect loop (/loop/a and /loop/b),
// a page that fails (/error, 500), a robots.txt that disallows /private/,
// files that are not HTML (/files/N.pdf), links to other hosts, mailto:
// and javascript: links, fragments, relative links with dot segments, a
// <base href>, and pages sent gzip-compressed to a client that accepts it.
package demosite

import (
	"compress/gzip"
	"fmt"
	"html"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Config describes a site. The zero Config is a site of 2,000 pages with no
// latency.
type Config struct {
	Pages   int           // pages /page/0 to /page/Pages-1; 0 means 2,000
	Links   int           // links to other pages on each page; 0 means 8
	Seed    uint64        // what the links are drawn from
	Latency time.Duration // how long each response waits before it is sent
}

// Site is a generated site; its Handler serves it.
type Site struct {
	cfg   Config
	links [][]int // links[i]: the pages that page i links to
}

// New generates the site that cfg describes.
func New(cfg Config) *Site {
	if cfg.Pages <= 0 {
		cfg.Pages = 2000
	}
	if cfg.Links <= 0 {
		cfg.Links = 8
	}
	s := &Site{cfg: cfg, links: make([][]int, cfg.Pages)}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed))
	for i := range s.links {
		// The next page first, so that every page is reachable from
		// /page/0; then random ones.
		s.links[i] = append(s.links[i], (i+1)%cfg.Pages)
		for range cfg.Links - 1 {
			s.links[i] = append(s.links[i], rng.IntN(cfg.Pages))
		}
	}
	return s
}

// Pages returns how many pages the site has.
func (s *Site) Pages() int { return s.cfg.Pages }

// BigSize is about the size of /big, a page that no page links to, for
// tests of a crawler's cap on body size.
const BigSize = 8 << 20

// Disallowed is the path prefix that the site's robots.txt disallows.
const Disallowed = "/private/"

// Hrefs returns the href of every link on the page at path, in page order,
// as written in the HTML, relative ones unresolved; and the page's <base
// href>, or "". It returns nil for a path that is not an HTML page of the
// site. Tests use it to work out what a crawl must find.
func (s *Site) Hrefs(path string) (hrefs []string, base string) {
	switch {
	case path == "/":
		return []string{"/page/0", "/robots.txt", "/loop/a", "/error", "mailto:demo@example.invalid"}, ""
	case strings.HasPrefix(path, Disallowed):
		return []string{"/page/0"}, ""
	}
	i, ok := s.page(path)
	if !ok {
		return nil, ""
	}
	for k, j := range s.links[i] {
		switch k % 4 {
		case 0:
			hrefs = append(hrefs, "/page/"+strconv.Itoa(j))
		case 1:
			hrefs = append(hrefs, "../page/"+strconv.Itoa(j)+"#part") // relative, dot segment, fragment
		case 2:
			hrefs = append(hrefs, "http://127.0.0.1:1/elsewhere/"+strconv.Itoa(j)) // another host
		case 3:
			hrefs = append(hrefs, "/go/"+strconv.Itoa(j)) // a redirect to page j
		}
	}
	switch i % 10 {
	case 1:
		hrefs = append(hrefs, "/missing/"+strconv.Itoa(i)) // 404
	case 2:
		hrefs = append(hrefs, Disallowed+strconv.Itoa(i))
	case 3:
		hrefs = append(hrefs, "/files/"+strconv.Itoa(i)+".pdf")
	case 4:
		hrefs = append(hrefs, "javascript:void(0)", "#top", "")
	case 5:
		// With <base href="/page/">, "sub/N" is /page/sub/N: a 404 that
		// only a crawler ignoring <base> would miss.
		return append(hrefs, "sub/"+strconv.Itoa(i)), "/page/"
	}
	return hrefs, ""
}

// page returns N for the path /page/N of an existing page.
func (s *Site) page(path string) (int, bool) {
	n, ok := strings.CutPrefix(path, "/page/")
	if !ok {
		return 0, false
	}
	i, err := strconv.Atoi(n)
	if err != nil || i < 0 || i >= s.cfg.Pages || strconv.Itoa(i) != n {
		return 0, false
	}
	return i, true
}

// ServeHTTP serves the site.
func (s *Site) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.cfg.Latency > 0 {
		t := time.NewTimer(s.cfg.Latency)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	path := r.URL.Path
	switch {
	case path == "/robots.txt":
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		fmt.Fprintf(w, "User-agent: *\nDisallow: %s\n", Disallowed)
		return
	case strings.HasPrefix(path, "/go/"):
		http.Redirect(w, r, "/page/"+strings.TrimPrefix(path, "/go/"), http.StatusMovedPermanently)
		return
	case path == "/loop/a":
		http.Redirect(w, r, "/loop/b", http.StatusFound)
		return
	case path == "/loop/b":
		http.Redirect(w, r, "/loop/a", http.StatusFound)
		return
	case path == "/error":
		http.Error(w, "the demo site fails here on purpose", http.StatusInternalServerError)
		return
	case path == "/big":
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		io.WriteString(w, "<!DOCTYPE html>\n<html><body><a href=\"/page/0\">start</a>\n")
		line := "<p>" + strings.Repeat("a page far larger than a crawler should keep in memory ", 16) + "</p>\n"
		for range BigSize / len(line) {
			io.WriteString(w, line)
		}
		io.WriteString(w, "</body></html>\n")
		return
	case strings.HasPrefix(path, "/files/") && strings.HasSuffix(path, ".pdf"):
		w.Header().Set("Content-Type", "application/pdf")
		fmt.Fprintf(w, "%%PDF-1.4\n%% not a real document: %s\n", html.EscapeString(path))
		return
	}
	hrefs, base := s.Hrefs(path)
	if hrefs == nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	var out io.Writer = w
	if i, _ := s.page(path); i%2 == 0 && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
		w.Header().Set("Content-Encoding", "gzip")
		gz := gzip.NewWriter(w)
		defer gz.Close()
		out = gz
	}
	var b strings.Builder
	b.WriteString("<!DOCTYPE html>\n<html><head><title>evergo demo: ")
	b.WriteString(html.EscapeString(path))
	b.WriteString("</title>")
	if base != "" {
		fmt.Fprintf(&b, `<base href="%s">`, html.EscapeString(base))
	}
	b.WriteString("</head><body id=top><h1>")
	b.WriteString(html.EscapeString(path))
	b.WriteString("</h1>\n<p>A page of the evergo crawler's demo site.</p>\n<ul>\n")
	for _, h := range hrefs {
		fmt.Fprintf(&b, "<li><a href=\"%s\">%s</a>\n", html.EscapeString(h), html.EscapeString(h))
	}
	b.WriteString("</ul></body></html>\n")
	out.Write([]byte(b.String()))
}

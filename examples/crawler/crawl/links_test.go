package crawl_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
)

func links(t *testing.T, page, doc string) []string {
	t.Helper()
	u, err := url.Parse(page)
	if err != nil {
		t.Fatal(err)
	}
	got, err := crawl.Links(u, strings.NewReader(doc))
	if err != nil {
		t.Fatalf("Links: %v", err)
	}
	return got
}

func TestLinksResolvesNormalizesAndDeduplicates(t *testing.T) {
	got := links(t, "http://Example.com/dir/page.html", `<!DOCTYPE html><html><body>
		<a href="other.html">relative</a>
		<a href="../up.html#frag">dot segment and fragment</a>
		<a href="/dir/./other.html">the first one again</a>
		<a href="HTTP://EXAMPLE.COM:80/abs">absolute</a>
		<a href="https://elsewhere.example/x">another host</a>
		<a href="mailto:a@example.com">mail</a>
		<a href="javascript:void(0)">script</a>
		<a href="#top">this page</a>
		<a href="">this page too</a>
		<a name="no-href">anchor</a>
		<a href=" spaced.html ">spaces around</a>
		<link href="/style.css">
	</body></html>`)
	want := []string{
		"http://example.com/dir/other.html",
		"http://example.com/up.html",
		"http://example.com/abs",
		"https://elsewhere.example/x",
		"http://example.com/dir/spaced.html",
	}
	if !slices.Equal(got, want) {
		t.Errorf("Links =\n%q\nwant\n%q", got, want)
	}
}

func TestLinksHonoursTheFirstBaseHref(t *testing.T) {
	got := links(t, "http://example.com/a/b.html", `<html><head>
		<base href="/base/dir/"><base href="/ignored/">
		</head><body><a href="x">x</a><a href="/root">root</a></body></html>`)
	want := []string{"http://example.com/base/dir/x", "http://example.com/root"}
	if !slices.Equal(got, want) {
		t.Errorf("Links = %q; want %q", got, want)
	}
}

func TestLinksReadsMalformedHTMLAsABrowserWould(t *testing.T) {
	got := links(t, "http://example.com/", `<html><body><p>unclosed <b>tags<a href=/one>one
		<a href='/two'>two</a></i></div><a href=/three/>three<a href="/four`)
	want := []string{"http://example.com/one", "http://example.com/two", "http://example.com/three/"}
	if !slices.Equal(got, want) {
		t.Errorf("Links = %q; want %q", got, want)
	}
}

func TestLinksReturnsTheReadersError(t *testing.T) {
	u, _ := url.Parse("http://example.com/")
	boom := errors.New("connection reset")
	r := iotest.DataErrReader(strings.NewReader(`<a href="/before">`))
	got, err := crawl.Links(u, iotest.ErrReader(boom))
	if !errors.Is(err, boom) || len(got) != 0 {
		t.Errorf("Links on a failing reader = %q, %v; want %v", got, err, boom)
	}
	if got, err := crawl.Links(u, r); err != nil || !slices.Equal(got, []string{"http://example.com/before"}) {
		t.Errorf("Links = %q, %v", got, err)
	}
}

func TestLinksOfTheDemoSitesPagesAreTheOnesItWrote(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 40, Seed: 2})
	srv := httptest.NewServer(site)
	defer srv.Close()
	defer http.DefaultClient.CloseIdleConnections()
	for i := range 10 {
		page, _ := url.Parse(srv.URL + "/page/" + strconv.Itoa(i))
		resp, err := http.Get(page.String()) // net/http undoes the gzip
		if err != nil {
			t.Fatal(err)
		}
		got, err := crawl.Links(page, resp.Body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		hrefs, baseHref := site.Hrefs(page.Path)
		base := page
		if baseHref != "" {
			base = page.ResolveReference(&url.URL{Path: baseHref})
		}
		var want []string
		for _, h := range hrefs {
			ref, _ := url.Parse(h)
			n, err := crawl.Normalize(base.ResolveReference(ref).String())
			if err != nil || n == page.String() || slices.Contains(want, n) {
				continue
			}
			want = append(want, n)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: Links =\n%q\nwant\n%q", page.Path, got, want)
		}
	}
}

package crawl_test

import (
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/evergo/evergo/examples/crawler/crawl"
)

// normalizes is a case of Normalize: in has the form want.
type normalizes struct{ in, want string }

// checkNormalize fails t for each case that Normalize does not meet.
func checkNormalize(t *testing.T, cases []normalizes) {
	t.Helper()
	for _, c := range cases {
		got, err := crawl.Normalize(c.in)
		if err != nil || got != c.want {
			t.Errorf("Normalize(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestNormalizeGivesOneFormToEquivalentURLs(t *testing.T) {
	checkNormalize(t, []normalizes{
		{"http://example.com", "http://example.com/"},
		{"HTTP://Example.COM/a", "http://example.com/a"},
		{"http://example.com:80/a", "http://example.com/a"},
		{"https://example.com:443/a", "https://example.com/a"},
		{"https://example.com:80/a", "https://example.com:80/a"},
		{"http://example.com:8080/a", "http://example.com:8080/a"},
		{"http://example.com/a#section", "http://example.com/a"},
		{"http://example.com/a/./b/../c", "http://example.com/a/c"},
		{"http://example.com/../../a", "http://example.com/a"},
		{"http://example.com/a/b/..", "http://example.com/a/"},
		{"http://example.com/%7euser/%2e%2e/x", "http://example.com/x"},
		{"http://example.com/a%2fb", "http://example.com/a%2Fb"},
		{"http://example.com/caf%c3%a9", "http://example.com/caf%C3%A9"},
		{"http://example.com/?b=2&a=1", "http://example.com/?b=2&a=1"},
		{"http://example.com/a?x=%7e#f", "http://example.com/a?x=%7e"},
		{"http://[::1]:80/a", "http://[::1]/a"},
		{"http://[::1]:8080/a", "http://[::1]:8080/a"},
	})
}

func TestNormalizeRefusesWhatIsNotAnAbsoluteHTTPURL(t *testing.T) {
	for _, in := range []string{
		"mailto:someone@example.com",
		"javascript:void(0)",
		"ftp://example.com/file",
		"/relative/path",
		"page.html",
		"http:///no-host",
		"http:opaque",
	} {
		if got, err := crawl.Normalize(in); !errors.Is(err, crawl.ErrNotHTTP) {
			t.Errorf("Normalize(%q) = %q, %v; want ErrNotHTTP", in, got, err)
		}
	}
	if _, err := crawl.Normalize("http://example.com/%zz"); err == nil {
		t.Error("Normalize of a malformed escape succeeded")
	}
}

func FuzzNormalize(f *testing.F) {
	for _, s := range []string{
		"http://example.com", "HTTPS://EXAMPLE.com:443/./a/../b?q=1#x",
		"http://example.com/%2e%2E/%7e", "http://[::1]:80/", "http://a/b/c/./../../g",
		"http://example.com/a%2fb/..", "http://user@example.com:8080/~x",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		n, err := crawl.Normalize(in)
		if err != nil {
			return
		}
		again, err := crawl.Normalize(n)
		if err != nil || again != n {
			t.Fatalf("Normalize(%q) = %q, whose own form is %q, %v", in, n, again, err)
		}
		u, err := url.Parse(n)
		if err != nil {
			t.Fatalf("Normalize(%q) = %q, which does not parse: %v", in, n, err)
		}
		if u.Fragment != "" || strings.Contains(n, "#") && !strings.Contains(u.RawQuery, "#") {
			t.Errorf("Normalize(%q) = %q keeps a fragment", in, n)
		}
		if u.Scheme != "http" && u.Scheme != "https" || u.Host != strings.ToLower(u.Host) {
			t.Errorf("Normalize(%q) = %q: scheme or host not in canonical case", in, n)
		}
		for _, seg := range strings.Split(u.EscapedPath(), "/") {
			if seg == "." || seg == ".." {
				t.Errorf("Normalize(%q) = %q keeps a dot segment", in, n)
			}
		}
	})
}

func TestNormalizeDropsCredentialsAndEncodesWhatMayNotBeSent(t *testing.T) {
	checkNormalize(t, []normalizes{
		{"http://user:pass@example.com/x", "http://example.com/x"},
		{"https://user@example.com:8443/", "https://example.com:8443/"},
		{"http://example.com/?q=caf\xc3\xa9", "http://example.com/?q=caf%C3%A9"},
		{"http://example.com/?q=\xff\xfe", "http://example.com/?q=%FF%FE"},
		{"http://example.com/?a b=\"<x>\"&c={|}", "http://example.com/?a%20b=%22%3Cx%3E%22&c=%7B%7C%7D"},
		// What may be sent stays as written, escapes included.
		{"http://example.com/?q=a%2fb&r=/?:@!$'()*+,;=", "http://example.com/?q=a%2fb&r=/?:@!$'()*+,;="},
	})
}

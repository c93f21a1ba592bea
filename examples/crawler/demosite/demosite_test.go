package demosite_test

import (
	"compress/gzip"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/examples/crawler/demosite"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// get serves one request for path and returns the response.
func get(t *testing.T, s *demosite.Site, path string, header ...string) *http.Response {
	t.Helper()
	r := httptest.NewRequest("GET", path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	return w.Result()
}

func body(t *testing.T, resp *http.Response) string {
	t.Helper()
	var rd io.Reader = resp.Body
	if resp.Header.Get("Content-Encoding") == "gzip" {
		gz, err := gzip.NewReader(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		rd = gz
	}
	b, err := io.ReadAll(rd)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestPagesServeTheLinksHrefsNames(t *testing.T) {
	s := demosite.New(demosite.Config{Pages: 50, Seed: 1})
	for _, path := range []string{"/", "/page/0", "/page/4", "/page/5", "/page/49", demosite.Disallowed + "2"} {
		resp := get(t, s, path)
		if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
			t.Fatalf("GET %s: %s, %q", path, resp.Status, resp.Header.Get("Content-Type"))
		}
		page := body(t, resp)
		hrefs, base := s.Hrefs(path)
		if n := strings.Count(page, "<a href="); n != len(hrefs) {
			t.Errorf("GET %s: %d links; Hrefs says %d", path, n, len(hrefs))
		}
		for _, h := range hrefs {
			if !strings.Contains(page, `<a href="`+h+`">`) {
				t.Errorf("GET %s: no link to %q", path, h)
			}
		}
		if base != "" && !strings.Contains(page, `<base href="`+base+`">`) {
			t.Errorf("GET %s: no <base href=%q>", path, base)
		}
	}
}

func TestEveryPageIsReachableFromTheFirst(t *testing.T) {
	s := demosite.New(demosite.Config{Pages: 300, Seed: 7})
	seen := map[string]bool{"/page/0": true}
	for queue := []string{"/page/0"}; len(queue) > 0; queue = queue[1:] {
		hrefs, _ := s.Hrefs(queue[0])
		for _, h := range hrefs {
			if strings.HasPrefix(h, "/page/") && !seen[h] {
				seen[h] = true
				queue = append(queue, h)
			}
		}
	}
	if len(seen) != s.Pages() {
		t.Fatalf("%d of %d pages reachable through plain links", len(seen), s.Pages())
	}
}

func TestTheSameSeedGivesTheSameSite(t *testing.T) {
	a := demosite.New(demosite.Config{Pages: 100, Seed: 3})
	b := demosite.New(demosite.Config{Pages: 100, Seed: 3})
	c := demosite.New(demosite.Config{Pages: 100, Seed: 4})
	differ := false
	for i := range 100 {
		path := "/page/" + strconv.Itoa(i)
		ha, _ := a.Hrefs(path)
		hb, _ := b.Hrefs(path)
		hc, _ := c.Hrefs(path)
		if !slices.Equal(ha, hb) {
			t.Fatalf("%s: seed 3 gave %q and %q", path, ha, hb)
		}
		differ = differ || !slices.Equal(ha, hc)
	}
	if !differ {
		t.Error("seeds 3 and 4 gave the same links")
	}
}

func TestTheTrapsARealSiteHas(t *testing.T) {
	s := demosite.New(demosite.Config{Pages: 20})
	for _, c := range []struct {
		path, status, location, contentType string
	}{
		{"/robots.txt", "200 OK", "", "text/plain; charset=utf-8"},
		{"/go/7", "301 Moved Permanently", "/page/7", ""},
		{"/loop/a", "302 Found", "/loop/b", ""},
		{"/loop/b", "302 Found", "/loop/a", ""},
		{"/error", "500 Internal Server Error", "", ""},
		{"/missing/1", "404 Not Found", "", ""},
		{"/page/20", "404 Not Found", "", ""},
		{"/page/07", "404 Not Found", "", ""},
		{"/files/3.pdf", "200 OK", "", "application/pdf"},
	} {
		resp := get(t, s, c.path)
		if resp.Status != c.status || resp.Header.Get("Location") != c.location ||
			c.contentType != "" && resp.Header.Get("Content-Type") != c.contentType {
			t.Errorf("GET %s: %s, Location %q, Content-Type %q; want %s, %q, %q", c.path, resp.Status,
				resp.Header.Get("Location"), resp.Header.Get("Content-Type"), c.status, c.location, c.contentType)
		}
	}
	if got := body(t, get(t, s, "/robots.txt")); got != "User-agent: *\nDisallow: "+demosite.Disallowed+"\n" {
		t.Errorf("robots.txt = %q", got)
	}
	if n := len(body(t, get(t, s, "/big"))); n < demosite.BigSize*9/10 {
		t.Errorf("/big is %d bytes; want about %d", n, demosite.BigSize)
	}
}

func TestEvenPagesAreGzippedForAClientThatAcceptsIt(t *testing.T) {
	s := demosite.New(demosite.Config{Pages: 10})
	for _, c := range []struct {
		path, accept, want string
	}{
		{"/page/2", "gzip, deflate", "gzip"},
		{"/page/2", "", ""},
		{"/page/3", "gzip", ""},
	} {
		resp := get(t, s, c.path, "Accept-Encoding", c.accept)
		if got := resp.Header.Get("Content-Encoding"); got != c.want {
			t.Errorf("GET %s with Accept-Encoding %q: Content-Encoding %q; want %q", c.path, c.accept, got, c.want)
		}
		if !strings.Contains(body(t, resp), "<h1>"+c.path+"</h1>") {
			t.Errorf("GET %s with Accept-Encoding %q: not the page", c.path, c.accept)
		}
	}
}

func TestLatencyEndsWhenTheRequestIsCancelled(t *testing.T) {
	s := demosite.New(demosite.Config{Pages: 10, Latency: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	w := httptest.NewRecorder()
	s.ServeHTTP(w, httptest.NewRequest("GET", "/page/1", nil).WithContext(ctx)) // returns, not in an hour
	if w.Body.Len() != 0 {
		t.Errorf("a cancelled request got a %d-byte body", w.Body.Len())
	}
}

package crawl_test

import (
	"fmt"
	"maps"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/evergo/evergo/examples/crawler/crawl"
)

func TestCrawlKeepsOutOfAHostWhoseRobotsTxtIsUnreachable(t *testing.T) {
	// RFC 9309 section 2.3.1: 5xx or no answer, complete disallow; 4xx,
	// complete allow.
	for _, tc := range []struct {
		name   string
		robots http.Handler
		why    string // in Summary.Unreachable; "" if the host is crawled
	}{
		{"503", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}), "robots.txt answered 503 Service Unavailable"},
		{"500", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "oops", http.StatusInternalServerError)
		}), "robots.txt answered 500 Internal Server Error"},
		{"429", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "slow down", http.StatusTooManyRequests)
		}), "robots.txt answered 429 Too Many Requests"},
		{"Reset", reset(t), "robots.txt unreachable: "},
		{"Timeout", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done() // no answer, until the client hangs up
		}), "robots.txt unreachable: "},
		{"404", http.NotFoundHandler(), ""},
		{"403", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "go away", http.StatusForbidden)
		}), ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mux := http.NewServeMux()
			mux.Handle("/robots.txt", tc.robots)
			mux.Handle("/", htmlSite(map[string]string{"/": anchors("/a"), "/a": ""}))
			srv, rec := serveRecorded(t, mux)
			// A Timeout for the case that needs one alone: the others end
			// by themselves, however slow the machine.
			var timeout time.Duration
			if tc.name == "Timeout" {
				timeout = 50 * time.Millisecond
			}
			results, sum, err := crawlAll(t, nil, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2,
				Timeout: timeout})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			if tc.why == "" {
				if got := strings.Join(urlsOf(results, srv.URL), " "); got != "/ /a" || len(sum.Unreachable) != 0 {
					t.Errorf("results for %s, unreachable %q; want / and /a crawled", got, sum.Unreachable)
				}
				return
			}
			if got := strings.Join(rec.Paths(), " "); got != "/robots.txt" || len(results) != 0 {
				t.Errorf("requests %s, %d results; want /robots.txt alone and no result", got, len(results))
			}
			why := sum.Unreachable[srv.URL]
			if len(sum.Unreachable) != 1 || !strings.HasPrefix(why, tc.why) {
				t.Errorf("unreachable hosts %q; want %s, for %q", sum.Unreachable, srv.URL, tc.why)
			}
			if want := map[string]int{crawl.SkipUnreachable: 1}; !maps.Equal(sum.Skipped, want) {
				t.Errorf("skipped %v, want %v", sum.Skipped, want)
			}
			if f := sum.FailedSeeds; len(f) != 1 || f[0].URL != srv.URL+"/" || f[0].Error != why || !sum.NoSeedFetched() {
				t.Errorf("failed seeds %+v; want the seed, for %q", f, why)
			}
		})
	}
}

func TestCrawlNamesTheSeedsThatFailed(t *testing.T) {
	ok := serve(t, htmlSite(map[string]string{"/": "<p>fine</p>"}))
	// A port that nothing listens on: a listener's, closed.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String() + "/"
	ln.Close()

	seeds := []string{ok.URL + "/missing", refused, ok.URL + "/"}
	_, sum, err := crawlAll(t, nil, crawl.Config{Seeds: seeds, Concurrency: 1})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	var got []string
	for _, f := range sum.FailedSeeds {
		got = append(got, fmt.Sprintf("%s: %s", f.URL, f.Error))
	}
	if len(got) != 2 || sum.Seeds != 3 || sum.NoSeedFetched() ||
		got[0] != ok.URL+"/missing: 404 Not Found" ||
		!strings.HasPrefix(got[1], refused+": robots.txt unreachable: ") || !strings.Contains(got[1], "refused") {
		t.Errorf("%d seeds, failed: %q; want 3, of which /missing (404) and %s (refused) failed", sum.Seeds, got, refused)
	}

	_, sum, err = crawlAll(t, nil, crawl.Config{Seeds: seeds[:2], Concurrency: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !sum.NoSeedFetched() || len(sum.FailedSeeds) != 2 {
		t.Errorf("seeds %v: failed %+v; want both failed, and NoSeedFetched", seeds[:2], sum.FailedSeeds)
	}
}

func TestCrawlRecordsEachRedirectWithItsLocation(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/r/", chain(3)) // /r/0 to /r/3, a page, by 302s
	mux.Handle("/", htmlSite(map[string]string{
		"/":  anchors("/b", "/to-b", "/r/0", "/away"),
		"/b": "<p>b</p>",
	}))
	mux.HandleFunc("/to-b", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/b", http.StatusMovedPermanently)
	})
	mux.HandleFunc("/away", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "ftp://user:secret@files.example/x", http.StatusFound)
	})
	srv := serve(t, mux)
	for _, tc := range []struct {
		max  int
		want string
	}{
		{0, "/r/3 200  "}, // 10 by default
		{2, "/r/2 302 /r/3 too many redirects"},
	} {
		t.Run(fmt.Sprint("MaxRedirects", tc.max), func(t *testing.T) {
			results, _, err := crawlAll(t, nil, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 1,
				MaxRedirects: tc.max})
			if err != nil {
				t.Fatalf("Run: %v", err)
			}
			var got []string
			for _, r := range results {
				got = append(got, strings.ReplaceAll(fmt.Sprintf("%s %d %s %s", r.URL, r.Status, r.Location, r.Kind), srv.URL, ""))
			}
			// /b was known when /to-b's redirect came: its 301 has its
			// location all the same, and /b its own result, once.
			want := []string{"/ 200  ", "/b 200  ", "/to-b 301 /b ", "/r/0 302 /r/1 ",
				"/away 302 ftp://files.example/x ", "/r/1 302 /r/2 ", tc.want}
			if tc.max == 0 {
				want = append(want[:len(want)-1], "/r/2 302 /r/3 ", tc.want)
			}
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("results:\n\t%s\nwant\n\t%s", strings.Join(got, "\n\t"), strings.Join(want, "\n\t"))
			}
		})
	}
}

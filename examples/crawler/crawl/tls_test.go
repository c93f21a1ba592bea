package crawl_test

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
)

// serveTLS serves h over TLS, with the server's handshake errors kept out
// of the test's log.
func serveTLS(t *testing.T, h http.Handler) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestCrawlOverHTTPSWithTheTestCertificate(t *testing.T) {
	site := demosite.New(demosite.Config{Pages: 40, Seed: 8})
	srv := serveTLS(t, site)
	visits, skipped := expect(t, site, srv.URL, 0, 0)
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, SameHost: true, Concurrency: 1,
		TLSConfig: &tls.Config{RootCAs: roots}})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	if !strings.HasPrefix(srv.URL, "https://") || sum.Status[200] == 0 {
		t.Fatalf("crawl of %s: statuses %v", srv.URL, sum.Status)
	}
	checkVisits(t, results, visits)
	if !maps.Equal(sum.Skipped, skipped) || sum.Connections != 1 {
		t.Errorf("skipped %v, %d connections; want %v, 1", sum.Skipped, sum.Connections, skipped)
	}
}

func TestCrawlOverHTTPSFailsWithoutTheRootCA(t *testing.T) {
	srv := serveTLS(t, demosite.New(demosite.Config{Pages: 40}))
	results, sum, err := crawlAll(t, srv, crawl.Config{Seeds: []string{srv.URL}, Concurrency: 2})
	if err != nil {
		t.Fatalf("Run: %v", err)
	}
	// robots.txt is the first request, and it fails: the host is
	// unreachable, and the seed is not fetched.
	why := sum.Unreachable[srv.URL]
	if len(results) != 0 || len(sum.Unreachable) != 1 || !strings.Contains(why, "certificate") {
		t.Fatalf("results %+v, unreachable hosts %q; want none, and %s unreachable for its certificate", results, sum.Unreachable, srv.URL)
	}
	if len(sum.FailedSeeds) != 1 || sum.FailedSeeds[0].URL != srv.URL+"/" || sum.FailedSeeds[0].Error != why || !sum.NoSeedFetched() {
		t.Errorf("failed seeds %+v; want the seed, failed as its host did: %s", sum.FailedSeeds, why)
	}
}

func TestFetchOverHTTPSSpeaksHTTP1ToAServerOfferingH2(t *testing.T) {
	var protos []string
	var mu sync.Mutex
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		protos = append(protos, r.Proto)
		mu.Unlock()
		fmt.Fprint(w, "over ", r.Proto)
	}))
	srv.EnableHTTP2 = true
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	t.Cleanup(srv.Close)
	if !slices.Contains(srv.TLS.NextProtos, "h2") {
		t.Fatalf("the server offers %v, not h2", srv.TLS.NextProtos)
	}
	roots := x509.NewCertPool()
	roots.AddCert(srv.Certificate())
	cfg := &tls.Config{RootCAs: roots, NextProtos: []string{"h2"}}
	var statuses []int
	var bodies []string
	var dials int
	run(t, func(ctx context.Context) error {
		f := &crawl.Fetcher{TLSConfig: cfg}
		defer f.Close()
		for range 2 {
			resp, err := f.Fetch(ctx, parse(t, srv.URL+"/"), nil)
			if err != nil {
				t.Errorf("Fetch %s with NextProtos h2: %v", srv.URL, err)
				return nil
			}
			statuses = append(statuses, resp.Status)
			bodies = append(bodies, string(resp.Body))
			resp.Release()
		}
		dials = f.Dials()
		return nil
	})
	if fmt.Sprint(statuses) != "[200 200]" || fmt.Sprint(bodies) != "[over HTTP/1.1 over HTTP/1.1]" {
		t.Errorf("two fetches: %v %q; want 200s over HTTP/1.1", statuses, bodies)
	}
	mu.Lock() // the handlers wrote it on the server's goroutines
	seen := fmt.Sprint(protos)
	mu.Unlock()
	if seen != "[HTTP/1.1 HTTP/1.1]" || dials != 1 {
		t.Errorf("the server saw requests over %s, on %d connections; want HTTP/1.1 twice on one", seen, dials)
	}
	if !slices.Equal(cfg.NextProtos, []string{"h2"}) {
		t.Errorf("the caller's TLSConfig.NextProtos became %v", cfg.NextProtos)
	}
}

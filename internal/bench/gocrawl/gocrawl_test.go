package gocrawl_test

import (
	"context"
	"maps"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/internal/bench/gocrawl"
	"github.com/evergo/evergo/scheduler"
)

func TestMain(m *testing.M) {
	// The crawler imports ants, whose default pool (two goroutines,
	// panjf2000/ants#373) nothing here uses.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}

// The baseline is only fair if it does the crawler's work: the same URLs
// fetched, redirect targets included, on the same site.
func TestCrawlFetchesTheURLsThatTheCrawlerFetches(t *testing.T) {
	srv := httptest.NewServer(demosite.New(demosite.Config{Pages: 300}))
	defer srv.Close()
	defer srv.CloseClientConnections()

	fetched := map[string]bool{}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		c, err := crawl.New(crawl.Config{
			Seeds: []string{srv.URL}, Concurrency: 8, SameHost: true,
			OnResult: func(ctx context.Context, r *crawl.Result) {
				fetched[r.URL] = true
			},
		})
		if err != nil {
			return err
		}
		_, err = c.Run(ctx)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	pages, urls, err := gocrawl.Crawl(srv.URL, 8, 10*time.Second, 10<<20, "test")
	if err != nil {
		t.Fatal(err)
	}
	if want := slices.Sorted(maps.Keys(fetched)); !slices.Equal(urls, want) {
		t.Errorf("the goroutine crawler fetched %d URLs, the crawler %d; only the goroutine crawler: %v; only the crawler: %v",
			len(urls), len(want), minus(urls, want), minus(want, urls))
	}
	if pages < 300 || pages > len(urls) {
		t.Errorf("the goroutine crawler had %d results for %d URLs of a 300-page site", pages, len(urls))
	}
}

// minus returns the strings of the sorted a that are not in the sorted b.
func minus(a, b []string) []string {
	var only []string
	for _, s := range a {
		if _, found := slices.BinarySearch(b, s); !found {
			only = append(only, s)
		}
	}
	return only
}

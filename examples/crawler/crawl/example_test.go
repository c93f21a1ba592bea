package crawl_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"

	"github.com/evergo/evergo/examples/crawler/crawl"
	"github.com/evergo/evergo/examples/crawler/demosite"
	"github.com/evergo/evergo/scheduler"
)

// A crawl of the demo site, on a loop. Each redirect is a result of its
// own, and its target is crawled as a link: the counts below do not change
// from run to run, whatever the number of fetching tasks.
func ExampleCrawler() {
	srv := httptest.NewServer(demosite.New(demosite.Config{Pages: 20}))
	defer srv.Close()

	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		c, err := crawl.New(crawl.Config{
			Seeds:       []string{srv.URL},
			SameHost:    true,
			Concurrency: 1,
		})
		if err != nil {
			return err
		}
		sum, err := c.Run(ctx)
		if err != nil {
			return err
		}
		fmt.Println("pages:", sum.Done, "connections:", sum.Connections)
		for _, code := range slices.Sorted(maps.Keys(sum.Status)) {
			fmt.Printf("status %d: %d\n", code, sum.Status[code])
		}
		for _, kind := range slices.Sorted(maps.Keys(sum.ErrorKinds)) {
			fmt.Printf("error %q: %d\n", kind, sum.ErrorKinds[kind])
		}
		for _, why := range slices.Sorted(maps.Keys(sum.Skipped)) {
			fmt.Printf("skipped for %s: %d\n", why, sum.Skipped[why])
		}
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// pages: 47 connections: 1
	// status 200: 24
	// status 301: 16
	// status 302: 2
	// status 404: 4
	// status 500: 1
	// error "http 404": 4
	// error "http 500": 1
	// skipped for other host: 16
	// skipped for robots.txt: 2
}

// Fetch follows a redirect to the page, and reports a redirect loop as an
// error; the Fetcher keeps its one connection for the next request.
func ExampleFetcher() {
	srv := httptest.NewServer(demosite.New(demosite.Config{Pages: 20}))
	defer srv.Close()

	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		f := &crawl.Fetcher{MaxBody: 1 << 20}
		defer f.Close()

		u, err := url.Parse(srv.URL + "/go/7")
		if err != nil {
			return err
		}
		resp, err := f.Fetch(ctx, u, nil)
		if err != nil {
			return err
		}
		defer resp.Release()
		fmt.Println(resp.StatusText, "from", resp.URL.Path, "after", resp.Redirects, "redirect")
		links, err := crawl.Links(resp.URL, bytes.NewReader(resp.Body))
		if err != nil {
			return err
		}
		fmt.Println(len(links), "links, the first to", strings.TrimPrefix(links[0], srv.URL))

		u, err = url.Parse(srv.URL + "/loop/a")
		if err != nil {
			return err
		}
		_, err = f.Fetch(ctx, u, nil)
		fmt.Println(errors.Is(err, crawl.ErrRedirectLoop), crawl.Kind(err))
		fmt.Println("connections:", f.Dials())
		return nil
	})
	if err != nil {
		fmt.Println(err)
	}
	// Output:
	// 200 OK from /page/7 after 1 redirect
	// 7 links, the first to /page/8
	// true redirect loop
	// connections: 1
}

// Package crawl is the library part of the evergo crawler
// (examples/crawler): what its command runs and its tests drive.
package crawl

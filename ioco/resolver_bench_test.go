package ioco_test

import (
	"context"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/evergo/evergo/scheduler"
)

// The Resolver beside package net's Go resolver, each asking the in-test
// server (dnsServer) for the A records of 50 distinct names, 1,000
// lookups a round (one op), one after another (serial) and from 50 tasks
// or goroutines at once (concurrent). The Resolver's cache is off
// (CacheSize -1), as net.Resolver has none, so every lookup is a UDP
// exchange; "cached" is the Resolver with its cache, every name fresh.
// The names are absolute, so neither side walks a search list.
//
//	go test -run XXX -bench ResolverLookup -count 6 ./ioco

const (
	benchLookups = 1000
	benchNames   = 50
)

func benchServer(b *testing.B) (*dnsServer, []string) {
	s := newDNSServer(b)
	names := make([]string, benchNames)
	for i := range names {
		names[i] = "name" + strconv.Itoa(i) + ".bench.test."
		s.add(a(names[i], "192.0.2."+strconv.Itoa(i+1), 3600))
	}
	return s, names
}

func BenchmarkResolverLookup(b *testing.B) {
	s, names := benchServer(b)
	loopSide := func(cacheSize, workers int) func(b *testing.B) {
		return func(b *testing.B) {
			r := testResolver(b, s, "")
			r.CacheSize = cacheSize
			err := scheduler.Run(context.Background(), func(ctx context.Context) error {
				for i := 0; i < b.N+1; i++ {
					if i == 1 {
						b.ResetTimer() // the first round read the files (and filled the cache)
					}
					var g scheduler.Group
					for w := range workers {
						g.Go(ctx, func(ctx context.Context) error {
							for j := w; j < benchLookups; j += workers {
								if _, err := r.LookupNetIP(ctx, "ip4", names[j%benchNames]); err != nil {
									return err
								}
							}
							return nil
						})
					}
					if err := g.Wait(ctx); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	netSide := func(workers int) func(b *testing.B) {
		return func(b *testing.B) {
			r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, network, s.Addr)
			}}
			ctx := context.Background()
			for b.Loop() {
				var wg sync.WaitGroup
				errs := make(chan error, workers)
				for w := range workers {
					wg.Go(func() {
						for j := w; j < benchLookups; j += workers {
							if _, err := r.LookupNetIP(ctx, "ip4", names[j%benchNames]); err != nil {
								errs <- err
								return
							}
						}
					})
				}
				wg.Wait()
				close(errs)
				if err := <-errs; err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.Run("serial/ioco.Resolver", loopSide(-1, 1))
	b.Run("serial/net.Resolver", netSide(1))
	b.Run("concurrent/ioco.Resolver", loopSide(-1, benchNames))
	b.Run("concurrent/net.Resolver", netSide(benchNames))
	b.Run("cached/ioco.Resolver", loopSide(0, 1))
}

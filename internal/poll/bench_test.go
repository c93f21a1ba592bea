//go:build linux

package poll_test

import (
	"testing"

	"github.com/evergo/evergo/internal/poll"
)

// No budget in DESIGN.md names these. The pair shows what one wake-up of
// the loop costs (the eventfd write, then the Wait that finds and drains
// it) beside the cheapest merging signal Go has between goroutines, a
// channel of one slot with a non-blocking send. Both run in one goroutine,
// so neither includes waking a parked thread.

// Baseline: a merging send on a one-slot channel, then the receive.
func BenchmarkChanSignal(b *testing.B) {
	c := make(chan struct{}, 1)
	b.ReportAllocs()
	for b.Loop() {
		select {
		case c <- struct{}{}:
		default: // a signal is pending already, as with Wake's EAGAIN
		}
		<-c
	}
}

// One op: Wake, then the Wait(0) that reports and drains it.
func BenchmarkWakeWait(b *testing.B) {
	p, err := poll.New()
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := p.Close(); err != nil {
			b.Error(err)
		}
	})
	b.ReportAllocs()
	for b.Loop() {
		if err := p.Wake(); err != nil {
			b.Fatal(err)
		}
		if _, woken, err := p.Wait(0); err != nil || !woken {
			b.Fatalf("Wait(0): woken=%v, err=%v", woken, err)
		}
	}
}

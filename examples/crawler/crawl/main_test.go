package crawl_test

import (
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Importing ants starts its default pool (a purge and a clock
	// goroutine, panjf2000/ants#373), which the crawler never uses:
	// released, goleak holds every other goroutine to account.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}

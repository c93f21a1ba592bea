package serve_test

import (
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	// Importing ants (through ioco and futures) starts its default pool (a
	// purge and a clock goroutine, panjf2000/ants#373), which the echo
	// servers never use. Releasing it lets goleak hold every other
	// goroutine to account.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}

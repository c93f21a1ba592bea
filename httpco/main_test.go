package httpco_test

import (
	"os"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	if addr := os.Getenv(benchServerEnv); addr != "" {
		serveBenchPeer(addr) // the benchmarks' server, in a process of its own
		return
	}
	// Importing ants (through ioco's thread pool) starts its default pool
	// (panjf2000/ants#373), which httpco never uses: release it so that
	// goleak holds every other goroutine to account.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}

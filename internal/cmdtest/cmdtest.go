// Package cmdtest runs the tests of a command against its built binary:
// TestMain builds the package in the current directory once, runs the
// tests, and holds them to goleak's account, as goleak.VerifyTestMain
// does.
package cmdtest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

// Main builds the command in the current directory into a temporary
// file, sets *binary to its path, runs m's tests, removes the file, and
// returns the exit code for os.Exit: non-zero also when a goroutine is
// left over after tests that passed.
func Main(m *testing.M, binary *string) int {
	dir, err := os.MkdirTemp("", "cmdtest")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)
	*binary = filepath.Join(dir, "command")
	if out, err := exec.Command("go", "build", "-o", *binary, ".").CombinedOutput(); err != nil {
		panic("building the command: " + err.Error() + "\n" + string(out))
	}
	// The test binary links evergo, and so ants, whose default pool
	// starts two goroutines (panjf2000/ants#373) that nothing here uses.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	code := m.Run()
	if code == 0 {
		if err := goleak.Find(); err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			return 1
		}
	}
	return code
}

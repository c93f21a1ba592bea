// Package cmdtest builds a command once for the tests that run its binary:
//
//	func TestMain(m *testing.M) { goleak.VerifyTestMain(m, cmdtest.Build(&binary)) }
package cmdtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/panjf2000/ants/v2"
	"go.uber.org/goleak"
)

// Build builds the command in the current directory into a temporary
// file and sets *binary to its path; the option it returns makes
// goleak.VerifyTestMain remove the file once the tests have run.
func Build(binary *string) goleak.Option {
	dir, err := os.MkdirTemp("", "cmdtest")
	if err != nil {
		panic(err)
	}
	*binary = filepath.Join(dir, "command")
	if out, err := exec.Command("go", "build", "-o", *binary, ".").CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		panic("building the command: " + err.Error() + "\n" + string(out))
	}
	// The test binary links evergo, and so ants, whose default pool
	// starts two goroutines (panjf2000/ants#373) that nothing here uses.
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	return goleak.Cleanup(func(int) { os.RemoveAll(dir) })
}

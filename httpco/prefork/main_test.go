package prefork_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/panjf2000/ants/v2"

	"go.uber.org/goleak"

	"github.com/evergo/evergo/httpco/prefork"
)

// The test binary plays every part, as os/exec's tests do with
// GO_WANT_HELPER_PROCESS: a worker (prefork.IsWorker, set by the
// supervisor), a supervisor (roleEnv=supervisor) or a load generator
// (roleEnv=load). The worker is checked first: it inherits the
// supervisor's environment.
const (
	roleEnv    = "PREFORK_TEST_ROLE"
	workersEnv = "PREFORK_TEST_WORKERS"
	addrEnv    = "PREFORK_TEST_ADDR"
)

func TestMain(m *testing.M) {
	switch {
	case prefork.IsWorker():
		os.Exit(exitCode(workerMain()))
	case os.Getenv(roleEnv) == "supervisor":
		os.Exit(exitCode(supervisorMain()))
	case os.Getenv(roleEnv) == "load":
		os.Exit(exitCode(loadMain()))
	}
	// Importing ants (through ioco's thread pool) starts its default pool
	// (panjf2000/ants#373), which prefork never uses: release it so that
	// goleak holds every other goroutine of the test process to account
	// (the parts above run in processes of their own).
	if err := ants.ReleaseTimeout(time.Second); err != nil {
		panic(err)
	}
	goleak.VerifyTestMain(m)
}

func exitCode(err error) int {
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// workerMain serves the pid of the worker on every path.
func workerMain() error {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, os.Getpid())
	})
	return prefork.Serve(context.Background(), mux, prefork.WithLoops(2))
}

// supervisorMain supervises workers of this binary (the default Command),
// logging its events as JSON lines on stdout for the test to follow.
func supervisorMain() error {
	n, _ := strconv.Atoi(os.Getenv(workersEnv))
	s := &prefork.Supervisor{
		Workers:         n,
		Addr:            "127.0.0.1:0",
		ShutdownTimeout: 20 * time.Second,
		Logger:          slog.New(slog.NewJSONHandler(os.Stdout, nil)),
	}
	return s.Run(context.Background())
}

// A logEvent is one line of the supervisor's log.
type logEvent struct {
	Msg    string `json:"msg"`
	Addr   string `json:"addr"`
	PID    int    `json:"pid"`
	Gen    int    `json:"gen"`
	Slot   int    `json:"slot"`
	Status string `json:"status"`
}

func parseEvent(line []byte) (logEvent, error) {
	var e logEvent
	err := json.Unmarshal(line, &e)
	return e, err
}

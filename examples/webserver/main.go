// Command webserver is a prefork HTTP server, as Spawning ran eventlet's:
// a supervisor listens on one socket and keeps -workers worker processes
// (this same binary, run again) serving it, each with an evergo loop per
// core (httpco), restarts a worker that dies, reloads on SIGHUP and
// drains on Ctrl-C. See package httpco/prefork.
//
//	go run ./examples/webserver -workers 2 -addr 127.0.0.1:8080
//
// Then try:
//
//	curl http://127.0.0.1:8080/                # the home page
//	curl http://127.0.0.1:8080/static/hello.txt # a file of the embedded directory
//	curl http://127.0.0.1:8080/api/stats        # JSON: the worker's pid, its loop's stats
//	websocat ws://127.0.0.1:8080/ws             # a WebSocket echo (any WebSocket client)
//	kill -HUP <supervisor pid>                  # new workers start; the old ones finish and exit
//	kill -9 <worker pid>                        # the supervisor starts another
//	Ctrl-C                                      # every worker drains; the supervisor exits
//
// The WebSocket echo at /ws is gorilla/websocket's Upgrader, unchanged:
// it takes the connection through httpco's http.Hijacker, and its reads
// and writes park the connection's task.
package main

import (
	"context"
	"embed"
	"encoding/json"
	"flag"
	"fmt"
	"html/template"
	"io/fs"
	"log"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/httpco/prefork"
	"github.com/evergo/evergo/scheduler"
)

//go:embed static
var static embed.FS

func main() {
	log.SetFlags(0)
	workers := flag.Int("workers", 2, "worker processes")
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	loops := flag.Int("loops", 0, "loops per worker (0: one per core)")
	shutdown := flag.Duration("shutdown-timeout", 10*time.Second, "how long a draining worker may take")
	flag.Parse()
	if prefork.IsWorker() { // the supervisor ran this binary again, with the same flags
		if err := worker(*loops); err != nil {
			log.Fatalf("worker %d: %v", os.Getpid(), err)
		}
		return
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("serving http://%s/ (supervisor pid %d): kill -HUP %d reloads, Ctrl-C stops\n",
		ln.Addr(), os.Getpid(), os.Getpid())
	s := &prefork.Supervisor{
		Workers:         *workers,
		Listener:        ln,
		ShutdownTimeout: *shutdown,
		Logger:          slog.New(slog.NewTextHandler(os.Stderr, nil)),
	}
	if err := s.Run(context.Background()); err != nil {
		log.Fatal(err)
	}
}

// worker serves the site until the supervisor tells it to drain.
func worker(loops int) error {
	sub, err := fs.Sub(static, "static")
	if err != nil {
		return err
	}
	st := &stats{pid: os.Getpid(), start: time.Now()}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", st.count(home))
	mux.Handle("GET /static/", st.count(http.StripPrefix("/static/", http.FileServerFS(sub)).ServeHTTP))
	mux.HandleFunc("GET /api/stats", st.count(st.serve))
	mux.HandleFunc("GET /ws", st.count(echo))
	var opts []prefork.Option
	if loops > 0 {
		opts = append(opts, prefork.WithLoops(loops))
	}
	opts = append(opts, prefork.WithServer(func(s *httpco.Server) {
		s.ReadHeaderTimeout = 10 * time.Second
		s.IdleTimeout = 60 * time.Second
	}))
	return prefork.Serve(context.Background(), mux, opts...)
}

// upgrader accepts WebSocket connections from any origin: the echo holds
// nothing worth protecting.
var upgrader = websocket.Upgrader{CheckOrigin: func(*http.Request) bool { return true }}

// echo sends every WebSocket message back until the client closes.
func echo(w http.ResponseWriter, r *http.Request) {
	c, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // Upgrade has answered the request
	}
	defer c.Close()
	for {
		kind, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(kind, msg); err != nil {
			return
		}
	}
}

var homePage = template.Must(template.New("home").Parse(`<!doctype html>
<title>evergo prefork</title>
<link rel="stylesheet" href="/static/style.css">
<h1>evergo prefork webserver</h1>
<p>Worker <b>{{.}}</b> answered. Reload the page (or <code>curl</code> with a new
connection each time) to meet the other workers; <code>kill -HUP</code> the
supervisor to see new pids take over without a failed request.</p>
<ul>
<li><a href="/static/hello.txt">/static/hello.txt</a>: an embedded file</li>
<li><a href="/api/stats">/api/stats</a>: this worker's pid and its loop's stats</li>
<li><code>/ws</code>: a WebSocket echo</li>
</ul>
<pre id="stats"></pre>
<script src="/static/stats.js"></script>
`))

func home(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	homePage.Execute(w, os.Getpid())
}

// stats are one worker's counters; its loops run on goroutines of their
// own, hence the atomic.
type stats struct {
	pid      int
	start    time.Time
	requests atomic.Int64
}

func (st *stats) count(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st.requests.Add(1)
		h(w, r)
	}
}

// serve answers /api/stats: the handler runs in a task of one of the
// worker's loops, and the request's context carries it.
func (st *stats) serve(w http.ResponseWriter, r *http.Request) {
	var loop scheduler.Stats
	if l := scheduler.LoopOf(r.Context()); l != nil {
		loop = l.Stats()
	}
	w.Header().Set("Content-Type", "application/json")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(struct {
		PID      int             `json:"pid"`
		Uptime   string          `json:"uptime"`
		Requests int64           `json:"requests"`
		Time     time.Time       `json:"time"`
		Loop     scheduler.Stats `json:"loop"`
	}{st.pid, time.Since(st.start).Round(time.Millisecond).String(), st.requests.Load(), time.Now(), loop})
}

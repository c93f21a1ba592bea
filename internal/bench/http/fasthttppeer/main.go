// Command fasthttppeer is internal/bench/http's third server: the same
// paths as internal/bench/http/httpserver, served by
// github.com/valyala/fasthttp, a peer that does not keep net/http's
// interface (its handlers get a *fasthttp.RequestCtx whose buffers are
// reused from request to request).
//
// It is a module of its own (this directory's go.mod) so that evergo's
// module never requires fasthttp; the benchmark builds it with
//
//	cd internal/bench/http/fasthttppeer && go build -o /tmp/fasthttppeer .
//
// and runs it as
//
//	GOMAXPROCS=1 /tmp/fasthttppeer -addr 127.0.0.1:8080 [-cpuprofile cpu.pprof]
//
// The paths: / answers "Hello, World!", /16k answers 16 KiB, both
// text/plain with their Content-Length (fasthttp adds Date, as net/http
// does; its Server field is left out, as net/http sends none); /stats
// answers "mallocs N bytes N gcs N". SIGTERM or SIGINT ends the process
// at once, after writing the CPU profile if -cpuprofile asked for one.
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"syscall"

	"github.com/valyala/fasthttp"
)

var (
	hello = []byte("Hello, World!")
	big   = func() []byte {
		b := make([]byte, 16<<10)
		for i := range b {
			b[i] = 'a' + byte(i%26)
		}
		return b
	}()
)

func handle(ctx *fasthttp.RequestCtx) {
	var body []byte
	switch string(ctx.Path()) {
	case "/":
		body = hello
	case "/16k":
		body = big
	case "/stats":
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		body = fmt.Appendf(nil, "mallocs %d bytes %d gcs %d\n", m.Mallocs, m.TotalAlloc, m.NumGC)
	default:
		ctx.Error("404 page not found", fasthttp.StatusNotFound)
		return
	}
	ctx.SetContentType("text/plain")
	ctx.SetBody(body) // Content-Length is set from the body
}

func main() {
	log.SetFlags(0)
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	flag.Parse()

	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			log.Fatal(err)
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			log.Fatal(err)
		}
	}
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, syscall.SIGTERM, os.Interrupt)
	go func() {
		<-sigs
		pprof.StopCPUProfile()
		os.Exit(0)
	}()

	srv := &fasthttp.Server{Handler: handle, NoDefaultServerHeader: true}
	err := srv.ListenAndServe(*addr)
	pprof.StopCPUProfile()
	log.Fatal(err)
}

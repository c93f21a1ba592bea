// Command httpserver is the server side of internal/bench/http: the same
// two handlers served by httpco on one loop or by net/http's Server.
//
//	httpserver -kind httpco -addr 127.0.0.1:8080
//	httpserver -kind nethttp -addr 127.0.0.1:8080 -cpuprofile cpu.pprof -memprofile allocs.pprof
//
// The paths: / answers "Hello, World!", /16k answers 16 KiB, both
// text/plain with their Content-Length; /stats answers the process's
// allocation counters (see stats), which the benchmark reads before and
// after a load run. SIGTERM or SIGINT ends the process at once (writing
// the profiles first, if -cpuprofile or -memprofile asked for them): a benchmark
// server needs no graceful shutdown. Run it at GOMAXPROCS=1 to measure
// what the budget compares.
//
// internal/bench/http/fasthttppeer serves the same three paths with
// fasthttp, in a module of its own.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
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
	helloLen = strconv.Itoa(len(hello))
	bigLen   = strconv.Itoa(len(big))
)

// handle is the handler both servers serve, written as a handler
// usually is (Header().Set allocates its value's slice).
func handle(w http.ResponseWriter, r *http.Request) {
	var body []byte
	var n string
	switch r.URL.Path {
	case "/":
		body, n = hello, helloLen
	case "/16k":
		body, n = big, bigLen
	case "/stats":
		body = stats()
		n = strconv.Itoa(len(body))
	default:
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/plain")
	h.Set("Content-Length", n)
	w.Write(body)
}

// stats returns "mallocs N bytes N gcs N": the process's heap
// allocations and allocated bytes so far, and its completed collections.
func stats() []byte {
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return fmt.Appendf(nil, "mallocs %d bytes %d gcs %d\n", m.Mallocs, m.TotalAlloc, m.NumGC)
}

// writeAllocs writes the allocs profile (every allocation sampled at
// runtime.MemProfileRate since the start) to file.
func writeAllocs(file string) error {
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func main() {
	log.SetFlags(0)
	kind := flag.String("kind", "httpco", "httpco (one loop) or nethttp (net/http's Server)")
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile of the whole run to this file")
	memprofile := flag.String("memprofile", "", "write an allocation profile of the whole run to this file at the end")
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
		pprof.StopCPUProfile() // a no-op without -cpuprofile
		if *memprofile != "" {
			if err := writeAllocs(*memprofile); err != nil {
				log.Print(err)
			}
		}
		os.Exit(0)
	}()

	var err error
	switch *kind {
	case "httpco":
		err = scheduler.Run(context.Background(), func(ctx context.Context) error {
			ln, err := ioco.Listen(ctx, "tcp", *addr)
			if err != nil {
				return err
			}
			return (&httpco.Server{Handler: http.HandlerFunc(handle)}).Serve(ctx, ln)
		})
	case "nethttp":
		var ln net.Listener
		if ln, err = net.Listen("tcp", *addr); err == nil {
			err = (&http.Server{Handler: http.HandlerFunc(handle)}).Serve(ln)
		}
	default:
		err = fmt.Errorf("-kind %q: want httpco or nethttp", *kind)
	}
	pprof.StopCPUProfile()
	log.Fatal(err)
}

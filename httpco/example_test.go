package httpco_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// A handler that parks (here: a second on the loop's clock) parks only
// its own connection's task; net/http's client reaches it over a real
// socket from a goroutine of its own.
func ExampleServer() {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		scheduler.Sleep(r.Context(), time.Millisecond)
		fmt.Fprintf(w, "hello, %s\n", r.PathValue("name"))
	})
	srv := &httpco.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}

	scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		post := scheduler.LoopOf(ctx).Expect() // the client's end comes back as a post
		go func() {
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			resp, err := (&http.Client{Transport: tr}).Get("http://" + ln.Addr().String() + "/hello/gopher")
			if err == nil {
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				fmt.Print(resp.Status, ": ", string(body))
			}
			post(func(context.Context) { srv.Close() }) // on the loop
		}()
		return ignoreClosed(srv.Serve(ctx, ln))
	})
	// Output: 200 OK: hello, gopher
}

func ignoreClosed(err error) error {
	if err == http.ErrServerClosed {
		return nil
	}
	return err
}

// A Transport makes *http.Client work in tasks: here three tasks fetch
// from a server on the same loop, each parking only itself while it waits.
func ExampleTransport() {
	srv := &httpco.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		scheduler.Sleep(r.Context(), time.Millisecond)
		fmt.Fprintf(w, "page %s", r.URL.Path)
	})}
	client := &http.Client{Transport: httpco.NewTransport()}

	scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		scheduler.Go(ctx, func(ctx context.Context) error { return ignoreClosed(srv.Serve(ctx, ln)) })
		bodies := make([]string, 3)
		var g scheduler.Group
		for i := range bodies {
			g.Go(ctx, func(ctx context.Context) error {
				req, _ := http.NewRequestWithContext(ctx, "GET", fmt.Sprintf("http://%s/%d", ln.Addr(), i), nil)
				resp, err := client.Do(req)
				if err != nil {
					return err
				}
				defer resp.Body.Close()
				b, err := io.ReadAll(resp.Body)
				bodies[i] = string(b)
				return err
			})
		}
		err = g.Wait(ctx)
		fmt.Println(bodies, err)
		client.CloseIdleConnections()
		return srv.Close()
	})
	// Output: [page /0 page /1 page /2] <nil>
}

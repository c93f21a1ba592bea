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

package httpco_test

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// ServeTLS serves HTTPS with the certificate in TLSConfig; here the one
// that net/http/httptest makes for 127.0.0.1, whose client trusts it.
func TestServeTLSServesHTTPS(t *testing.T) {
	ts := httptest.NewTLSServer(http.NotFoundHandler())
	cert, client := ts.TLS.Certificates[0], ts.Client()
	ts.Close()
	tr := client.Transport.(*http.Transport)
	defer tr.CloseIdleConnections()

	srv := &httpco.Server{
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{cert}},
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.TLS != nil && r.TLS.HandshakeComplete {
				io.WriteString(w, "tls")
			}
		}),
	}
	err := scheduler.Run(context.Background(), func(ctx context.Context) error {
		ln, err := ioco.Listen(ctx, "tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		post := scheduler.LoopOf(ctx).Expect()
		go func() {
			defer post(func(context.Context) { srv.Close() })
			resp, err := client.Get("https://" + ln.Addr().String())
			if err != nil {
				t.Error(err)
				return
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != 200 || string(body) != "tls" || resp.ProtoMajor != 1 {
				t.Errorf("got %s %q, want 200 over HTTP/1.1 with the request's TLS state", resp.Status, body)
			}
		}()
		if err := srv.ServeTLS(ctx, ln, "", ""); err != http.ErrServerClosed {
			t.Errorf("ServeTLS = %v, want ErrServerClosed", err)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Close cancels the context of a request in flight, whose handler waits
// on it.
func TestCloseCancelsTheRequestsContext(t *testing.T) {
	inHandler := make(chan struct{}, 1)
	var srv *httpco.Server
	srv = &httpco.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		inHandler <- struct{}{}
		scheduler.Go(r.Context(), func(ctx context.Context) error { return srv.Close() })
		err := scheduler.Sleep(r.Context(), time.Hour) // ends by the cancellation
		if err != context.Canceled {
			t.Errorf("the handler's wait ended with %v, want context.Canceled", err)
		}
	})}
	serve(t, srv, func(addr string) {
		tr := &http.Transport{}
		defer tr.CloseIdleConnections()
		if _, err := (&http.Client{Transport: tr}).Get("http://" + addr); err == nil {
			t.Error("GET answered, want the connection closed by Close")
		}
		<-inHandler
	})
}

// A kept-alive connection that stays idle is closed after IdleTimeout.
func TestIdleConnectionIsClosedAfterIdleTimeout(t *testing.T) {
	srv := &httpco.Server{IdleTimeout: 20 * time.Millisecond, Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	})}
	serve(t, srv, func(addr string) {
		back := raw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") // returns once the server closes
		if len(back) == 0 || back[len(back)-2:] != "ok" {
			t.Errorf("got %q, want the response and then the close", back)
		}
	})
}

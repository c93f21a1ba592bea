package httpco_test

import (
	"compress/gzip"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/http/httptrace"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/evergo/evergo/httpco"
)

// A conformanceCase is behaviour a user of net/http's Transport can see.
// Each runs twice, each time against a fresh server: with net/http's
// Transport on the test's goroutine, and with httpco's in a task; what the
// two observe must be the same.
type conformanceCase struct {
	name string
	// server makes the case's server; the cleanup is the test's.
	server func(t *testing.T) *httptest.Server
	// setup adjusts the two Transports alike.
	setup func(t *testing.T, srv *httptest.Server, std *http.Transport, co *httpco.Transport) (note func(string) string)
	// script makes the case's requests and describes what it saw.
	script func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string
}

// observe describes a response or an error in a form both Transports
// give alike: the status, the body, and the given header fields; an error
// by its kind.
func observe(resp *http.Response, err error, fields ...string) string {
	if err != nil {
		var cv *tls.CertificateVerificationError
		switch {
		case errors.As(err, &cv):
			return "error: certificate not trusted"
		case errors.Is(err, httpco.ErrResponseHeaderTooLarge), strings.Contains(err.Error(), "headers exceeded"): // httpco's, net/http's
			return "error: response headers too large"
		}
		return "error"
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	s := fmt.Sprintf("%d %q", resp.StatusCode, b)
	if err != nil {
		s += " read error"
	}
	for _, f := range fields {
		switch f {
		case "ContentLength":
			s += fmt.Sprintf(" ContentLength=%d", resp.ContentLength)
		case "Trailer":
			s += fmt.Sprintf(" Trailer=%v", resp.Trailer)
		case "Uncompressed":
			s += fmt.Sprintf(" Uncompressed=%v", resp.Uncompressed)
		default:
			s += fmt.Sprintf(" %s=%q", f, resp.Header.Get(f))
		}
	}
	return s
}

// observeDo makes a request and observes its outcome.
func observeDo(ctx context.Context, client *http.Client, method, url string, body io.Reader, fields ...string) string {
	resp, err := doReq(ctx, client, method, url, body)
	return observe(resp, err, fields...)
}

func doReq(ctx context.Context, client *http.Client, method, url string, body io.Reader) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, method, url, body)
	if err != nil {
		return nil, err
	}
	return client.Do(req)
}

func handlerServer(h http.HandlerFunc) func(t *testing.T) *httptest.Server {
	return func(t *testing.T) *httptest.Server { return httptest.NewUnstartedServer(h) }
}

var conformanceCases = []conformanceCase{
	{
		// Any number of informational responses is read past, their
		// headers bounded with the final one's, unless a Got1xxResponse
		// hook hears of each: then each header has a bound of its own.
		name: "informational responses, their headers bounded together",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			n, _ := strconv.Atoi(strings.TrimPrefix(r.URL.Path, "/"))
			for range n {
				w.WriteHeader(http.StatusEarlyHints)
			}
			io.WriteString(w, "final")
		}),
		setup: func(t *testing.T, srv *httptest.Server, std *http.Transport, co *httpco.Transport) func(string) string {
			std.MaxResponseHeaderBytes, co.MaxResponseHeaderBytes = 4<<10, 4<<10
			return nil
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			var out []string
			for _, n := range []int{1, 6, 400} { // 400 headers of 29 bytes: over 4 KiB
				out = append(out, observe(doReq(ctx, client, "GET", fmt.Sprintf("%s/%d", srv.URL, n), nil)))
			}
			hints := 0
			hooked := httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
				Got1xxResponse: func(int, textproto.MIMEHeader) error { hints++; return nil },
			})
			out = append(out, observe(doReq(hooked, client, "GET", srv.URL+"/400", nil)), fmt.Sprint("hints=", hints))
			return strings.Join(out, "; ")
		},
	},
	{
		name: "keep-alive reuses one connection",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, r.URL.Path)
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			var out []string
			for i := range 5 {
				out = append(out, observe(doReq(ctx, client, "GET", fmt.Sprintf("%s/%d", srv.URL, i), nil)))
			}
			return strings.Join(out, "; ") + fmt.Sprintf("; conns=%d", conns())
		},
	},
	{
		name: "a server closing after its response",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Connection", "close")
			io.WriteString(w, "once")
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			a := observe(doReq(ctx, client, "GET", srv.URL, nil))
			b := observe(doReq(ctx, client, "POST", srv.URL, strings.NewReader("x")))
			return a + "; " + b + fmt.Sprintf("; conns=%d", conns())
		},
	},
	{
		name: "a body closed early, then the next request",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/big" {
				io.WriteString(w, strings.Repeat("x", 1<<20))
				return
			}
			io.WriteString(w, "small")
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			resp, err := doReq(ctx, client, "GET", srv.URL+"/big", nil)
			if err != nil {
				return "error"
			}
			b := make([]byte, 10)
			n, _ := io.ReadFull(resp.Body, b)
			resp.Body.Close()
			_, err = resp.Body.Read(b)
			return fmt.Sprintf("read %d, then %v; ", n, err != nil) + observe(doReq(ctx, client, "GET", srv.URL, nil)) + fmt.Sprintf("; conns=%d", conns())
		},
	},
	{
		name: "a chunked response",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			for i := range 3 {
				fmt.Fprintf(w, "part %d;", i)
				w.(http.Flusher).Flush()
			}
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			resp, err := doReq(ctx, client, "GET", srv.URL, nil)
			if err != nil {
				return "error"
			}
			te := fmt.Sprint(resp.TransferEncoding)
			return observe(resp, nil, "ContentLength") + " TransferEncoding=" + te
		},
	},
	{
		name: "HEAD with a Content-Length, 204 and 304 without a body",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/head":
				w.Header().Set("Content-Length", "1234")
			case "/204":
				w.WriteHeader(http.StatusNoContent)
			case "/304":
				w.WriteHeader(http.StatusNotModified)
			}
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			a := observeDo(ctx, client, "HEAD", srv.URL+"/head", nil, "ContentLength")
			b := observeDo(ctx, client, "GET", srv.URL+"/204", nil, "ContentLength")
			c := observeDo(ctx, client, "GET", srv.URL+"/304", nil, "ContentLength")
			return a + "; " + b + "; " + c + fmt.Sprintf("; conns=%d", conns())
		},
	},
	{
		name: "trailers",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Trailer", "X-Sum")
			io.WriteString(w, "body")
			w.Header().Set("X-Sum", "42")
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			return observeDo(ctx, client, "GET", srv.URL, nil, "Trailer")
		},
	},
	{
		name: "gzip asked for and decoded, Range left alone",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			if r.Header.Get("Range") == "" && strings.Contains(r.Header.Get("Accept-Encoding"), "gzip") {
				w.Header().Set("Content-Encoding", "gzip")
				zw := gzip.NewWriter(w)
				io.WriteString(zw, strings.Repeat("abc", 100))
				zw.Close()
				return
			}
			http.ServeContent(w, r, "a.txt", fixedTime, strings.NewReader(strings.Repeat("abc", 100)))
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
			req.Header.Set("Range", "bytes=0-5")
			resp, err := client.Do(req)
			return observeDo(ctx, client, "GET", srv.URL, nil, "Uncompressed") + "; " + observe(resp, err, "Content-Range")
		},
	},
	{
		name: "redirects and cookies, from http.Client",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			switch r.URL.Path {
			case "/login":
				http.SetCookie(w, &http.Cookie{Name: "session", Value: "s1"})
				http.Redirect(w, r, "/home", http.StatusFound)
			case "/home":
				c, err := r.Cookie("session")
				if err != nil {
					io.WriteString(w, "no session")
					return
				}
				io.WriteString(w, "welcome "+c.Value)
			}
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			jar, _ := cookiejar.New(nil)
			c := *client
			c.Jar = jar
			return observe(doReq(ctx, &c, "GET", srv.URL+"/login", nil))
		},
	},
	{
		name: "a connection the server drops at the next request: GET sent again, POST not",
		server: func(t *testing.T) *httptest.Server {
			var mu sync.Mutex
			seen := map[string]int{} // requests per client address
			return httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				seen[r.RemoteAddr]++
				n := seen[r.RemoteAddr]
				mu.Unlock()
				if n == 2 {
					c, _, _ := http.NewResponseController(w).Hijack()
					c.Close()
					return
				}
				io.WriteString(w, "served")
			}))
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			a := observeDo(ctx, client, "GET", srv.URL, nil)
			b := observeDo(ctx, client, "GET", srv.URL, nil)
			c := observeDo(ctx, client, "POST", srv.URL, strings.NewReader("x"))
			return a + "; " + b + "; " + c + fmt.Sprintf("; conns=%d", conns())
		},
	},
	{
		name: "https through a proxy's CONNECT tunnel, one for two requests",
		server: func(t *testing.T) *httptest.Server {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "via "+r.URL.Path)
			}))
			srv.TLS = &tls.Config{}
			return srv
		},
		setup: func(t *testing.T, srv *httptest.Server, std *http.Transport, co *httpco.Transport) func(string) string {
			proxy := newTestProxy(t)
			u, _ := url.Parse(proxy.URL)
			u.User = url.UserPassword("u", "p")
			std.Proxy, co.Proxy = http.ProxyURL(u), http.ProxyURL(u)
			roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
			std.TLSClientConfig, co.TLSClientConfig = &tls.Config{RootCAs: roots}, &tls.Config{RootCAs: roots}
			return func(out string) string {
				return strings.ReplaceAll(out+fmt.Sprintf("; proxy saw %q", proxy.requests()), srv.Listener.Addr().String(), "SERVER")
			}
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			a := observeDo(ctx, client, "GET", srv.URL+"/a", nil)
			b := observeDo(ctx, client, "GET", srv.URL+"/b", nil)
			return a + "; " + b
		},
	},
	{
		name: "a header under MaxResponseHeaderBytes with a body that arrives with it",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", strings.Repeat("b", 3<<10))
			io.WriteString(w, strings.Repeat("body ", 2000))
		}),
		setup: func(t *testing.T, srv *httptest.Server, std *http.Transport, co *httpco.Transport) func(string) string {
			std.MaxResponseHeaderBytes, co.MaxResponseHeaderBytes = 4<<10, 4<<10
			return nil
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			return fmt.Sprint(len(observeDo(ctx, client, "GET", srv.URL, nil)))
		},
	},
	{
		name: "httptrace hooks, a 103 before the answer, a reused connection",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Link", "</style.css>; rel=preload")
			w.WriteHeader(http.StatusEarlyHints)
			io.WriteString(w, "traced")
		}),
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			var events []string
			trace := &httptrace.ClientTrace{
				GetConn: func(string) { events = append(events, "GetConn") },
				GotConn: func(i httptrace.GotConnInfo) {
					events = append(events, fmt.Sprintf("GotConn(reused=%v)", i.Reused))
				},
				WroteHeaders: func() { events = append(events, "WroteHeaders") },
				WroteRequest: func(i httptrace.WroteRequestInfo) {
					events = append(events, fmt.Sprintf("WroteRequest(%v)", i.Err))
				},
				GotFirstResponseByte: func() { events = append(events, "GotFirstResponseByte") },
				Got1xxResponse: func(code int, h textproto.MIMEHeader) error {
					events = append(events, fmt.Sprintf("Got1xxResponse(%d %s)", code, h.Get("Link")))
					return nil
				},
			}
			tctx := httptrace.WithClientTrace(ctx, trace)
			a := observeDo(tctx, client, "GET", srv.URL, nil)
			b := observeDo(tctx, client, "GET", srv.URL, nil)
			return a + "; " + b + "; " + strings.Join(events, " ")
		},
	},
	{
		name: "a response header over MaxResponseHeaderBytes",
		server: handlerServer(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("X-Big", strings.Repeat("b", 8<<10))
		}),
		setup: func(t *testing.T, srv *httptest.Server, std *http.Transport, co *httpco.Transport) func(string) string {
			std.MaxResponseHeaderBytes, co.MaxResponseHeaderBytes = 4<<10, 4<<10
			return nil
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			return observe(doReq(ctx, client, "GET", srv.URL, nil))
		},
	},
	{
		name: "TLS: a certificate the client does not trust, then one it does",
		server: func(t *testing.T) *httptest.Server {
			srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.WriteString(w, "secret")
			}))
			srv.TLS = &tls.Config{}
			return srv
		},
		script: func(ctx context.Context, client *http.Client, srv *httptest.Server, conns func() int32) string {
			a := observe(doReq(ctx, client, "GET", srv.URL, nil))
			c := *client
			c.Transport = trusting(client.Transport, srv)
			return a + "; " + observe(doReq(ctx, &c, "GET", srv.URL, nil))
		},
	},
}

var fixedTime = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// trusting returns a copy of tr, either kind, trusting srv's certificate.
func trusting(tr http.RoundTripper, srv *httptest.Server) http.RoundTripper {
	roots := srv.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	switch tr := tr.(type) {
	case *http.Transport:
		c := tr.Clone()
		c.TLSClientConfig = &tls.Config{RootCAs: roots}
		return c
	case *httpco.Transport:
		c := httpco.NewTransport()
		c.Proxy = nil
		c.TLSClientConfig = &tls.Config{RootCAs: roots}
		return c
	}
	return nil
}

func TestTransportConformsToNetHTTPTransport(t *testing.T) {
	for _, c := range conformanceCases {
		t.Run(c.name, func(t *testing.T) {
			std := runConformance(t, c, false)
			co := runConformance(t, c, true)
			if std != co {
				t.Errorf("net/http's Transport saw\n\t%s\nhttpco's saw\n\t%s", std, co)
			}
		})
	}
}

// runConformance runs c against a fresh server, with httpco's Transport in
// a task (onLoop) or net/http's on the test's goroutine.
func runConformance(t *testing.T, c conformanceCase, onLoopToo bool) (out string) {
	var conns atomic.Int32
	srv := c.server(t)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	if srv.TLS != nil {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	defer srv.Close()
	std := &http.Transport{}
	co := httpco.NewTransport()
	co.Proxy = nil
	var note func(string) string
	if c.setup != nil {
		note = c.setup(t, srv, std, co)
	}
	if note != nil {
		defer func() { out = note(out) }()
	}
	count := conns.Load
	if !onLoopToo {
		defer std.CloseIdleConnections()
		return c.script(context.Background(), &http.Client{Transport: std}, srv, count)
	}
	onLoop(t, co, func(ctx context.Context, client *http.Client) {
		out = c.script(ctx, client, srv, count)
	})
	return out
}

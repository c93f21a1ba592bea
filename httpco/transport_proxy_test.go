package httpco_test

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/evergo/evergo/httpco"
)

// A forward proxy for the tests, on net/http's server: it forwards
// absolute-form requests and tunnels CONNECTs, and records what it was
// asked and with which credentials.
type testProxy struct {
	*httptest.Server
	mu   sync.Mutex
	seen []string // "GET http://host/path" or "CONNECT host:port", with " auth=..." when credentials came
	wg   sync.WaitGroup
}

func newTestProxy(t *testing.T) *testProxy {
	p := &testProxy{}
	forward := &http.Transport{} // no proxy of its own
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		line := r.Method + " " + r.RequestURI
		if a := r.Header.Get("Proxy-Authorization"); a != "" {
			line += " auth=" + a
		}
		p.mu.Lock()
		p.seen = append(p.seen, line)
		p.mu.Unlock()
		if r.Method == http.MethodConnect {
			p.tunnel(w, r)
			return
		}
		out := r.Clone(r.Context())
		out.RequestURI = ""
		out.Header.Del("Proxy-Authorization")
		resp, err := forward.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		for k, vv := range resp.Header {
			w.Header()[k] = vv
		}
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	t.Cleanup(func() {
		p.Close()
		forward.CloseIdleConnections()
		p.wg.Wait()
	})
	return p
}

func (p *testProxy) tunnel(w http.ResponseWriter, r *http.Request) {
	target, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	w.WriteHeader(http.StatusOK)
	c, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		target.Close()
		return
	}
	p.wg.Add(2)
	// From brw: the server may have read the client's first bytes already.
	go func() { defer p.wg.Done(); io.Copy(target, brw); target.(*net.TCPConn).CloseWrite() }()
	go func() { defer p.wg.Done(); io.Copy(c, target); c.Close() }()
}

func (p *testProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

// Plain requests go to the proxy in absolute form, https ones through a
// CONNECT tunnel, each with the proxy URL's credentials.
func TestTransportGoesThroughAProxy(t *testing.T) {
	plain := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "plain") }))
	defer plain.Close()
	secure := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "secure") }))
	defer secure.Close()
	proxy := newTestProxy(t)
	proxyURL, _ := url.Parse(proxy.URL)
	proxyURL.User = url.UserPassword("user", "secret")

	tr := httpco.NewTransport()
	tr.Proxy = func(*http.Request) (*url.URL, error) { return proxyURL, nil }
	tr.TLSClientConfig = &tls.Config{RootCAs: secure.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		for _, c := range []struct{ url, want string }{{plain.URL + "/a", "plain"}, {secure.URL + "/b", "secure"}, {secure.URL + "/c", "secure"}} {
			if body, err := getBody(ctx, client, c.url); body != c.want || err != nil {
				t.Errorf("GET %s: %q, %v; want %q", c.url, body, err, c.want)
			}
		}
	})
	auth := " auth=Basic dXNlcjpzZWNyZXQ="
	want := []string{"GET " + plain.URL + "/a" + auth, "CONNECT " + secure.Listener.Addr().String() + auth}
	got := proxy.requests()
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("the proxy was asked %q, want %q (the https requests share one tunnel)", got, want)
	}
}

// A proxy that refuses the CONNECT fails the request with its status.
func TestTransportReportsARefusedConnect(t *testing.T) {
	refuser := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "no", http.StatusForbidden)
	}))
	defer refuser.Close()
	proxyURL, _ := url.Parse(refuser.URL)
	tr := httpco.NewTransport()
	tr.Proxy = http.ProxyURL(proxyURL)
	onLoop(t, tr, func(ctx context.Context, client *http.Client) {
		_, err := getBody(ctx, client, "https://example.invalid/")
		if err == nil || !containsAll(err.Error(), "CONNECT", "403") {
			t.Errorf("err = %v, want the proxy's refusal with its status", err)
		}
	})
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

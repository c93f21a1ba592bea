package httpco_test

import (
	"io"
	"net/http"
	"net/http/httputil"
	"strings"
	"testing"

	"github.com/evergo/evergo/httpco"
)

// A response carries one Content-Length, and the one its body has: the
// handler's when it set it before the header was written (WriteHeader, or
// the first Write), the body's own otherwise; a field changed after that
// is not sent, as net/http does not send it.
func TestResponseCarriesOneContentLengthTheBodysOwn(t *testing.T) {
	cases := []struct {
		name    string
		handler func(w http.ResponseWriter)
		want    string // the response's framing fields and body
	}{
		{"set and nothing written", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "0")
		}, "Content-Length: 0|"},
		{"set after the first Write", func(w http.ResponseWriter) {
			io.WriteString(w, "hello")
			w.Header().Set("Content-Length", "7")
		}, "Content-Length: 5|hello"},
		{"changed after WriteHeader", func(w http.ResponseWriter) {
			w.Header().Set("Content-Length", "5")
			w.WriteHeader(http.StatusOK)
			w.Header().Set("Content-Length", "9")
			io.WriteString(w, "hello")
		}, "Content-Length: 5|hello"},
		{"set after the first Write of a big body", func(w http.ResponseWriter) {
			io.WriteString(w, strings.Repeat("x", 3000))
			w.Header().Set("Content-Length", "3000")
		}, "Transfer-Encoding: chunked|" + strings.Repeat("x", 3000)},
	}
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, c := range cases {
			if r.URL.Path == "/"+strings.ReplaceAll(c.name, " ", "-") {
				c.handler(w)
			}
		}
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		for _, c := range cases {
			back := raw(t, addr, "GET /"+strings.ReplaceAll(c.name, " ", "-")+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
			head, body, _ := strings.Cut(back, "\r\n\r\n")
			var framing []string
			for _, line := range strings.Split(head, "\r\n") {
				if strings.HasPrefix(line, "Content-Length:") || strings.HasPrefix(line, "Transfer-Encoding:") {
					framing = append(framing, line)
				}
			}
			if strings.Contains(c.want, "chunked") {
				body = dechunk(t, body)
			}
			if got := strings.Join(framing, ",") + "|" + body; got != c.want {
				t.Errorf("%s: framing and body %.80q, want %.80q", c.name, got, c.want)
			}
		}
	})
}

// dechunk decodes a chunked body.
func dechunk(t *testing.T, s string) string {
	t.Helper()
	b, err := io.ReadAll(httputil.NewChunkedReader(strings.NewReader(s)))
	if err != nil {
		t.Errorf("decoding a chunked body: %v", err)
	}
	return string(b)
}

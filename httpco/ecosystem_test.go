package httpco_test

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"expvar"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/http/pprof"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/evergo/evergo/httpco"
)

// Handlers of the standard library, unchanged, served on the loop and
// driven by net/http's client over real sockets.

// client returns an http.Client that does not follow redirects (so that
// they can be seen) and whose connections are closed at the test's end.
func client(t *testing.T) *http.Client {
	tr := &http.Transport{}
	t.Cleanup(tr.CloseIdleConnections)
	return &http.Client{
		Transport:     tr,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// do sends a request built from method, url and header fields ("Name:
// value") and returns the response with its body read.
func do(t *testing.T, c *http.Client, method, url string, fields ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range fields {
		k, v, _ := strings.Cut(f, ":")
		if k == "Host" {
			req.Host = strings.TrimSpace(v)
			continue
		}
		req.Header.Set(k, strings.TrimSpace(v))
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", method, url, err)
		return &http.Response{Header: http.Header{}}, ""
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("%s %s: reading the body: %v", method, url, err)
	}
	return resp, string(body)
}

// pipelined sends requests on one connection (the last one should close
// it) and parses the responses in order; it fails the test if the server
// wrote anything beyond them, such as a body where none belongs.
func pipelined(t *testing.T, addr string, requests ...string) []string {
	t.Helper()
	back := raw(t, addr, strings.Join(requests, ""))
	br := bufio.NewReader(strings.NewReader(back))
	var out []string
	for _, r := range requests {
		method, _, _ := strings.Cut(r, " ")
		resp, err := http.ReadResponse(br, &http.Request{Method: method})
		if err != nil {
			t.Errorf("response to %.30q: %v (all: %.300q)", r, err, back)
			return out
		}
		body, _ := io.ReadAll(resp.Body)
		var h strings.Builder
		resp.Header.Del("Date")
		resp.Header.Write(&h)
		out = append(out, fmt.Sprintf("%d\n%s\n%s", resp.StatusCode, h.String(), body))
	}
	if rest, _ := io.ReadAll(br); len(rest) > 0 {
		t.Errorf("bytes after the last response: %.100q", rest)
	}
	return out
}

func TestServeMuxGo122PatternsRouteByMethodHostAndWildcards(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "item %s", r.PathValue("id"))
	})
	mux.HandleFunc("DELETE /items/{id}", func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	})
	mux.HandleFunc("/files/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s file %s", r.Method, r.PathValue("rest"))
	})
	mux.HandleFunc("GET /exact/{$}", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "exact")
	})
	mux.HandleFunc("/tree/", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "tree %s", r.URL.Path)
	})
	mux.HandleFunc("api.example.com/items/{id}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "api item %s", r.PathValue("id"))
	})
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		c := client(t)
		base := "http://" + addr
		for _, tc := range []struct {
			method, path string
			fields       []string
			status       int
			body         string
			header       string // "Name: value" the response must have
		}{
			{"GET", "/items/42", nil, 200, "item 42", ""},
			{"HEAD", "/items/42", nil, 200, "", "Content-Length: 7"},
			{"DELETE", "/items/42", nil, 204, "", ""},
			{"POST", "/items/42", nil, 405, "Method Not Allowed\n", "Allow: DELETE, GET, HEAD"},
			{"PUT", "/files/a/b/c.txt", nil, 200, "PUT file a/b/c.txt", ""},
			{"GET", "/files/", nil, 200, "GET file ", ""},
			{"GET", "/exact/", nil, 200, "exact", ""},
			{"GET", "/exact/more", nil, 404, "404 page not found\n", ""},
			{"GET", "/tree/x/y", nil, 200, "tree /tree/x/y", ""},
			// (ServeMux redirects with 307 since Go 1.22, so that a POST stays one)
			{"POST", "/tree", nil, 307, "", "Location: /tree/"},
			{"GET", "/tree/a/../b", nil, 307, "", "Location: /tree/b"},
			{"GET", "/items/7", []string{"Host: api.example.com"}, 200, "api item 7", ""},
			{"GET", "/items/7", []string{"Host: api.example.com:80"}, 200, "api item 7", ""},
			{"GET", "/items/7", []string{"Host: other.example.com"}, 200, "item 7", ""},
		} {
			resp, body := do(t, c, tc.method, base+tc.path, tc.fields...)
			name := tc.method + " " + tc.path + " " + strings.Join(tc.fields, " ")
			if resp.StatusCode != tc.status || tc.status != 307 && body != tc.body {
				t.Errorf("%s: %d %q, want %d %q", name, resp.StatusCode, body, tc.status, tc.body)
			}
			if k, v, ok := strings.Cut(tc.header, ": "); ok && resp.Header.Get(k) != v {
				t.Errorf("%s: %s = %q, want %q", name, k, resp.Header.Get(k), v)
			}
		}
	})
}

// fileTree writes the files of the FileServer tests into a new temp dir,
// all modified at mod, and returns the dir and the big file's content.
func fileTree(t *testing.T, mod time.Time) (string, []byte) {
	dir := t.TempDir()
	big := make([]byte, 1<<20)
	for i := range big {
		big[i] = byte(i*7 + i>>11)
	}
	files := map[string][]byte{
		"hello.txt":       []byte("hello, world\n"),
		"big.bin":         big,
		"site/index.html": []byte("<html><body>the index</body></html>\n"),
		"list/a.txt":      []byte("a\n"),
		"list/b.txt":      []byte("b\n"),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, mod, mod); err != nil {
			t.Fatal(err)
		}
	}
	return dir, big
}

// multipartRanges parses a multipart/byteranges body into its parts'
// Content-Range and content.
func multipartRanges(t *testing.T, resp *http.Response, body string) [][2]string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/byteranges" {
		t.Errorf("Content-Type %q, want multipart/byteranges", resp.Header.Get("Content-Type"))
		return nil
	}
	mr := multipart.NewReader(strings.NewReader(body), params["boundary"])
	var parts [][2]string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return parts
		}
		if err != nil {
			t.Errorf("multipart body: %v", err)
			return parts
		}
		data, _ := io.ReadAll(p)
		parts = append(parts, [2]string{p.Header.Get("Content-Range"), string(data)})
	}
}

func TestFileServerServesRangesConditionalsListingsAndABigFile(t *testing.T) {
	mod := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	dir, big := fileTree(t, mod)
	files := http.FileServer(http.Dir(dir))
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/hello.txt" {
			w.Header().Set("ETag", `"hello-v1"`)
		}
		files.ServeHTTP(w, r)
	})
	lastMod := mod.Format(http.TimeFormat)
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		c := client(t)
		base := "http://" + addr

		t.Run("a small file", func(t *testing.T) {
			resp, body := do(t, c, "GET", base+"/hello.txt")
			if resp.StatusCode != 200 || body != "hello, world\n" || resp.ContentLength != 13 {
				t.Errorf("got %d %q (Content-Length %d), want 200 with the file", resp.StatusCode, body, resp.ContentLength)
			}
			for k, v := range map[string]string{"Content-Type": "text/plain; charset=utf-8", "Last-Modified": lastMod, "Accept-Ranges": "bytes", "Etag": `"hello-v1"`} {
				if resp.Header.Get(k) != v {
					t.Errorf("%s = %q, want %q", k, resp.Header.Get(k), v)
				}
			}
		})

		t.Run("one range", func(t *testing.T) {
			resp, body := do(t, c, "GET", base+"/hello.txt", "Range: bytes=7-11")
			if resp.StatusCode != 206 || body != "world" || resp.Header.Get("Content-Range") != "bytes 7-11/13" || resp.ContentLength != 5 {
				t.Errorf("got %d %q, Content-Range %q, Content-Length %d; want 206 \"world\" bytes 7-11/13",
					resp.StatusCode, body, resp.Header.Get("Content-Range"), resp.ContentLength)
			}
			resp, body = do(t, c, "GET", base+"/big.bin", "Range: bytes=-100")
			if resp.StatusCode != 206 || body != string(big[len(big)-100:]) {
				t.Errorf("suffix range of the big file: %d, %d bytes, want 206 and its last 100", resp.StatusCode, len(body))
			}
			resp, _ = do(t, c, "GET", base+"/hello.txt", "Range: bytes=100-200")
			if resp.StatusCode != 416 || resp.Header.Get("Content-Range") != "bytes */13" {
				t.Errorf("unsatisfiable range: %d, Content-Range %q, want 416 bytes */13", resp.StatusCode, resp.Header.Get("Content-Range"))
			}
		})

		t.Run("several ranges", func(t *testing.T) {
			// net/http writes the parts from a goroutine of its own through
			// an io.Pipe, which the handler's task copies to the response.
			resp, body := do(t, c, "GET", base+"/big.bin", "Range: bytes=0-9,524288-524297,-10")
			if resp.StatusCode != 206 || resp.ContentLength != int64(len(body)) {
				t.Errorf("got %d with Content-Length %d for %d bytes, want 206 with the body's length", resp.StatusCode, resp.ContentLength, len(body))
			}
			want := [][2]string{
				{"bytes 0-9/1048576", string(big[:10])},
				{"bytes 524288-524297/1048576", string(big[524288:524298])},
				{"bytes 1048566-1048575/1048576", string(big[len(big)-10:])},
			}
			if got := multipartRanges(t, resp, body); !reflect.DeepEqual(got, want) {
				t.Errorf("parts %q, want %q", got, want)
			}
		})

		t.Run("conditionals", func(t *testing.T) {
			for _, field := range []string{"If-Modified-Since: " + lastMod, `If-None-Match: "hello-v1"`, `If-None-Match: W/"x", "hello-v1"`} {
				resp, body := do(t, c, "GET", base+"/hello.txt", field)
				if resp.StatusCode != 304 || body != "" || resp.Header.Get("Content-Length") != "" || resp.Header.Get("Content-Type") != "" {
					t.Errorf("%s: %d %q, Content-Length %q, Content-Type %q; want 304, no body, neither field",
						field, resp.StatusCode, body, resp.Header.Get("Content-Length"), resp.Header.Get("Content-Type"))
				}
				if resp.Header.Get("Etag") != `"hello-v1"` {
					t.Errorf("%s: 304 without the ETag", field)
				}
			}
			if resp, body := do(t, c, "GET", base+"/hello.txt", "If-Modified-Since: "+mod.Add(-time.Hour).Format(http.TimeFormat)); resp.StatusCode != 200 || body != "hello, world\n" {
				t.Errorf("modified since: %d %q, want 200 with the file", resp.StatusCode, body)
			}
			if resp, _ := do(t, c, "GET", base+"/hello.txt", `If-Match: "other"`); resp.StatusCode != 412 {
				t.Errorf("If-Match of another ETag: %d, want 412", resp.StatusCode)
			}
			if resp, body := do(t, c, "GET", base+"/hello.txt", "Range: bytes=0-4", `If-Range: "hello-v1"`); resp.StatusCode != 206 || body != "hello" {
				t.Errorf("If-Range of the ETag: %d %q, want 206 hello", resp.StatusCode, body)
			}
			if resp, body := do(t, c, "GET", base+"/hello.txt", "Range: bytes=0-4", `If-Range: "old"`); resp.StatusCode != 200 || body != "hello, world\n" {
				t.Errorf("If-Range of an old ETag: %d %q, want 200 with the whole file", resp.StatusCode, body)
			}
		})

		t.Run("no stray bytes after 304, HEAD and 206 on a kept-alive connection", func(t *testing.T) {
			got := pipelined(t, addr,
				"GET /hello.txt HTTP/1.1\r\nHost: x\r\nIf-Modified-Since: "+lastMod+"\r\n\r\n",
				"HEAD /big.bin HTTP/1.1\r\nHost: x\r\n\r\n",
				"GET /hello.txt HTTP/1.1\r\nHost: x\r\nRange: bytes=0-4\r\n\r\n",
				"GET /hello.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
			)
			for i, want := range []struct{ prefix, has, suffix string }{
				{"304\n", "Etag: \"hello-v1\"", "\r\n\n"},
				{"200\n", "Content-Length: 1048576\r\n", "\r\n\n"},
				{"206\n", "Content-Range: bytes 0-4/13\r\n", "\r\n\nhello"},
				{"200\n", "Content-Length: 13\r\n", "\r\n\nhello, world\n"},
			} {
				if i >= len(got) {
					break
				}
				if g := got[i]; !strings.HasPrefix(g, want.prefix) || !strings.Contains(g, want.has) || !strings.HasSuffix(g, want.suffix) {
					t.Errorf("response %d: %q, want %q…%q…%q", i, g, want.prefix, want.has, want.suffix)
				}
			}
			if len(got) > 0 && strings.Contains(got[0], "Content-Length") {
				t.Errorf("304 with a Content-Length: %q", got[0])
			}
		})

		t.Run("HEAD of a file", func(t *testing.T) {
			resp, body := do(t, c, "HEAD", base+"/big.bin")
			if resp.StatusCode != 200 || body != "" || resp.ContentLength != 1<<20 || resp.Header.Get("Last-Modified") != lastMod {
				t.Errorf("got %d %d bytes, Content-Length %d, Last-Modified %q; want 200, none, 1 MiB, %q",
					resp.StatusCode, len(body), resp.ContentLength, resp.Header.Get("Last-Modified"), lastMod)
			}
		})

		t.Run("a big file streamed with its length", func(t *testing.T) {
			var reused []bool
			trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
			for range 2 {
				req, _ := http.NewRequestWithContext(httptrace.WithClientTrace(t.Context(), trace), "GET", base+"/big.bin", nil)
				resp, err := c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || resp.ContentLength != 1<<20 || len(resp.TransferEncoding) != 0 || !bytes.Equal(body, big) {
					t.Errorf("got %d, Content-Length %d, Transfer-Encoding %v, %d bytes (equal: %v), %v; want 200 and the file with its length",
						resp.StatusCode, resp.ContentLength, resp.TransferEncoding, len(body), bytes.Equal(body, big), err)
				}
			}
			if len(reused) == 2 && !reused[1] {
				t.Error("the second GET did not reuse the connection")
			}
		})

		t.Run("directories", func(t *testing.T) {
			resp, body := do(t, c, "GET", base+"/list/")
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") ||
				!strings.Contains(body, `<a href="a.txt">a.txt</a>`) || !strings.Contains(body, `<a href="b.txt">b.txt</a>`) {
				t.Errorf("listing: %d %q (%s), want 200 with links to a.txt and b.txt", resp.StatusCode, body, resp.Header.Get("Content-Type"))
			}
			if resp, _ := do(t, c, "GET", base+"/list"); resp.StatusCode != 301 || resp.Header.Get("Location") != "list/" {
				t.Errorf("directory without its slash: %d to %q, want 301 to list/", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, body := do(t, c, "GET", base+"/site/"); resp.StatusCode != 200 || !strings.Contains(body, "the index") {
				t.Errorf("directory with an index.html: %d %q, want 200 with the index", resp.StatusCode, body)
			}
			if resp, _ := do(t, c, "GET", base+"/site/index.html"); resp.StatusCode != 301 || resp.Header.Get("Location") != "./" {
				t.Errorf("/site/index.html: %d to %q, want 301 to ./", resp.StatusCode, resp.Header.Get("Location"))
			}
			if resp, _ := do(t, c, "GET", base+"/missing.txt"); resp.StatusCode != 404 {
				t.Errorf("missing file: %d, want 404", resp.StatusCode)
			}
		})
	})
}

func TestFileServerFSServesAMapFS(t *testing.T) {
	mod := time.Date(2023, 1, 2, 3, 4, 5, 0, time.UTC)
	fsys := fstest.MapFS{
		"index.html":    {Data: []byte("<p>home</p>"), ModTime: mod},
		"docs/a.md":     {Data: []byte("# a\n"), ModTime: mod},
		"docs/b.json":   {Data: []byte(`{"b":1}`), ModTime: mod},
		"data/blob.bin": {Data: bytes.Repeat([]byte{0, 1, 2, 3}, 1024), ModTime: mod},
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", http.StripPrefix("/static", http.FileServerFS(fsys)))
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		c := client(t)
		base := "http://" + addr + "/static"
		if resp, body := do(t, c, "GET", base+"/"); resp.StatusCode != 200 || body != "<p>home</p>" {
			t.Errorf("index: %d %q, want 200 with index.html", resp.StatusCode, body)
		}
		if resp, body := do(t, c, "GET", base+"/docs/b.json"); resp.StatusCode != 200 || body != `{"b":1}` || resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("b.json: %d %q %q, want 200 application/json", resp.StatusCode, body, resp.Header.Get("Content-Type"))
		}
		if resp, body := do(t, c, "GET", base+"/docs/"); resp.StatusCode != 200 || !strings.Contains(body, `href="a.md"`) || !strings.Contains(body, `href="b.json"`) {
			t.Errorf("listing: %d %q, want both files", resp.StatusCode, body)
		}
		if resp, body := do(t, c, "GET", base+"/data/blob.bin", "Range: bytes=4-7,4092-4095"); resp.StatusCode != 206 ||
			!reflect.DeepEqual(multipartRanges(t, resp, body), [][2]string{{"bytes 4-7/4096", "\x00\x01\x02\x03"}, {"bytes 4092-4095/4096", "\x00\x01\x02\x03"}}) {
			t.Errorf("two ranges: %d %q, want 206 with both parts", resp.StatusCode, body)
		}
		if resp, body := do(t, c, "GET", base+"/docs/a.md", "If-Modified-Since: "+mod.Format(http.TimeFormat)); resp.StatusCode != 304 || body != "" {
			t.Errorf("not modified: %d %q, want 304 and no body", resp.StatusCode, body)
		}
		if resp, _ := do(t, c, "POST", base+"/docs/a.md"); resp.StatusCode != 405 || resp.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("POST: %d, Allow %q, want 405 GET, HEAD", resp.StatusCode, resp.Header.Get("Allow"))
		}
	})
}

// Published once: expvar panics on a name published twice, and -count
// reruns the tests in one process.
var expvarHits = expvar.NewInt("httpco_test_hits")

func TestExpvarHandlerServesParsableJSON(t *testing.T) {
	mux := http.NewServeMux()
	mux.Handle("/debug/vars", expvar.Handler())
	mux.HandleFunc("/hit", func(w http.ResponseWriter, r *http.Request) { expvarHits.Add(1) })
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		c := client(t)
		before := expvarHits.Value()
		for range 3 {
			do(t, c, "GET", "http://"+addr+"/hit")
		}
		resp, body := do(t, c, "GET", "http://"+addr+"/debug/vars")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
			t.Errorf("got %d %q, want 200 JSON", resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		if len(body) <= 2048 || len(resp.TransferEncoding) == 0 {
			t.Errorf("%d bytes, Transfer-Encoding %v: want a body past 2 KiB, chunked", len(body), resp.TransferEncoding)
		}
		var vars struct {
			Cmdline  []string       `json:"cmdline"`
			Memstats map[string]any `json:"memstats"`
			Hits     int64          `json:"httpco_test_hits"`
		}
		if err := json.Unmarshal([]byte(body), &vars); err != nil {
			t.Fatalf("the body does not parse: %v", err)
		}
		if len(vars.Cmdline) == 0 || vars.Cmdline[0] != os.Args[0] || vars.Memstats["HeapAlloc"] == nil || vars.Hits != before+3 {
			t.Errorf("cmdline %q, HeapAlloc %v, hits %d; want os.Args, a HeapAlloc, %d", vars.Cmdline, vars.Memstats["HeapAlloc"], vars.Hits, before+3)
		}
	})
}

// pprof's CPU profile and execution trace (profile?seconds=N,
// trace?seconds=N) are left out: they wait in time.After on the handler's
// goroutine, which is the loop's, so the loop would serve nothing for N
// seconds.
func TestPprofHandlersServeProfiles(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	serve(t, &httpco.Server{Handler: mux}, func(addr string) {
		c := client(t)
		base := "http://" + addr + "/debug/pprof/"

		resp, body := do(t, c, "GET", base)
		if resp.StatusCode != 200 || !strings.Contains(body, `href='goroutine?debug=1'`) || !strings.Contains(body, `href='heap?debug=1'`) {
			t.Errorf("index: %d %.200q, want 200 with the profiles", resp.StatusCode, body)
		}

		resp, body = do(t, c, "GET", base+"cmdline")
		if resp.StatusCode != 200 || body != strings.Join(os.Args, "\x00") {
			t.Errorf("cmdline: %d %q, want os.Args NUL-separated", resp.StatusCode, body)
		}

		resp, body = do(t, c, "GET", base+"symbol")
		if resp.StatusCode != 200 || body != "num_symbols: 1\n" {
			t.Errorf("symbol GET: %d %q, want num_symbols: 1", resp.StatusCode, body)
		}
		pc := reflect.ValueOf((*httpco.Server).Close).Pointer()
		if resp, err := c.Post(base+"symbol", "text/plain", strings.NewReader(fmt.Sprintf("%#x", pc))); err != nil {
			t.Errorf("symbol POST: %v", err)
		} else {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if want := fmt.Sprintf("%#x github.com/evergo/evergo/httpco.(*Server).Close", pc); !strings.Contains(string(b), want) {
				t.Errorf("symbol POST: %q, want a line %q", b, want)
			}
		}

		resp, body = do(t, c, "GET", base+"goroutine?debug=1")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "goroutine profile: total ") || !strings.Contains(body, "httpco.(*conn).serve") {
			t.Errorf("goroutine?debug=1: %d %.200q, want the text profile with the handler's own stack", resp.StatusCode, body)
		}

		resp, body = do(t, c, "GET", base+"heap")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/octet-stream" ||
			resp.Header.Get("Content-Disposition") != `attachment; filename="heap"` {
			t.Errorf("heap: %d, Content-Type %q, Content-Disposition %q; want 200 and the profile as an attachment",
				resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Content-Disposition"))
		}
		if zr, err := gzip.NewReader(strings.NewReader(body)); err != nil {
			t.Errorf("heap: not gzip: %v", err)
		} else if proto, err := io.ReadAll(zr); err != nil || len(proto) == 0 {
			t.Errorf("heap: gunzipping: %d bytes, %v", len(proto), err)
		}

		resp, body = do(t, c, "GET", base+"heap?debug=1")
		if resp.StatusCode != 200 || !strings.HasPrefix(body, "heap profile: ") {
			t.Errorf("heap?debug=1: %d %.100q, want the text profile", resp.StatusCode, body)
		}

		resp, body = do(t, c, "GET", base+"nosuch")
		if resp.StatusCode != 404 || !strings.Contains(body, "Unknown profile") {
			t.Errorf("unknown profile: %d %q, want 404", resp.StatusCode, body)
		}
	})
}

// A handler's own goroutines (FileServer's multi-range writer) must not
// outlive a client that goes away in the middle of a response.
func TestFileServerMultiRangeWithAClientThatLeaves(t *testing.T) {
	dir, _ := fileTree(t, time.Now())
	serve(t, &httpco.Server{Handler: http.FileServer(http.Dir(dir))}, func(addr string) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, "GET /big.bin HTTP/1.1\r\nHost: x\r\nRange: bytes=0-499999,500000-1048575\r\n\r\n")
		br := bufio.NewReader(c)
		line, _ := br.ReadString('\n')
		if line != "HTTP/1.1 206 Partial Content\r\n" {
			t.Errorf("status line %q, want 206", line)
		}
		c.Close()
	})
}

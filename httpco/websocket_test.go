package httpco_test

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/evergo/evergo/httpco"
)

// echoServer upgrades /ws with gorilla's Upgrader (through httpco's
// http.Hijacker) and echoes every message back with its type until the
// client closes; the error that ended each connection is sent on ended.
func echoServer(t *testing.T, ended chan<- error) http.Handler {
	upgrader := websocket.Upgrader{Subprotocols: []string{"echo"}}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /ws", func(w http.ResponseWriter, r *http.Request) {
		ws, err := upgrader.Upgrade(w, r, http.Header{"X-Served-By": {"httpco"}})
		if err != nil {
			return // Upgrade has answered with an error status
		}
		defer ws.Close()
		for {
			typ, msg, err := ws.ReadMessage()
			if err != nil {
				ended <- err
				return
			}
			if err := ws.WriteMessage(typ, msg); err != nil {
				ended <- fmt.Errorf("writing the echo: %w", err)
				return
			}
		}
	})
	mux.HandleFunc("GET /plain", func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("plain")) })
	return mux
}

func dial(t *testing.T, addr string) *websocket.Conn {
	t.Helper()
	d := websocket.Dialer{Subprotocols: []string{"echo"}}
	ws, resp, err := d.Dial("ws://"+addr+"/ws", nil)
	if err != nil {
		t.Fatalf("Dial: %v (response %v)", err, resp)
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || ws.Subprotocol() != "echo" || resp.Header.Get("X-Served-By") != "httpco" {
		t.Errorf("handshake: %d, subprotocol %q, X-Served-By %q; want 101, echo, httpco",
			resp.StatusCode, ws.Subprotocol(), resp.Header.Get("X-Served-By"))
	}
	return ws
}

func echo(t *testing.T, ws *websocket.Conn, typ int, msg []byte) {
	t.Helper()
	if err := ws.WriteMessage(typ, msg); err != nil {
		t.Fatalf("WriteMessage: %v", err)
	}
	gotType, got, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("ReadMessage: %v", err)
	}
	if gotType != typ || !bytes.Equal(got, msg) {
		t.Errorf("echo: type %d, %.40q (%d bytes); want type %d, %.40q (%d bytes)", gotType, got, len(got), typ, msg, len(msg))
	}
}

// closeCleanly sends a close frame and reads the server's answering one.
func closeCleanly(t *testing.T, ws *websocket.Conn) {
	t.Helper()
	if err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, "bye")); err != nil {
		t.Errorf("writing the close frame: %v", err)
	}
	if _, _, err := ws.ReadMessage(); !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
		t.Errorf("after the close frame: %v, want the server's close frame (1000)", err)
	}
	ws.Close()
}

func TestWebSocketEchoThroughGorillaUpgrader(t *testing.T) {
	ended := make(chan error, 1)
	serve(t, &httpco.Server{Handler: echoServer(t, ended)}, func(addr string) {
		ws := dial(t, addr)
		defer ws.Close()
		echo(t, ws, websocket.TextMessage, []byte("hello"))
		echo(t, ws, websocket.BinaryMessage, []byte{0, 1, 2, 0xff, 0xfe})
		echo(t, ws, websocket.TextMessage, []byte("héllo, wörld"))
		echo(t, ws, websocket.BinaryMessage, nil)
		// past the 4 KiB buffers on both sides, and sent in frames
		big := bytes.Repeat([]byte("0123456789abcdef"), 8<<10)
		echo(t, ws, websocket.BinaryMessage, big)
		// a message of many frames: the writer sends a frame each time its
		// buffer (here 4 KiB) fills, the first one and then continuations
		w, err := ws.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		var sent strings.Builder
		for i := range 2000 {
			fmt.Fprintf(io.MultiWriter(w, &sent), "part %d;", i)
		}
		w.Close()
		if typ, got, err := ws.ReadMessage(); err != nil || typ != websocket.TextMessage || string(got) != sent.String() {
			t.Errorf("fragmented message echoed as %d, %d bytes (%v), want text of %d bytes", typ, len(got), err, sent.Len())
		}
		pong := make(chan string, 1)
		ws.SetPongHandler(func(data string) error { pong <- data; return nil })
		if err := ws.WriteControl(websocket.PingMessage, []byte("ping?"), time.Time{}); err != nil {
			t.Fatal(err)
		}
		echo(t, ws, websocket.TextMessage, []byte("after the ping")) // ReadMessage runs the pong handler on the way
		select {
		case data := <-pong:
			if data != "ping?" {
				t.Errorf("pong %q, want ping?", data)
			}
		default:
			t.Error("no pong before the next echo")
		}
		closeCleanly(t, ws)
		if err := <-ended; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
			t.Errorf("the server's ReadMessage ended with %v, want a 1000 close", err)
		} else if ce := (*websocket.CloseError)(nil); errors.As(err, &ce) && ce.Text != "bye" {
			t.Errorf("close text %q, want bye", ce.Text)
		}
		// the server goes on serving plain HTTP
		if _, body := get(t, "http://"+addr+"/plain"); body != "plain" {
			t.Errorf("after the WebSocket: %q, want plain", body)
		}
	})
}

// Two WebSockets at once: while one handler is parked in ReadMessage,
// the loop echoes on the other.
func TestWebSocketsInterleaveOnTheLoop(t *testing.T) {
	ended := make(chan error, 2)
	serve(t, &httpco.Server{Handler: echoServer(t, ended)}, func(addr string) {
		a := dial(t, addr)
		defer a.Close()
		b := dial(t, addr)
		defer b.Close()
		echo(t, b, websocket.TextMessage, []byte("b1"))
		echo(t, a, websocket.TextMessage, []byte("a1"))
		echo(t, b, websocket.BinaryMessage, []byte("b2"))
		closeCleanly(t, a)
		echo(t, b, websocket.TextMessage, []byte("b3 after a closed"))
		closeCleanly(t, b)
		for range 2 {
			if err := <-ended; !websocket.IsCloseError(err, websocket.CloseNormalClosure) {
				t.Errorf("a server side ended with %v, want a 1000 close", err)
			}
		}
	})
}

// A request that is not a WebSocket handshake gets Upgrader's 400, and the
// connection stays usable.
func TestWebSocketUpgradeRefusesAPlainRequest(t *testing.T) {
	serve(t, &httpco.Server{Handler: echoServer(t, nil)}, func(addr string) {
		got := pipelined(t, addr,
			"GET /ws HTTP/1.1\r\nHost: x\r\n\r\n",
			"GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 8\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n",
			"GET /plain HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
		)
		for i, want := range []string{"400\n", "400\n", "200\n"} {
			if i < len(got) && !strings.HasPrefix(got[i], want) {
				t.Errorf("response %d: %q, want status %s", i, got[i], want)
			}
		}
		if len(got) > 1 && !strings.Contains(got[1], "Sec-Websocket-Version: 13\r\n") {
			t.Errorf("wrong version refused without naming 13: %q", got[1])
		}
	})
}

// After Hijack the connection is the handler's: net/http's ResponseWriter
// then refuses Write and Flush with http.ErrHijacked and writes nothing,
// so a handler that errs cannot put a response onto a WebSocket.
func TestResponseWriterRefusesWritesAfterHijack(t *testing.T) {
	var writeErr, flushErr error
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, _, err := http.NewResponseController(w).Hijack()
		if err != nil {
			t.Errorf("Hijack: %v", err)
			return
		}
		defer c.Close()
		io.WriteString(c, "mine")
		w.WriteHeader(http.StatusTeapot)
		_, writeErr = w.Write(bytes.Repeat([]byte("z"), 3000)) // past the 2 KiB kept before the header goes out
		flushErr = http.NewResponseController(w).Flush()
	})
	serve(t, &httpco.Server{Handler: handler}, func(addr string) {
		if back := raw(t, addr, "GET / HTTP/1.1\r\nHost: x\r\n\r\n"); back != "mine" {
			t.Errorf("the client got %.80q, want only what the handler wrote on the hijacked conn", back)
		}
	})
	if !errors.Is(writeErr, http.ErrHijacked) || !errors.Is(flushErr, http.ErrHijacked) {
		t.Errorf("Write after Hijack: %v, Flush: %v; want http.ErrHijacked for both", writeErr, flushErr)
	}
}

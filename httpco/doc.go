// Package httpco serves HTTP/1.1 on evergo's loop: any unmodified
// http.Handler, each connection (and so each of its requests, one after
// another) in a task of the loop, so that a handler which sleeps, takes a
// lock, waits on a queue or reads a socket through ioco parks only itself
// while the loop serves the others.
//
//	srv := &httpco.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
//	ln, _ := ioco.Listen(ctx, "tcp", ":8080")
//	err := srv.Serve(ctx, ln) // in a task of the loop; http.ErrServerClosed after Shutdown or Close
//
// Server has net/http.Server's shape and fields, and its requests and
// responses are net/http's own: requests are parsed by http.ReadRequest,
// chunked bodies written by net/http/httputil, header fields checked by
// golang.org/x/net/http/httpguts. net/http's Server itself cannot be used:
// it starts a goroutine per connection, and a loop's conns belong to the
// loop's tasks.
//
// # What holds of net/http's Server contract
//
// Keep-alive, with pipelined requests answered in order (a connection's
// requests are served one after the other by its task); request bodies
// with Content-Length or chunked, drained (up to 256 KiB) after a handler
// that did not read them so that the connection can be reused; responses
// with a Content-Length when the handler wrote at most 2 KiB before
// returning and did not set one, chunked otherwise (read until close for
// HTTP/1.0); Content-Type sniffed and Date set as net/http does; HEAD
// answered without a body; Expect: 100-continue answered when the handler
// first reads the body (other expectations get 417); "Connection: close"
// from the client or the handler's header, and HTTP/1.0 without
// "Connection: keep-alive", close the connection after the response; a
// ResponseWriter used after its handler returned (by a task the handler
// started) returns ErrHandlerReturned; http.Flusher;
// SetReadDeadline and SetWriteDeadline for http.NewResponseController.
// Timeouts: ReadHeaderTimeout (else ReadTimeout) bounds reading a
// request's header, ReadTimeout its whole reading, WriteTimeout the
// writing of its response, IdleTimeout (else ReadTimeout) the wait for the
// next request. Bad requests get net/http's statuses: 400 for malformed
// ones (a bad request line or header field, a missing or malformed Host),
// 431 for a header over MaxHeaderBytes, 501 for an unknown
// Transfer-Encoding, 505 for an HTTP version other than 1.x, 408 for a
// header not read in time, and the connection is closed after each. A
// handler's panic is logged with its stack through ErrorLog (except
// http.ErrAbortHandler) and closes its connection; the server goes on.
//
// http.Hijacker: the handler owns the connection from then on (Write,
// WriteHeader and Flush return http.ErrHijacked), and its task waits until
// the connection is closed, so that Shutdown waits for hijacked
// connections (a WebSocket, say) until its ctx ends and then kills their
// tasks, where net/http's leaves them alone. A request's context carries
// http.LocalAddrContextKey; http.ServerContextKey would need an
// *http.Server, and is not set. A request's context is
// cancelled when its handler returns, when Close closes its connection,
// when the client goes away (the poller reports the connection's hang-up:
// the client closed it, or shut its writing side, as net/http's background
// read would see it), and when a Shutdown whose ctx ended kills its task.
// Contexts derived from it (context.WithCancel, WithTimeout, AfterFunc)
// follow it without a goroutine each, as they follow a task's context.
// ServeTLS serves TLS, each handshake in its connection's task.
//
// Not (yet) held: HTTP/2 is out of scope (ServeTLS offers only
// "http/1.1"); handlers that wait on a Go timer on their own goroutine (the
// CPU profile and trace of net/http/pprof: profile?seconds=N) hold the
// loop for as long; a second Host field is not refused (http.ReadRequest drops it
// unseen); there is no RegisterOnShutdown, ConnState or ConnContext.
//
// # The client side
//
// Transport is an http.RoundTripper for tasks: an *http.Client whose
// Transport it is can be called from any task of the loop, with a request
// whose context carries that task, and the call parks only the task.
// Requests are written by net/http (Request.Write) and responses read by
// it (http.ReadResponse). Connections are kept alive per scheme and
// host:port (MaxIdleConns, MaxIdleConnsPerHost, IdleConnTimeout on the
// loop's clock), and MaxConnsPerHost parks the requests beyond it, first
// come first served. An idle connection the server closed, or sent
// anything on unasked, is not reused, as far as the loop has polled since
// (what comes in the same round of the loop as the next request is seen
// only by that request: the window net/http's read loop leaves too); an
// idempotent request that fails on
// a reused connection before any of its response came is sent again on a
// new one (GET, HEAD, OPTIONS, TRACE, or an Idempotency-Key header, with
// a body GetBody can give again). A response's body gives its connection
// back once read to its end; closed earlier, it closes it. The Transport
// asks for gzip and decodes it unless DisableCompression or the request
// set Accept-Encoding itself; informational (1xx) responses are skipped,
// as many as come, their headers counted with the final one's against
// MaxResponseHeaderBytes (each has its own bound when a ClientTrace's
// Got1xxResponse hears of it), as in net/http; a
// 101 response's Body is the connection, an io.ReadWriteCloser. https goes
// over crypto/tls with ALPN "http/1.1". The request's context ends a
// request at any point, from any goroutine: Client.Timeout works. Its
// deadline is also the connection's while the request runs, its body
// included (scheduler.LoopDeadline: on a virtual clock only a deadline
// made by scheduler.WithDeadline, as a wall-clock one is no time of the
// loop's): a context's end reaches a task only when it parks, and a task
// reading a response whose bytes keep coming never does, where a read
// made after the conn's deadline fails at once. Such a request fails with
// the context's cause (context.Cause) once the context is done, and with
// the conn's timeout (an error wrapping os.ErrDeadlineExceeded) if the
// deadline met a read, or passed before the request was sent, first. A
// request whose deadline passed before it was sent leaves its connection
// as it was.
// ResponseHeaderTimeout and MaxResponseHeaderBytes bound the wait for a
// header and its size.
//
// Proxy (from the environment in NewTransport, through
// golang.org/x/net/http/httpproxy) sends plain requests to an http or
// https proxy in absolute form and https ones through a CONNECT tunnel,
// with the proxy URL's credentials as Proxy-Authorization.
//
// A request with a body and "Expect: 100-continue" sends its header, and
// its body once the server says "100 Continue" or ExpectContinueTimeout
// passes; a final response that comes first is the request's, and the
// body is not sent.
//
// Names are resolved by ioco.Dial, with the loop's ioco.Resolver. A
// request body of unknown length is looked into in the calling task (a
// GET whose body turns out empty goes without one), where net/http's
// Request.Write would read its first byte on a goroutine of its own. Idle
// connections are bounded per host and in all (the one idle longest is
// closed first), and a host with no connection left is forgotten.
//
// A request's httptrace.ClientTrace hears of GetConn, GotConn,
// TLSHandshakeStart and Done, WroteHeaders, WroteRequest,
// GotFirstResponseByte, Got1xxResponse, Wait100Continue and
// Got100Continue, as from net/http's Transport (a conformance test
// compares the two); not of the DNS and Connect hooks, nor PutIdleConn.
//
// Not (yet) held: SOCKS proxies; HTTP/2.
//
// # Calling context
//
// A Server belongs to the loop of its first Serve. Serve and Shutdown may
// park the calling task; Close never parks. Call them on the loop; from
// another goroutine, through scheduler.Loop.Post.
package httpco

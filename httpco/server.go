package httpco

import (
	"context"
	"crypto/tls"
	"errors"
	"log"
	"net"
	"net/http"
	"time"

	"github.com/evergo/evergo/ioco"
)

// ErrHandlerReturned is returned by a ResponseWriter's Write and Flush,
// and by Hijack, called once its handler has returned (by a task the
// handler started, for instance): the response is complete, and what
// follows on the connection is another's.
var ErrHandlerReturned = errors.New("httpco: the handler has returned")

// A Server serves HTTP/1.1 on a loop, in net/http.Server's shape: see the
// package documentation for what holds of net/http's contract. The zero
// value serves http.DefaultServeMux with no timeouts and net/http's header
// limit. A Server must not be copied after first use.
type Server struct {
	// Handler serves the requests; nil means http.DefaultServeMux.
	Handler http.Handler

	// ReadHeaderTimeout bounds the reading of a request's header, from its
	// first byte; zero means ReadTimeout's, and both zero, no bound.
	ReadHeaderTimeout time.Duration
	// ReadTimeout bounds the reading of a whole request, body included.
	ReadTimeout time.Duration
	// WriteTimeout bounds the writing of a response, from the end of its
	// request's header.
	WriteTimeout time.Duration
	// IdleTimeout bounds the wait for the next request on a kept-alive
	// connection; zero means ReadTimeout's.
	IdleTimeout time.Duration
	// MaxHeaderBytes bounds a request's header, request line included;
	// zero means http.DefaultMaxHeaderBytes (1 MiB).
	MaxHeaderBytes int
	// MaxConns bounds the connections served at once; at the bound,
	// accepting pauses (see ioco.Server). Zero means no bound.
	MaxConns int
	// ErrorLog receives handler panics and accept errors; nil means
	// package log's standard logger, as net/http's. For log/slog, pass
	// slog.NewLogLogger(handler, slog.LevelError).
	ErrorLog *log.Logger
	// TLSConfig is ServeTLS's configuration (cloned); nil means a zero
	// one. Its NextProtos is set to "http/1.1".
	TLSConfig *tls.Config

	srv        ioco.Server
	conns      map[*conn]struct{} // on the loop: the connections being served
	inShutdown bool
	dateSec    int64  // the second dateText is for
	dateText   string // the Date header of that second
}

// date returns the Date header's value for now, formatted once a second.
func (s *Server) date() string {
	now := time.Now()
	if sec := now.Unix(); sec != s.dateSec || s.dateText == "" {
		s.dateSec, s.dateText = sec, now.UTC().Format(http.TimeFormat)
	}
	return s.dateText
}

// Serve accepts connections on ln, a listener of ioco on the loop that ctx
// carries, and serves each in a task of its own. It returns
// http.ErrServerClosed after Shutdown or Close, and otherwise the error
// that ended it (a listener's non-temporary error, ctx's end). May park
// the calling task.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	if s.conns == nil {
		s.conns = make(map[*conn]struct{})
		s.srv.MaxConns = s.MaxConns
		s.srv.ErrorLog = s.ErrorLog
		s.srv.Handler = s.serveConn
	}
	err := s.srv.Serve(ctx, ln)
	if errors.Is(err, ioco.ErrServerClosed) {
		return http.ErrServerClosed
	}
	return err
}

// ServeTLS is Serve for TLS connections on ln: each makes its handshake
// in its own task, under the header read's deadline. certFile and keyFile
// hold the certificate and its key (PEM), or are both empty when
// TLSConfig has the certificate (Certificates or GetCertificate). HTTP/2
// is not offered (ALPN "http/1.1" only). May park the calling task.
func (s *Server) ServeTLS(ctx context.Context, ln net.Listener, certFile, keyFile string) error {
	config := &tls.Config{}
	if s.TLSConfig != nil {
		config = s.TLSConfig.Clone()
	}
	config.NextProtos = []string{"http/1.1"}
	if certFile != "" || keyFile != "" || len(config.Certificates) == 0 && config.GetCertificate == nil {
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return err
		}
		config.Certificates = append(config.Certificates, cert)
	}
	return s.Serve(ctx, tls.NewListener(ln, config))
}

// Shutdown stops the server gracefully, as net/http's does: it stops
// accepting, closes the kept-alive connections that wait for their next
// request, serves the first request of each new connection (bounded by
// ReadHeaderTimeout), lets each request being served end and then closes
// its connection, and returns once every connection is closed. If ctx ends first, the connections'
// tasks still running are killed (their deferred calls run) and Shutdown
// returns ctx's error. May park the calling task.
func (s *Server) Shutdown(ctx context.Context) error {
	s.inShutdown = true
	for c := range s.conns {
		if c.idle {
			c.c.Close() // its task, parked waiting for a request, ends
		}
	}
	return s.srv.Shutdown(ctx)
}

// Close closes the listeners and every connection now, as net/http's
// does: handlers still running see their connections closed and their
// requests' contexts cancelled. Never parks.
func (s *Server) Close() error {
	s.inShutdown = true
	for c := range s.conns {
		if c.rctx != nil {
			c.rctx.cancel() // the request's context: its connection is gone
		}
		if c.hj != nil {
			c.hj.Close() // and its task, which waits for that, ends
		}
	}
	return s.srv.Close()
}

func (s *Server) handler() http.Handler {
	if s.Handler != nil {
		return s.Handler
	}
	return http.DefaultServeMux
}

func (s *Server) maxHeaderBytes() int64 {
	if s.MaxHeaderBytes > 0 {
		return int64(s.MaxHeaderBytes)
	}
	return http.DefaultMaxHeaderBytes
}

func (s *Server) logf(format string, args ...any) {
	if s.ErrorLog != nil {
		s.ErrorLog.Printf(format, args...)
	} else {
		log.Printf(format, args...)
	}
}

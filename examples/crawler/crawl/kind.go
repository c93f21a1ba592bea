package crawl

import (
	"compress/flate"
	"compress/gzip"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"os"
	"syscall"

	"github.com/evergo/evergo/scheduler"
)

// Kind names the kind of a fetch error, for the summary's count of errors
// by kind: "timeout", "dns", "connection refused", "connection reset",
// "connection closed" (the server hung up before the response ended),
// "tls", "connect" (another failure to connect: no route to the host, no
// descriptor left), "redirect loop", "too many redirects", "header too
// large" (ErrHeaderTooLarge), "bad body"
// (gzip that does not decode), "cancelled", and "bad response" for the
// rest, mostly HTTP that net/http cannot read. A page with a status of 400
// or more has the kind "http" and the code, as in "http 404". Never parks.
func Kind(err error) string {
	var dnsErr *net.DNSError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var verify *tls.CertificateVerificationError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var corrupt flate.CorruptInputError
	var nerr net.Error
	var opErr *net.OpError
	switch {
	case errors.Is(err, ErrRedirectLoop):
		return "redirect loop"
	case errors.Is(err, ErrTooManyRedirects):
		return "too many redirects"
	case errors.Is(err, ErrHeaderTooLarge):
		return "header too large"
	case errors.Is(err, context.Canceled), errors.Is(err, scheduler.ErrKilled):
		return "cancelled"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded),
		errors.As(err, &nerr) && nerr.Timeout():
		return "timeout"
	case errors.As(err, &dnsErr):
		return "dns"
	case errors.Is(err, syscall.ECONNREFUSED):
		return "connection refused"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.As(err, &recErr), errors.As(err, &alert), errors.As(err, &verify),
		errors.As(err, &unknownCA), errors.As(err, &hostErr), errors.As(err, &invalid):
		return "tls"
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return "connect"
	case errors.Is(err, gzip.ErrHeader), errors.Is(err, gzip.ErrChecksum), errors.As(err, &corrupt):
		return "bad body"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed"
	}
	return "bad response"
}

package ioco_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"testing"
	"time"

	"github.com/evergo/evergo/ioco"
	"github.com/evergo/evergo/scheduler"
)

// selfSigned returns a server certificate for 127.0.0.1 and localhost,
// and a pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "evergo test"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:              []string{"localhost"},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

func TestTLSHandshakeAndEchoOverLoopConns(t *testing.T) { // CONFORMANCE
	cert, pool := selfSigned(t)
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.ListenTLS(ctx, "tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			return err
		}
		defer ln.Close()
		server, _ := scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return err
			}
			defer c.Close()
			buf := make([]byte, 64)
			n, err := c.Read(buf) // the handshake happens here
			if err != nil {
				return err
			}
			_, err = c.Write(append([]byte("tls: "), buf[:n]...))
			return err
		})
		c, err := ioco.DialTLS(ctx, "tcp", ln.Addr().String(), &tls.Config{RootCAs: pool})
		if err != nil {
			return err
		}
		defer c.Close()
		if st := c.ConnectionState(); !st.HandshakeComplete || len(st.PeerCertificates) == 0 ||
			!st.PeerCertificates[0].Equal(cert.Leaf) {
			t.Errorf("handshake state: complete %v, %d peer certificates", st.HandshakeComplete, len(st.PeerCertificates))
		}
		if _, err := c.Write([]byte("hello")); err != nil {
			return err
		}
		buf := make([]byte, 64)
		n, err := io.ReadAtLeast(c, buf, len("tls: hello"))
		if err != nil {
			return err
		}
		if got := string(buf[:n]); got != "tls: hello" {
			t.Errorf("echo = %q, want %q", got, "tls: hello")
		}
		return server.Join(ctx)
	})
}

func TestTLSDialToAnUntrustedServerFailsTheHandshake(t *testing.T) {
	cert, _ := selfSigned(t)
	runLoop(t, func(ctx context.Context) error {
		ln, err := ioco.ListenTLS(ctx, "tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
		if err != nil {
			return err
		}
		defer ln.Close()
		scheduler.Spawn(ctx, "server", func(ctx context.Context) error {
			c, err := ln.Accept()
			if err != nil {
				return nil
			}
			defer c.Close()
			c.Read(make([]byte, 1)) // the handshake, which the client refuses
			return nil
		})
		_, err = ioco.DialTLS(ctx, "tcp", ln.Addr().String(), &tls.Config{})
		var unknown x509.UnknownAuthorityError
		var cv *tls.CertificateVerificationError
		if err == nil || !(errors.As(err, &unknown) || errors.As(err, &cv)) {
			t.Errorf("DialTLS to a server signed by nobody trusted = %v, want a verification error", err)
		}
		return nil
	})
}

package db_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// fakeServer answers a PostgreSQL client's TLS request as tlsAnswer says
// ('N': no TLS here; 'S': TLS with cert; 0: nothing, ever) and then closes:
// enough to see what Open says about the TLS half of a connection, or a
// server that never answers, with no server set up for it.
func fakeServer(t *testing.T, tlsAnswer byte, cert *tls.Certificate) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				req := make([]byte, 8) // length and the SSLRequest code
				if _, err := io.ReadFull(c, req); err != nil || tlsAnswer == 0 {
					io.Copy(io.Discard, c) // until the client gives up
					return
				}
				c.Write([]byte{tlsAnswer})
				if tlsAnswer == 'S' {
					s := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{*cert}})
					s.Handshake()
					s.Close()
				}
			}()
		}
	}()
	return ln.Addr().String()
}

// testCA makes a certificate authority, writes it to dir/ca.pem, and signs
// a server certificate for db.example.com with it.
func testCA(t *testing.T, dir string) (caFile string, server tls.Certificate) {
	t.Helper()
	caKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ca := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	leaf := &x509.Certificate{SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "db.example.com"},
		DNSNames: []string{"db.example.com"}, NotBefore: ca.NotBefore, NotAfter: ca.NotAfter,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, KeyUsage: x509.KeyUsageDigitalSignature}
	leafDER, err := x509.CreateCertificate(rand.Reader, leaf, ca, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caFile = filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	return caFile, tls.Certificate{Certificate: [][]byte{leafDER}, PrivateKey: key}
}

// TestPostgresOpenUnreachable: with sslmode=verify-full, a server without
// TLS and a certificate that does not verify each get a sentence that says
// so, as an unreachable store, at once, without the address's password; so
// do a port nothing listens on and, within connect_timeout, a server that
// never answers.
func TestPostgresOpenUnreachable(t *testing.T) {
	dir := t.TempDir()
	caFile, cert := testCA(t, dir)
	noTLS := fakeServer(t, 'N', nil)
	withTLS := fakeServer(t, 'S', &cert)
	silent := fakeServer(t, 0, nil)
	closed := func() string { // a port nothing listens on
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		defer ln.Close()
		return ln.Addr().String()
	}()
	const password = "pw-Zq81x"
	for _, c := range []struct {
		name, location, want string
		unreachable          bool
	}{
		{"server without TLS", "postgres://smartmfa:" + password + "@" + noTLS + "/smartmfa?sslmode=verify-full",
			"does not offer TLS", true},
		{"certificate of an unknown authority", "postgres://smartmfa:" + password + "@" + withTLS + "/smartmfa?sslmode=verify-full",
			"certificate does not verify", true},
		{"certificate for another host", "postgres://smartmfa:" + password + "@" + withTLS + "/smartmfa?sslmode=verify-full&sslrootcert=" + caFile,
			"certificate does not verify", true},
		{"certificate of an unknown authority, verify-ca", "postgres://smartmfa:" + password + "@" + withTLS + "/smartmfa?sslmode=verify-ca",
			"certificate does not verify", true},
		{"missing sslrootcert", "postgres://smartmfa:" + password + "@" + withTLS + "/smartmfa?sslmode=verify-full&sslrootcert=" + filepath.Join(dir, "nothing.pem"),
			"nothing.pem", false},
		{"nothing listening", "postgres://smartmfa:" + password + "@" + closed + "/smartmfa?sslmode=verify-full",
			"the store cannot be reached; try again", true},
		{"no answer within connect_timeout", "postgres://smartmfa:" + password + "@" + silent + "/smartmfa?sslmode=disable&connect_timeout=1",
			"the store cannot be reached; try again", true},
	} {
		t.Run(c.name, func(t *testing.T) {
			start := time.Now()
			d, err := db.Open(context.Background(), c.location)
			took := time.Since(start)
			if err == nil {
				d.Close()
				t.Fatal("Open succeeded")
			}
			msg := err.Error()
			t.Logf("%v: %s", took.Round(time.Millisecond), msg)
			if !strings.Contains(msg, c.want) {
				t.Errorf("Open: %q, want it to say %q", msg, c.want)
			}
			if strings.Contains(msg, password) || strings.Contains(msg, "\n") {
				t.Errorf("Open: %q holds the password or more than one line", msg)
			}
			if got := errors.Is(err, db.ErrUnreachable); got != c.unreachable {
				t.Errorf("errors.Is(%q, ErrUnreachable) = %v, want %v", msg, got, c.unreachable)
			}
			if took > 3*time.Second {
				t.Errorf("Open took %v to fail", took)
			}
		})
	}
}

package dbtest

import (
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
)

// Proxy stands between smartmfa and the PostgreSQL server libpq's PG*
// variables name: a TCP listener (127.0.0.1, or NewProxyOn's address) that
// forwards each connection, and that a test can cut and restore, so that
// "the store went away" is a real connection failing rather than an error
// made up in Go.
type Proxy struct {
	t      testing.TB
	addr   string // host:port, kept across Cut and Restore
	target func() (net.Conn, error)

	mu      sync.Mutex
	ln      net.Listener // nil while cut
	stalled bool         // accept, and never answer
	conns   map[net.Conn]struct{}
}

// NewProxy starts a proxy to the server of the PG* variables; it is
// closed when the test ends. Call it after RequirePostgres.
func NewProxy(t testing.TB) *Proxy {
	t.Helper()
	return NewProxyOn(t, "127.0.0.1:0")
}

// NewProxyOn is NewProxy listening on addr (host:port, port 0 for any):
// an address of a network a test can take down, such as a veth's.
func NewProxyOn(t testing.TB, addr string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatalf("dbtest: proxy: %v", err)
	}
	network, address := serverAddress()
	p := &Proxy{t: t, addr: ln.Addr().String(), conns: map[net.Conn]struct{}{},
		target: func() (net.Conn, error) { return net.Dial(network, address) }}
	p.serve(ln)
	t.Cleanup(p.Cut)
	return p
}

// serverAddress is where libpq would connect: a Unix socket in PGHOST's
// directory (the Debian default), or PGHOST's host over TCP (pg_virtualenv).
func serverAddress() (network, address string) {
	host, _, _ := strings.Cut(os.Getenv("PGHOST"), ",")
	port := os.Getenv("PGPORT")
	if port == "" {
		port = "5432"
	}
	if host == "" || strings.HasPrefix(host, "/") {
		if host == "" {
			host = "/var/run/postgresql"
		}
		return "unix", host + "/.s.PGSQL." + port
	}
	return "tcp", net.JoinHostPort(host, port)
}

// Location turns a location of Schema into one that reaches the same
// database and schema through the proxy. The user and password still come
// from the PG* variables.
func (p *Proxy) Location(schema string) string {
	u, err := url.Parse(schema)
	if err != nil {
		p.t.Fatalf("dbtest: proxy: %v", err)
	}
	u.Host = p.addr
	q := u.Query()
	q.Set("sslmode", "disable") // the proxy forwards bytes; TLS is not what it tests
	u.RawQuery = q.Encode()
	return u.String()
}

// Addr is the proxy's address, host:port.
func (p *Proxy) Addr() string { return p.addr }

// Cut closes every connection through the proxy and refuses new ones, as a
// server that went down does.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.dropLocked()
}

// Stall closes every connection and then accepts new ones without ever
// answering, as a server behind a firewall that drops packets does.
func (p *Proxy) Stall() {
	p.mu.Lock()
	p.stalled = true
	p.dropLocked()
	p.mu.Unlock()
	p.listen()
}

// Restore forwards again, on the same address. Connections a stall held
// are closed: they never reached the server.
func (p *Proxy) Restore() {
	p.mu.Lock()
	if p.stalled {
		p.stalled = false
		p.dropLocked()
	}
	p.mu.Unlock()
	p.listen()
}

func (p *Proxy) dropLocked() {
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

func (p *Proxy) listen() {
	p.t.Helper()
	p.mu.Lock()
	up := p.ln != nil
	p.mu.Unlock()
	if up {
		return
	}
	ln, err := net.Listen("tcp", p.addr)
	if err != nil {
		p.t.Fatalf("dbtest: proxy: listening again on %s: %v", p.addr, err)
	}
	p.serve(ln)
}

func (p *Proxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return // closed by Cut
			}
			go p.forward(c)
		}
	}()
}

// forward copies both ways until either side closes or Cut closes both.
func (p *Proxy) forward(client net.Conn) {
	if !p.track(client) {
		return
	}
	p.mu.Lock()
	stalled := p.stalled
	p.mu.Unlock()
	if stalled {
		return // held open and unanswered until Cut or Restore drops it
	}
	server, err := p.target()
	if err != nil {
		client.Close()
		return
	}
	if !p.track(server) {
		return
	}
	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		io.Copy(dst, src)
		done <- struct{}{}
	}
	go pipe(server, client)
	go pipe(client, server)
	<-done
	client.Close()
	server.Close()
	p.mu.Lock()
	delete(p.conns, client)
	delete(p.conns, server)
	p.mu.Unlock()
}

// track records c so that Cut closes it; a connection accepted as Cut ran
// is closed at once.
func (p *Proxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		c.Close()
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

package db

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// How a connection to PostgreSQL finds a network that went silent (a
// partition drops packets: no RST, no ICMP). statement_timeout is the
// server's and cannot help, and without these a statement waits for the
// kernel's ~15 min of retransmissions. The kernel ACKs a query at once, so
// the user timeout counts only network silence, never a slow statement:
// 10 s matches statement_timeout. Keepalives cover a connection waiting for
// a result that was ACKed: a probe after 5 s idle, then every 2 s, dead
// after 3 unanswered (or the user timeout, which bounds probes on Linux).
const (
	pgUserTimeout  = 10 * time.Second
	pgKeepIdle     = 5 * time.Second
	pgKeepInterval = 2 * time.Second
	pgKeepCount    = 3
)

// pgTCP is the TCP behaviour of connections to the server.
type pgTCP struct {
	userTimeout time.Duration // 0: the system's default
	keepAlive   net.KeepAliveConfig
	noKeepAlive bool
}

// takeTCPParams reads libpq's TCP parameters out of params, where pgx's
// ParseConfig left them and from where they would go to the server as
// settings it does not know. Missing ones keep smartmfa's defaults; 0 is
// the system's default, as in libpq.
func takeTCPParams(params map[string]string) (pgTCP, error) {
	o := pgTCP{userTimeout: pgUserTimeout, keepAlive: net.KeepAliveConfig{
		Enable: true, Idle: pgKeepIdle, Interval: pgKeepInterval, Count: pgKeepCount}}
	for _, p := range []struct {
		name, want string
		unit       time.Duration
		set        func(n int, d time.Duration)
	}{
		{"tcp_user_timeout", "a whole number of milliseconds (0: the system's default)", time.Millisecond, func(_ int, d time.Duration) { o.userTimeout = d }},
		{"keepalives", "1 (on) or 0 (off)", 0, func(n int, _ time.Duration) { o.noKeepAlive = n == 0 }},
		{"keepalives_idle", "a whole number of seconds (0: the system's default)", time.Second, func(_ int, d time.Duration) { o.keepAlive.Idle = systemDefault(d) }},
		{"keepalives_interval", "a whole number of seconds (0: the system's default)", time.Second, func(_ int, d time.Duration) { o.keepAlive.Interval = systemDefault(d) }},
		{"keepalives_count", "a whole number of probes (0: the system's default)", 0, func(n int, _ time.Duration) { o.keepAlive.Count = int(systemDefault(time.Duration(n))) }},
	} {
		v, ok := params[p.name]
		if !ok {
			continue
		}
		delete(params, p.name)
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 0 {
			// The value alone: the address around it may hold a password.
			return o, fmt.Errorf("the PostgreSQL address sets %s to %q: it must be %s", p.name, v, p.want)
		}
		p.set(n, time.Duration(n)*p.unit)
	}
	return o, nil
}

// systemDefault turns libpq's 0 into net.KeepAliveConfig's "leave as is".
func systemDefault(d time.Duration) time.Duration {
	if d == 0 {
		return -1
	}
	return d
}

// dial connects as pgx's default dialer does, with o's TCP options on TCP
// connections; Unix sockets have no network to lose.
func (o pgTCP) dial() pgconn.DialFunc {
	d := &net.Dialer{KeepAliveConfig: o.keepAlive}
	if o.noKeepAlive {
		d.KeepAliveConfig, d.KeepAlive = net.KeepAliveConfig{}, -1
	}
	if o.userTimeout > 0 {
		d.Control = func(network, _ string, c syscall.RawConn) error {
			if !strings.HasPrefix(network, "tcp") {
				return nil
			}
			return setUserTimeout(c, o.userTimeout)
		}
	}
	return d.DialContext
}

package sshserve

import (
	"sync"
	"time"
)

// maxTrackedAddresses bounds the failure table: past it, addresses whose
// failures have been forgotten are dropped.
const maxTrackedAddresses = 4096

// backoff counts failed logins per remote address. After `after` failures
// an address must wait `first`, doubled for each further failure up to
// `longest`; an address is forgotten `forget` after its last failure. It is
// an extra layer over core's per-user lockouts, which stay the primary
// protection: it slows one address trying many usernames.
type backoff struct {
	after          int
	first, longest time.Duration
	forget         time.Duration

	mu    sync.Mutex
	addrs map[string]*failures
}

type failures struct {
	n     int
	last  time.Time
	until time.Time // blocked before this time
}

func newBackoff(after int, first, longest time.Duration) *backoff {
	return &backoff{after: after, first: first, longest: longest, forget: time.Hour + longest,
		addrs: map[string]*failures{}}
}

// fail records a failed login from addr at now and returns how long the
// address is blocked from now (zero if it is not) and its failure count.
func (b *backoff) fail(addr string, now time.Time) (time.Duration, int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	f := b.addrs[addr]
	if f == nil || now.Sub(f.last) > b.forget {
		if f == nil && len(b.addrs) >= maxTrackedAddresses {
			b.prune(now)
		}
		f = &failures{}
		b.addrs[addr] = f
	}
	f.n++
	f.last = now
	if f.n < b.after {
		return 0, f.n
	}
	d := b.first
	for i := b.after; i < f.n && d < b.longest; i++ {
		d *= 2
	}
	d = min(d, b.longest)
	f.until = now.Add(d)
	return d, f.n
}

// blocked is how long addr must still wait at now; zero when it may log in.
func (b *backoff) blocked(addr string, now time.Time) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	if f := b.addrs[addr]; f != nil && f.until.After(now) {
		return f.until.Sub(now)
	}
	return 0
}

// prune makes room: it drops forgotten addresses, then addresses not
// waiting down to half the table, then, as a last resort, any.
func (b *backoff) prune(now time.Time) {
	for a, f := range b.addrs {
		if now.Sub(f.last) > b.forget {
			delete(b.addrs, a)
		}
	}
	for a, f := range b.addrs {
		if len(b.addrs) < maxTrackedAddresses/2 {
			break
		}
		if !f.until.After(now) {
			delete(b.addrs, a)
		}
	}
	for a := range b.addrs {
		if len(b.addrs) < maxTrackedAddresses {
			break
		}
		delete(b.addrs, a)
	}
}

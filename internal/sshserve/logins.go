package sshserve

import (
	"context"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
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

// FollowAudit watches core's audit trail for the logins of this server's
// sessions until ctx ends: a failed password or code from an address counts
// towards its backoff (Session.LoginFailed), a login names the session's
// user in the log (Session.SignedIn). Core writes every one of these with
// the session's source, ssh:<address>, so nothing in the console has to
// report them. It reads the trail every `every` while sessions are open.
//
// A console that reports logins itself through the Session's methods does
// not need this; running both counts each failure twice.
func (s *Server) FollowAudit(ctx context.Context, svc *core.Service, every time.Duration) {
	s.following.Store(true)
	defer s.following.Store(false)
	op := core.LocalOperator("ssh-server")
	var last int64 // the newest event seen
	var failing error
	read := func() {
		events, newest, err := newAuditEvents(ctx, svc, op, last, s.created)
		switch {
		case err != nil && ctx.Err() == nil && (failing == nil || failing.Error() != err.Error()):
			s.log.Warn("reading the audit trail for logins", "err", err.Error())
		case err == nil && failing != nil:
			s.log.Info("reading the audit trail for logins again")
		}
		failing = err
		if err == nil {
			for _, e := range events {
				s.observe(e)
			}
			last = newest
		}
	}
	read()
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if s.watching() {
				read()
			}
		case done := <-s.sync:
			read()
			close(done)
		}
	}
}

// syncLogins has FollowAudit, if it runs, read the trail now: a session
// that ends learns who signed in on it, and its last failures count, even
// if it lasted less than a tick.
func (s *Server) syncLogins() {
	if !s.following.Load() {
		return
	}
	done := make(chan struct{})
	timeout := time.NewTimer(time.Second)
	defer timeout.Stop()
	select {
	case s.sync <- done:
		select {
		case <-done:
		case <-timeout.C:
		}
	case <-timeout.C:
	}
}

// newAuditEvents returns the events after id `after` and not before
// `since`, oldest first, and the newest id.
func newAuditEvents(ctx context.Context, svc *core.Service, op core.Session, after int64, since time.Time) ([]core.AuditEvent, int64, error) {
	const pageSize = 100
	if head, err := svc.ListAudit(ctx, op, -1, 0, 1); err != nil || len(head) == 0 || head[0].ID <= after {
		return nil, after, err // nothing new: one row read
	}
	var out []core.AuditEvent
	newest, before := after, int64(0)
	for {
		page, err := svc.ListAudit(ctx, op, -1, before, pageSize)
		if err != nil {
			return nil, after, err
		}
		if before == 0 && len(page) > 0 {
			newest = max(newest, page[0].ID)
		}
		for _, e := range page {
			if e.ID <= after || e.At.Before(since) {
				return reversed(out), newest, nil
			}
			out = append(out, e)
		}
		if len(page) < pageSize {
			return reversed(out), newest, nil
		}
		before = page[len(page)-1].ID
	}
}

func reversed(es []core.AuditEvent) []core.AuditEvent {
	for i, j := 0, len(es)-1; i < j; i, j = i+1, j-1 {
		es[i], es[j] = es[j], es[i]
	}
	return es
}

// observe applies one audit event to the session it came from.
func (s *Server) observe(e core.AuditEvent) {
	addr, ok := strings.CutPrefix(e.Source, "ssh:")
	if !ok {
		return
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return
	}
	sess := s.bySource(e.Source)
	switch e.Action {
	case core.ActionLogin:
		if sess != nil {
			sess.SignedIn(e.TargetName)
		}
	case core.ActionLogout:
		if sess != nil {
			sess.SignedOut()
		}
	case core.ActionLoginFailed, core.ActionCodeFailed, core.ActionMFALoginDisabled:
		if sess != nil {
			sess.LoginFailed()
		} else {
			s.loginFailed(host) // the session has gone: its address is all there is
		}
	}
}

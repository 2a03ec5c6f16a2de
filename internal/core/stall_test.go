package core

import (
	"context"
	"encoding/base32"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// Issue 11: after a bulk seed, a single user write could hold SQLite's write
// lock for seconds while the search index merged the seed's segment, and
// every login and code check queued behind it. The probe below measures that
// from the outside, through core's public methods only (SeedDemo, SearchUsers,
// UpdateUser, Login, enrolment, VerifyLoginCode), so that it measures the
// same thing whatever the search index becomes.

// stallProbe is a seeded demo account whose administrator changes users one
// at a time while one of its users, with MFA, signs in again and again.
type stallProbe struct {
	s       *Service
	clock   *fakeClock // the Service's clock: each code check needs a fresh step
	admin   Session
	targets []int64 // the users written, in order; varied, never the watcher
	watcher string  // the user who signs in beside the writes
	secret  []byte  // the watcher's TOTP secret
}

// authSample is one login or code check of the watcher: when it started
// (since the writes began), what it was and how long it took.
type authSample struct {
	at time.Duration
	op string // "login" or "code"
	d  time.Duration
}

// stallRun is what one run of the probe measured.
type stallRun struct {
	writes   []time.Duration // each write's time, in the order written
	auth     []authSample
	searches int // searches made beside them
}

// newStallProbe signs in as the demo account's administrator, enrols MFA for
// its first demo user (the watcher) and picks writes users to change, spread
// over the account by a fixed pseudo-random sequence. Nothing here writes a
// user's profile: the first profile write after the seed is the probe's first.
func newStallProbe(tb testing.TB, s *Service, clock *fakeClock, demo DemoResult, password string, writes int) *stallProbe {
	tb.Helper()
	ctx := context.Background()
	p := &stallProbe{s: s, clock: clock}
	var err error
	if p.admin, err = s.Login(ctx, demo.Admin, password, "local:stall"); err != nil || p.admin.Stage() != StageSignedIn {
		tb.Fatalf("administrator login: stage %d, %v", p.admin.Stage(), err)
	}
	acct := p.admin.AccountID()
	first, err := s.SearchUsers(ctx, p.admin, acct, UserQuery{Role: RoleUser, Limit: 1})
	if err != nil || len(first.Users) == 0 {
		tb.Fatalf("finding the first demo user: %d found, %v", len(first.Users), err)
	}
	w := first.Users[0]
	p.watcher = w.Username
	p.secret = enrolForProbe(tb, s, clock, w.Username, password)

	// Demo users have ids from w.ID on; the cursor finds the next user at or
	// after a random point, so gaps in the ids would not matter.
	rnd := rand.New(rand.NewPCG(11, uint64(demo.Users)))
	for len(p.targets) < writes {
		after := w.ID + rnd.Int64N(int64(demo.Users))
		page, err := s.SearchUsers(ctx, p.admin, acct, UserQuery{Role: RoleUser, After: after, Limit: 1})
		if err != nil {
			tb.Fatalf("picking users to write: %v", err)
		}
		if len(page.Users) == 1 && page.Users[0].ID != w.ID {
			p.targets = append(p.targets, page.Users[0].ID)
		}
	}
	return p
}

// enrolForProbe signs name in and sets up MFA through the public steps,
// reading the secret from the set-up key as an authenticator app would.
func enrolForProbe(tb testing.TB, s *Service, clock *fakeClock, name, password string) []byte {
	tb.Helper()
	ctx := context.Background()
	sess, err := s.Login(ctx, name, password, "local:stall")
	if err != nil || sess.Stage() != StageSignedIn {
		tb.Fatalf("login of %s: stage %d, %v", name, sess.Stage(), err)
	}
	en, err := s.BeginEnrollment(ctx, sess)
	if err != nil {
		tb.Fatalf("BeginEnrollment of %s: %v", name, err)
	}
	secret, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(en.SetupKey, " ", ""))
	if err != nil {
		tb.Fatalf("decoding the set-up key %q: %v", en.SetupKey, err)
	}
	if _, _, err := s.ConfirmEnrollment(ctx, sess, codeAt(secret, timeStep(clock.Now(), totpPeriod))); err != nil {
		tb.Fatalf("ConfirmEnrollment of %s: %v", name, err)
	}
	clock.Advance(totpPeriod * time.Second)
	return secret
}

// write changes target i's display name (even i) or email (odd i), as an
// administrator editing users in the console does.
func (p *stallProbe) write(ctx context.Context, i int) error {
	var up UserUpdate
	if i%2 == 0 {
		name := fmt.Sprintf("%s %s %d", demoFirst[i%len(demoFirst)], demoLast[(i/2)%len(demoLast)], i)
		up.DisplayName = &name
	} else {
		email := fmt.Sprintf("changed.%d@mail%d.example", i, i%7)
		up.Email = &email
	}
	_, err := p.s.UpdateUser(ctx, p.admin, p.targets[i], up)
	return err
}

// signIn is one full sign-in of the watcher, its two steps timed apart: the
// password (argon2 made nearly free by the test parameters) and a code of a
// new time step, since a code is accepted once.
func (p *stallProbe) signIn(ctx context.Context, password string, since time.Time, out []authSample) ([]authSample, error) {
	t0 := time.Now()
	sess, err := p.s.Login(ctx, p.watcher, password, "ssh:192.0.2.7:22")
	out = append(out, authSample{at: t0.Sub(since), op: "login", d: time.Since(t0)})
	if err != nil || sess.Stage() != StageCode {
		return out, fmt.Errorf("login of %s: stage %d, %w", p.watcher, sess.Stage(), err)
	}
	p.clock.Advance(totpPeriod * time.Second)
	code := codeAt(p.secret, timeStep(p.clock.Now(), totpPeriod))
	t0 = time.Now()
	_, err = p.s.VerifyLoginCode(ctx, sess, code)
	out = append(out, authSample{at: t0.Sub(since), op: "code", d: time.Since(t0)})
	if err != nil {
		return out, fmt.Errorf("code check of %s: %w", p.watcher, err)
	}
	return out, nil
}

// Pauses of stallProbe.run. Writers queue for SQLite's lock by polling (its
// busy handler sleeps 1, 2, 5 ... 100 ms between tries), so a writer that
// takes the lock again as soon as it has let it go starves the others: with
// writes back to back, one login waited 1.4-1.9 s, the whole loop, even after
// 50k users, where the longest merge took 0.16 s. That is a measure of the
// queue's unfairness, not of the merges; the probe leaves the lock free
// between writes, as an administrator or a paced import would, so that a
// sign-in waits only for what a single write holds the lock for.
const (
	writePause  = time.Millisecond      // after each write: the lock is free about 2/3 of the time
	signInPause = 5 * time.Millisecond  // after each sign-in: about 150 steps a second
	searchPause = 20 * time.Millisecond // after each search: the index catches up often
)

// run writes every target in turn, writePause apart, while the watcher signs
// in, signInPause apart. between, when set, runs after each write, untimed.
func (p *stallProbe) run(ctx context.Context, password string, between func(i int) error) (stallRun, error) {
	var r stallRun
	done := make(chan struct{})
	var authErr error
	var wg sync.WaitGroup
	start := time.Now()
	wg.Go(func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(signInPause):
			}
			if r.auth, authErr = p.signIn(ctx, password, start, r.auth); authErr != nil {
				return
			}
		}
	})
	// An administrator searches meanwhile, so the index catches up with the
	// writes and merges its segments while sign-ins go on.
	var searchErr error
	searches := 0
	wg.Go(func() {
		terms := []string{"changed", "smith", "mia", "a", "ex", "mail3"}
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			case <-time.After(searchPause):
			}
			if _, searchErr = p.s.SearchUsers(ctx, p.admin, p.admin.AccountID(), UserQuery{Term: terms[i%len(terms)], Count: true}); searchErr != nil {
				return
			}
			searches++
		}
	})
	var err error
	for i := range p.targets {
		t0 := time.Now()
		if err = p.write(ctx, i); err != nil {
			err = fmt.Errorf("write #%d (user %d): %w", i+1, p.targets[i], err)
			break
		}
		r.writes = append(r.writes, time.Since(t0))
		if between != nil {
			if err = between(i); err != nil {
				break
			}
		}
		time.Sleep(writePause)
	}
	close(done)
	wg.Wait()
	r.searches = searches
	return r, errors.Join(err, authErr, searchErr)
}

// slowWrites lists the writes over limit as "#n 1.234s", numbered from 1.
func slowWrites(d []time.Duration, limit time.Duration) []string {
	var out []string
	for i, x := range d {
		if x > limit {
			out = append(out, fmt.Sprintf("#%d %v", i+1, x.Round(time.Millisecond)))
		}
	}
	return out
}

// slowAuth lists the sign-in steps over limit as "code at 1.2s: 0.9s".
func slowAuth(a []authSample, limit time.Duration) []string {
	var out []string
	for _, x := range a {
		if x.d > limit {
			out = append(out, fmt.Sprintf("%s at %v: %v", x.op, x.at.Round(time.Millisecond), x.d.Round(time.Millisecond)))
		}
	}
	return out
}

// percentile is the q-quantile (0..1) of d, which it sorts in a copy.
func percentile(d []time.Duration, q float64) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[min(len(s)-1, int(q*float64(len(s))))]
}

func authDurations(a []authSample) []time.Duration {
	out := make([]time.Duration, len(a))
	for i, x := range a {
		out[i] = x.d
	}
	return out
}

// Sizes and bounds of TestWritesAfterSeedDoNotStallSignIns.
//
// On the code of issue 11, the first long stall is the 14th profile write
// after the seed and the second comes near the 200th; each holds the write
// lock for a time that grows with the seed: on this 2-core machine, at load
// 0.3-2, about 0.14 s after 50k users, 0.25 s after 100k, 0.6 and 0.4 s after
// 200k, 1.0 and 0.8 s after 400k, 2.6 and 2.3 s after 1M (at load 4-9 they
// take up to twice as long). Half the writes take under 1 ms; between the
// stalls, smaller merges take 40-180 ms now and then.
//
// 200k users seed in about 3 s and keep the test near 11 s (17 s beside
// other packages' tests). Its two stalls are 2-3 times the 200 ms bound,
// which is G1's bound for the writes after 1M users and some 200 times a
// usual write. A sign-in waits for the write ahead of it and then for its
// busy handler's next try (up to 100 ms later), so it takes the same bound,
// not G1's 50 ms, which a test on a loaded 2-core machine could not hold
// without flaking. A smaller seed would not do: after 100k the stall is only
// 0.25 s, too near any bound that noise allows. Under -race everything is
// several times slower and the bounds would no longer mean the same, so the
// test shrinks to a run of the same steps.
const (
	stallSeedUsers = 200_000
	stallWrites    = 2_000
	stallBound     = 200 * time.Millisecond
)

// TestWritesAfterSeedDoNotStallSignIns seeds a demo account, then changes
// its users one at a time while one of its users signs in with a code over
// and over: no write and no sign-in step may take longer than stallBound
// (G1 of issue 11).
func TestWritesAfterSeedDoNotStallSignIns(t *testing.T) {
	dbtest.SQLiteOnly(t, "SQLite's single write lock beside the search index file")
	if testing.Short() {
		t.Skip("seeds 200,000 users: skipped with -short")
	}
	users, writes := stallSeedUsers, stallWrites
	if raceDetector {
		users, writes = 5_000, 200
	}
	e := newTestService(t)
	t0 := time.Now()
	demo, err := e.SeedDemo(e.ctx, LocalOperator("local:test"), DemoOptions{Users: users, Password: testPassword})
	if err != nil {
		t.Fatal(err)
	}
	seeded := time.Since(t0)
	p := newStallProbe(t, e.Service, e.clock, demo, testPassword, writes)
	r, err := p.run(e.ctx, testPassword, nil)
	if err != nil {
		t.Fatal(err)
	}
	auth := authDurations(r.auth)
	t.Logf("seeded %d users in %v; %d searches; %d writes: p50 %v, p99 %v, max %v; %d sign-in steps: p50 %v, p99 %v, max %v",
		users, seeded.Round(time.Millisecond), r.searches, len(r.writes),
		percentile(r.writes, 0.5), percentile(r.writes, 0.99), percentile(r.writes, 1),
		len(auth), percentile(auth, 0.5), percentile(auth, 0.99), percentile(auth, 1))
	if raceDetector {
		return
	}
	if r.searches < 10 {
		t.Errorf("only %d searches beside %d writes: the index hardly caught up", r.searches, len(r.writes))
	}
	if len(auth) < len(r.writes)/10 {
		t.Errorf("only %d sign-in steps beside %d writes: too few to tell whether they waited", len(auth), len(r.writes))
	}
	if slow := slowWrites(r.writes, stallBound); len(slow) > 0 {
		t.Errorf("%d of %d writes after seeding %d users took over %v (the search index merging under the write lock?): %s",
			len(slow), len(r.writes), users, stallBound, strings.Join(slow, ", "))
	}
	if slow := slowAuth(r.auth, stallBound); len(slow) > 0 {
		t.Errorf("%d of %d sign-in steps took over %v while users were written: %s",
			len(slow), len(r.auth), stallBound, strings.Join(slow, ", "))
	}
}

package core

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// failuresChecked counts the wrong passwords of a known user that were
// checked: each is audited once; those refused unchecked leave no event.
func (e *testEnv) failuresChecked(userID int64) int {
	e.t.Helper()
	return e.countWhere("audit_events", fmt.Sprintf("target_id = %d AND action = 'login.failed'", userID))
}

// TestParallelBurstEvaluatesAtMostFive: 50 attempts at once on one user,
// from 50 addresses and through two Services, the right password among them.
// Each is reserved before its password is checked, so at most five wrong ones
// are checked per lock (a success gives its own place back); the right
// password either signs in or gets the answer a wrong one gets. Repeated, with
// the clock moved past each lock.
func TestParallelBurstEvaluatesAtMostFive(t *testing.T) {
	w := newWorld(t)
	services := []*Service{w.Service, w.another()}
	for round := range 8 {
		before := w.failuresChecked(w.bob.ID)
		right := (round * 7) % 50
		var mu sync.Mutex
		answers := map[bool]map[string]int{true: {}, false: {}}
		signedIn := 0
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range 50 {
			wg.Go(func() {
				<-start
				pw := "wrong guess number " + fmt.Sprint(i)
				if i == right {
					pw = testPassword
				}
				// New addresses each round: one where bob signed in would
				// keep a counter of its own (see TestTrustedOrigin).
				_, err := services[i%2].Login(w.ctx, "bob", pw, fmt.Sprintf("ssh:10.%d.0.%d:40000", round, i+2))
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					signedIn++
					return
				}
				answers[i == right][err.Error()]++
			})
		}
		close(start)
		wg.Wait()
		if n := w.failuresChecked(w.bob.ID) - before; n > lockAfter || signedIn > 1 {
			t.Fatalf("round %d: %d wrong passwords were checked (want at most %d), %d signed in; right: %v", round, n, lockAfter, signedIn, answers[true])
		}
		for msg := range answers[true] { // the right password refused: as a wrong one is
			if answers[false][msg] == 0 {
				t.Fatalf("round %d: the right password got %q, which no wrong one got (%v)", round, msg, answers[false])
			}
		}
		for msg := range answers[false] {
			if msg != ErrInvalidCredentials.Error() && !strings.HasPrefix(msg, "too many failed attempts") {
				t.Fatalf("round %d: unexpected answer %q", round, msg)
			}
		}
		w.clock.Advance(maxLock + forgetAfter) // past the lock, and forgotten
	}
}

// TestLockedWhileWaitingForTheHash: an attempt reserved in time, whose user is
// locked by other attempts while it waits for argon2, is refused afterwards,
// even with the right password, and with the same answer as a wrong one.
func TestLockedWhileWaitingForTheHash(t *testing.T) {
	for _, pw := range []string{testPassword, "a wrong password"} {
		t.Run(pw, func(t *testing.T) {
			w := newWorld(t)
			const src = "ssh:203.0.113.9:5000"
			slots := w.hashes.free
			for range slots { // every argon2 slot is taken
				if err := w.hashes.acquire(w.ctx, prioTrusted); err != nil {
					t.Fatal(err)
				}
			}
			done := make(chan error, 1)
			go func() { done <- errOf(w.Login(w.ctx, "bob", pw, src)) }()
			waitFor(t, func() bool { return w.pwCounter("bob", src).Failures == 1 }) // reserved, waiting
			huge := strings.Repeat("x", MaxPasswordLen+1)                            // refused without a hash
			for range lockAfter - 1 {
				if _, err := w.Login(w.ctx, "bob", huge, src); !errors.Is(err, ErrInvalidCredentials) {
					t.Fatal(err)
				}
			}
			for range slots {
				w.hashes.release()
			}
			err := <-done
			lockedUntil(t, err, w.clock.Now().Add(firstLock))
			if c := w.pwCounter("bob", src); c.Failures != lockAfter {
				t.Errorf("the refused attempt must stay counted: %d failures", c.Failures)
			}
		})
	}
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("timed out waiting")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestUnrecordedAttemptIsRefusedUnchecked: when the store refuses writes, a
// login or a code cannot be recorded, so it is refused before it is checked:
// the right password and a wrong one get one plain answer, and nothing counts.
func TestUnrecordedAttemptIsRefusedUnchecked(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	atCode := w.login("bob", StageCode)
	w.clock.Advance(totpPeriod * time.Second)
	// One connection, made read-only: every write fails as on a dead disk.
	w.db.SetMaxOpenConns(1)
	readOnly, writable := "PRAGMA query_only = 1", "PRAGMA query_only = 0"
	if dbtest.Postgres() {
		readOnly, writable = "SET default_transaction_read_only = on", "SET default_transaction_read_only = off"
	}
	if _, err := w.db.ExecContext(w.ctx, readOnly); err != nil {
		t.Fatal(err)
	}
	answers := map[string]error{}
	for name, pw := range map[string]string{"right password": testPassword, "wrong password": "not the password"} {
		sess, err := w.Login(w.ctx, "bob", pw, "ssh:198.51.100.1:1")
		answers[name] = err
		if sess.Stage() != StageNone {
			t.Errorf("%s reached stage %d", name, sess.Stage())
		}
	}
	for name, code := range map[string]string{"right code": w.code(secret, 0), "wrong code": w.wrongCode(secret)} {
		_, answers[name] = w.VerifyLoginCode(w.ctx, atCode, code)
	}
	for name, err := range answers {
		if !errors.Is(err, ErrUnavailable) || err.Error() != ErrUnavailable.Error() {
			t.Errorf("%s: %v, want ErrUnavailable", name, err)
		}
	}
	if _, err := w.db.ExecContext(w.ctx, writable); err != nil {
		t.Fatal(err)
	}
	if c := w.pwCounter("bob", "ssh:198.51.100.1:1"); c.Failures != 0 {
		t.Errorf("%d failures counted", c.Failures)
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 0 || m.LastStep >= timeStep(w.clock.Now(), totpPeriod) {
		t.Errorf("mfa row changed: %+v", m)
	}
}

// TestUnknownNameFloodIsBounded: 10,000 tries of names that do not exist add
// at most one counter row a bucket and one audit event an hour.
func TestUnknownNameFloodIsBounded(t *testing.T) {
	if testing.Short() {
		t.Skip("10,000 logins: skipped with -short")
	}
	w := newWorld(t)
	events := w.count("audit_events")
	tries := 10000
	if raceDetector {
		tries = 1000 // the same bound, in a tenth of the time
	}
	for i := range tries {
		if _, err := w.Login(w.ctx, fmt.Sprintf("ghost-%d", i), "a wrong password", "ssh:192.0.2.1:1"); err == nil {
			t.Fatal("an unknown name signed in")
		}
	}
	if n := w.count("audit_events") - events; n != 1 {
		t.Errorf("%d audit events for %d unknown names in one hour, want 1", n, tries)
	}
	ev := w.lastAudit()
	if ev.Times != tries || !strings.Contains(ev.Detail, fmt.Sprint(tries)) {
		t.Errorf("the hour's event counts %d (%q), want %d", ev.Times, ev.Detail, tries)
	}
	if n := w.count("name_buckets"); n > nameBuckets || n > tries {
		t.Errorf("%d bucket rows", n)
	}
	// The next hour starts a new event and forgets the last one's bookkeeping.
	w.clock.Advance(time.Hour)
	w.Login(w.ctx, "ghost-next-hour", "a wrong password", "ssh:192.0.2.1:1")
	if n := w.count("audit_events") - events; n != 2 {
		t.Errorf("%d events after the next hour's first try, want 2", n)
	}
	if n := w.count("audit_aggregates"); n != 1 {
		t.Errorf("%d aggregate rows, want 1", n)
	}
}

// TestBucketsAreWhatUnknownNamesShare: two names in one bucket share its
// counter, whether they exist or not; that is the price of a bounded table.
func TestBucketsAreWhatUnknownNamesShare(t *testing.T) {
	w := newWorld(t)
	mate := ""
	for i := 0; mate == ""; i++ {
		if n := fmt.Sprintf("n%d", i); bucketOf(n) == bucketOf("bob") {
			mate = n
		}
	}
	for range lockAfter {
		w.Login(w.ctx, mate, "wrong", "ssh:192.0.2.7:1")
	}
	if _, err := w.Login(w.ctx, "bob", testPassword, "ssh:192.0.2.8:1"); !errors.Is(err, ErrLocked) {
		t.Fatalf("bob from a new origin while his bucket is locked: %v", err)
	}
	c, err := db.BucketCounter(w.ctx, w.db, bucketOf("bob"))
	if err != nil || c.Failures != lockAfter {
		t.Errorf("bucket %+v, %v", c, err)
	}
}

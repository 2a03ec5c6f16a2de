package core

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// lockedUntil asserts err is a *LockedError ending exactly at want.
func lockedUntil(t *testing.T, err error, want time.Time) {
	t.Helper()
	var le *LockedError
	if !errors.As(err, &le) || !errors.Is(err, ErrLocked) {
		t.Fatalf("got %v, want a lock until %s", err, want.Format(time.RFC3339))
	}
	if !le.Until.Equal(want) {
		t.Fatalf("locked until %s, want %s", le.Until.Format(time.RFC3339Nano), want.Format(time.RFC3339Nano))
	}
}

func TestLockUntilSchedule(t *testing.T) {
	want := map[int]time.Duration{1: 0, 4: 0, 5: 30 * time.Second, 6: time.Minute, 7: 2 * time.Minute,
		8: 4 * time.Minute, 9: 8 * time.Minute, 10: 15 * time.Minute, 11: 15 * time.Minute, 99: 15 * time.Minute}
	for n, d := range want {
		got := lockUntil(testStart, n)
		if d == 0 && got != 0 || d != 0 && got != testStart.Add(d).UnixNano() {
			t.Errorf("lockUntil(%d failures) = %v after start, want %v", n, time.Duration(got-testStart.UnixNano()), d)
		}
	}
}

// TestPasswordLockout: 5 wrong passwords lock for 30 s, each further failure
// doubles the lock up to 15 min, a locked user is refused even with the right
// password, and a success resets the counter. The failures alternate between
// two Services on one file: the counter lives in the database.
func TestPasswordLockout(t *testing.T) {
	w := newWorld(t)
	services := []*Service{w.Service, w.another()}
	fail := func(i int) error {
		_, err := services[i%2].Login(w.ctx, "bob", "wrong password!", "test")
		return err
	}
	for i := range 5 {
		if err := fail(i); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("wrong password #%d: %v, want ErrInvalidCredentials", i+1, err)
		}
	}
	for i, d := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute, 4 * time.Minute,
		8 * time.Minute, 15 * time.Minute, 15 * time.Minute} {
		until := w.clock.Now().Add(d)
		for j, s := range services { // the right password is refused on both
			_, err := s.Login(w.ctx, "bob", testPassword, "test")
			lockedUntil(t, err, until)
			if c := w.pwCounter("bob", "test"); c.Failures != 5+i {
				t.Fatalf("service %d: a refused attempt while locked was counted: failures %d", j, c.Failures)
			}
		}
		w.clock.Advance(d - time.Nanosecond)
		lockedUntil(t, fail(i), until)
		w.clock.Advance(time.Nanosecond) // the lock ends exactly at Until
		if err := fail(i + 1); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("failure %d after the lock: %v", 6+i, err)
		}
	}
	w.clock.Advance(15 * time.Minute)
	sess, err := services[1].Login(w.ctx, "bob", testPassword, "test")
	if err != nil || sess.Stage() != StageSignedIn {
		t.Fatalf("login after the lock: %v", err)
	}
	// The success gave back its own attempt and lifted the lock it set; and it
	// trusts the origin, whose own counter starts from zero.
	if c, err := db.BucketCounter(w.ctx, w.db, bucketOf("bob")); err != nil || c.Failures != 12 || c.LockedUntil != 0 {
		t.Errorf("bucket after the success: %+v, %v; want 12 failures and no lock", c, err)
	}
	if c := w.pwCounter("bob", "test"); c != (db.Counter{}) {
		t.Errorf("the origin's counter after the sign-in: %+v", c)
	}
	for i := range 4 {
		if err := fail(i); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("after reset, wrong password #%d: %v (counter not reset)", i+1, err)
		}
	}
	w.login("bob", StageSignedIn)
}

// TestChangePasswordCountsFailures: a wrong old password counts like a login.
func TestChangePasswordCountsFailures(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	for i := range 5 {
		if _, err := w.ChangePassword(w.ctx, sess, "not my password", "a brand new secret"); !errors.Is(err, ErrInvalidCredentials) {
			t.Fatalf("change #%d: %v", i+1, err)
		}
	}
	lockedUntil(t, errOf(w.ChangePassword(w.ctx, sess, testPassword, "a brand new secret")), w.clock.Now().Add(30*time.Second))
	_, err := w.Login(w.ctx, "bob", testPassword, "test")
	lockedUntil(t, err, w.clock.Now().Add(30*time.Second))
}

// TestCodeLockout: wrong codes lock like wrong passwords, across Services.
func TestCodeLockout(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	services := []*Service{w.Service, w.another()}
	sess := w.login("bob", StageCode)
	verify := func(i int, code string) error {
		_, err := services[i%2].VerifyLoginCode(w.ctx, sess, code)
		return err
	}
	for i := range 5 {
		if err := verify(i, w.wrongCode(secret)); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code #%d: %v", i+1, err)
		}
	}
	for i, d := range []time.Duration{30 * time.Second, time.Minute, 2 * time.Minute} {
		until := w.clock.Now().Add(d)
		lockedUntil(t, verify(i, w.code(secret, 0)), until) // right code, still locked
		if m := w.mfaRow(w.bob.ID); m.Failures != 5+i || m.LastStep >= timeStep(w.clock.Now(), totpPeriod) {
			t.Fatalf("refused while locked, yet failures %d last_step %d", m.Failures, m.LastStep)
		}
		w.clock.Advance(d)
		if err := verify(i+1, w.wrongCode(secret)); !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code after lock: %v", err)
		}
	}
	w.clock.Advance(4 * time.Minute)
	if _, err := services[1].VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err != nil {
		t.Fatalf("right code after the lock: %v", err)
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 0 || m.LockedUntil != 0 {
		t.Errorf("success did not reset: failures %d locked %d", m.Failures, m.LockedUntil)
	}
}

// TestHundredWrongCodesDisableMFALogin: after 100 wrong codes even the right
// one is refused until an administrator removes MFA; then the password alone
// signs in.
func TestHundredWrongCodesDisableMFALogin(t *testing.T) {
	w := newWorld(t)
	secret, recovery := w.enrollUser("bob")
	sess := w.login("bob", StageCode)
	for i := range 100 {
		_, err := w.VerifyLoginCode(w.ctx, sess, w.wrongCode(secret))
		if !errors.Is(err, ErrInvalidCode) {
			t.Fatalf("wrong code #%d: %v", i+1, err)
		}
		w.clock.Advance(15 * time.Minute)
	}
	for _, code := range []string{w.code(secret, 0), recovery[0]} {
		if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), code); !errors.Is(err, ErrMFADisabled) {
			t.Fatalf("right code %s after 100 failures: %v, want ErrMFADisabled", code, err)
		}
	}
	if m := w.mfaRow(w.bob.ID); m.Failures != 100 {
		t.Errorf("failures = %d; refusals of a disabled MFA must not count", m.Failures)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionMFALoginDisabled) || ev.TargetID != w.bob.ID {
		t.Errorf("last audit event %s, want %s", ev.Action, ActionMFALoginDisabled)
	}
	admin := w.login("alice", StageSignedIn)
	u, err := w.GetUser(w.ctx, admin, w.bob.ID)
	if err != nil || u.MFA != "active" {
		t.Fatalf("GetUser: %+v, %v", u, err)
	}
	if err := errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, "lost phone", "")); err != nil {
		t.Fatalf("RemoveUserMFA: %v", err)
	}
	w.login("bob", StageSignedIn)
	if err := errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, "", "")); !errors.Is(err, ErrNoMFA) {
		t.Errorf("second RemoveUserMFA: %v, want ErrNoMFA", err)
	}
}

func TestLockedErrorRetryIn(t *testing.T) {
	le := &LockedError{Until: testStart.Add(30 * time.Second)}
	cases := map[time.Duration]time.Duration{0: 30 * time.Second, 500 * time.Millisecond: 30 * time.Second,
		time.Second: 29 * time.Second, 29*time.Second + 1: time.Second, 31 * time.Second: 0}
	for elapsed, want := range cases {
		t.Run(fmt.Sprint(elapsed), func(t *testing.T) {
			if got := le.RetryIn(testStart.Add(elapsed)); got != want {
				t.Errorf("RetryIn after %v = %v, want %v", elapsed, got, want)
			}
		})
	}
}

// TestUnknownUsernamesLockLikeRealOnes: a lockout must not tell which users
// exist, so an unknown name answers exactly as a real one does, failure for
// failure, and from any Service on the file.
func TestUnknownUsernamesLockLikeRealOnes(t *testing.T) {
	w := newWorld(t)
	if bucketOf("bob") == bucketOf("Nobody-Here") {
		t.Fatal("the two names share a bucket: pick another unknown name")
	}
	services := []*Service{w.Service, w.another()}
	for i := range 7 {
		var errs [2]error
		for j, name := range []string{"bob", "Nobody-Here"} {
			_, errs[j] = services[i%2].Login(w.ctx, name, "wrong password!", "test")
		}
		if fmt.Sprint(errs[0]) != fmt.Sprint(errs[1]) {
			t.Fatalf("attempt %d: real user got %q, unknown user got %q", i+1, errs[0], errs[1])
		}
		if i >= 5 && !errors.Is(errs[1], ErrLocked) {
			t.Fatalf("attempt %d: unknown user not locked: %v", i+1, errs[1])
		}
		w.clock.Advance(time.Second)
	}
	// Case-folded like usernames: another spelling is the same counter.
	if _, err := w.Login(w.ctx, "nobody-here", "x", "test"); !errors.Is(err, ErrLocked) {
		t.Errorf("other case of a locked unknown name: %v", err)
	}
}

// TestKnownAndUnknownNamesAgeAlike: counters are forgotten after a quiet day
// for every name, known or not, so the first tries after a quiet day (or a
// month) tell nothing about which names exist. The clock is injected.
func TestKnownAndUnknownNamesAgeAlike(t *testing.T) {
	w := newWorld(t)
	names := []string{"bob", "nobody-here"}
	try := func() [2]string {
		var out [2]string
		for i, name := range names {
			_, err := w.Login(w.ctx, name, "wrong password!", "ssh:198.51.100.7:4000")
			out[i] = fmt.Sprint(err)
		}
		if out[0] != out[1] {
			t.Fatalf("at %s: real user got %q, unknown user got %q", w.clock.Now().Format(time.RFC3339), out[0], out[1])
		}
		return out
	}
	for _, quiet := range []time.Duration{time.Minute, 23 * time.Hour, 25 * time.Hour, 31 * 24 * time.Hour} {
		t.Run(quiet.String(), func(t *testing.T) {
			for range 3 {
				try()
			}
			w.clock.Advance(quiet)
			// After a quiet day both start again: five more before a lock.
			// Within the day both go on from three, so the third locks.
			lockAt := 5
			if quiet < forgetAfter {
				lockAt = 2
			}
			for i := range 6 {
				got := try()
				if locked := strings.Contains(got[0], "too many"); locked != (i >= lockAt) {
					t.Fatalf("after %s quiet, attempt %d: %q", quiet, i+1, got[0])
				}
			}
			w.clock.Advance(forgetAfter + time.Minute)
		})
	}
}

// TestOversizedPasswordsCountAlike: a password past the limit is one more
// wrong answer for every name, counted alike (no hash is spent on it).
func TestOversizedPasswordsCountAlike(t *testing.T) {
	w := newWorld(t)
	huge := strings.Repeat("p", MaxPasswordLen+1)
	for i := range 6 {
		var got [2]string
		for j, name := range []string{"bob", "nobody-at-all"} {
			_, err := w.Login(w.ctx, name, huge, "test")
			got[j] = fmt.Sprint(err)
		}
		if got[0] != got[1] || i < 5 && got[0] != ErrInvalidCredentials.Error() || i == 5 && !strings.Contains(got[0], "too many") {
			t.Fatalf("oversized password #%d: bob %q, unknown %q", i+1, got[0], got[1])
		}
	}
}

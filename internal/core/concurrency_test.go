package core

import (
	"errors"
	"sync"
	"testing"
)

// race runs fn n times at once, alternating between services, and returns
// the errors.
func race(n int, services []*Service, fn func(s *Service) error) []error {
	var wg sync.WaitGroup
	start := make(chan struct{})
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			<-start
			errs[i] = fn(services[i%len(services)])
		})
	}
	close(start)
	wg.Wait()
	return errs
}

func tally(errs []error, kinds ...error) map[error]int {
	out := map[error]int{}
	for _, err := range errs {
		k := err
		for _, kind := range kinds {
			if errors.Is(err, kind) {
				k = kind
			}
		}
		out[k]++
	}
	return out
}

// TestConcurrentFailuresAllCounted: failures sent at once through two
// Services are each counted; none is lost to a read-modify-write race.
func TestConcurrentFailuresAllCounted(t *testing.T) {
	t.Run("passwords", func(t *testing.T) {
		w := newWorld(t)
		errs := race(8, []*Service{w.Service, w.another()}, func(s *Service) error {
			_, err := s.Login(w.ctx, "bob", "wrong password", "test")
			return err
		})
		// Five attempts are reserved and checked; the lock the fifth sets
		// refuses the other three unchecked, and those of the five still
		// checking when it fell (their answer must not tell a right password).
		got := tally(errs, ErrInvalidCredentials, ErrLocked)
		if got[ErrInvalidCredentials]+got[ErrLocked] != 8 || got[ErrInvalidCredentials] < 1 {
			t.Fatalf("results %v", got)
		}
		if n := w.pwCounter("bob", "test").Failures; n != 5 {
			t.Errorf("%d failures counted, want the 5 checked", n)
		}
		if n := w.countWhere("audit_events", "action = 'login.failed'"); n != 5 {
			t.Errorf("%d failures audited, want the 5 checked", n)
		}
	})
	t.Run("codes", func(t *testing.T) {
		w := newWorld(t)
		secret, _ := w.enrollUser("bob")
		sess := w.login("bob", StageCode)
		errs := race(8, []*Service{w.Service, w.another()}, func(s *Service) error {
			_, err := s.VerifyLoginCode(w.ctx, sess, w.wrongCode(secret))
			return err
		})
		got := tally(errs, ErrInvalidCode, ErrLocked)
		if got[ErrInvalidCode] != 5 || got[ErrLocked] != 3 {
			t.Fatalf("results %v; want 5 wrong codes then 3 locked", got)
		}
		if n := w.mfaRow(w.bob.ID).Failures; n != 5 {
			t.Errorf("%d failures counted, want 5", n)
		}
	})
}

// TestConcurrentSameCode: one code sent six times at once, in one process
// through two Services, signs in exactly once; the five replays are counted
// (a sixth would be locked out).
func TestConcurrentSameCode(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	sess := w.login("bob", StageCode)
	code := w.code(secret, 0)
	errs := race(6, []*Service{w.Service, w.another()}, func(s *Service) error {
		_, err := s.VerifyLoginCode(w.ctx, sess, code)
		return err
	})
	if got := tally(errs, ErrInvalidCode, ErrLocked); got[nil] != 1 || got[ErrInvalidCode] != 5 {
		t.Fatalf("results %v; want one success and five ErrInvalidCode", got)
	}
}

// TestConcurrentFirstRegistration: of two first registrations at once,
// exactly one creates the first account.
func TestConcurrentFirstRegistration(t *testing.T) {
	e := newTestService(t)
	names := []string{"first", "second", "third", "fourth"}
	var mu sync.Mutex
	i := 0
	errs := race(4, []*Service{e.Service, e.another()}, func(s *Service) error {
		mu.Lock()
		name := names[i]
		i++
		mu.Unlock()
		_, err := s.RegisterAccount(e.ctx, "test", NewAccount{Name: name, Admin: NewUser{Username: name, Password: testPassword}})
		return err
	})
	if got := tally(errs, ErrRegistrationClosed); got[nil] != 1 || got[ErrRegistrationClosed] != 3 {
		t.Fatalf("results %v; want one success", got)
	}
	if e.count("accounts") != 1 || e.count("users") != 1 {
		t.Errorf("%d accounts, %d users", e.count("accounts"), e.count("users"))
	}
}

package core

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// behindProxy is the usual world on PostgreSQL, and a second Service on the
// same schema that reaches the server through a proxy the test can cut: a
// host whose store goes away while the world's own Service still reads
// what the outage left behind.
func behindProxy(t *testing.T) (*world, *Service, *dbtest.Proxy) {
	t.Helper()
	if !dbtest.Postgres() {
		dbtest.RequirePostgres(t) // skips, saying why, without PGHOST
		t.Skip("runs in the PostgreSQL pass of this suite")
	}
	w := newWorld(t)
	proxy := dbtest.NewProxy(t)
	store, err := db.Open(w.ctx, proxy.Location(w.dbPath))
	if err != nil {
		t.Fatalf("db.Open through the proxy: %v", err)
	}
	keys, err := LoadKeyring(w.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	svc := New(store, keys, Config{Now: w.clock.Now, Rand: newDetRand(3), Password: cheapParams})
	t.Cleanup(func() { svc.Close() })
	return w, svc, proxy
}

// TestPostgresStoreUnreachable calls every operation while the store is cut:
// each fails at once with ErrUnreachable and nothing else (no SQL, no
// "not allowed"), a right password or code is refused unchecked and
// counted nowhere, and once the store is back the same calls work.
func TestPostgresStoreUnreachable(t *testing.T) {
	w, svc, proxy := behindProxy(t)
	op := LocalOperator("local:test")
	secret, _ := w.enrollUser("bob")
	admin := w.signIn("alice", nil)
	carol := w.signIn("carol", nil)
	bobAtCode := w.login("bob", StageCode)
	w.clock.Advance(totpPeriod * time.Second)
	code := w.code(secret, 0)
	name, email := "Robert", "robert@example.com"

	ops := []struct {
		name string
		call func() error
	}{
		{"Login", func() error { _, err := svc.Login(w.ctx, "carol", testPassword, "test"); return err }},
		{"Login wrong password", func() error { _, err := svc.Login(w.ctx, "carol", "wrong password!", "test"); return err }},
		{"VerifyLoginCode", func() error { _, err := svc.VerifyLoginCode(w.ctx, bobAtCode, code); return err }},
		{"VerifyExternalCode", func() error {
			_, err := svc.VerifyExternalCode(w.ctx, ExternalCheck{Username: "bob", Code: code, Source: "pam:test"})
			return err
		}},
		{"ExternalStatus", func() error { _, err := svc.ExternalStatus(w.ctx, "bob"); return err }},
		{"RegistrationOpen", func() error { _, err := svc.RegistrationOpen(w.ctx); return err }},
		{"RegisterAccount", func() error {
			_, err := svc.RegisterAccount(w.ctx, "test", NewAccount{Name: "Initech", Admin: NewUser{Username: "ian", Password: testPassword}})
			return err
		}},
		{"CreateAccount", func() error {
			_, err := svc.CreateAccount(w.ctx, op, NewAccount{Name: "Initech", Admin: NewUser{Username: "ian", Password: testPassword}})
			return err
		}},
		{"ListAccounts", func() error { _, err := svc.ListAccounts(w.ctx, op); return err }},
		{"FindAccount", func() error { _, err := svc.FindAccount(w.ctx, op, "Acme"); return err }},
		{"GetAccount", func() error { _, err := svc.GetAccount(w.ctx, admin, w.acme); return err }},
		{"AccountDetails", func() error { _, err := svc.AccountDetails(w.ctx, admin, w.acme); return err }},
		{"SetRequireMFA", func() error { _, err := svc.SetRequireMFA(w.ctx, admin, w.acme, true); return err }},
		{"ListAudit", func() error { _, err := svc.ListAudit(w.ctx, admin, w.acme, 0, 20); return err }},
		{"MyMFA", func() error { _, err := svc.MyMFA(w.ctx, carol); return err }},
		{"BeginEnrollment", func() error { _, err := svc.BeginEnrollment(w.ctx, carol); return err }},
		{"ConfirmEnrollment", func() error { _, _, err := svc.ConfirmEnrollment(w.ctx, carol, "123456"); return err }},
		{"DeleteMyMFA", func() error { _, err := svc.DeleteMyMFA(w.ctx, bobAtCode, code); return err }},
		{"RemoveUserMFA", func() error { _, err := svc.RemoveUserMFA(w.ctx, admin, w.bob.ID, "lost phone", ""); return err }},
		{"ResetPassword", func() error { return svc.ResetPassword(w.ctx, admin, w.carol.ID, "a new password 42", "") }},
		{"ChangePassword", func() error {
			_, err := svc.ChangePassword(w.ctx, carol, testPassword, "a new password 42")
			return err
		}},
		{"SearchUsers", func() error { _, err := svc.SearchUsers(w.ctx, admin, w.acme, UserQuery{Term: "ca"}); return err }},
		{"CreateUser", func() error {
			_, err := svc.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "dave", Role: RoleUser, Password: testPassword}, "")
			return err
		}},
		{"GetUser", func() error { _, err := svc.GetUser(w.ctx, admin, w.bob.ID); return err }},
		{"FindUser", func() error { _, err := svc.FindUser(w.ctx, op, "bob"); return err }},
		{"UpdateUser", func() error {
			_, err := svc.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &name, Email: &email})
			return err
		}},
		{"BeginExternalEnrollment", func() error { _, err := svc.BeginExternalEnrollment(w.ctx, "carol", "pam:test"); return err }},
	}

	bobBefore := w.mfaRow(w.bob.ID)
	rows := w.counts()
	for i := 0; i < lockAfter+1; i++ { // more than a lock's worth: none may count
		for _, o := range ops {
			if i == 0 {
				// The cut meets connections the pool has just used, which
				// database/sql hands out again without a check.
				proxy.Restore()
				if _, err := svc.Login(w.ctx, "carol", testPassword, "test"); err != nil {
					t.Fatal(err)
				}
				rows = w.counts()
				proxy.Cut()
			}
			start := time.Now()
			err := o.call()
			took := time.Since(start)
			switch {
			case !errors.Is(err, ErrUnreachable):
				t.Errorf("%s with the store cut: %v, want ErrUnreachable", o.name, err)
			case strings.Contains(err.Error(), "SQLSTATE") || strings.Contains(err.Error(), "dial"):
				t.Errorf("%s with the store cut: %q says more than the sentence", o.name, err)
			}
			if took > 2*time.Second {
				t.Errorf("%s with the store cut took %v", o.name, took)
			}
			if got := w.counts(); got != rows {
				t.Errorf("%s with the store cut: rows (users, mfa, audit) %v, before %v", o.name, got, rows)
				rows = got
			}
		}
	}
	if got := w.mfaRow(w.bob.ID); got.Failures != bobBefore.Failures || got.LastStep != bobBefore.LastStep {
		t.Errorf("bob's MFA row after codes sent during the outage: %+v, before %+v", got, bobBefore)
	}

	proxy.Restore()
	// database/sql drops the dead connections and dials again: the very
	// calls refused above now work, the code included (its step was never
	// used), and the wrong passwords locked nobody.
	if _, err := svc.Login(w.ctx, "carol", testPassword, "test"); err != nil {
		t.Fatalf("Login once the store is back: %v", err)
	}
	if _, err := svc.VerifyLoginCode(w.ctx, bobAtCode, code); err != nil {
		t.Fatalf("VerifyLoginCode once the store is back, with the code refused during the outage: %v", err)
	}
	if _, err := svc.SearchUsers(w.ctx, admin, w.acme, UserQuery{Term: "ca"}); err != nil {
		t.Fatalf("SearchUsers once the store is back: %v", err)
	}
	if _, err := svc.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &name}); err != nil {
		t.Fatalf("UpdateUser once the store is back: %v", err)
	}
}

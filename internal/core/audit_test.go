package core

import (
	"encoding/base32"
	"strings"
	"testing"
	"time"
)

// TestAuditTrail performs each kind of change and failure and checks the one
// event it writes; then scans the whole trail for anything secret.
func TestAuditTrail(t *testing.T) {
	w := newWorld(t)
	const src = "ssh:192.0.2.7:40000"
	var secret []byte
	var recovery []string
	var used []string // every code sent, right or wrong
	var sess, admin Session
	name, yes := "Robert", true
	steps := []struct {
		do     func() error
		action Action
		actor  string
		target string
		detail string
	}{
		{func() error { sess, _ = w.Login(w.ctx, "bob", testPassword, src); return nil }, ActionLogin, "bob", "bob", "password"},
		{func() error { _, err := w.Login(w.ctx, "bob", "wrong password", src); return ignore(err) }, ActionLoginFailed, "bob", "bob", "wrong password (1 counted)"},
		{func() error { _, err := w.Login(w.ctx, "nobody", testPassword, src); return ignore(err) }, ActionLoginFailed, "nobody", "nobody", "unknown user"},
		{func() error {
			en, err := w.BeginEnrollment(w.ctx, sess)
			secret = en.secret
			return err
		}, ActionMFASetupStarted, "bob", "bob", ""},
		{func() error {
			c := w.wrongCode(secret)
			used = append(used, c)
			_, _, err := w.ConfirmEnrollment(w.ctx, sess, c)
			return ignore(err)
		}, ActionCodeFailed, "bob", "bob", "wrong code (1 in a row)"},
		{func() error {
			c := w.code(secret, 0)
			used = append(used, c)
			var err error
			recovery, _, err = w.ConfirmEnrollment(w.ctx, sess, c)
			return err
		}, ActionMFAEnabled, "bob", "bob", ""},
		{func() error {
			w.clock.Advance(time.Minute)
			c := w.code(secret, 0)
			used = append(used, c)
			var err error
			sess, err = w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), c)
			return err
		}, ActionLogin, "bob", "bob", "password and authenticator code"},
		{func() error {
			_, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), recovery[0])
			return err
		}, ActionLogin, "bob", "bob", "password and recovery code"},
		{func() error {
			var err error
			sess, err = w.ChangePassword(w.ctx, sess, testPassword, "new secret words")
			return err
		}, ActionPasswordChanged, "bob", "bob", ""},
		{func() error {
			return ignore(errOf(w.ChangePassword(w.ctx, sess, "bad old password", "other words here")))
		}, ActionLoginFailed, "bob", "bob", "wrong password (1 counted)"},
		{func() error { admin = w.login("alice", StageSignedIn); return nil }, ActionLogin, "alice", "alice", "password"},
		{func() error {
			_, err := w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &name})
			return err
		}, ActionUserUpdated, "alice", "bob", `name: "" -> "Robert"`},
		{func() error { return w.ResetPassword(w.ctx, admin, w.bob.ID, testPassword, "") }, ActionPasswordReset, "alice", "bob",
			"temporary: to be changed at the next login"},
		{func() error { _, err := w.SetRequireMFA(w.ctx, admin, w.acme, true); return err }, ActionRequireMFA, "alice", "",
			"require MFA: false -> true; 2 enabled users without MFA"},
		{func() error { return errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, "lost phone", "")) }, ActionMFARemoved, "alice", "bob", "lost phone"},
		{func() error {
			_, err := w.CreateUser(w.ctx, LocalOperator("local:root"), w.acme, NewUser{Username: "dave", Password: testPassword}, "")
			return err
		}, ActionUserCreated, "operator", "dave", "role user; temporary password, to be changed at the first login"},
		{func() error {
			_, err := w.UpdateUser(w.ctx, admin, w.carol.ID, UserUpdate{Disabled: &yes})
			return err
		}, ActionUserUpdated, "alice", "carol", "disabled: false -> true"},
		{func() error { _, err := w.Login(w.ctx, "carol", testPassword, src); return ignore(err) }, ActionLoginFailed, "carol", "carol", "user disabled (1 counted)"},
	}
	for i, s := range steps {
		before := w.count("audit_events")
		if err := s.do(); err != nil {
			t.Fatalf("step %d (%s): %v", i, s.action, err)
		}
		want := 1
		if strings.HasSuffix(s.detail, "recovery code") {
			want = 2 // the spent recovery code is an event of its own, before the login
		}
		if n := w.count("audit_events"); n != before+want {
			t.Errorf("step %d (%s) wrote %d events, want %d", i, s.action, n-before, want)
		}
		ev := w.lastAudit()
		if ev.Action != string(s.action) || ev.ActorName != s.actor || ev.TargetName != s.target || ev.Detail != s.detail {
			t.Errorf("step %d: got %s actor %q target %q detail %q; want %s %q %q %q", i, ev.Action, ev.ActorName,
				ev.TargetName, ev.Detail, s.action, s.actor, s.target, s.detail)
		}
		if ev.At != w.clock.Now().UnixNano() {
			t.Errorf("step %d: event time %d is not the clock's", i, ev.At)
		}
	}
	// A user finishing the password step leaves no event until the code.
	w.enroll(w.login("alice", StageSetupMFA))
	before := w.count("audit_events")
	w.login("alice", StageCode)
	if w.count("audit_events") != before {
		t.Error("the password step of an MFA login was audited as a login")
	}

	b32 := base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)
	forbidden := append([]string{testPassword, "new secret words", "other words here", "bad old password",
		"wrong password!", b32, strings.ToLower(b32), b32[:12], string(secret), "otpauth"}, recovery...)
	forbidden = append(forbidden, used...)
	rows, err := w.db.QueryContext(w.ctx, `SELECT action || '|' || actor_name || '|' || target_name || '|' ||
		source || '|' || detail || '|' || account_id || '|' || actor_id || '|' || target_id FROM audit_events`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var text string
		if err := rows.Scan(&text); err != nil {
			t.Fatal(err)
		}
		n++
		for _, f := range forbidden {
			if strings.Contains(text, f) || strings.Contains(text, strings.ReplaceAll(f, "-", "")) {
				t.Errorf("audit event %q holds %q", text, f)
			}
		}
	}
	if n < len(steps) {
		t.Fatalf("scanned %d events", n)
	}
}

func ignore(err error) error {
	if err == nil {
		return errUnexpectedSuccess
	}
	return nil
}

var errUnexpectedSuccess = &InputError{Field: "test", Msg: "a failure was expected"}

// TestListAuditScope: an admin sees their account's events, newest first,
// and pages by id; failures for unknown names belong to no account.
func TestListAuditScope(t *testing.T) {
	w := newWorld(t)
	w.Login(w.ctx, "nobody", testPassword, "test")
	w.login("gina", StageSignedIn)
	admin := w.login("alice", StageSignedIn)
	evs, err := w.ListAudit(w.ctx, admin, w.acme, 0, 1000)
	if err != nil || len(evs) < 4 {
		t.Fatalf("ListAudit: %d events, %v", len(evs), err)
	}
	for i, e := range evs {
		if e.AccountID != w.acme || e.TargetName == "nobody" || e.TargetName == "gina" {
			t.Errorf("event %+v is not Acme's", e)
		}
		if i > 0 && e.ID >= evs[i-1].ID {
			t.Errorf("events not newest first at %d", i)
		}
	}
	page, err := w.ListAudit(w.ctx, admin, w.acme, evs[1].ID, 2)
	if err != nil || len(page) != 2 || page[0].ID != evs[2].ID || page[1].ID != evs[3].ID {
		t.Errorf("second page: %+v, %v", page, err)
	}
	all, err := w.ListAudit(w.ctx, LocalOperator("x"), -1, 0, 1000)
	if err != nil || len(all) != w.count("audit_events") {
		t.Errorf("operator sees %d of %d events, %v", len(all), w.count("audit_events"), err)
	}
}

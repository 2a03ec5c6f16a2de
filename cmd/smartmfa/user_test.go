package main

import (
	"errors"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

func TestUserAddAndShow(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.createAccount("beta", "zed")

	r := e.ok(userPassword+"\n", "user", "add", "acme", "bob", "--name", "Bob Builder", "--email", "bob@example.com", "--password-stdin")
	if r.stdout != "added \"bob\" to account \"acme\" as user with a temporary password; they choose their own at the first login\n" {
		t.Errorf("user add printed %q", r.stdout)
	}
	r = e.ok(userPassword+"\n", "user", "add", "ACME", "carol", "--admin", "--password-stdin")
	if !strings.Contains(r.stdout, "as administrator") {
		t.Errorf("user add --admin printed %q", r.stdout)
	}

	var u jsonUser
	decode(t, e.ok("", "user", "show", "BOB", "--json").stdout, &u)
	if u.Username != "bob" || u.Account != "acme" || u.AccountID == 0 || u.ID == 0 || u.Name != "Bob Builder" ||
		u.Email != "bob@example.com" || u.Role != "user" || u.Disabled || u.MFA != "off" {
		t.Errorf("user show --json = %+v", u)
	}
	for _, ts := range []string{u.CreatedAt, u.UpdatedAt} {
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("time %q is not RFC 3339 UTC", ts)
		}
	}
	decode(t, e.ok("", "user", "show", "carol", "--json").stdout, &u)
	if u.Role != "admin" {
		t.Errorf("carol's role is %q, want admin", u.Role)
	}
	show := e.ok("", "user", "show", "bob").stdout
	for _, s := range []string{"FIELD", "bob", "Bob Builder", "acme", "off", "enabled"} {
		if !strings.Contains(show, s) {
			t.Errorf("user show does not contain %q:\n%s", s, show)
		}
	}

	e.fail(exitFailure, `no account named "ghost"`, userPassword+"\n", "user", "add", "ghost", "dave", "--password-stdin")
	e.fail(exitFailure, `username "bob" already exists`, userPassword+"\n", "user", "add", "beta", "bob", "--password-stdin")
	e.fail(exitFailure, "the password is one of the most common", "iloveyou\n", "user", "add", "acme", "dave", "--password-stdin")
	e.fail(exitFailure, "longer than 4096 bytes", strings.Repeat("z", 1<<20), "user", "add", "acme", "dave", "--password-stdin")
	e.fail(exitFailure, "pass --password-stdin", userPassword+"\n", "user", "add", "acme", "dave")
	e.fail(exitFailure, "the username must start with a letter or digit", userPassword+"\n", "user", "add", "acme", "_dave", "--password-stdin")
	e.fail(exitFailure, `no user named "dave"`, "", "user", "show", "dave")
	e.fail(exitFailure, `no user named "a:b"`, "", "user", "show", "a:b")
}

// TestUserAddIsTemporary: a password the operator sets is temporary, typed
// or generated; a generated one is printed once, strong, and not audited.
func TestUserAddIsTemporary(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.ok("", "account", "require-mfa", "acme", "on")
	e.ok(userPassword+"\n", "user", "add", "acme", "bob", "--password-stdin")
	r := e.ok("", "user", "add", "acme", "carol", "--generate-password")
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	if len(lines) != 3 || !strings.HasSuffix(lines[0], "they choose their own at the first login, then set up MFA, which the account requires") ||
		!strings.HasPrefix(lines[1], "temporary password: ") || lines[2] != `give it to "carol" now: it is not shown again` {
		t.Fatalf("user add --generate-password printed %q", r.stdout)
	}
	generated := strings.TrimPrefix(lines[1], "temporary password: ")
	if !regexp.MustCompile(`^[0-9a-hjkmnp-tv-z]{4}(-[0-9a-hjkmnp-tv-z]{4}){3}$`).MatchString(generated) {
		t.Errorf("generated password %q is not 16 Crockford base32 characters in groups of four", generated)
	}
	if again := e.ok("", "user", "add", "acme", "dave", "--generate-password").stdout; strings.Contains(again, generated) {
		t.Errorf("two generated passwords are the same: %q", generated)
	}

	svc := e.openCore()
	defer svc.Close()
	for name, pw := range map[string]string{"bob": userPassword, "carol": generated} {
		if sess, err := svc.Login(t.Context(), name, pw, "test"); err != nil || sess.Stage() != core.StageNewPassword {
			t.Errorf("first login of %s: stage %d, %v; want StageNewPassword", name, sess.Stage(), err)
		}
	}
	// The first administrator chose their own password.
	if sess, err := svc.Login(t.Context(), "alice", adminPassword, "test"); err != nil || sess.Stage() == core.StageNewPassword {
		t.Errorf("alice's login: stage %d, %v", sess.Stage(), err)
	}
	if out := e.ok("", "audit", "--json").stdout; strings.Contains(out, generated) || strings.Contains(out, userPassword) {
		t.Error("the audit trail holds a password")
	}
	help := e.ok("", "user", "add", "--help").stdout
	for _, want := range []string{"temporary", "--generate-password"} {
		if !strings.Contains(help, want) {
			t.Errorf("user add --help does not mention %q:\n%s", want, help)
		}
	}
	e.fail(exitUsage, "--generate-password and --password-stdin do not go together", userPassword+"\n",
		"user", "add", "acme", "erin", "--generate-password", "--password-stdin")
}

func TestUserPasswd(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	const newPassword = "violet-anchor-meadow-3"

	r := e.ok(newPassword+"\n", "user", "passwd", "bob", "--password-stdin")
	if r.stdout != "set a temporary password for \"bob\"; they choose their own at the next login\n" {
		t.Errorf("passwd printed %q", r.stdout)
	}
	e.fail(exitFailure, "the password is one of the most common", "12345678\n", "user", "passwd", "bob", "--password-stdin")
	e.fail(exitFailure, "the password must have at least 8", "short\n", "user", "passwd", "bob", "--password-stdin")
	e.fail(exitFailure, `no user named "ghost"`, newPassword+"\n", "user", "passwd", "ghost", "--password-stdin")
	e.fail(exitFailure, "pass --password-stdin", newPassword+"\n", "user", "passwd", "bob")

	svc := e.openCore()
	defer svc.Close()
	if sess, err := svc.Login(t.Context(), "bob", newPassword, "test"); err != nil || sess.Stage() != core.StageNewPassword {
		t.Errorf("login with the new password: stage %d, %v; want StageNewPassword", sess.Stage(), err)
	}
	if _, err := svc.Login(t.Context(), "bob", userPassword, "test"); !errors.Is(err, core.ErrInvalidCredentials) {
		t.Errorf("login with the old password: %v, want invalid credentials", err)
	}
}

func TestUserDisableEnable(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	disabled := func(name string) bool {
		var u jsonUser
		decode(t, e.ok("", "user", "show", name, "--json").stdout, &u)
		return u.Disabled
	}

	if r := e.ok("", "user", "disable", "bob", "--yes"); r.stdout != "disabled \"bob\"; they can no longer log in\n" {
		t.Errorf("disable printed %q", r.stdout)
	}
	if !disabled("bob") {
		t.Errorf("bob is not disabled")
	}
	if r := e.ok("", "user", "disable", "bob", "--yes"); r.stdout != "\"bob\" is already disabled\n" {
		t.Errorf("second disable printed %q", r.stdout)
	}
	if r := e.ok("", "user", "enable", "bob"); !strings.HasPrefix(r.stdout, "enabled \"bob\"") {
		t.Errorf("enable printed %q", r.stdout)
	}
	if disabled("bob") {
		t.Errorf("bob is still disabled")
	}
	e.fail(exitFailure, "an account must keep at least one enabled administrator", "", "user", "disable", "alice", "--yes")
	if disabled("alice") {
		t.Errorf("the last administrator was disabled")
	}
	e.fail(exitFailure, `no user named "ghost"`, "", "user", "enable", "ghost")
}

func TestUserRemoveMFA(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	mfa := func() string {
		var u jsonUser
		decode(t, e.ok("", "user", "show", "bob", "--json").stdout, &u)
		return u.MFA
	}

	e.fail(exitFailure, `"bob" has no MFA to remove`, "", "user", "remove-mfa", "bob", "--yes")
	e.enrollMFA("bob", userPassword)
	if got := mfa(); got != "on" {
		t.Fatalf("after enrolment bob's mfa is %q", got)
	}
	// A script that forgets --yes is stopped before anything changes.
	e.fail(exitUsage, "pass --yes", "", "user", "remove-mfa", "bob", "--reason", "lost phone")
	if got := mfa(); got != "on" {
		t.Fatalf("remove-mfa without --yes changed bob's mfa to %q", got)
	}
	r := e.ok("", "user", "remove-mfa", "bob", "--yes", "--reason", "lost phone")
	if r.stdout != "removed MFA from \"bob\"; their next login asks for no code\n" {
		t.Errorf("remove-mfa printed %q", r.stdout)
	}
	if got := mfa(); got != "off" {
		t.Errorf("after remove-mfa bob's mfa is %q", got)
	}
	e.fail(exitFailure, `"bob" has no MFA to remove`, "", "user", "remove-mfa", "bob", "--yes")
	e.fail(exitFailure, "the reason may not contain control", "", "user", "remove-mfa", "bob", "--yes", "--reason", "a\x07b")

	var events []jsonAuditEvent
	decode(t, e.ok("", "audit", "acme", "--json").stdout, &events)
	i := slices.IndexFunc(events, func(ev jsonAuditEvent) bool { return ev.Action == string(core.ActionMFARemoved) })
	if i < 0 || events[i].Target != "bob" || events[i].Detail != "lost phone" || !strings.HasPrefix(events[i].Source, "local:") {
		t.Errorf("audit has no mfa removal of bob with its reason: %+v", events)
	}

	e.ok("", "account", "require-mfa", "acme", "on")
	e.enrollMFA("bob", userPassword)
	r = e.ok("", "user", "remove-mfa", "bob", "--yes")
	if !strings.Contains(r.stdout, "their next login goes to MFA setup") {
		t.Errorf("remove-mfa with MFA required printed %q", r.stdout)
	}
}

// TestUserList needs core.SearchUsers.
func TestUserList(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.createAccount("beta", "zed")
	e.addUser("acme", "bob", "--name", "Bob Builder")
	e.addUser("acme", "carol", "--admin", "--email", "carol@corp.example")
	e.enrollMFA("bob", userPassword)

	list := func(args ...string) []string {
		t.Helper()
		var users []jsonUser
		decode(t, e.ok("", append([]string{"user", "list", "acme", "--json"}, args...)...).stdout, &users)
		names := []string{}
		for _, u := range users {
			if u.Account != "acme" {
				t.Errorf("user %s of account %q in acme's list", u.Username, u.Account)
			}
			names = append(names, u.Username)
		}
		slices.Sort(names)
		return names
	}
	tests := []struct {
		args []string
		want []string
	}{
		{nil, []string{"alice", "bob", "carol"}},
		{[]string{"--role", "admin"}, []string{"alice", "carol"}},
		{[]string{"--role", "user"}, []string{"bob"}},
		{[]string{"--mfa", "on"}, []string{"bob"}},
		{[]string{"--mfa", "off"}, []string{"alice", "carol"}},
		{[]string{"--search", "CAR"}, []string{"carol"}},
		{[]string{"--search", "corp.example"}, []string{"carol"}},
		{[]string{"--search", "builder"}, []string{"bob"}},
		{[]string{"--search", "zed"}, []string{}},
		{[]string{"--search", "%"}, []string{}},
	}
	for _, tt := range tests {
		if got := list(tt.args...); !slices.Equal(got, tt.want) {
			t.Errorf("user list acme %q = %q, want %q", tt.args, got, tt.want)
		}
	}
	if r := e.ok("", "user", "list", "acme", "--search", "nobody", "--json"); r.stdout != "[]\n" {
		t.Errorf("empty user list --json printed %q, want []", r.stdout)
	}
	table := e.ok("", "user", "list", "acme").stdout
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 4 || !strings.HasPrefix(lines[0], "USERNAME") {
		t.Errorf("user list table:\n%s", table)
	}
	e.fail(exitFailure, `no account named "ghost"`, "", "user", "list", "ghost")
	e.fail(exitFailure, "the search must be at most 64 characters", "", "user", "list", "acme", "--search", strings.Repeat("q", 65))
}

package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAccountCreateListShow(t *testing.T) {
	e := newEnv(t)
	if r := e.ok("", "account", "list", "--json"); r.stdout != "[]\n" {
		t.Errorf("empty list --json printed %q, want []", r.stdout)
	}
	r := e.ok(adminPassword+"\n", "account", "create", "acme", "--admin", "alice",
		"--name", "Alice Admin", "--email", "alice@example.com", "--password-stdin")
	if r.stdout != "created account \"acme\" with administrator \"alice\"\n" {
		t.Errorf("create printed %q", r.stdout)
	}

	var accounts []jsonAccount
	decode(t, e.ok("", "account", "list", "--json").stdout, &accounts)
	if len(accounts) != 1 || accounts[0].Name != "acme" || accounts[0].RequireMFA || accounts[0].ID == 0 {
		t.Fatalf("account list --json = %+v", accounts)
	}
	created, err := time.Parse(time.RFC3339, accounts[0].CreatedAt)
	if err != nil || !strings.HasSuffix(accounts[0].CreatedAt, "Z") || time.Since(created) > time.Minute {
		t.Errorf("created_at %q is not a recent RFC 3339 UTC time (%v)", accounts[0].CreatedAt, err)
	}

	lines := strings.Split(strings.TrimSpace(e.ok("", "account", "list").stdout), "\n")
	if len(lines) != 2 || !strings.HasPrefix(lines[0], "NAME") || !strings.HasPrefix(lines[1], "acme ") {
		t.Errorf("account list table:\n%s", strings.Join(lines, "\n"))
	}

	var d jsonAccountDetails
	decode(t, e.ok("", "account", "show", "ACME", "--json").stdout, &d) // names are case-insensitive
	want := jsonAccountDetails{jsonAccount: accounts[0], Users: 1, Enabled: 1, Admins: 1, WithMFA: 0, WithoutMFA: 1}
	if d != want {
		t.Errorf("account show --json = %+v, want %+v", d, want)
	}
	show := e.ok("", "account", "show", "acme").stdout
	for _, s := range []string{"FIELD", "require mfa  off", "1 (1 enabled, 1 administrator)"} {
		if !strings.Contains(show, s) {
			t.Errorf("account show does not contain %q:\n%s", s, show)
		}
	}

	var u jsonUser
	decode(t, e.ok("", "user", "show", "alice", "--json").stdout, &u)
	if u.Role != "admin" || u.Name != "Alice Admin" || u.Email != "alice@example.com" || u.Account != "acme" {
		t.Errorf("first user = %+v, want the administrator with name and email", u)
	}
}

func TestAccountCreateRefusesAndCreatesNothing(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	tests := []struct {
		name, stdin string
		args        []string
		want        string
	}{
		{"account exists", adminPassword + "\n", []string{"acme"}, `account "acme" already exists`},
		{"account exists in other case", adminPassword + "\n", []string{"ACME"}, `account "ACME" already exists`},
		{"username exists", adminPassword + "\n", []string{"beta", "--admin", "ALICE"}, `username "ALICE" already exists`},
		{"common password", "Password123\n", []string{"beta"}, "the password is one of the most common passwords"},
		{"short password", "short\n", []string{"beta"}, "the password must have at least 8 characters"},
		{"password too long for core", strings.Repeat("x", 1025) + "\n", []string{"beta"}, "the password must have at most 1024 characters"},
		{"1 MB line", strings.Repeat("y", 1<<20) + "\n", []string{"beta"}, "longer than 4096 bytes"},
		{"empty stdin", "", []string{"beta"}, "standard input is empty"},
		{"bad username", adminPassword + "\n", []string{"beta", "--admin", "bad:name"}, "the username may hold only"},
		{"control character in name", adminPassword + "\n", []string{"beta\x1b[31m"}, "the account name may not contain control"},
		{"hangul filler", adminPassword + "\n", []string{"acme\u3164"}, "the account name may not contain invisible or formatting characters (U+3164)"},
		{"cyrillic look-alike", adminPassword + "\n", []string{"\u0430cme"}, "the account name may not mix Latin and Cyrillic letters (U+0430 is Cyrillic)"},
		{"line separator", adminPassword + "\n", []string{"beta\u2028gamma"}, "the account name may not contain line or paragraph separators (U+2028)"},
		{"full-width look-alike", adminPassword + "\n", []string{"\uff21cme"}, "account \"\uff21cme\" already exists"},
		{"bad email", adminPassword + "\n", []string{"beta", "--email", "nobody"}, "the email must look like"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"account", "create"}, tt.args...)
			if !slices.Contains(args, "--admin") {
				args = append(args, "--admin", "bob")
			}
			r := e.fail(exitFailure, tt.want, tt.stdin, append(args, "--password-stdin")...)
			if strings.ContainsRune(r.stderr, '\x1b') {
				t.Errorf("stderr holds an escape character: %q", r.stderr)
			}
		})
	}
	t.Run("no terminal and no --password-stdin", func(t *testing.T) {
		e.fail(exitFailure, "pass --password-stdin", adminPassword+"\n", "account", "create", "beta", "--admin", "bob")
	})
	if names := e.accountNames(); !slices.Equal(names, []string{"acme"}) {
		t.Errorf("accounts after refusals: %q, want only acme", names)
	}
	e.fail(exitFailure, `no user named "bob"`, "", "user", "show", "bob")
}

func TestPasswordStdinKeepsSpacesAndStripsOnlyTheLineEnd(t *testing.T) {
	e := newEnv(t)
	pw := "  spaced out pass  "
	e.ok(pw+"\r\n", "account", "create", "acme", "--admin", "alice", "--password-stdin")
	svc := e.openCore()
	defer svc.Close()
	if _, err := svc.Login(t.Context(), "alice", pw, "test"); err != nil {
		t.Errorf("login with the exact password typed: %v", err)
	}
}

func TestAccountRequireMFA(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	e.enrollMFA("bob", userPassword)

	r := e.ok("", "account", "require-mfa", "acme", "on")
	if !strings.Contains(r.stdout, "now requires MFA; 1 enabled user has no MFA yet and will be sent to MFA setup") {
		t.Errorf("require-mfa on printed %q", r.stdout)
	}
	var d jsonAccountDetails
	decode(t, e.ok("", "account", "show", "acme", "--json").stdout, &d)
	if !d.RequireMFA || d.WithMFA != 1 || d.WithoutMFA != 1 || d.Users != 2 {
		t.Errorf("after require-mfa on: %+v", d)
	}
	if r := e.ok("", "account", "require-mfa", "acme", "on"); !strings.Contains(r.stdout, "already requires MFA") {
		t.Errorf("second require-mfa on printed %q", r.stdout)
	}
	if r := e.ok("", "account", "require-mfa", "acme", "off"); !strings.Contains(r.stdout, "no longer requires MFA") {
		t.Errorf("require-mfa off printed %q", r.stdout)
	}
	decode(t, e.ok("", "account", "show", "acme", "--json").stdout, &d)
	if d.RequireMFA {
		t.Errorf("require_mfa still true after off")
	}
	e.fail(exitFailure, `no account named "ghost"`, "", "account", "require-mfa", "ghost", "on")
	e.fail(exitFailure, `no account named "ghost"`, "", "account", "show", "ghost")
}

func TestAccountRequireMFADeadline(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")

	r := e.ok("", "account", "require-mfa", "acme", "on", "--grace", "7d")
	if !strings.Contains(r.stdout, `account "acme" requires MFA from `) ||
		!strings.Contains(r.stdout, "(7 days left); 2 enabled users have no MFA yet and may postpone MFA setup until then") {
		t.Errorf("--grace 7d printed %q", r.stdout)
	}
	var d jsonAccountDetails
	decode(t, e.ok("", "account", "show", "acme", "--json").stdout, &d)
	if !d.RequireMFA || d.RequireMFAFrom == "" {
		t.Errorf("after --grace 7d: %+v", d)
	}
	if r := e.ok("", "account", "show", "acme"); !strings.Contains(r.stdout, "on from ") {
		t.Errorf("account show with a deadline printed %q", r.stdout)
	}

	next := time.Now().UTC().AddDate(0, 0, 30).Format(time.DateOnly)
	r = e.ok("", "account", "require-mfa", "acme", "on", "--from", next)
	if !strings.Contains(r.stdout, "requires MFA from "+next+" 00:00 UTC") {
		t.Errorf("--from %s printed %q", next, r.stdout)
	}
	audit := e.ok("", "audit", "acme", "--json").stdout
	if !strings.Contains(audit, "require MFA: true from ") || !strings.Contains(audit, "true from "+next) {
		t.Errorf("the audit trail lacks the old and new deadlines:\n%s", audit)
	}
	// Requiring MFA at once ends the grace.
	if r := e.ok("", "account", "require-mfa", "acme", "on"); !strings.Contains(r.stdout, "now requires MFA") {
		t.Errorf("on after a deadline printed %q", r.stdout)
	}
	var now jsonAccountDetails
	decode(t, e.ok("", "account", "show", "acme", "--json").stdout, &now)
	if !now.RequireMFA || now.RequireMFAFrom != "" {
		t.Errorf("the deadline stayed: %+v", now)
	}

	yesterday := time.Now().UTC().AddDate(0, 0, -1).Format(time.DateOnly)
	for _, c := range []struct {
		name string
		args []string
		want string
	}{
		{"both flags", []string{"--grace", "7d", "--from", next}, "give --grace or --from, not both"},
		{"a bad date", []string{"--from", "31/12/2026"}, `--from must be a date such as 2026-12-31 (YYYY-MM-DD, UTC), not "31/12/2026"`},
		{"a past date", []string{"--from", yesterday}, "--from " + yesterday + " is not in the future"},
		{"a bad grace", []string{"--grace", "a week"}, `--grace must be a number of days such as 7d`},
		{"no grace", []string{"--grace", "0d"}, "--grace 0d is not a period ahead"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e.fail(exitUsage, c.want, "", append([]string{"account", "require-mfa", "acme", "on"}, c.args...)...)
		})
	}
	e.fail(exitUsage, "--grace and --from go only with on", "", "account", "require-mfa", "acme", "off", "--grace", "7d")
}

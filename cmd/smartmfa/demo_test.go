package main

import (
	"bytes"
	"strings"
	"testing"
)

// TestDemo needs core.SeedDemo (and core.SearchUsers for the paging check).
func TestDemo(t *testing.T) {
	e := newEnv(t)
	r := e.ok("", "demo", "--users", "5")
	if !strings.Contains(r.stdout, `log in as "demo-admin" with the password `+demoPassword) {
		t.Errorf("demo did not say how to log in: %q", r.stdout)
	}
	var d jsonAccountDetails
	decode(t, e.ok("", "account", "show", demoAccount, "--json").stdout, &d)
	if d.Users != 6 || d.Admins < 1 {
		t.Errorf("demo account = %+v, want 5 users and the administrator", d)
	}
	svc := e.openCore()
	if _, err := svc.Login(t.Context(), "demo-admin", demoPassword, "test"); err != nil {
		t.Errorf("login with the printed demo credentials: %v", err)
	}
	svc.Close()
	e.fail(exitFailure, "already exists", "", "demo", "--users", "1")

	e.fail(exitFailure, "the password is one of the most common", "password1\n", "demo", "--account", "Other", "--password-stdin")
	if names := e.accountNames(); len(names) != 1 {
		t.Errorf("accounts after a refused demo: %q", names)
	}

	// A second demo account needs a database of its own: its administrator's
	// username, demo-admin, is taken in this one.
	e = newEnv(t)
	r = e.ok("own-demo-secret-9\n", "demo", "--account", "Big", "--users", "520", "--password-stdin")
	if strings.Contains(r.stdout, "own-demo-secret-9") {
		t.Errorf("demo echoed the password given on stdin: %q", r.stdout)
	}
	var users []jsonUser
	decode(t, e.ok("", "user", "list", "Big", "--json").stdout, &users)
	if len(users) != 521 {
		t.Errorf("user list of a 521-user account returned %d users", len(users))
	}
}

func TestProgressBar(t *testing.T) {
	var buf bytes.Buffer
	p := &progress{w: &buf, label: "creating users", then: "; building the search index…", last: -1}
	for done := 0; done <= 200; done++ {
		p.update(done, 200)
	}
	p.finish()
	out := buf.String()
	if n := strings.Count(out, "\r"); n != 101 {
		t.Errorf("bar redrawn %d times, want once per percent (101)", n)
	}
	if !strings.HasPrefix(out, "\rcreating users [..............................]   0% 0/200\r") ||
		!strings.HasSuffix(out, "\rcreating users [##############################] 100% 200/200; building the search index…\n") {
		t.Errorf("bar starts with %q and ends with %q", out[:min(len(out), 60)], out[max(0, len(out)-80):])
	}

	quiet := (&app{stderr: &buf}).progressBar("copying rows", "") // a buffer is not a terminal
	buf.Reset()
	quiet.update(1, 2)
	quiet.finish()
	if buf.Len() != 0 {
		t.Errorf("progress drawn on a non-terminal: %q", buf.String())
	}
}

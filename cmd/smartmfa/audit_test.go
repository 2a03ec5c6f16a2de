package main

import (
	"slices"
	"strings"
	"testing"
	"time"
)

func TestAudit(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.ok(userPassword+"\n", "user", "add", "acme", "bob", "--password-stdin") // bob never logs in: only the operator acts
	e.createAccount("beta", "zed")
	e.ok("", "user", "disable", "bob", "--yes")

	var all []jsonAuditEvent
	out := e.ok("", "audit", "--json").stdout
	decode(t, out, &all)
	wantActions := []string{"user.updated", "user.created", "account.created", "user.created", "user.created", "account.created"}
	var actions []string
	for i, ev := range all {
		actions = append(actions, ev.Action)
		if i > 0 && ev.ID >= all[i-1].ID {
			t.Errorf("audit is not newest first: id %d after %d", ev.ID, all[i-1].ID)
		}
		if _, err := time.Parse(time.RFC3339, ev.Time); err != nil || !strings.HasSuffix(ev.Time, "Z") {
			t.Errorf("time %q is not RFC 3339 UTC", ev.Time)
		}
		if ev.Actor != "operator" || !strings.HasPrefix(ev.Source, "local:") || ev.Source == "local:" {
			t.Errorf("event %d: actor %q source %q, want the operator from local:<user>", ev.ID, ev.Actor, ev.Source)
		}
	}
	if !slices.Equal(actions, wantActions) {
		t.Errorf("actions = %q, want %q", actions, wantActions)
	}
	if all[0].Target != "bob" || all[0].Account != "acme" || all[1].Account != "beta" || all[1].Target != "zed" {
		t.Errorf("newest events: %+v", all[:2])
	}
	for _, secret := range []string{adminPassword, userPassword, "argon2"} {
		if strings.Contains(out, secret) {
			t.Errorf("the audit trail shows %q", secret)
		}
	}

	var acme []jsonAuditEvent
	decode(t, e.ok("", "audit", "acme", "--json").stdout, &acme)
	if len(acme) != 4 {
		t.Errorf("audit acme has %d events, want 4", len(acme))
	}
	for _, ev := range acme {
		if ev.Account != "acme" {
			t.Errorf("audit acme shows an event of %q", ev.Account)
		}
	}

	var two []jsonAuditEvent
	decode(t, e.ok("", "audit", "--limit", "2", "--json").stdout, &two)
	if len(two) != 2 || two[0] != all[0] || two[1] != all[1] {
		t.Errorf("audit --limit 2 = %+v, want the 2 newest", two)
	}
	table := e.ok("", "audit", "beta").stdout
	if lines := strings.Split(strings.TrimSpace(table), "\n"); len(lines) != 3 || !strings.HasPrefix(lines[0], "TIME") {
		t.Errorf("audit beta table:\n%s", table)
	}
	e.fail(exitFailure, `no account named "ghost"`, "", "audit", "ghost")
}

// TestAuditPages reads more events than core returns in one page.
func TestAuditPages(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	svc := e.openCore()
	ac, err := svc.FindAccount(t.Context(), e.operator(), "acme")
	if err != nil {
		t.Fatal(err)
	}
	const toggles = auditPageSize + 100
	for i := range toggles {
		if _, err := svc.SetRequireMFA(t.Context(), e.operator(), ac.ID, i%2 == 0); err != nil {
			t.Fatal(err)
		}
	}
	svc.Close()

	check := func(args []string, want int) {
		t.Helper()
		var events []jsonAuditEvent
		decode(t, e.ok("", append([]string{"audit", "--json"}, args...)...).stdout, &events)
		if len(events) != want {
			t.Fatalf("audit %q returned %d events, want %d", args, len(events), want)
		}
		for i := 1; i < len(events); i++ {
			if events[i].ID >= events[i-1].ID {
				t.Fatalf("audit %q: id %d after %d", args, events[i].ID, events[i-1].ID)
			}
		}
	}
	check(nil, 100) // the default limit
	check([]string{"--limit", "1050"}, 1050)
	check([]string{"--limit", "0"}, toggles+2)
	check([]string{"acme", "--limit", "0"}, toggles+2)
}

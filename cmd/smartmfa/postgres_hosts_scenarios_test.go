//go:build linux

package main

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// step is the TOTP time step of now.
func step() int64 { return time.Now().Unix() / 30 }

// raceCode starts pam-verify for user on every host, waits until each is
// reading its standard input (the store open, the code all it waits for),
// then gives them all the code at once, and returns their statuses and log
// lines in the hosts' order.
func raceCode(t *testing.T, hosts []*pgHost, user, code string) ([]int, []string) {
	t.Helper()
	calls := make([]*pamCall, len(hosts))
	for i, h := range hosts {
		calls[i] = h.startPAM(user)
	}
	for _, c := range calls {
		c.waitReading()
	}
	var wg sync.WaitGroup
	for _, c := range calls {
		wg.Go(func() { c.send(code) })
	}
	wg.Wait()
	statuses, lines := make([]int, len(hosts)), make([]string, len(hosts))
	for i, c := range calls {
		statuses[i], lines[i] = c.result()
	}
	return statuses, lines
}

// TestPostgresHostsRaceOneCode: hosts A and B on one PostgreSQL store are
// given one user's code at the same moment, pam-verify on each reading it
// only once both have the store open. Round after round, each with a step
// no one has used (the current and the next of each of several users) or
// an unspent recovery code, exactly one host accepts and the other says the
// code was just used; the audit trail holds exactly the accepted logins,
// each from the host that accepted it.
func TestPostgresHostsRaceOneCode(t *testing.T) {
	a, b := twoHostsOnPostgres(t)
	hosts := []*pgHost{a, b}
	var users []pamUser
	for i := range 8 {
		users = append(users, a.e.enrollPAM("acme", fmt.Sprintf("user%d", i)))
	}

	wins := map[string]int{}
	var took []time.Duration
	round := func(u pamUser, code, loser string) (winners int) {
		t.Helper()
		start := time.Now()
		statuses, lines := raceCode(t, hosts, u.name, code)
		took = append(took, time.Since(start))
		for i, st := range statuses {
			switch {
			case st == pamAccepted && strings.Contains(lines[i], "accepted"):
				winners++
				wins[hosts[i].name]++
			case st == pamRefused && strings.Contains(lines[i], loser):
			default:
				t.Errorf("%s's code %s on host %s: exit %d, %q; want accepted, or refused with %q",
					u.name, code, hosts[i].name, st, lines[i], loser)
			}
		}
		if winners > 1 {
			t.Errorf("%s's code %s was accepted on %d hosts: %q", u.name, code, winners, lines)
		}
		return winners
	}

	rounds := 0
	for _, u := range users {
		// enrollPAM confirmed with the previous step's code, so the current
		// step and the next are unused. A round never takes the previous
		// step: its code stays in the window should a step end mid-round.
		for s := step(); s <= step()+1; s++ {
			code := oathtool(t, u.setupKey, fmt.Sprintf("@%d", s*30))
			if round(u, code, "wait for the next one") == 0 {
				t.Fatalf("round %d: no host accepted %s's code of step %d", rounds+1, u.name, s)
			}
			rounds++
		}
		if round(u, u.recovery[0], "invalid code") > 0 {
			rounds++
		} else {
			t.Fatalf("no host accepted %s's unspent recovery code", u.name)
		}
	}
	slices.Sort(took)
	t.Logf("%d rounds, each exactly one accepted: host A won %d, host B %d; a round (2 processes) took %v median, %v at most",
		rounds, wins["A"], wins["B"], took[len(took)/2], took[len(took)-1])

	// The trail, read on B, holds one sign-in per accepted round (a
	// recovery code's too), each from the address of the host that
	// accepted it.
	var events []jsonAuditEvent
	decode(t, b.e.ok("", "audit", "acme", "--json").stdout, &events)
	fromHost := map[string]int{}
	for _, ev := range events {
		for _, h := range hosts {
			if ev.Source == "pam:"+h.rhost()+" (sshd)" && ev.Action == "login.succeeded" {
				fromHost[h.name]++
			}
		}
	}
	if fromHost["A"] != wins["A"] || fromHost["B"] != wins["B"] {
		t.Errorf("the audit trail shows %v accepted logins per host, the hosts accepted %v", fromHost, wins)
	}
}

// TestPostgresHostsShareTheLock: five wrong codes, alternating between
// hosts A and B, lock the user on both: the right code is then refused by
// pam-verify on A and on B, and the console of each host's serve says so
// after the password. A burst of eight wrong codes at once, four on each
// host, has exactly five checked: the rest meet the lock unchecked.
func TestPostgresHostsShareTheLock(t *testing.T) {
	a, b := twoHostsOnPostgres(t)
	bob := a.e.enrollPAM("acme", "bob")
	carol := a.e.enrollPAM("acme", "carol")
	servers := []*server{a.serve(), b.serve()}
	hosts := []*pgHost{a, b}

	start := time.Now()
	wrong := wrongCode(t, bob.setupKey)
	for i := range 5 {
		hosts[i%2].pam("bob", wrong, pamRefused, "invalid code")
	}
	right := oathtool(t, bob.setupKey, "")
	for _, h := range hosts {
		h.pam("bob", right, pamRefused, "too many failed attempts")
	}
	for i, h := range hosts {
		tm := h.consoleLogin(servers[i], "bob", userPassword, "Enter the 6-digit code")
		io.WriteString(tm.Keys, right+"\r")
		tm.Settle(t, "Too many failed attempts. Try again in")
	}
	if lasted := time.Since(start); lasted > 25*time.Second {
		t.Errorf("the checks took %v: the 30 s lock may have ended under them", lasted)
	}
	t.Logf("5 wrong codes across A and B, then the right one refused on both and on both consoles, in %v",
		time.Since(start).Round(time.Millisecond))

	wrong = wrongCode(t, carol.setupKey)
	statuses, lines := raceCode(t, []*pgHost{a, b, a, b, a, b, a, b}, "carol", wrong)
	checked, locked := 0, 0
	for i, st := range statuses {
		switch {
		case st == pamRefused && strings.Contains(lines[i], "invalid code"):
			checked++
		case st == pamRefused && strings.Contains(lines[i], "too many failed attempts"):
			locked++
		default:
			t.Errorf("a wrong code in the burst: exit %d, %q", st, lines[i])
		}
	}
	if checked != 5 || locked != 3 {
		t.Errorf("a burst of 8 wrong codes on two hosts: %d checked, %d refused by the lock; want 5 and 3:\n%s",
			checked, locked, strings.Join(lines, "\n"))
	}
	b.pam("carol", oathtool(t, carol.setupKey, ""), pamRefused, "too many failed attempts")
}

// TestPostgresHostsSeeRemoveMFAAtOnce: alice, the administrator, removes
// bob's MFA in the console of host A's serve; the moment A's screen says
// so, pam-verify on host B lets bob in without a code, and B's console
// signs him in without asking for one. Before, B asked him for a code.
func TestPostgresHostsSeeRemoveMFAAtOnce(t *testing.T) {
	a, b := twoHostsOnPostgres(t)
	a.e.enrollPAM("acme", "bob")
	sa, sb := a.serve(), b.serve()

	b.pam("bob", "", pamRefused, "enter the 6 digits")
	b.consoleLogin(sb, "bob", userPassword, "Enter the 6-digit code")

	const esc, enter, tab, right, ctrlR = "\x1b", "\r", "\t", "\x1b[C", "\x12"
	admin := a.consoleLogin(sa, "alice", adminPassword, "alice (admin)", "My multi-factor authentication")
	typeKeys(t, admin, esc, right, right, enter)
	admin.Settle(t, "Username", "Page 1")
	typeKeys(t, admin, "bob")
	admin.Settle(t, "> bob")
	typeKeys(t, admin, enter)
	admin.Settle(t, "Multi-Factor Authentication", "Status       On")
	typeKeys(t, admin, ctrlR)
	admin.Settle(t, "Remove multi-factor authentication from bob?", "Remove MFA from bob")
	typeKeys(t, admin, "lost phone", tab, tab) // past Cancel, to Remove MFA
	io.WriteString(admin.Keys, enter)
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(admin.Screen.String(), "Multi-factor authentication was removed from bob."); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("host A's console does not say bob's MFA was removed:\n%s", admin.Screen.String())
		}
	}
	shown := time.Now()
	b.pam("bob", "", pamAccepted, "no MFA, not required by the account")
	seen := time.Since(shown)
	b.consoleLogin(sb, "bob", userPassword, "bob", "is not set up")
	t.Logf("host B's pam-verify let bob in without a code %v after host A's console said his MFA was removed",
		seen.Round(time.Millisecond))
	if out := b.e.ok("", "user", "show", "bob").stdout; !strings.Contains(out, "mfa     off") {
		t.Errorf("host B's user show after the removal:\n%s", out)
	}
}

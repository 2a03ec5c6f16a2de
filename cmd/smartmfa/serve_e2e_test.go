package main

import (
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestServeEndToEndOpenSSH reaches the console through `smartmfa serve` with
// the real OpenSSH client in tmux, as a jump host's user would: alice logs
// in and enrols with a code oathtool computes from the setup key on the
// screen. The audit trail names the SSH session as the source, and the
// server's log names alice when her session ends.
func TestServeEndToEndOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ssh is needed for the end-to-end test (install openssh-client)")
		}
		t.Skip("ssh (openssh-client) is not installed: skipping the end-to-end test")
	}
	e := newEnv(t)
	e.createAccount("Acme", "alice")
	srv := newTmux(t, e)
	s := startServe(t, e)
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}

	command := "ssh -tt -F /dev/null -p " + port + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" +
		" -o LogLevel=ERROR -o AddressFamily=inet -o BatchMode=yes localhost"
	srv.tmux("new-session", "-d", "-s", "ssh", "-x", "80", "-y", "24", command)
	p := &pane{s: srv, target: "ssh"}

	p.login("alice", adminPassword)
	p.waitFor("alice (admin)", "is not set up")
	p.keys("Enter")
	key := p.setupKey()
	p.typeText(oathtool(t, key, ""))
	p.keys("Enter")
	p.waitFor("Multi-factor authentication has been set up", "Recovery codes")
	p.keys("Enter")
	p.waitFor("10 left")
	p.keys("C-c")
	log := s.waitLog(`msg="session end"`)
	if !strings.Contains(log, "user=alice") {
		t.Errorf("the end of the session does not name alice:\n%s", log)
	}
	for _, secret := range []string{adminPassword, strings.ReplaceAll(key, " ", "")} {
		if strings.Contains(log, secret) {
			t.Errorf("the server's log holds a secret:\n%s", log)
		}
	}

	audit := e.ok("", "audit", "Acme").stdout
	for _, want := range []string{"mfa.enabled", "ssh:127.0.0.1:"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail does not show %q:\n%s", want, audit)
		}
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM", code)
	}
}

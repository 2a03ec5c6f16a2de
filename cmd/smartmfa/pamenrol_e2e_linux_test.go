package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
)

// loginAnswering is one SSH login whose answer at the code prompt is
// computed from the prompt's text, as a person reads it and types.
func (h *jumpHost) loginAnswering(user string, answer func(prompt string) string) (*ssh.Client, string, error) {
	var mu sync.Mutex
	var prompt strings.Builder
	kbd := ssh.KeyboardInteractive(func(_, instruction string, questions []string, _ []bool) ([]string, error) {
		mu.Lock()
		defer mu.Unlock()
		prompt.Reset() // a retry within the connection shows the lines again
		prompt.WriteString(instruction)
		answers := make([]string, len(questions))
		for i, q := range questions {
			prompt.WriteString(q)
			answers[i] = answer(prompt.String())
		}
		return answers, nil
	})
	c, err := ssh.Dial("tcp", h.addr, &ssh.ClientConfig{User: user, Timeout: 20 * time.Second,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(h.signer), kbd}, HostKeyCallback: ssh.FixedHostKey(h.hostKey)})
	mu.Lock()
	defer mu.Unlock()
	return c, prompt.String(), err
}

// oathtoolCode is oathtool's code for a setup key, for callbacks that may
// not stop the test.
func oathtoolCode(key string) string {
	out, err := exec.Command("oathtool", "--totp", "-b", key).Output()
	if err != nil {
		return "oathtool: " + err.Error()
	}
	return strings.TrimSpace(string(out))
}

// interactiveLogin opens a shell on a terminal, as `ssh host` does, and
// returns what it prints until want shows or a deadline passes.
func interactiveLogin(t *testing.T, c *ssh.Client, want string) string {
	t.Helper()
	s, err := c.NewSession()
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var out syncBuffer
	s.Stdout, s.Stderr = &out, &out
	if err := s.RequestPty("xterm", 24, 80, ssh.TerminalModes{}); err != nil {
		t.Fatal(err)
	}
	if err := s.Shell(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline) && !strings.Contains(out.String(), want); {
		time.Sleep(20 * time.Millisecond)
	}
	return out.String()
}

// TestPAMEnrolBehindOpenSSH is the README's set-up with pam-enrol on a real
// sshd: a user without MFA in an account that requires it receives the QR
// code, the key and the recovery codes before the prompt, a wrong code
// leaves the same set-up for the next try, the code computed from the key
// shown logs in and sets MFA up, the next login asks for a code and refuses
// the set-up's, and a recovery code shown logs in once.
func TestPAMEnrolBehindOpenSSH(t *testing.T) {
	e, toService := jumpHostEnv(t)
	sfx := fmt.Sprint(os.Getpid() % 100000)
	user := "enrol" + sfx
	unixUser(t, user)
	e.createAccount("strict", "sam"+sfx)
	e.addUser("strict", user)
	e.ok("", "account", "require-mfa", "strict", "on")
	toService()
	h := startJumpHost(t, e, enrolAuth)

	// A first try with a wrong code: refused, after the set-up was shown.
	var wrong string
	c, prompt, err := h.loginAnswering(user, func(p string) string {
		if s, err := parseEnrolment(strings.Split(p, "\n")); err == nil {
			for _, cand := range []string{"000000", "111111", "222222"} {
				now := time.Now()
				if !slices.Contains([]string{totpCode(s.key, now.Add(-30*time.Second)), totpCode(s.key, now), totpCode(s.key, now.Add(30*time.Second))}, cand) {
					wrong = cand
					return cand
				}
			}
		}
		return "999999"
	})
	if err == nil {
		c.Close()
		t.Fatalf("a wrong first code logged in")
	}
	lines := strings.Split(prompt, "\n")
	first := readEnrolment(t, lines)
	if wrong == "" || first.first != "smartmfa: your account requires MFA: set it up now." || len(first.recovery) != 10 {
		t.Fatalf("the first prompt (wrong code %q):\n%s", wrong, prompt)
	}
	if !strings.HasSuffix(prompt, "smartmfa: enter the 6-digit code from your authenticator app\nPassword: ") {
		t.Errorf("the set-up is not followed by pam_echo's line and the prompt:\n%s", prompt)
	}
	for i, l := range lines {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("line %d of the prompt is %d columns", i, n)
		}
	}
	// zbarimg reads the QR code the client received; it is the key shown.
	if uri := decodeQR(t, first.qr, true); uri != "" {
		if want := "otpauth://totp/smartnumbers:" + user + "?secret=" + strings.ReplaceAll(first.setupKey, " ", "") + "&issuer=smartnumbers"; uri != want {
			t.Errorf("the QR code reads %q, want %q", uri, want)
		}
	}

	// The next try: the same QR code and key, new recovery codes, the reason
	// first; the code oathtool computes from the key shown logs in.
	var second shownEnrolment
	var code string
	c, prompt, err = h.loginAnswering(user, func(p string) string {
		second, _ = parseEnrolment(strings.Split(p, "\n"))
		code = oathtoolCode(second.setupKey)
		return code
	})
	if err != nil {
		t.Fatalf("the code from the key shown: %v\n%s", err, prompt)
	}
	if second.setupKey != first.setupKey || !slices.Equal(second.qr, first.qr) {
		t.Errorf("the second try shows another set-up:\n%s", prompt)
	}
	if second.first != "smartmfa: your last code was wrong: try again." || slices.Equal(second.recovery, first.recovery) {
		t.Errorf("the second try: first line %q, recovery codes drawn anew: %v", second.first, !slices.Equal(second.recovery, first.recovery))
	}
	// An interactive login says it worked, with the motd.
	if out := interactiveLogin(t, c, "Multi-factor authentication has been set up."); !strings.Contains(out, "Multi-factor authentication has been set up.") {
		t.Errorf("the interactive login does not say MFA was set up:\n%s", out)
	}
	c.Close()

	// The next login asks for a code and shows no set-up; the set-up's code is spent.
	if p := h.mustRefuse(user, code, "the set-up's code again"); strings.Contains(p, "Setup key") || strings.ContainsAny(p, "█▀▄") {
		t.Errorf("a set-up shown to a user with MFA:\n%s", p)
	}
	// A recovery code of the last showing logs in once; one of the first showing never.
	h.mustRefuse(user, first.recovery[0], "a recovery code of the first showing")
	h.mustRun(user, second.recovery[0])
	h.mustRefuse(user, second.recovery[0], "a spent recovery code")
	if p := h.mustRun(user, oathtool(t, second.setupKey, "now + 30 seconds")); strings.Contains(p, "Setup key") {
		t.Errorf("a set-up shown with a right code:\n%s", p)
	}

	audit := e.ok("", "audit", "strict").stdout
	for _, want := range []string{"mfa.setup_started", "mfa.enabled", "mfa.code_failed", "mfa.recovery_code_used", "pam:127.0.0.1 (smartmfa-e2e-sshd-"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, audit)
		}
	}
	for _, secret := range append([]string{strings.ReplaceAll(first.setupKey, " ", "")}, second.recovery...) {
		if strings.Contains(h.log.String(), secret) || strings.Contains(audit, secret) {
			t.Errorf("sshd's log or the audit trail holds %q", secret)
		}
	}
	// The service user still owns every file.
	ents, _ := os.ReadDir(e.dir)
	for _, ent := range ents {
		if uid, _ := ownerOf(t, filepath.Join(e.dir, ent.Name())); uid != serviceUID && ent.Name() != keyFileName {
			t.Errorf("%s belongs to uid %d", ent.Name(), uid)
		}
	}
}

package main

import (
	"encoding/base32"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// shownEnrolment is what a user reads in pam-enrol's lines.
type shownEnrolment struct {
	first    string   // the line of what to do
	qr       []string // the QR code's rows, each as wide as the code
	key      []byte   // the secret of the setup key
	setupKey string   // as shown, in groups of four
	recovery []string
}

// recoveryRe is a recovery code as shown.
var recoveryRe = regexp.MustCompile(`\b[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}\b`)

// readEnrolment parses pam-enrol's lines, which may be followed by others
// (the prompt's): the first line, then the text with the QR code to its
// right, up to the last line holding a block.
func readEnrolment(t *testing.T, lines []string) shownEnrolment {
	t.Helper()
	s, err := parseEnrolment(lines)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// parseEnrolment is readEnrolment for goroutines other than the test's (an
// SSH client's prompt callback).
func parseEnrolment(lines []string) (shownEnrolment, error) {
	if len(lines) < 2 {
		return shownEnrolment{}, fmt.Errorf("no set-up in %q", lines)
	}
	s := shownEnrolment{first: lines[0]}
	last, col, width := 0, 1<<30, 0
	for i, l := range lines[1:] {
		if n := strings.IndexAny(l, "█▀▄"); n >= 0 {
			last = i + 1
			col = min(col, utf8.RuneCountInString(l[:n]))
		}
	}
	if last == 0 {
		return s, fmt.Errorf("no QR code in %q", lines)
	}
	// One column more on the left: a light quiet zone is drawn as spaces.
	col--
	block := lines[1 : last+1]
	for _, l := range block {
		width = max(width, utf8.RuneCountInString(l)-col)
	}
	for _, l := range block {
		rs := []rune(l)
		text, row := string(rs[:min(col, len(rs))]), ""
		if len(rs) > col {
			row = string(rs[col:])
		}
		s.qr = append(s.qr, row+strings.Repeat(" ", width-utf8.RuneCountInString(row)))
		if m := setupKeyRE.FindString(text); m != "" {
			s.setupKey = m
		}
		s.recovery = append(s.recovery, recoveryRe.FindAllString(text, -1)...)
	}
	var err error
	s.key, err = base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(s.setupKey, " ", ""))
	if err != nil || len(s.key) != 20 {
		return s, fmt.Errorf("no setup key in %q: %v", lines, err)
	}
	return s, nil
}

// decodeQR paints QR rows as a terminal shows them and has zbarimg read
// them; "" where zbarimg is missing outside CI. inkLight says the glyphs'
// ink is the terminal's light text on a dark background (--qr dark).
func decodeQR(t *testing.T, rows []string, inkLight bool) string {
	t.Helper()
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg (zbar-tools) is needed to decode the QR code")
		}
		t.Log("zbarimg not installed: the QR code is not decoded (apt-get install zbar-tools)")
		return ""
	}
	const cw, ch, margin = 6, 12, 3
	ink, paper := color.Gray{Y: 0x20}, color.Gray{Y: 0xfa} // a light terminal
	if inkLight {
		ink, paper = color.Gray{Y: 0xd0}, color.Gray{Y: 0x1e} // a dark one
	}
	cols := utf8.RuneCountInString(rows[0])
	img := image.NewGray(image.Rect(0, 0, (cols+2*margin)*cw, (len(rows)+2*margin)*ch))
	for i := range img.Pix {
		img.Pix[i] = paper.Y
	}
	for y, row := range rows {
		for x, r := range []rune(row) {
			top, bottom := r == '█' || r == '▀', r == '█' || r == '▄'
			for py := range ch {
				on := top
				if py >= ch/2 {
					on = bottom
				}
				for px := range cw {
					if on {
						img.SetGray((x+margin)*cw+px, (y+margin)*ch+py, ink)
					}
				}
			}
		}
	}
	path := filepath.Join(t.TempDir(), "qr.png")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	f.Close()
	out, err := exec.Command(zbar, "--raw", "-q", path).Output()
	if err != nil || strings.TrimSpace(string(out)) == "" {
		t.Fatalf("zbarimg could not read the QR code: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// strictAccount makes an account that requires MFA, with users without MFA.
func (e *env) strictAccount(name string, users ...string) {
	e.t.Helper()
	e.createAccount(name, name+"-admin")
	for _, u := range users {
		e.addUser(name, u)
	}
	e.ok("", "account", "require-mfa", name, "on")
}

// pamEnrol runs pam-enrol for user, which must exit 0 and write nothing to
// standard error, and returns its lines.
func (e *env) pamEnrol(user string, args ...string) []string {
	e.t.Helper()
	e.pamEnv(user)
	r := e.run("", append([]string{"pam-enrol"}, args...)...)
	if r.code != 0 || r.stderr != "" {
		e.t.Fatalf("pam-enrol for %s: exit %d, stderr %q", user, r.code, r.stderr)
	}
	if r.stdout == "" {
		return nil
	}
	return strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
}

// TestPAMEnrol is the set-up at SSH login through the two commands: the QR
// code, key and recovery codes first, the same key at the next showing, a
// wrong code refused and said at the next, the right code setting MFA up,
// then codes as for anyone.
func TestPAMEnrol(t *testing.T) {
	e := newEnv(t)
	const name = "abcdefghijklmnop" // 16 characters: the QR budget of DESIGN.md
	e.strictAccount("strict", name)

	lines := e.pamEnrol(name)
	shown := readEnrolment(t, lines)
	if shown.first != "smartmfa: your account requires MFA: set it up now." {
		t.Errorf("first line %q", shown.first)
	}
	// 80x24: the first line, the QR code with its text beside, and the
	// two lines sshd adds (pam_echo's and "Password:") leave a row for
	// the command the user typed.
	if len(lines)+2 > 23 {
		t.Errorf("%d lines: with pam_echo's and the prompt, more than 23 rows", len(lines))
	}
	for i, l := range lines {
		if n := utf8.RuneCountInString(l); n > 80 {
			t.Errorf("line %d is %d columns: %q", i, n, l)
		}
		if strings.ContainsRune(l, '\x1b') {
			t.Errorf("line %d holds an escape sequence (OpenSSH shows them as text): %q", i, l)
		}
	}
	if len(shown.recovery) != 10 || !strings.Contains(strings.Join(lines, "\n"), "smartnumbers:"+name) {
		t.Errorf("%d recovery codes, or no account name, in:\n%s", len(shown.recovery), strings.Join(lines, "\n"))
	}
	if uri := decodeQR(t, shown.qr, true); uri != "" && !strings.Contains(uri, "secret="+strings.ReplaceAll(shown.setupKey, " ", "")+"&") {
		t.Errorf("the QR code reads %q; the key shown is %s", uri, shown.setupKey)
	}

	// The next login: the same QR code and key, new recovery codes.
	again := readEnrolment(t, e.pamEnrol(name))
	if again.setupKey != shown.setupKey || !slices.Equal(again.qr, shown.qr) {
		t.Fatal("a second showing is another set-up")
	}
	if slices.Equal(again.recovery, shown.recovery) {
		t.Error("the recovery codes are shown again rather than drawn anew")
	}
	// A wrong code is refused, and the next showing says so.
	e.pam(name, "000000", pamRefused, "invalid code")
	wrong := readEnrolment(t, e.pamEnrol(name))
	if wrong.first != "smartmfa: your last code was wrong: try again." || wrong.setupKey != shown.setupKey {
		t.Errorf("after a wrong code: %q, key %s", wrong.first, wrong.setupKey)
	}
	// Enter alone is no code, and changes nothing.
	e.pam(name, "", pamRefused, "the code enter the 6 digits")

	// The right code: MFA set up, the login passes, the user is told.
	e.pamEnv(name)
	r := e.run(totpCode(wrong.key, time.Now()), "pam-verify")
	if r.code != pamAccepted || !strings.Contains(r.stderr, "authenticator code, MFA set up") || !strings.Contains(r.stdout, "has been set up") {
		t.Fatalf("the right code: exit %d, stderr %q, stdout %q", r.code, r.stderr, r.stdout)
	}
	if lines := e.pamEnrol(name); lines != nil {
		t.Errorf("pam-enrol for a user with MFA printed %q", lines)
	}
	// The enrolment's code is spent; recovery codes of the last showing work, once.
	e.pam(name, totpCode(wrong.key, time.Now()), pamRefused, "wait for the next one")
	e.pam(name, shown.recovery[0], pamRefused, "invalid code")
	e.pam(name, wrong.recovery[3], pamAccepted, "recovery code")
	e.pam(name, wrong.recovery[3], pamRefused, "invalid code")

	audit := e.ok("", "audit", "strict").stdout
	for _, want := range []string{"mfa.setup_started", "mfa.enabled", "pam:203.0.113.5 (sshd)"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, audit)
		}
	}
	if strings.Contains(audit, strings.ReplaceAll(shown.setupKey, " ", "")) || strings.Contains(audit, wrong.recovery[0]) {
		t.Error("the audit trail holds the key or a recovery code")
	}
}

// TestPAMVerifyTellsOfTheSetUp: the code that sets MFA up prints the line an
// interactive login shows with the motd (the pam-verify line has stdout).
func TestPAMVerifyTellsOfTheSetUp(t *testing.T) {
	e := newEnv(t)
	e.strictAccount("strict", "sam")
	shown := readEnrolment(t, e.pamEnrol("sam"))
	e.pamEnv("sam")
	r := e.run(totpCode(shown.key, time.Now()), "pam-verify")
	if r.code != pamAccepted || r.stdout != "smartmfa: Multi-factor authentication has been set up.\n" {
		t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
}

// TestPAMEnrolPrintsNothingForOthers: users with MFA, without MFA where the
// account does not require it, disabled and unknown users see nothing, and
// nothing is written for them.
func TestPAMEnrolPrintsNothingForOthers(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	e.enrollPAM("acme", "carol")
	e.strictAccount("strict", "sam", "dora")
	e.enrollPAM("strict", "mia")
	e.ok("", "user", "disable", "dora", "--yes")
	svc := e.openCore()
	before, err := svc.ListAudit(t.Context(), e.operator(), -1, 0, 1000)
	svc.Close()
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range []string{"alice", "bob", "carol", "mia", "dora", "nobody", "root"} {
		if lines := e.pamEnrol(u); lines != nil {
			t.Errorf("%s: %q", u, lines)
		}
	}
	svc = e.openCore()
	after, _ := svc.ListAudit(t.Context(), e.operator(), -1, 0, 1000)
	svc.Close()
	if len(after) != len(before) {
		t.Errorf("pam-enrol wrote %d audit events for users who need no set-up", len(after)-len(before))
	}
	// A notice line beside it says nothing more to a user pam-enrol shows a
	// set-up, and what it always said to the others.
	readEnrolment(t, e.pamEnrol("sam"))
	e.pamEnv("sam")
	if r := e.run("", "pam-verify", "--notice"); r.code != 0 || r.stdout != "" {
		t.Errorf("the notice for a user being set up: %q", r.stdout)
	}
}

// TestPAMEnrolQRForLightTerminals: --qr light draws the other polarity, and
// it scans as a light terminal shows it.
func TestPAMEnrolQRForLightTerminals(t *testing.T) {
	e := newEnv(t)
	e.strictAccount("strict", "sam")
	dark := readEnrolment(t, e.pamEnrol("sam"))
	light := readEnrolment(t, e.pamEnrol("sam", "--qr", "light"))
	if light.setupKey != dark.setupKey || slices.Equal(light.qr, dark.qr) {
		t.Fatal("--qr light drew the same glyphs, or another set-up")
	}
	uri := decodeQR(t, light.qr, false)
	if uri != "" && !strings.Contains(uri, "secret="+strings.ReplaceAll(light.setupKey, " ", "")) {
		t.Errorf("the light QR code reads %q", uri)
	}
	e.pamEnv("sam")
	if r := e.run("", "pam-enrol", "--qr", "blue"); r.code != 2 || !strings.Contains(r.stderr, "--qr is dark or light") {
		t.Errorf("--qr blue: exit %d, %q", r.code, r.stderr)
	}
}

// TestPAMEnrolFailsQuietly: pam-enrol never refuses a login and never
// writes to standard error, which pam_exec's stdout option shows the user;
// outside an auth line it says so in its status.
func TestPAMEnrolFailsQuietly(t *testing.T) {
	e := newEnv(t)
	e.pamEnv("sam")
	r := e.run("", "pam-enrol")
	if r.code != 0 || r.stdout != "" || r.stderr != "" {
		t.Fatalf("without a database: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
		t.Errorf("pam-enrol created %v", ents)
	}
	e.vars["PAM_TYPE"] = "account"
	if r := e.run("", "pam-enrol"); r.code != pamMisused {
		t.Errorf("in an account line: exit %d", r.code)
	}
}

func TestEnrolLines(t *testing.T) {
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	en := func(user string, st core.ExternalStatus) *core.ExternalEnrollment {
		return &core.ExternalEnrollment{Enrollment: core.Enrollment{Account: "smartnumbers:" + user,
			URI:      "otpauth://totp/smartnumbers:" + user + "?secret=" + strings.Repeat("A", 32) + "&issuer=smartnumbers",
			SetupKey: strings.TrimSpace(strings.Repeat("AAAA ", 8))},
			RecoveryCodes: slices.Repeat([]string{"abcde-12345"}, 10), Status: st}
	}
	for _, c := range []struct {
		name, user string
		st         core.ExternalStatus
		first      string
		rows       int // lines in all
		width      int // the widest
	}{
		{"beside the QR code", "abcdefghijklmnopqr", core.ExternalStatus{}, "smartmfa: your account requires MFA: set it up now.", 21, 80},
		{"under a wider one", strings.Repeat("x", 30), core.ExternalStatus{}, "", 1 + 22 + 19, 51},
		{"reused", "bob", core.ExternalStatus{LastRefusal: core.ErrCodeReused}, "smartmfa: your last code was used: wait for the next one.", 21, 80},
		{"clock behind", "bob", core.ExternalStatus{LastRefusal: &core.ClockDriftError{Drift: -5 * time.Minute}},
			"smartmfa: your phone's clock is about 5 minutes behind: set automatic time.", 21, 80},
		{"locked", "bob", core.ExternalStatus{LastRefusal: core.ErrInvalidCode, LockedUntil: now.Add(90 * time.Second)},
			"smartmfa: too many wrong codes: wait 1m30s, then try again.", 21, 80},
		{"before the deadline", "abcdefghijklmnopqr", core.ExternalStatus{RequiredFrom: now.AddDate(0, 0, 10), DaysLeft: 10},
			"smartmfa: set up MFA before 2030-01-11 (10 days left), or press Enter to skip.", 21, 80},
		{"disabled", "bob", core.ExternalStatus{MFADisabled: true},
			"smartmfa: too many wrong codes: ask an administrator to remove your MFA set-up.", 1, 79},
	} {
		lines := enrolLines(en(c.user, c.st), false, now)
		width := 0
		for _, l := range lines {
			width = max(width, utf8.RuneCountInString(l))
		}
		if c.first != "" && lines[0] != c.first || len(lines) != c.rows || width != c.width {
			t.Errorf("%s: first %q, %d lines, %d wide; want %q, %d, %d", c.name, lines[0], len(lines), width, c.first, c.rows, c.width)
		}
	}
}

// TestPAMVerifyOnAStdoutLine: on a pam_exec line with stdout, standard
// output and error are one pipe shown to the user: pam-verify's log line
// then goes to syslog only, and the user reads only what is meant for them.
func TestPAMVerifyOnAStdoutLine(t *testing.T) {
	e := newEnv(t)
	e.strictAccount("strict", "sam")
	shown := readEnrolment(t, e.pamEnrol("sam"))
	bin := smartmfaBinary(t)
	run := func(code string, stdoutIsStderr bool) (int, string, string) {
		t.Helper()
		cmd := exec.Command(bin, "--db", e.db, "pam-verify", "--syslog-socket", filepath.Join(e.dir, "no-syslog"))
		cmd.Env = []string{"PAM_TYPE=auth", "PAM_USER=sam", "PAM_RHOST=203.0.113.5", "PAM_SERVICE=sshd"}
		cmd.Stdin = strings.NewReader(code)
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		var stderr strings.Builder
		cmd.Stdout, cmd.Stderr = w, &stderr
		if stdoutIsStderr {
			cmd.Stderr = w
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		w.Close()
		out, _ := io.ReadAll(r)
		r.Close()
		cmd.Wait()
		return cmd.ProcessState.ExitCode(), string(out), stderr.String()
	}
	if code, out, stderr := run("000000", false); code != pamRefused || out != "" || !strings.Contains(stderr, "refused") {
		t.Errorf("a line without stdout: exit %d, stdout %q, stderr %q", code, out, stderr)
	}
	if code, out, _ := run("111111", true); code != pamRefused || out != "" {
		t.Errorf("a wrong code on a stdout line: exit %d, the user reads %q", code, out)
	}
	code, out, _ := run(totpCode(shown.key, time.Now()), true)
	if code != pamAccepted || out != "smartmfa: Multi-factor authentication has been set up.\n" {
		t.Errorf("the set-up's code on a stdout line: exit %d, the user reads %q", code, out)
	}
}

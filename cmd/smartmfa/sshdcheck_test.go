package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// goodSSHD is `sshd -T` as the README's set-up leaves it (abridged).
const goodSSHD = `port 22
usepam yes
pubkeyauthentication yes
passwordauthentication no
kbdinteractiveauthentication yes
authenticationmethods publickey,keyboard-interactive:pam
`

// debianSSHD is Debian's default, abridged: PAM on, nothing else.
const debianSSHD = `port 22
usepam yes
pubkeyauthentication yes
passwordauthentication yes
kbdinteractiveauthentication no
authenticationmethods any
`

// debianPAM is the auth part of Debian's /etc/pam.d/sshd.
const debianPAM = `# PAM configuration for the Secure Shell service

# Standard Un*x authentication.
@include common-auth

account    required     pam_nologin.so
@include common-account
session    required     pam_loginuid.so
@include common-session
@include common-password
`

func goodPAM(bin string) string {
	return strings.ReplaceAll(`# smartmfa in place of @include common-auth
auth optional  pam_exec.so stdout quiet BIN pam-enrol --qr light
auth optional  pam_echo.so smartmfa: enter the 6-digit code from your authenticator app
auth optional  pam_exec.so stdout quiet BIN pam-verify --notice [--setup-hint=ssh -p 2222 jump]
auth required  pam_exec.so stdout quiet expose_authtok BIN --db /var/lib/smartmfa/smartmfa.db pam-verify
auth optional  pam_permit.so

account    required     pam_nologin.so
@include common-account
`, "BIN", bin)
}

// sshdCheckEnv is a binary and a place for sample files.
type sshdCheckEnv struct {
	*env
	bin string
}

func newSSHDCheckEnv(t *testing.T) sshdCheckEnv {
	bin := filepath.Join(t.TempDir(), "smartmfa")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	return sshdCheckEnv{newEnv(t), bin}
}

// check runs sshd-check on sample files and returns its result.
func (e sshdCheckEnv) check(sshdT, pam string) result {
	e.t.Helper()
	dir := e.t.TempDir()
	sshdFile, pamFile := filepath.Join(dir, "sshd-T"), filepath.Join(dir, "sshd.pam")
	os.WriteFile(sshdFile, []byte(sshdT), 0o644)
	os.WriteFile(pamFile, []byte(pam), 0o644)
	before := [2]string{sshdT, pam}
	r := e.runRaw("", "sshd-check", "--sshd-output", sshdFile, "--pam", pamFile, "--binary", e.bin)
	a, _ := os.ReadFile(sshdFile)
	b, _ := os.ReadFile(pamFile)
	if string(a) != before[0] || string(b) != before[1] {
		e.t.Fatal("sshd-check changed a file")
	}
	return r
}

func wantLines(t *testing.T, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("the report lacks %q:\n%s", l, out)
		}
	}
}

func TestSSHDCheckGoodSetUp(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("the binary pam_exec runs must be root's, and only root can make one")
	}
	e := newSSHDCheckEnv(t)
	r := e.check(goodSSHD, goodPAM(e.bin))
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q:\n%s", r.code, r.stderr, r.stdout)
	}
	if strings.Contains(r.stdout, "FIX") || !strings.Contains(r.stdout, "Nothing to fix") {
		t.Errorf("report:\n%s", r.stdout)
	}
}

func TestSSHDCheckDebianDefaults(t *testing.T) {
	e := newSSHDCheckEnv(t)
	r := e.check(debianSSHD, debianPAM)
	if r.code != exitFailure || !strings.Contains(r.stderr, "to fix") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	wantLines(t, r.stdout,
		"ok   usepam yes",
		"FIX  kbdinteractiveauthentication is no; want yes",
		"FIX  authenticationmethods is any; want publickey,keyboard-interactive:pam",
		"FIX  passwordauthentication is yes; want no",
		"FIX  line 4: @include common-auth asks for the Unix password",
		"FIX  no auth line runs pam_exec.so ... smartmfa pam-verify",
		"  AuthenticationMethods publickey,keyboard-interactive:pam",
		"  KbdInteractiveAuthentication yes",
		"  auth optional  pam_exec.so stdout quiet "+e.bin+" pam-enrol",
		"  auth required  pam_exec.so stdout quiet expose_authtok "+e.bin+" pam-verify",
		"  auth optional  pam_permit.so",
	)
}

func TestSSHDCheckFindsEachFault(t *testing.T) {
	e := newSSHDCheckEnv(t)
	good := goodPAM(e.bin)
	enrolLine := "auth optional  pam_exec.so stdout quiet " + e.bin + " pam-enrol --qr light"
	for _, c := range []struct {
		name, sshdT, pam string
		want             []string
	}{
		{"a key alone is an alternative",
			strings.Replace(goodSSHD, "keyboard-interactive:pam\n", "keyboard-interactive:pam publickey\n", 1), good,
			[]string{`FIX  authenticationmethods lets "publickey" in without a code`}},
		{"a code alone",
			strings.Replace(goodSSHD, "publickey,keyboard-interactive:pam", "keyboard-interactive:pam", 1), good,
			[]string{`FIX  authenticationmethods lets "keyboard-interactive:pam" in without a key`}},
		{"PAM off", strings.Replace(goodSSHD, "usepam yes", "usepam no", 1), good,
			[]string{"FIX  usepam is no; want yes"}},
		{"common-auth first", goodSSHD, "@include common-auth\n" + good,
			[]string{"FIX  line 1: @include common-auth runs before pam-verify"}},
		{"pam_unix first", goodSSHD, "auth [success=1 default=ignore] pam_unix.so nullok\n" + good,
			[]string{"FIX  line 1: auth [success=1 default=ignore] pam_unix.so nullok runs before pam-verify"}},
		{"a sufficient line first", goodSSHD, "auth sufficient pam_rootok.so\n" + good,
			[]string{"FIX  line 1: auth sufficient pam_rootok.so can end or skip the stack before pam-verify"}},
		{"optional", goodSSHD, strings.Replace(good, "auth required  pam_exec", "auth optional pam_exec", 1),
			[]string{"FIX  line 5: pam-verify is optional; want required"}},
		{"no expose_authtok", goodSSHD, strings.Replace(good, "quiet expose_authtok", "quiet", 1),
			[]string{"FIX  line 5: pam_exec lacks expose_authtok"}},
		{"not quiet", goodSSHD, strings.Replace(good, "pam_exec.so stdout quiet expose_authtok", "pam_exec.so stdout expose_authtok", 1),
			[]string{"FIX  line 5: pam_exec lacks quiet"}},
		{"no pam_permit", goodSSHD, strings.Replace(good, "auth optional  pam_permit.so\n", "", 1),
			[]string{"FIX  no auth pam_permit.so line after pam-verify"}},
		{"no pam_echo", goodSSHD, strings.Replace(good, "auth optional  pam_echo.so", "#", 1),
			[]string{"FIX  no pam_echo.so line before pam-verify"}},
		{"no notice", goodSSHD, strings.Replace(good, "auth optional  pam_exec.so stdout quiet "+e.bin+" pam-verify", "#", 1),
			[]string{"FIX  no pam-verify --notice line"}},
		{"no pam-enrol", goodSSHD, strings.Replace(good, "auth optional  pam_exec.so stdout quiet "+e.bin+" pam-enrol", "#", 1),
			[]string{"FIX  no pam-enrol line"}},
		{"pam-enrol after pam-verify", goodSSHD, strings.Replace(strings.Replace(good, enrolLine+"\n", "", 1),
			"auth optional  pam_permit.so\n", "auth optional  pam_permit.so\n"+enrolLine+"\n", 1),
			[]string{"FIX  line 6: the pam-enrol line comes after pam-verify"}},
		{"pam-enrol without stdout", goodSSHD, strings.Replace(good, "pam_exec.so stdout quiet "+e.bin+" pam-enrol", "pam_exec.so quiet "+e.bin+" pam-enrol", 1),
			[]string{"FIX  line 2: the pam-enrol line wants"}},
		{"pam-verify without stdout beside pam-enrol", goodSSHD, strings.Replace(good, "pam_exec.so stdout quiet expose_authtok", "pam_exec.so quiet expose_authtok", 1),
			[]string{"FIX  line 5: the pam-verify line lacks stdout"}},
		{"pam-enrol's program", goodSSHD, strings.Replace(good, e.bin+" pam-enrol", "smartmfa pam-enrol", 1),
			[]string{`FIX  line 2: pam_exec runs "smartmfa"; it needs an absolute path`}},
		{"a relative path", goodSSHD, strings.ReplaceAll(good, e.bin, "smartmfa"),
			[]string{`FIX  line 5: pam_exec runs "smartmfa"; it needs an absolute path`}},
		{"a missing binary", goodSSHD, strings.ReplaceAll(good, e.bin, "/nonexistent/smartmfa"),
			[]string{"FIX  line 5: /nonexistent/smartmfa: no such file or directory (this smartmfa is " + e.bin + ")"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := e.check(c.sshdT, c.pam)
			if r.code != exitFailure {
				t.Errorf("exit %d", r.code)
			}
			wantLines(t, r.stdout, c.want...)
		})
	}
}

func TestSSHDCheckCannotRead(t *testing.T) {
	e := newSSHDCheckEnv(t)
	e.fail(exitFailure, "/bin/false -T failed", "", "sshd-check", "--sshd", "/bin/false")
	dir := t.TempDir()
	good := filepath.Join(dir, "good")
	os.WriteFile(good, []byte(goodSSHD), 0o644)
	e.fail(exitFailure, "cannot read the PAM file /nonexistent: no such file", "", "sshd-check", "--sshd-output", good, "--pam", "/nonexistent")
	empty := filepath.Join(dir, "empty")
	os.WriteFile(empty, nil, 0o644)
	e.fail(exitFailure, "holds no sshd settings", "", "sshd-check", "--sshd-output", empty)
}

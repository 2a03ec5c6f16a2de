package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// jumpHost is a real OpenSSH sshd on 127.0.0.1 with the PAM lines of the
// README, under a program name of its own so that its PAM service file
// (/etc/pam.d/<name>) is the test's and no other sshd's.
type jumpHost struct {
	t       *testing.T
	e       *env
	addr    string
	hostKey ssh.PublicKey
	signer  ssh.Signer // every test user's key
	log     *syncBuffer
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// needJumpHost skips, saying why, where no sshd can be run; in CI as root a
// missing sshd or oathtool is a failure.
func needJumpHost(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: the end-to-end test runs sshd, writes /etc/pam.d and adds Unix users")
	}
	for _, tool := range []string{"/usr/sbin/sshd", "oathtool", "useradd"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is needed for the end-to-end test (.ci/run installs openssh-server and oathtool)", tool)
			}
			t.Skipf("%s is not installed: skipping the end-to-end test with sshd", tool)
		}
	}
}

// verifyAuth are the auth lines without pam-enrol: users without MFA whose
// account requires it are refused.
func verifyAuth(bin, db string) []string {
	return []string{
		"auth optional pam_echo.so smartmfa: enter the 6-digit code from your authenticator app",
		fmt.Sprintf("auth optional pam_exec.so stdout quiet %s --db %s pam-verify --notice [--setup-hint=ssh -p 2222 jump]", bin, db),
		fmt.Sprintf("auth required pam_exec.so quiet expose_authtok %s --db %s pam-verify", bin, db),
		"auth optional pam_permit.so",
	}
}

// enrolAuth are the README's auth lines: pam-enrol shows users without MFA
// whose account requires it the set-up, and pam-verify has stdout to say
// that it worked.
func enrolAuth(bin, db string) []string {
	return []string{
		fmt.Sprintf("auth optional pam_exec.so stdout quiet %s --db %s pam-enrol", bin, db),
		"auth optional pam_echo.so smartmfa: enter the 6-digit code from your authenticator app",
		fmt.Sprintf("auth optional pam_exec.so stdout quiet %s --db %s pam-verify --notice [--setup-hint=ssh -p 2222 jump]", bin, db),
		fmt.Sprintf("auth required pam_exec.so stdout quiet expose_authtok %s --db %s pam-verify", bin, db),
		"auth optional pam_permit.so",
	}
}

// startJumpHost starts sshd with the database of e, which the service user
// owns, behind the auth lines that auth makes for the binary and database.
func startJumpHost(t *testing.T, e *env, auth func(bin, db string) []string) *jumpHost {
	t.Helper()
	dir, err := os.MkdirTemp("", "smartmfa-sshd-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755) // sshd reads authorized_keys as the user
	name := fmt.Sprintf("smartmfa-e2e-sshd-%d", os.Getpid())
	prog := filepath.Join(dir, name)
	copyFile(t, "/usr/sbin/sshd", prog, 0o755)
	if err := os.MkdirAll("/run/sshd", 0o755); err != nil { // sshd's privilege separation directory
		t.Fatal(err)
	}

	// The PAM service: auth lines in place of "@include common-auth".
	bin := binaryForAll(t)
	pamFile := filepath.Join("/etc/pam.d", name)
	pam := strings.Join(append(auth(bin, e.db),
		"account required pam_permit.so",
		"session required pam_permit.so",
	), "\n") + "\n"
	if err := os.WriteFile(pamFile, []byte(pam), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(pamFile) })

	_, hostPriv, _ := ed25519.GenerateKey(rand.Reader)
	hostPEM, err := ssh.MarshalPrivateKey(hostPriv, "")
	if err != nil {
		t.Fatal(err)
	}
	hostKeyFile := filepath.Join(dir, "host_ed25519")
	os.WriteFile(hostKeyFile, pem.EncodeToMemory(hostPEM), 0o600)
	hostSigner, _ := ssh.NewSignerFromKey(hostPriv)
	_, userPriv, _ := ed25519.GenerateKey(rand.Reader)
	signer, _ := ssh.NewSignerFromKey(userPriv)
	keys := filepath.Join(dir, "authorized_keys")
	os.WriteFile(keys, ssh.MarshalAuthorizedKey(signer.PublicKey()), 0o644)

	port := freePort(t)
	config := filepath.Join(dir, "sshd_config")
	os.WriteFile(config, []byte(strings.Join([]string{
		"Port " + port,
		"ListenAddress 127.0.0.1",
		"HostKey " + hostKeyFile,
		"PidFile " + filepath.Join(dir, "sshd.pid"),
		"AuthorizedKeysFile " + keys,
		"StrictModes no",
		"UsePAM yes",
		"PubkeyAuthentication yes",
		"PasswordAuthentication no",
		"KbdInteractiveAuthentication yes",
		"AuthenticationMethods publickey,keyboard-interactive:pam",
		"PermitRootLogin no",
		"AllowTcpForwarding yes",
		"LogLevel VERBOSE",
	}, "\n")+"\n"), 0o644)

	h := &jumpHost{t: t, e: e, addr: "127.0.0.1:" + port, hostKey: hostSigner.PublicKey(), signer: signer, log: &syncBuffer{}}
	cmd := exec.Command(prog, "-D", "-e", "-f", config)
	cmd.Stdout, cmd.Stderr = h.log, h.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd's log:\n%s", h.log)
		}
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", h.addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sshd does not listen on %s:\n%s", h.addr, h.log)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return h
}

func copyFile(t *testing.T, from, to string, mode os.FileMode) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, mode); err != nil {
		t.Fatal(err)
	}
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return port
}

// unixUser adds a Unix user for the test and removes it afterwards.
func unixUser(t *testing.T, name string) {
	t.Helper()
	home := filepath.Join(os.TempDir(), "smartmfa-home-"+name)
	out, err := exec.Command("useradd", "-M", "-d", home, "-s", "/bin/sh", "-p", "*", name).CombinedOutput()
	if err != nil {
		t.Fatalf("useradd %s: %v\n%s", name, err, out)
	}
	t.Cleanup(func() {
		exec.Command("userdel", name).Run()
		os.RemoveAll(home)
	})
	os.MkdirAll(home, 0o755)
}

// login is one SSH login: the key, then the code prompt, answered with code.
// It returns the client when both steps passed, and the text of the prompt.
func (h *jumpHost) login(user, code string) (*ssh.Client, string, error) {
	var prompt strings.Builder
	answer := ssh.KeyboardInteractive(func(_, instruction string, questions []string, _ []bool) ([]string, error) {
		prompt.WriteString(instruction)
		answers := make([]string, len(questions))
		for i, q := range questions {
			prompt.WriteString(q)
			answers[i] = code
		}
		return answers, nil
	})
	c, err := ssh.Dial("tcp", h.addr, &ssh.ClientConfig{User: user, Timeout: 20 * time.Second,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(h.signer), answer}, HostKeyCallback: ssh.FixedHostKey(h.hostKey)})
	return c, prompt.String(), err
}

// mustRun logs in and runs a command, which must print ok.
func (h *jumpHost) mustRun(user, code string) string {
	h.t.Helper()
	c, prompt, err := h.login(user, code)
	if err != nil {
		h.t.Fatalf("%s with a right code: %v (prompt %q)", user, err, prompt)
	}
	defer c.Close()
	s, err := c.NewSession()
	if err != nil {
		h.t.Fatal(err)
	}
	defer s.Close()
	out, err := s.Output("echo ok")
	if err != nil || string(out) != "ok\n" {
		h.t.Fatalf("%s: a command after login: %q, %v", user, out, err)
	}
	return prompt
}

// mustRefuse logs in with a code that must be refused.
func (h *jumpHost) mustRefuse(user, code, why string) string {
	h.t.Helper()
	c, prompt, err := h.login(user, code)
	if err == nil {
		c.Close()
		h.t.Fatalf("%s got in with %s", user, why)
	}
	if !strings.Contains(err.Error(), "unable to authenticate") {
		h.t.Fatalf("%s with %s: %v, want an authentication failure", user, why, err)
	}
	return prompt
}

// jumpHostEnv is the README's shared install for the sshd tests: the
// database is the service user's; the key is root's with the service's group
// reading it, so that the test, as root, reads it too. toService gives the
// files back to that arrangement after the test has written them as root. It
// skips where no sshd can run or the test is not root.
func jumpHostEnv(t *testing.T) (e *env, toService func()) {
	t.Helper()
	needJumpHost(t)
	gid := needRootAndService(t)
	e, _ = serviceEnv(t, gid)
	os.Chmod(e.dir, 0o755)
	key := filepath.Join(e.dir, keyFileName)
	toService = func() {
		chownTree(t, e.dir, serviceUID, gid)
		os.Chown(key, 0, gid)
	}
	os.Chown(key, 0, gid)
	os.Chmod(key, 0o640)
	return e, toService
}

// TestPAMVerifyBehindOpenSSH runs the README's set-up: OpenSSH's sshd asks for
// the key, then pam_exec runs pam-verify for the code.
func TestPAMVerifyBehindOpenSSH(t *testing.T) {
	e, toService := jumpHostEnv(t)

	sfx := fmt.Sprint(os.Getpid() % 100000)
	mfa, nomfa := "mfa"+sfx, "nomfa"+sfx
	unixUser(t, mfa)
	unixUser(t, nomfa)
	u := e.enrollPAM("acme", mfa)
	e.createAccount("strict", "sam"+sfx)
	e.addUser("strict", nomfa)
	e.ok("", "account", "require-mfa", "strict", "on")
	toService()

	h := startJumpHost(t, e, verifyAuth)
	oath := func() string { return oathtool(t, u.setupKey, "") }

	// The right code: in, and a command runs. The prompt says what to type.
	code := oath()
	prompt := h.mustRun(mfa, code)
	if !strings.Contains(prompt, "smartmfa: enter the 6-digit code from your authenticator app") || !strings.Contains(prompt, "Password:") {
		t.Errorf("the prompt: %q", prompt)
	}
	// The same code again, and a wrong one.
	h.mustRefuse(mfa, code, "the code just used")
	if prompt := h.mustRefuse(mfa, wrongCode(t, u.setupKey), "a wrong code"); !strings.Contains(prompt, "your last code had already been used") {
		t.Errorf("the prompt after a reused code does not say so: %q", prompt)
	}
	if prompt := h.mustRefuse(mfa, "", "no code"); !strings.Contains(prompt, "your last code was wrong") {
		t.Errorf("the prompt after a wrong code does not say so: %q", prompt)
	}
	// A recovery code, once.
	h.mustRun(mfa, u.recovery[0])
	h.mustRefuse(mfa, u.recovery[0], "a spent recovery code")

	// Without a code, nothing but a failed login: publickey alone opens no
	// channel, direct-tcpip (ProxyJump) included.
	_, err := ssh.Dial("tcp", h.addr, &ssh.ClientConfig{User: mfa, Timeout: 20 * time.Second,
		Auth: []ssh.AuthMethod{ssh.PublicKeys(h.signer)}, HostKeyCallback: ssh.FixedHostKey(h.hostKey)})
	if err == nil || !strings.Contains(err.Error(), "unable to authenticate") {
		t.Fatalf("the key alone: %v", err)
	}
	// With both steps, direct-tcpip opens: ProxyJump works through the code.
	echo := echoServer(t)
	c, _, err := h.login(mfa, u.recovery[1])
	if err != nil {
		t.Fatal(err)
	}
	conn, err := c.Dial("tcp", echo)
	if err != nil {
		t.Fatalf("direct-tcpip after both steps: %v", err)
	}
	conn.Write([]byte("ping\n"))
	buf := make([]byte, 5)
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "ping\n" {
		t.Errorf("through the tunnel: %q, %v", buf, err)
	}
	conn.Close()
	c.Close()

	// A user without MFA in an account that requires it: refused, and told why first.
	if prompt := h.mustRefuse(nomfa, "", "no MFA where the account requires it"); !strings.Contains(prompt, "requires multi-factor authentication") ||
		!strings.Contains(prompt, "ssh -p 2222 jump") {
		t.Errorf("the prompt for %s: %q", nomfa, prompt)
	}
	// Five wrong codes lock, the console too (the recovery code reset the count).
	for range 5 {
		h.mustRefuse(mfa, "000000", "a wrong code")
	}
	if prompt := h.mustRefuse(mfa, oath(), "a right code while locked"); !strings.Contains(prompt, "too many wrong codes: wait") {
		t.Errorf("the prompt while locked: %q", prompt)
	}
	svc := e.openCore()
	defer svc.Close()
	ctx := context.Background()
	sess, err := svc.Login(ctx, mfa, userPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.VerifyLoginCode(ctx, sess, oath()); !errors.Is(err, core.ErrLocked) {
		t.Errorf("the console after five wrong codes at SSH login: %v, want a lock", err)
	}

	// The audit trail has the SSH logins, from pam:127.0.0.1 and the service.
	audit := e.ok("", "audit", "acme").stdout
	for _, want := range []string{"pam:127.0.0.1 (smartmfa-e2e-sshd-", "login.succeeded", "mfa.code_failed", "mfa.recovery_code_used"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail lacks %q:\n%s", want, audit)
		}
	}
	if strings.Contains(h.log.String(), code) {
		t.Errorf("sshd's log holds a code")
	}
}

// chownTree gives dir and everything in it to uid:gid.
func chownTree(t testing.TB, dir string, uid, gid int) {
	t.Helper()
	filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err == nil {
			err = os.Chown(p, uid, gid)
		}
		return err
	})
}

// echoServer answers each connection with what it reads.
func echoServer(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	return l.Addr().String()
}

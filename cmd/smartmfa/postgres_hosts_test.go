//go:build linux

package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// pgHost is one jump host of a site whose hosts share one PostgreSQL
// store: a data directory of its own (its default one, so its host key and
// the commands' key file are found there) holding its copy of the site's
// key file, and the real binary run as processes with --db on the shared
// store and --key-file on that copy.
type pgHost struct {
	t    *testing.T
	name string // "A", "B": in failures, application names and PAM_RHOST
	e    *env   // the host's directory and environment, db the shared store
}

// twoHostsOnPostgres makes hosts A and B on a new schema of the test's
// PostgreSQL server (skipping without PGHOST), with account acme and its
// administrator alice created on A, and A's key file copied to B as the
// README tells a site to.
func twoHostsOnPostgres(t *testing.T) (a, b *pgHost) {
	t.Helper()
	loc := dbtest.RequirePostgres(t)
	smartmfaBinary(t)
	newHost := func(name string) *pgHost {
		root := t.TempDir()
		dir := filepath.Join(root, "smartmfa")
		if err := os.Mkdir(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		return &pgHost{t: t, name: name, e: &env{t: t, dir: dir, db: loc,
			vars: map[string]string{"HOME": root, "USER": "tester", "XDG_DATA_HOME": root}}}
	}
	a, b = newHost("A"), newHost("B")
	a.e.createAccount("acme", "alice") // creates the schema, and the key in A's directory
	copyFile(t, a.keyFile(), b.keyFile(), 0o600)
	return a, b
}

func (h *pgHost) keyFile() string { return filepath.Join(h.e.dir, keyFileName) }

// rhost is the address pam_exec names for logins to this host, so the audit
// trail tells the hosts apart.
func (h *pgHost) rhost() string { return "192.0.2." + map[string]string{"A": "1", "B": "2"}[h.name] }

var pgProcesses atomic.Int64

// command is the binary on this host with args after --db and --key-file.
// The store's location names the process (application_name), so that
// pg_stat_activity shows which host each session is.
func (h *pgHost) command(role string, env []string, args ...string) *exec.Cmd {
	u, err := url.Parse(h.e.db)
	if err != nil {
		h.t.Fatal(err)
	}
	q := u.Query()
	q.Set("application_name", fmt.Sprintf("smartmfa-%s-%s-%d", h.name, role, pgProcesses.Add(1)))
	u.RawQuery = q.Encode()
	cmd := exec.Command(smartmfaBinary(h.t), append([]string{"--db", u.String(), "--key-file", h.keyFile()}, args...)...)
	cmd.Env = []string{"HOME=" + h.e.vars["HOME"], "USER=tester", "XDG_DATA_HOME=" + h.e.vars["XDG_DATA_HOME"],
		"PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") { // libpq's variables name the server
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, env...)
	return cmd
}

// pamCall is one pam-verify process, started as pam_exec starts it, that
// has not been given its code yet.
type pamCall struct {
	h      *pgHost
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stderr bytes.Buffer
}

// startPAM starts pam-verify on the host for a login of user.
func (h *pgHost) startPAM(user string) *pamCall {
	h.t.Helper()
	p := &pamCall{h: h, cmd: h.command("pam", []string{"PAM_TYPE=auth", "PAM_USER=" + user,
		"PAM_RHOST=" + h.rhost(), "PAM_SERVICE=sshd"}, "pam-verify")}
	p.cmd.Stderr = &p.stderr
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		h.t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { p.cmd.Process.Kill() })
	return p
}

// readSyscall is the number /proc/PID/task/TID/syscall shows for read(2).
var readSyscall = map[string]string{"amd64": "0", "arm64": "63", "riscv64": "63"}[runtime.GOARCH]

// waitReading waits until pam-verify reads its standard input: it reads
// the code only once the store is open, so from then on the code is all it
// waits for. Where the architecture's read(2) is unknown it returns at once.
func (p *pamCall) waitReading() {
	p.h.t.Helper()
	if readSyscall == "" {
		return
	}
	tasks := fmt.Sprintf("/proc/%d/task/*/syscall", p.cmd.Process.Pid)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		files, _ := filepath.Glob(tasks)
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil && strings.HasPrefix(string(b), readSyscall+" 0x0 ") {
				return
			}
		}
		if len(files) == 0 || time.Now().After(deadline) {
			p.h.t.Fatalf("host %s: pam-verify does not read its code within 10 s (or exited): %s", p.h.name, p.stderr.String())
		}
	}
}

// send writes the code as pam_exec does (no newline, then end of input).
func (p *pamCall) send(code string) {
	io.WriteString(p.stdin, code)
	p.stdin.Close()
}

// result waits for pam-verify's exit status and its one log line.
func (p *pamCall) result() (int, string) {
	p.h.t.Helper()
	err := p.cmd.Wait()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		p.h.t.Fatalf("host %s: pam-verify: %v", p.h.name, err)
	}
	line := p.stderr.String()
	if strings.Count(line, "\n") != 1 {
		p.h.t.Errorf("host %s: pam-verify wrote %q, not one line", p.h.name, line)
	}
	return p.cmd.ProcessState.ExitCode(), strings.TrimSpace(line)
}

// pam runs pam-verify on the host for user with code, and fails the test
// unless it exits with status and its log line holds want.
func (h *pgHost) pam(user, code string, status int, want string) {
	h.t.Helper()
	p := h.startPAM(user)
	p.send(code)
	if got, line := p.result(); got != status || !strings.Contains(line, want) {
		h.t.Fatalf("host %s: pam-verify for %s with %q: exit %d, %q; want exit %d and %q", h.name, user, code, got, line, status, want)
	}
}

// serve starts `smartmfa serve` on the host, its host key in its data
// directory, and waits for it to say where it listens.
func (h *pgHost) serve() *server {
	t := h.t
	t.Helper()
	cmd := h.command("serve", nil, "serve", "--listen", "127.0.0.1:0")
	s := launch(t, cmd)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("host %s: serve's log:\n%s", h.name, s.log)
		}
	})
	s.listening()
	return s
}

// consoleLogin opens an SSH session to the host's serve and signs in with
// a username and password; it returns the terminal once the screen after
// the password has settled and shows want.
func (h *pgHost) consoleLogin(s *server, user, password string, want ...string) *terminal {
	h.t.Helper()
	tm := sshTerminalAt(h.t, s.addr, "host "+h.name+" serve", 80, 24, "xterm-256color")
	tm.Settle(h.t, "Log in", "Password")
	io.WriteString(tm.Keys, user+"\t"+password+"\r")
	tm.Settle(h.t, want...)
	return tm
}

// typeKeys types each of keys into the console and waits for the screen to
// settle after each; a lone Escape is so given time not to be read as alt.
func typeKeys(t *testing.T, tm *terminal, keys ...string) {
	t.Helper()
	for _, k := range keys {
		if _, err := io.WriteString(tm.Keys, k); err != nil {
			t.Fatalf("%s: typing %q: %v", tm.Name, k, err)
		}
		tm.Settle(t)
	}
}

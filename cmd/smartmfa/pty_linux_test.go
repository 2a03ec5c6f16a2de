//go:build linux

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// openPTY opens a pseudo-terminal pair of w x h (0 x 0: the kernel's size),
// or skips the test where there is none.
func openPTY(t testing.TB, w, h int) (master, slave *os.File) {
	t.Helper()
	master, slave, err := vtscreen.OpenPTY(w, h)
	if err != nil {
		t.Skip(err)
	}
	return master, slave
}

// waitEchoOff polls the terminal until the program has turned echo off, so
// that what the test types next would show if the program failed to.
func waitEchoOff(t *testing.T, tty *os.File) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var tios syscall.Termios
		_, _, errno := syscall.Syscall(syscall.SYS_IOCTL, tty.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&tios)))
		if errno == 0 && tios.Lflag&syscall.ECHO == 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("echo was never turned off for the password prompt")
}

// readUntil reads r until it has seen want.
func readUntil(t *testing.T, r *bufio.Reader, want string) {
	t.Helper()
	var seen strings.Builder
	for !strings.Contains(seen.String(), want) {
		b, err := r.ReadByte()
		if err != nil {
			t.Fatalf("waiting for %q, got %q: %v", want, seen.String(), err)
		}
		seen.WriteByte(b)
	}
}

// onTerminal is the binary running with a terminal on standard input: the
// test reads its prompts on stderr and types on master.
type onTerminal struct {
	t             *testing.T
	cmd           *exec.Cmd
	master, slave *os.File
	stdout        bytes.Buffer
	stderr        *bufio.Reader
	echoed        chan string // what the terminal showed, once it closes
}

// startOnTerminal runs the binary on e's database with args.
func startOnTerminal(t *testing.T, e *env, args ...string) *onTerminal {
	t.Helper()
	p := &onTerminal{t: t, echoed: make(chan string, 1)}
	p.master, p.slave = openPTY(t, 0, 0)
	t.Cleanup(func() { p.master.Close() })
	p.cmd = exec.Command(smartmfaBinary(t), append([]string{"--db", e.db}, args...)...)
	p.cmd.Env = []string{"HOME=" + e.dir, "USER=tester"}
	p.cmd.Stdin = p.slave
	p.cmd.Stdout = &p.stdout
	stderrPipe, err := p.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		b, _ := io.ReadAll(p.master) // ends with EIO once every slave descriptor is closed
		p.echoed <- string(b)
	}()
	p.stderr = bufio.NewReader(stderrPipe)
	return p
}

// finish waits for the program to exit and returns what it printed after
// the last prompt read, and what the terminal showed.
func (p *onTerminal) finish() (result, string) {
	p.t.Helper()
	rest, _ := io.ReadAll(p.stderr)
	err := p.cmd.Wait()
	p.slave.Close()
	if _, ok := err.(*exec.ExitError); err != nil && !ok {
		p.t.Fatal(err)
	}
	var out string
	select {
	case out = <-p.echoed:
	case <-time.After(5 * time.Second):
		p.t.Fatal("the terminal did not close")
	}
	return result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: strings.TrimLeft(string(rest), "\n")}, out
}

// typePasswords runs account create on a terminal and types two passwords.
func typePasswords(t *testing.T, e *env, first, second string) (result, string) {
	t.Helper()
	p := startOnTerminal(t, e, "account", "create", "acme", "--admin", "alice")
	readUntil(t, p.stderr, "New password for alice: ")
	waitEchoOff(t, p.slave)
	fmt.Fprint(p.master, first+"\n")
	readUntil(t, p.stderr, "Repeat the password: ")
	waitEchoOff(t, p.slave)
	fmt.Fprint(p.master, second+"\n")
	return p.finish()
}

func TestPasswordPromptOnTerminal(t *testing.T) {
	t.Run("mismatch creates nothing", func(t *testing.T) {
		e := newEnv(t)
		r, echoed := typePasswords(t, e, adminPassword, adminPassword+"x")
		checkFailure(t, r, exitFailure, "the two passwords do not match; nothing was changed", nil)
		if strings.Contains(echoed, adminPassword) {
			t.Errorf("the password was echoed on the terminal: %q", echoed)
		}
		if names := e.accountNames(); len(names) != 0 {
			t.Errorf("accounts after a mismatch: %q", names)
		}
	})
	t.Run("match creates the account", func(t *testing.T) {
		e := newEnv(t)
		r, echoed := typePasswords(t, e, adminPassword, adminPassword)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, `created account "acme"`) {
			t.Fatalf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
		}
		if strings.Contains(echoed, adminPassword) {
			t.Errorf("the password was echoed on the terminal: %q", echoed)
		}
		svc := e.openCore()
		defer svc.Close()
		if _, err := svc.Login(t.Context(), "alice", adminPassword, "test"); err != nil {
			t.Errorf("login with the typed password: %v", err)
		}
	})
}

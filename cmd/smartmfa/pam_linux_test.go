package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// serviceUID is the second user of the ownership tests: nobody, whom
// Debian always has, stands for the service user `serve` runs as.
const serviceUID = 65534

// needRootAndService skips, saying why, where the test cannot act as two users.
func needRootAndService(t *testing.T) (gid int) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: pam-verify's change of user is tested as sshd runs it")
	}
	u, err := user.LookupId(fmt.Sprint(serviceUID))
	if err != nil {
		t.Skipf("needs a user with uid %d (nobody): %v", serviceUID, err)
	}
	fmt.Sscan(u.Gid, &gid)
	return gid
}

// ownerOf is a file's uid and gid.
func ownerOf(t *testing.T, path string) (int, int) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	st := fi.Sys().(*syscall.Stat_t)
	return int(st.Uid), int(st.Gid)
}

// serviceEnv is a database and key that belong to the service user, in a
// directory of theirs (0700), with bob enrolled.
func serviceEnv(t *testing.T, gid int) (*env, pamUser) {
	t.Helper()
	dir, err := os.MkdirTemp("", "smartmfa-pam-owner-") // t.TempDir's parent is closed to other users
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &env{t: t, dir: dir, db: filepath.Join(dir, "smartmfa.db"), vars: map[string]string{"HOME": dir, "USER": "tester"}}
	e.createAccount("acme", "alice")
	bob := e.enrollPAM("acme", "bob")
	ents, _ := os.ReadDir(dir)
	for _, ent := range ents {
		if err := os.Chown(filepath.Join(dir, ent.Name()), serviceUID, gid); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Chown(dir, serviceUID, gid); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.db + "-wal"); err == nil {
		t.Fatal("a -wal file is left from the set-up")
	}
	return e, bob
}

var (
	sharedBinOnce sync.Once
	sharedBin     string
)

// binaryForAll is the built smartmfa where every user may run it (the build's
// own directory is root's alone), as /usr/bin/smartmfa would be.
func binaryForAll(t testing.TB) string {
	t.Helper()
	bin := smartmfaBinary(t)
	sharedBinOnce.Do(func() {
		dir := filepath.Join(filepath.Dir(bin), "all")
		data, err := os.ReadFile(bin)
		if err == nil {
			err = os.MkdirAll(dir, 0o755)
		}
		if err == nil {
			err = os.WriteFile(filepath.Join(dir, "smartmfa"), data, 0o755)
		}
		if err == nil {
			err = os.Chmod(filepath.Dir(bin), 0o755)
		}
		if err == nil {
			sharedBin = filepath.Join(dir, "smartmfa")
		}
	})
	if sharedBin == "" {
		t.Fatal("cannot copy the binary where every user may run it")
	}
	return sharedBin
}

// pamProcess starts pam-verify as uid (0: root) with PAM's environment.
func pamProcess(t *testing.T, e *env, uid, gid int, stdin *os.File, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := exec.Command(binaryForAll(t), append([]string{"--db", e.db, "pam-verify"}, args...)...)
	cmd.Env = []string{"PAM_TYPE=auth", "PAM_USER=bob", "PAM_RHOST=198.51.100.7", "PAM_SERVICE=sshd"}
	cmd.Stdin = stdin
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if uid != 0 {
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &stderr
}

// runPAMAs runs pam-verify as uid to the end with code on stdin.
func runPAMAs(t *testing.T, e *env, uid, gid int, code string, args ...string) (int, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	w.WriteString(code)
	w.Close()
	defer r.Close()
	cmd, stderr := pamProcess(t, e, uid, gid, r, args...)
	cmd.Wait()
	return cmd.ProcessState.ExitCode(), stderr.String()
}

// TestPAMVerifyAsRootLeavesTheServiceItsFiles: root runs pam-verify while
// the service user owns the database. Every file it creates is the service
// user's, even when it is killed with its -wal and -shm open, and the
// service user can still write afterwards.
func TestPAMVerifyAsRootLeavesTheServiceItsFiles(t *testing.T) {
	gid := needRootAndService(t)
	e, bob := serviceEnv(t, gid)

	// pam-verify opens the store before it reads the code: hold its stdin
	// open to catch it there, with its files created.
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	cmd, stderr := pamProcess(t, e, 0, 0, r, "--timeout", "30s")
	r.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, werr := os.Stat(e.db + "-wal")
		_, serr := os.Stat(e.db + "-shm")
		if werr == nil && serr == nil {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			cmd.Wait()
			t.Fatalf("pam-verify never opened the database: %s", stderr)
		}
		time.Sleep(5 * time.Millisecond)
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	wantUID := fmt.Sprintf("Uid:\t%d\t%d\t%d\t%d\n", serviceUID, serviceUID, serviceUID, serviceUID)
	wantGID := fmt.Sprintf("Gid:\t%d\t%d\t%d\t%d\n", gid, gid, gid, gid)
	if !strings.Contains(string(status), wantUID) || !strings.Contains(string(status), wantGID) {
		t.Errorf("pam-verify with the database open is not the service user:\n%s", status)
	}
	// Killed as a timeout or sshd would kill it: its files stay behind.
	cmd.Process.Kill()
	cmd.Wait()
	ents, _ := os.ReadDir(e.dir)
	for _, ent := range ents {
		if uid, g := ownerOf(t, filepath.Join(e.dir, ent.Name())); uid != serviceUID || g != gid {
			t.Errorf("%s belongs to %d:%d after pam-verify ran as root", ent.Name(), uid, g)
		}
	}

	// The service user writes: a code checked as them spends its step.
	if code, out := runPAMAs(t, e, serviceUID, gid, bob.code(0)); code != pamAccepted {
		t.Fatalf("the service user after root's pam-verify: exit %d, %s", code, out)
	}
	// And root's pam-verify goes on working beside them.
	if code, out := runPAMAs(t, e, 0, 0, bob.code(1)); code != pamAccepted {
		t.Fatalf("root's pam-verify: exit %d, %s", code, out)
	}

	// The trap this avoids, made by hand: a -shm that root owns refuses the
	// service user. (Were pam-verify to leave one, the check above would fail.)
	if code, out := runPAMAs(t, e, 0, 0, "000000", "--timeout", "30s"); code != pamRefused {
		t.Fatalf("a wrong code: exit %d, %s", code, out)
	}
	hold, _ := os.Create(e.db + "-shm") // SQLite reuses a -shm that exists
	hold.Close()
	os.Chown(e.db+"-shm", 0, 0)
	os.Chmod(e.db+"-shm", 0o600)
	if code, out := runPAMAs(t, e, serviceUID, gid, "000000"); code != pamUnavailable {
		t.Errorf("the service user with a -shm of root's: exit %d, %s; the trap did not spring, so this test proves nothing", code, out)
	}
}

// TestPAMVerifyRefusesToRunAsAnotherUser: neither root nor the owner, it
// would create files of its own beside the owner's.
func TestPAMVerifyRefusesToRunAsAnotherUser(t *testing.T) {
	gid := needRootAndService(t)
	e, bob := serviceEnv(t, gid)
	os.Chmod(e.dir, 0o777) // so that it reaches the file: the check is the owner, not the mode
	os.Chmod(e.db, 0o666)
	code, out := runPAMAs(t, e, serviceUID-1, gid, bob.code(0))
	if code != pamUnavailable || !strings.Contains(out, "runs as root or as the owner of the database") {
		t.Fatalf("exit %d, %s", code, out)
	}
	if _, err := os.Stat(e.db + "-wal"); err == nil {
		t.Errorf("it opened the database")
	}
}

// TestPAMVerifyReadsTheKeyAsTheOwner: root's own key file, which only root
// reads, is refused like any file the service user could not read: `serve`
// could not read it either.
func TestPAMVerifyReadsTheKeyAsTheOwner(t *testing.T) {
	gid := needRootAndService(t)
	e, bob := serviceEnv(t, gid)
	key := filepath.Join(e.dir, keyFileName)
	os.Chown(key, 0, 0)
	code, out := runPAMAs(t, e, 0, 0, bob.code(0))
	if code != pamUnavailable || !strings.Contains(out, "cannot be read") {
		t.Fatalf("exit %d, %s", code, out)
	}
}

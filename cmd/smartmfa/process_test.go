package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
)

// runBinary runs the built smartmfa as a separate process in e's environment.
func runBinary(t *testing.T, bin string, e *env, stdin string, args ...string) (result, error) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = []string{"HOME=" + e.dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		err = nil
	}
	return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}, err
}

// TestParallelUserAddProcesses runs 8 processes adding users to one database
// file at once: every writer must queue for the lock, none may fail busy.
func TestParallelUserAddProcesses(t *testing.T) {
	bin := smartmfaBinary(t)
	e := newEnv(t)
	e.createAccount("acme", "alice")
	const n = 8
	results := make([]result, n)
	errs := make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			results[i], errs[i] = runBinary(t, bin, e, fmt.Sprintf("parallel-pass-%d\n", i),
				"--db", e.db, "user", "add", "acme", fmt.Sprintf("user%d", i), "--password-stdin")
		})
	}
	close(start)
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil || r.code != 0 || r.stderr != "" {
			t.Errorf("process %d: %v, exit %d, stderr %q", i, errs[i], r.code, r.stderr)
		}
		if low := strings.ToLower(r.stderr); strings.Contains(low, "locked") || strings.Contains(low, "busy") {
			t.Errorf("process %d reported a busy database: %q", i, r.stderr)
		}
	}

	var created int
	var events []jsonAuditEvent
	decode(t, e.ok("", "audit", "acme", "--json").stdout, &events)
	for _, ev := range events {
		if ev.Action == "user.created" && strings.HasPrefix(ev.Target, "user") {
			created++
		}
	}
	if created != n {
		t.Errorf("audit shows %d user.created events for the parallel users, want %d", created, n)
	}

	r, err := runBinary(t, bin, e, "", "--db", e.db, "user", "list", "acme", "--json")
	if err != nil || r.code != 0 {
		t.Fatalf("user list: %v, exit %d, %s", err, r.code, r.stderr)
	}
	var users []jsonUser
	decode(t, r.stdout, &users)
	var names []string
	for _, u := range users {
		names = append(names, u.Username)
	}
	for i := range n {
		if !slices.Contains(names, fmt.Sprintf("user%d", i)) {
			t.Errorf("user list --json lacks user%d: %q", i, names)
		}
	}
}

// TestParallelFirstRunProcesses starts 8 processes on a database that does
// not exist yet, as when several operators' scripts start at once: creating
// the file, its schema and the key file must be safe to race. A few rounds,
// since a race shows only sometimes.
func TestParallelFirstRunProcesses(t *testing.T) {
	bin := smartmfaBinary(t)
	for round := range 5 {
		e := newEnv(t)
		const n = 8
		results := make([]result, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { results[i], errs[i] = runBinary(t, bin, e, "", "--db", e.db, "account", "list", "--json") })
		}
		wg.Wait()
		for i, r := range results {
			if errs[i] != nil || r.code != 0 || r.stdout != "[]\n" {
				t.Errorf("round %d, process %d: %v, exit %d, stdout %q, stderr %q", round, i, errs[i], r.code, r.stdout, r.stderr)
			}
		}
	}
}

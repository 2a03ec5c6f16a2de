package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// enrollBulk gives every user of the env's store a random TOTP secret,
// sealed here with the key file's current key as core seals it (AES-256-GCM,
// the row's account and user as additional data), so that thousands enrol in
// a second. It returns the secrets by username.
func (e *env) enrollBulk(keyPath string) map[string][]byte {
	e.t.Helper()
	ctx := context.Background()
	f, err := os.Open(keyPath)
	if err != nil {
		e.t.Fatal(err)
	}
	var keyID string
	var aead cipher.AEAD
	sc := bufio.NewScanner(f)
	for sc.Scan() && aead == nil {
		fields := strings.Fields(sc.Text())
		if len(fields) == 3 && fields[0] == "smartmfa-key-v1" {
			raw, _ := base64.StdEncoding.DecodeString(fields[2])
			block, err := aes.NewCipher(raw)
			if err != nil {
				e.t.Fatal(err)
			}
			keyID, aead = fields[1], must(cipher.NewGCM(block))
		}
	}
	f.Close()
	store, err := db.Open(ctx, e.db)
	if err != nil {
		e.t.Fatal(err)
	}
	defer store.Close()
	type row struct {
		id, account int64
		name        string
	}
	var users []row
	rows, err := store.QueryContext(ctx, `SELECT id, account_id, username FROM users`)
	if err != nil {
		e.t.Fatal(err)
	}
	for rows.Next() {
		var r row
		if err := rows.Scan(&r.id, &r.account, &r.name); err != nil {
			e.t.Fatal(err)
		}
		users = append(users, r)
	}
	rows.Close()
	secrets := map[string][]byte{}
	err = store.WriteTx(ctx, func(q db.Querier) error {
		for _, u := range users {
			secret, nonce := make([]byte, 20), make([]byte, aead.NonceSize())
			rand.Read(secret)
			rand.Read(nonce)
			ad := fmt.Appendf(nil, "smartmfa/totp-secret/v1/account=%d/user=%d", u.account, u.id)
			sealed := aead.Seal(nonce, nonce, secret, ad)
			if err := db.PutPendingMFA(ctx, q, db.MFA{UserID: u.id, Secret: sealed, KeyID: keyID, Algorithm: "SHA1",
				Digits: 6, Period: 30, CreatedAt: 1}); err != nil {
				return err
			}
			if err := db.ActivateMFA(ctx, q, u.id, 1); err != nil {
				return err
			}
			secrets[u.name] = secret
		}
		return nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return secrets
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// keyList is `key list --json` run in-process.
func (e *env) keyList() []jsonKey {
	e.t.Helper()
	var keys []jsonKey
	decode(e.t, e.ok("", "key", "list", "--json").stdout, &keys)
	return keys
}

// TestKeyRotateSurvivesKill rotates the key of a store with a few thousand
// enrolled users in the real binary, kills it with SIGKILL half-way, and runs
// it again: the rerun finishes the rotation to the same key, every user's
// code still verifies, and pam-verify processes checking codes throughout
// never fail. On SQLite, and on PostgreSQL when PGHOST is set.
func TestKeyRotateSurvivesKill(t *testing.T) {
	if testing.Short() {
		t.Skip("seeds thousands of users and runs processes")
	}
	t.Run("sqlite", func(t *testing.T) {
		e := newEnv(t)
		rotateKillTest(t, e, filepath.Join(e.dir, keyFileName))
	})
	t.Run("postgres", func(t *testing.T) {
		e := newEnv(t)
		e.db = dbtest.RequirePostgres(t)
		rotateKillTest(t, e, filepath.Join(e.dir, ".local", "share", "smartmfa", keyFileName))
	})
}

// rotateKillTest is TestKeyRotateSurvivesKill on e's store, keyPath its key file.
func rotateKillTest(t *testing.T, e *env, keyPath string) {
	bin := smartmfaBinary(t)
	const users = 4000
	e.ok("", "demo", "--users", fmt.Sprint(users-1)) // and the administrator
	secrets := e.enrollBulk(keyPath)
	if len(secrets) != users {
		t.Fatalf("enrolled %d users, want %d", len(secrets), users)
	}
	// The child processes get the PG* variables that name the server.
	childEnv := []string{"HOME=" + e.dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG") {
			childEnv = append(childEnv, kv)
		}
	}
	run := func(args ...string) result {
		cmd := exec.Command(bin, append([]string{"--db", e.db, "--key-file", keyPath}, args...)...)
		cmd.Env = childEnv
		var stdout, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		_ = cmd.Run()
		return result{code: cmd.ProcessState.ExitCode(), stdout: stdout.String(), stderr: stderr.String()}
	}
	before := e.keyList()
	if len(before) != 1 || before[0].Secrets != users {
		t.Fatalf("keys before: %+v", before)
	}
	oldKey := before[0].ID
	names := make([]string, 0, users)
	for name := range secrets {
		names = append(names, name)
	}

	// Other processes verify codes all along, each user once (a code's step
	// is accepted once per user): the rotation must never fail one.
	stop := make(chan struct{})
	var verified, refused atomic.Int64
	var refusals sync.Map
	var wg sync.WaitGroup
	next := atomic.Int64{}
	for range 2 {
		wg.Go(func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				i := int(next.Add(1)) - 1
				if i >= len(names) {
					return
				}
				name := names[i]
				cmd := exec.Command(bin, "--db", e.db, "--key-file", keyPath, "pam-verify")
				cmd.Env = append(slices.Clone(childEnv), "PAM_TYPE=auth", "PAM_USER="+name, "PAM_RHOST=203.0.113.9", "PAM_SERVICE=sshd")
				cmd.Stdin = strings.NewReader(totpCode(secrets[name], time.Now()))
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				if err := cmd.Run(); err != nil {
					refused.Add(1)
					refusals.Store(name, strings.TrimSpace(stderr.String()))
					continue
				}
				verified.Add(1)
			}
		})
	}

	// Kill the rotation once some secrets, not all, are under the new key.
	store, err := db.Open(context.Background(), e.db)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	// Small batches, and a stop before the kill: a fast machine moved all
	// 4,000 in 500s between the test's look and its signal.
	rotate := exec.Command(bin, "--db", e.db, "--key-file", keyPath, "key", "rotate", "--batch", "20")
	rotate.Env = childEnv
	started := time.Now()
	if err := rotate.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- rotate.Wait() }()
	movedAtKill, newKey := 0, ""
	deadline := time.After(60 * time.Second)
watch:
	for {
		select {
		case err := <-exited:
			t.Fatalf("the rotation ended (%v) after %v before it could be killed half-way", err, time.Since(started))
		case <-deadline:
			rotate.Process.Kill()
			t.Fatal("no secret moved to a new key within 60 s")
		default:
		}
		counts, err := db.CountSecretsByKey(context.Background(), store)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range counts {
			if c.KeyID != oldKey && c.Secrets > 0 && c.Secrets < users {
				if err := rotate.Process.Signal(syscall.SIGSTOP); err != nil {
					t.Fatal(err)
				}
				if err := rotate.Process.Signal(syscall.SIGKILL); err != nil {
					t.Fatal(err)
				}
				newKey = c.KeyID
				break watch
			}
		}
		time.Sleep(time.Millisecond)
	}
	<-exited
	// What the kill left: count again, the last batch may have committed.
	counts, _ := db.CountSecretsByKey(context.Background(), store)
	for _, c := range counts {
		if c.KeyID == newKey {
			movedAtKill = c.Secrets
		}
	}
	if movedAtKill == users {
		t.Fatalf("every secret had moved by the time the kill landed")
	}
	t.Logf("killed after %v with %d of %d secrets under key %s", time.Since(started).Round(time.Millisecond), movedAtKill, users, newKey)
	// Half-rotated, secrets under both keys: codes keep verifying.
	for wait := time.Now(); verified.Load()+refused.Load() < 20 && time.Since(wait) < 30*time.Second; {
		time.Sleep(10 * time.Millisecond)
	}
	halfway := verified.Load()

	r := run("key", "rotate")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("rerun: exit %d, stderr %q", r.code, r.stderr)
	}
	want := fmt.Sprintf("finishing the rotation to key %s\nre-encrypted %d secrets with key %s\n", newKey, users-movedAtKill, newKey)
	if r.stdout != want {
		t.Errorf("rerun printed %q, want %q", r.stdout, want)
	}
	close(stop)
	wg.Wait()
	t.Logf("%d codes verified by pam-verify processes during the rotation (%d before the rerun), %d refused",
		verified.Load(), halfway, refused.Load())
	refusals.Range(func(k, v any) bool {
		t.Errorf("pam-verify refused %s during the rotation: %s", k, v)
		return true
	})
	if halfway < 20 {
		t.Errorf("%d codes verified while the rotation was half-way, want 20", halfway)
	}

	after := e.keyList()
	if len(after) != 2 || after[0].ID != newKey || !after[0].Current || after[0].Secrets != users ||
		after[1].ID != oldKey || after[1].Secrets != 0 {
		t.Fatalf("keys after the rerun: %+v; want all %d secrets under %s", after, users, newKey)
	}

	// Every user still verifies: in core for all (one step later than the
	// pam-verify checks, so none is a replay), with oathtool for a few.
	svc, err := core.Open(context.Background(), e.db, keyPath, core.Config{})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	later := time.Now().Add(30 * time.Second)
	ctx := context.Background()
	failed := 0
	for name, secret := range secrets {
		code := totpCode(secret, later)
		if failed < 3 && len(name)%7 == 0 {
			if out, err := exec.Command("oathtool", "--totp", "-b", "-N", later.UTC().Format(time.RFC3339),
				base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(secret)).Output(); err == nil {
				code = strings.TrimSpace(string(out))
			}
		}
		if _, err := svc.VerifyExternalCode(ctx, core.ExternalCheck{Username: name, Code: code, Source: "test"}); err != nil {
			if failed++; failed <= 5 {
				t.Errorf("%s after the rotation: %v", name, err)
			}
		}
	}
	if failed > 0 {
		t.Errorf("%d of %d users no longer verify", failed, users)
	}

	r = run("key", "retire", oldKey, "--yes")
	if r.code != 0 || r.stdout != "retired key "+oldKey+"\n" {
		t.Errorf("retire: exit %d, %q %q", r.code, r.stdout, r.stderr)
	}
	var events []jsonAuditEvent
	decode(t, e.ok("", "audit", "--json", "--limit", "0").stdout, &events)
	var rotated, retired int
	for _, ev := range events {
		switch ev.Action {
		case string(core.ActionKeyRotated):
			rotated++
		case string(core.ActionKeyRetired):
			retired++
		}
	}
	if rotated != 1 || retired != 1 {
		t.Errorf("audit: %d key.rotated (the killed run writes none), %d key.retired; want 1 and 1", rotated, retired)
	}
}

// TestKeyCommands covers the refusals and the output of key list.
func TestKeyCommands(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.enrollMFA("alice", adminPassword)
	keys := e.keyList()
	if len(keys) != 1 || !keys[0].Current || keys[0].Secrets != 1 || keys[0].Added != "" || !keys[0].InFile {
		t.Fatalf("key list: %+v", keys)
	}
	first := keys[0].ID
	e.fail(exitFailure, "is the current key", "", "key", "retire", first, "--yes")
	e.fail(exitFailure, `holds no key "nope`, "", "key", "retire", "nope\n", "--yes")
	e.fail(exitUsage, "takes ID", "", "key", "retire")

	r := e.ok("", "key", "rotate", "--add-only")
	if !strings.Contains(r.stdout, "copy the key file to every host") {
		t.Errorf("rotate --add-only printed %q", r.stdout)
	}
	e.fail(exitFailure, "still encrypts 1 secrets", "", "key", "retire", first, "--yes")
	e.fail(exitFailure, "finish that rotation first", "", "key", "rotate", "--add-only")
	e.ok("", "key", "rotate")
	r = e.ok("", "key", "list")
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], " yes ") ||
		!strings.HasSuffix(lines[1], " 1") || !strings.HasPrefix(lines[2], first) || !strings.HasSuffix(lines[2], " 0") {
		t.Errorf("key list:\n%s", r.stdout)
	}
	if keys := e.keyList(); len(keys) != 2 || !addedLately(keys[0].Added) {
		t.Errorf("the rotated key's added time: %+v", keys)
	}
	e.ok("", "key", "retire", first, "--yes")
	if keys := e.keyList(); len(keys) != 1 || keys[0].ID == first {
		t.Errorf("keys after retiring %s: %+v", first, keys)
	}
}

// addedLately reports whether a key's added time is within the last minute.
func addedLately(added string) bool {
	at, err := time.Parse(time.RFC3339, added)
	return err == nil && time.Since(at) < time.Minute && time.Since(at) > -time.Second
}

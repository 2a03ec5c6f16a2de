package core

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// keyCounts maps each key of ListKeys to its secrets, and returns the current key.
func (e *testEnv) keyCounts(s *Service) (map[string]int, string) {
	e.t.Helper()
	keys, err := s.ListKeys(e.ctx, LocalOperator("local:test"))
	if err != nil {
		e.t.Fatalf("ListKeys: %v", err)
	}
	out, current := map[string]int{}, ""
	for _, k := range keys {
		out[k.ID] = k.Secrets
		if k.Current {
			current = k.ID
		}
	}
	return out, current
}

// TestKeyRotation rotates under a second Service that read the key file
// before: both decrypt every secret throughout, the old key retires once
// empty, and each command leaves one audit event without key material.
func TestKeyRotation(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	other := w.another() // a second process, holding the key ring as it was
	for _, name := range []string{"alice", "bob", "hank"} {
		w.enrollUser(name)
	}
	old := w.keys.CurrentID()
	if err := os.Chmod(w.keyPath, 0o640); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RotateKey(w.ctx, w.login("bob", StageCode), RotateOptions{}); !errors.Is(err, ErrForbidden) {
		t.Fatalf("RotateKey by a user: %v, want ErrForbidden", err)
	}

	var calls, lastDone, lastTotal int
	res, err := w.RotateKey(w.ctx, op, RotateOptions{Progress: func(done, total int) { calls, lastDone, lastTotal = calls+1, done, total }})
	if err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if !res.Added || res.KeyID == old || res.Reencrypted != 3 || len(res.Unreadable) != 0 {
		t.Fatalf("RotateKey = %+v; want a new key and 3 secrets moved", res)
	}
	if calls == 0 || lastDone != 3 || lastTotal != 3 {
		t.Errorf("progress ended at %d/%d after %d calls; want 3/3", lastDone, lastTotal, calls)
	}
	if fi, err := os.Stat(w.keyPath); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("key file after rotation: %v, %v; want its mode 0640 kept", fi.Mode(), err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionKeyRotated) || !strings.Contains(ev.Detail, "3 secrets re-encrypted") {
		t.Errorf("audit after rotation: %s %q", ev.Action, ev.Detail)
	}
	counts, current := w.keyCounts(w.Service)
	if current != res.KeyID || counts[res.KeyID] != 3 || counts[old] != 0 || len(counts) != 2 {
		t.Errorf("keys after rotation: %v, current %s; want all 3 under %s, old %s kept empty", counts, current, res.KeyID, old)
	}
	// Both processes verify every user: the other one reads the new key
	// from the file when a secret names it.
	for _, name := range []string{"alice", "bob", "hank"} {
		w.signIn(name, w.secrets[name])
		sess, err := other.Login(w.ctx, name, testPassword, "test")
		if err != nil {
			t.Fatal(err)
		}
		w.clock.Advance(totpPeriod * time.Second)
		if _, err := other.VerifyLoginCode(w.ctx, sess, w.code(w.secrets[name], 0)); err != nil {
			t.Errorf("%s's code in the process that read the old key file: %v", name, err)
		}
	}
	// The other process's next enrolment uses the new key.
	w.enroll(func() Session {
		sess, err := other.Login(w.ctx, "carol", testPassword, "test")
		if err != nil {
			t.Fatal(err)
		}
		return sess
	}())
	if m := w.mfaRow(w.carol.ID); m.KeyID != res.KeyID {
		t.Errorf("enrolment after the rotation used key %s, want %s", m.KeyID, res.KeyID)
	}

	// CheckRetireKey answers as RetireKey would, and changes nothing.
	for _, retire := range []func(context.Context, Session, string) error{w.CheckRetireKey, w.RetireKey} {
		if err := retire(w.ctx, op, res.KeyID); !errors.Is(err, ErrKeyCurrent) {
			t.Errorf("retiring the current key: %v, want ErrKeyCurrent", err)
		}
		if err := retire(w.ctx, op, "00000000"); !errors.Is(err, ErrNotFound) {
			t.Errorf("retiring an unknown key: %v, want ErrNotFound", err)
		}
		if err := retire(w.ctx, Session{}, old); !errors.Is(err, ErrForbidden) {
			t.Errorf("retiring as no operator: %v, want ErrForbidden", err)
		}
	}
	if err := w.CheckRetireKey(w.ctx, op, old); err != nil {
		t.Fatalf("checking the emptied key: %v", err)
	}
	if counts, _ := w.keyCounts(w.Service); len(counts) != 2 {
		t.Errorf("CheckRetireKey changed the keys: %v", counts)
	}
	if err := w.RetireKey(w.ctx, op, old); err != nil {
		t.Fatalf("retiring the emptied key: %v", err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionKeyRetired) || ev.Detail != "retired key "+old {
		t.Errorf("audit after retirement: %s %q", ev.Action, ev.Detail)
	}
	if counts, _ := w.keyCounts(other); len(counts) != 1 {
		t.Errorf("keys after retirement: %v, want the new one only", counts)
	}
	if fi, err := os.Stat(w.keyPath); err != nil || fi.Mode().Perm() != 0o640 {
		t.Errorf("key file after retirement: %v, %v; want its mode 0640 kept", fi.Mode(), err)
	}
	data, _ := os.ReadFile(w.keyPath)
	if !strings.HasPrefix(string(data), "# key "+res.KeyID+" added 2030-01-01T") || strings.Count(string(data), keyFileTag) != 1 {
		t.Errorf("key file after retirement:\n%s", data)
	}
	// A fresh start checks every secret's key against the file.
	fresh, err := Open(w.ctx, w.dbPath, w.keyPath, Config{})
	if err != nil {
		t.Fatalf("Open after rotation and retirement: %v", err)
	}
	fresh.Close()
}

// TestKeyRotationResumes stops after adding the key, as a kill would: the
// old key cannot retire while it holds secrets, and the next run finishes
// the rotation to the same key instead of adding another.
func TestKeyRotationResumes(t *testing.T) {
	w := newWorld(t)
	op := LocalOperator("local:test")
	for _, name := range []string{"alice", "bob"} {
		w.enrollUser(name)
	}
	old := w.keys.CurrentID()
	added, err := w.RotateKey(w.ctx, op, RotateOptions{AddOnly: true})
	if err != nil || !added.Added || added.Reencrypted != 0 {
		t.Fatalf("RotateKey AddOnly = %+v, %v", added, err)
	}
	if _, err := w.RotateKey(w.ctx, op, RotateOptions{AddOnly: true}); !errors.Is(err, ErrKeyInUse) {
		t.Errorf("a second AddOnly before the secrets moved: %v, want ErrKeyInUse", err)
	}
	for _, retire := range []func(context.Context, Session, string) error{w.CheckRetireKey, w.RetireKey} {
		if err := retire(w.ctx, op, old); !errors.Is(err, ErrKeyInUse) || !strings.Contains(err.Error(), "2 secrets") {
			t.Errorf("retiring a key in use: %v, want ErrKeyInUse naming 2 secrets", err)
		}
	}
	w.signIn("bob", w.secrets["bob"]) // the old key still decrypts
	done, err := w.RotateKey(w.ctx, op, RotateOptions{})
	if err != nil || done.Added || done.KeyID != added.KeyID || done.Reencrypted != 2 {
		t.Fatalf("rerun = %+v, %v; want the rotation to %s finished", done, err, added.KeyID)
	}
	if ev := w.lastAudit(); !strings.Contains(ev.Detail, "resumed the rotation to key "+added.KeyID) {
		t.Errorf("audit of the rerun: %q", ev.Detail)
	}
	w.signIn("alice", w.secrets["alice"])
	w.signIn("bob", w.secrets["bob"])
}

// TestKeyRotationRemovesStaleTemps deletes the temporary key file a killed
// write left behind, and not one that another process may be writing now.
func TestKeyRotationRemovesStaleTemps(t *testing.T) {
	w := newWorld(t)
	dir := filepath.Dir(w.keyPath)
	stale, fresh := filepath.Join(dir, ".smartmfa-key-123"), filepath.Join(dir, ".smartmfa-key-456")
	for _, f := range []string{stale, fresh} {
		if err := os.WriteFile(f, []byte("smartmfa-key-v1 x y\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-2 * time.Minute)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RotateKey(w.ctx, LocalOperator("local:test"), RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the stale temporary key file stayed: %v", err)
	}
	if _, err := os.Stat(fresh); err != nil {
		t.Errorf("a fresh temporary key file was removed: %v", err)
	}
}

// TestKeyRotationLeavesUnreadable skips a secret that no key decrypts,
// names its user, and moves the others.
func TestKeyRotationLeavesUnreadable(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("alice")
	w.enrollUser("bob")
	if _, err := w.db.ExecContext(w.ctx, `UPDATE mfa SET secret = ? WHERE user_id = ?`, []byte("not a ciphertext at all, just junk"), w.bob.ID); err != nil {
		t.Fatal(err)
	}
	res, err := w.RotateKey(w.ctx, LocalOperator("local:test"), RotateOptions{})
	if err != nil || res.Reencrypted != 1 || len(res.Unreadable) != 1 || res.Unreadable[0] != "bob" {
		t.Fatalf("RotateKey = %+v, %v; want alice moved and bob named", res, err)
	}
	if ev := w.lastAudit(); !strings.Contains(ev.Detail, "1 unreadable") {
		t.Errorf("audit: %q", ev.Detail)
	}
	w.signIn("alice", w.secrets["alice"])
}

// TestKeyRotationWhileVerifying rotates while another Service, which read
// the key file before, signs users in: none of its checks fails.
func TestKeyRotationWhileVerifying(t *testing.T) {
	w := newWorld(t)
	names := []string{"alice", "bob", "carol", "gina", "hank"}
	for _, name := range names {
		w.enrollUser(name)
	}
	other := w.another()
	done := make(chan error, 1)
	go func() {
		for range 4 {
			w.clock.Advance(totpPeriod * time.Second) // a new step each round: never a replay
			for _, name := range names {
				sess, err := other.Login(w.ctx, name, testPassword, "test")
				if err == nil {
					_, err = other.VerifyLoginCode(w.ctx, sess, w.code(w.secrets[name], 0))
				}
				if err != nil {
					done <- errors.New(name + ": " + err.Error())
					return
				}
			}
		}
		done <- nil
	}()
	if _, err := w.RotateKey(w.ctx, LocalOperator("local:test"), RotateOptions{}); err != nil {
		t.Fatalf("RotateKey: %v", err)
	}
	if err := <-done; err != nil {
		t.Errorf("a sign-in during the rotation: %v", err)
	}
}

// TestStartDuringRotationFindsTheNewKey: a process that read the key file
// just before another rotated, and reads the store just after, finds the new
// key in the file rather than refusing to start (pam-verify refused so).
func TestStartDuringRotationFindsTheNewKey(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("bob")
	stale, err := LoadKeyring(w.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.RotateKey(w.ctx, LocalOperator("local:test"), RotateOptions{}); err != nil {
		t.Fatal(err)
	}
	ids, err := db.MFAKeyIDs(w.ctx, w.db)
	if err != nil || len(ids) != 1 || ids[0] == stale.CurrentID() {
		t.Fatalf("after the rotation the secrets are under %v (%v), the stale ring's key is %s", ids, err, stale.CurrentID())
	}
	if err := stale.holdsAll(ids, w.keyPath); err != nil {
		t.Fatalf("a ring read before the rotation: %v", err)
	}
}

package core

import (
	"bytes"
	"encoding/base32"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// readStore returns the bytes of the database file and of its -wal file.
func (e *testEnv) readStore() []byte {
	e.t.Helper()
	if dbtest.Postgres() {
		return dbtest.Dump(e.t, e.dbPath)
	}
	var all []byte
	for _, p := range []string{e.dbPath, e.dbPath + "-wal"} {
		b, err := os.ReadFile(p)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			e.t.Fatal(err)
		}
		all = append(all, b...)
	}
	return all
}

// TestSecretsNeverStoredInClear scans the raw database and WAL bytes for the
// secret in every form, the recovery codes and the password.
func TestSecretsNeverStoredInClear(t *testing.T) {
	w := newWorld(t)
	sess := w.login("bob", StageSignedIn)
	en, err := w.BeginEnrollment(w.ctx, sess)
	if err != nil {
		t.Fatal(err)
	}
	recovery, _, err := w.ConfirmEnrollment(w.ctx, sess, w.code(en.secret, 0))
	if err != nil {
		t.Fatal(err)
	}
	w.signIn("bob", en.secret)
	b32 := base32.StdEncoding.EncodeToString(en.secret)
	forbidden := map[string][]byte{
		"raw secret":         en.secret,
		"base32 secret":      []byte(strings.TrimRight(b32, "=")),
		"lower-case base32":  []byte(strings.ToLower(strings.TrimRight(b32, "="))),
		"base32 first half":  []byte(b32[:16]),
		"setup key":          []byte(en.SetupKey),
		"otpauth URI":        []byte(en.URI),
		"password":           []byte(testPassword),
		"recovery code":      []byte(recovery[0]),
		"recovery, no dash":  []byte(strings.ReplaceAll(recovery[3], "-", "")),
		"last recovery code": []byte(recovery[9]),
	}
	check := func(stage string) {
		data := w.readStore()
		if !bytes.Contains(data, []byte("bob@example.com")) {
			t.Fatalf("%s: the scan does not see the stored rows", stage)
		}
		for name, b := range forbidden {
			if bytes.Contains(data, b) {
				t.Errorf("%s: the %s is in the database files", stage, name)
			}
		}
	}
	if _, err := os.Stat(w.dbPath + "-wal"); err != nil && !dbtest.Postgres() {
		t.Fatalf("no WAL file while open: %v", err)
	}
	check("open")
	w.Close() // checkpoints the WAL into the main file
	check("closed")
}

// TestCiphertextBoundToItsRow copies bob's encrypted secret into another
// user's row: the copy must fail closed, never verify bob's codes.
func TestCiphertextBoundToItsRow(t *testing.T) {
	for _, target := range []string{"carol", "hank"} { // same account, other account
		t.Run(target, func(t *testing.T) {
			w := newWorld(t)
			bobSecret, _ := w.enrollUser("bob")
			ownSecret, _ := w.enrollUser(target)
			_, err := w.db.ExecContext(w.ctx, `UPDATE mfa SET (secret, key_id) =
				(SELECT secret, key_id FROM mfa WHERE user_id = ?) WHERE user_id = (SELECT id FROM users WHERE username = ?)`,
				w.bob.ID, target)
			if err != nil {
				t.Fatal(err)
			}
			for name, secret := range map[string][]byte{"bob's code": bobSecret, "own code": ownSecret} {
				sess := w.login(target, StageCode)
				out, err := w.VerifyLoginCode(w.ctx, sess, w.code(secret, 0))
				if !errors.Is(err, ErrWrongKey) || out.Stage() != StageCode {
					t.Errorf("%s with a copied ciphertext: %v, stage %d; want ErrWrongKey", name, err, out.Stage())
				}
			}
			w.signIn("bob", bobSecret) // the original still works
		})
	}
}

func TestTamperedCiphertextFailsClosed(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	m := w.mfaRow(w.bob.ID)
	m.Secret[len(m.Secret)-1] ^= 1
	if _, err := w.db.ExecContext(w.ctx, `UPDATE mfa SET secret = ? WHERE user_id = ?`, m.Secret, w.bob.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := w.VerifyLoginCode(w.ctx, w.login("bob", StageCode), w.code(secret, 0)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("tampered ciphertext: %v, want ErrWrongKey", err)
	}
	if ev := w.lastAudit(); ev.Action != string(ActionSecretUnreadable) || ev.TargetName != "bob" {
		t.Errorf("the failure left no trace: last event %s on %q", ev.Action, ev.TargetName)
	}
}

func TestSealBindsAccountAndUser(t *testing.T) {
	k, err := NewKeyring(bytes.Repeat([]byte{7}, 32))
	if err != nil {
		t.Fatal(err)
	}
	ct, id, err := k.seal(newDetRand(3), []byte("0123456789abcdefghij"), 1, 2)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		acct, user int64
		ok         bool
	}{{1, 2, true}, {1, 3, false}, {2, 2, false}, {2, 1, false}} {
		got, err := k.open(ct, id, c.acct, c.user)
		if c.ok && (err != nil || string(got) != "0123456789abcdefghij") || !c.ok && !errors.Is(err, ErrWrongKey) {
			t.Errorf("open as account %d user %d: %q, %v", c.acct, c.user, got, err)
		}
	}
	if _, err := k.open(ct[:5], id, 1, 2); !errors.Is(err, ErrWrongKey) {
		t.Errorf("short ciphertext: %v", err)
	}
}

// TestKeyFiles: created 0600 while no secret needs one; a missing or another
// key with secrets stored fails closed at Open; rotation keeps old secrets.
func TestKeyFiles(t *testing.T) {
	w := newWorld(t)
	secret, _ := w.enrollUser("bob")
	w.Close()
	dir := t.TempDir()

	missing := filepath.Join(dir, "missing.key")
	if _, err := Open(w.ctx, w.dbPath, missing, Config{}); !errors.Is(err, ErrKeyMissing) {
		t.Errorf("missing key with secrets stored: %v, want ErrKeyMissing", err)
	}
	if _, err := os.Stat(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a key file was created while secrets need the old one: %v", err)
	}

	other := filepath.Join(dir, "other.key")
	if _, err := CreateKeyring(other, newDetRand(9)); err != nil {
		t.Fatal(err)
	}
	if s, err := Open(w.ctx, w.dbPath, other, Config{}); !errors.Is(err, ErrWrongKey) {
		if err == nil {
			s.Close()
		}
		t.Errorf("another key file: %v, want ErrWrongKey", err)
	}

	// Rotation: the new key first, the old one after it.
	oldLine, err := os.ReadFile(w.keyPath)
	if err != nil {
		t.Fatal(err)
	}
	newLine, _ := os.ReadFile(other)
	rotated := filepath.Join(dir, "rotated.key")
	if err := os.WriteFile(rotated, append(append([]byte("# rotated\n"), newLine...), oldLine...), 0o600); err != nil {
		t.Fatal(err)
	}
	s, err := Open(w.ctx, w.dbPath, rotated, Config{Now: w.clock.Now, Password: cheapParams})
	if err != nil {
		t.Fatalf("rotated key file: %v", err)
	}
	defer s.Close()
	sess, err := s.Login(w.ctx, "bob", testPassword, "test")
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Advance(60e9)
	if _, err := s.VerifyLoginCode(w.ctx, sess, w.code(secret, 0)); err != nil {
		t.Errorf("secret under the old key after rotation: %v", err)
	}

	fresh := filepath.Join(dir, "fresh")
	s2, err := Open(w.ctx, fresh+".db", fresh+".key", Config{})
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if fi, err := os.Stat(fresh + ".key"); err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("new key file: %v, mode %v; want 0600", err, fi.Mode().Perm())
	}
}

func TestLoadKeyringRejectsBadFiles(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.key")
	if _, err := CreateKeyring(good, newDetRand(4)); err != nil {
		t.Fatal(err)
	}
	if _, err := CreateKeyring(good, newDetRand(5)); err != nil {
		t.Fatalf("CreateKeyring on an existing file must load it: %v", err)
	}
	line, _ := os.ReadFile(good)
	f := strings.Fields(string(line))
	cases := map[string]string{
		"not a key file": "hello world\n",
		"empty":          "# nothing\n",
		"wrong id":       f[0] + " 00000000 " + f[2] + "\n",
		"short key":      f[0] + " " + f[1] + " " + f[2][:20] + "\n",
	}
	for name, content := range cases {
		t.Run(name, func(t *testing.T) {
			p := filepath.Join(dir, strings.ReplaceAll(name, " ", "_"))
			if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := LoadKeyring(p); err == nil || !strings.Contains(err.Error(), p) {
				t.Errorf("LoadKeyring: %v; want an error naming the file", err)
			}
		})
	}
}

// TestDefaultPasswordParams: a Service with a default Config hashes with
// OWASP's argon2id parameters, and the hash verifies.
func TestDefaultPasswordParams(t *testing.T) {
	w := newWorld(t)
	s := New(w.Service.db, w.keys, Config{})
	op := LocalOperator("local:test")
	if _, err := s.CreateUser(w.ctx, op, w.acme, NewUser{Username: "dora", Password: testPassword}, ""); err != nil {
		t.Fatal(err)
	}
	var hash string
	if err := w.db.QueryRowContext(w.ctx, `SELECT password_hash FROM users WHERE username = 'dora'`).Scan(&hash); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %s does not carry m=19456,t=2,p=1", hash)
	}
	p, salt, key, err := parsePHC(hash)
	if err != nil || p != OWASPParams || len(salt) != 16 || len(key) != 32 {
		t.Errorf("parsePHC: %+v salt %d key %d %v", p, len(salt), len(key), err)
	}
	if sess, err := w.Login(w.ctx, "dora", testPassword, "test"); err != nil || sess.Stage() != StageNewPassword {
		t.Errorf("login with a default-cost hash on a cheap-cost service: %v", err)
	}
}

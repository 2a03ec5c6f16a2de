package core

import (
	"context"
	"io"
	"math/rand/v2"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestMain runs the suite on SQLite, then on PostgreSQL when PGHOST is set.
func TestMain(m *testing.M) { dbtest.Main(m) }

// testStart is a time-step boundary: 2030-01-01T00:00:00Z is step 63115200.
var testStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// cheapParams keep argon2 out of the tests' run time; one test checks the default.
var cheapParams = PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}

const testPassword = "correct horse battery"

// fakeClock is a settable time shared by every Service of a test.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// detRand is a deterministic random source, safe for concurrent use.
type detRand struct {
	mu sync.Mutex
	r  io.Reader
}

func newDetRand(seed byte) *detRand {
	var s [32]byte
	s[0] = seed
	return &detRand{r: rand.NewChaCha8(s)}
}

func (d *detRand) Read(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.r.Read(p)
}

// testEnv is one Service on a migrated database file in t.TempDir().
type testEnv struct {
	*Service
	t       *testing.T
	ctx     context.Context
	clock   *fakeClock
	dbPath  string
	keyPath string
	secrets map[string][]byte // TOTP secrets by username, as enrolled
}

type envOption func(*Config)

func withOpenRegistration(c *Config) { c.OpenRegistration = true }

func newTestService(t *testing.T, opts ...envOption) *testEnv {
	t.Helper()
	return newTestServiceIn(t, t.TempDir(), opts...)
}

// newTestServiceIn is newTestService with its files in dir.
func newTestServiceIn(t *testing.T, dir string, opts ...envOption) *testEnv {
	t.Helper()
	e := &testEnv{t: t, ctx: context.Background(), clock: &fakeClock{t: testStart}, secrets: map[string][]byte{},
		dbPath: dbtest.Location(t, dir), keyPath: filepath.Join(dir, "smartmfa.key")}
	store, err := db.Open(e.ctx, e.dbPath)
	if err != nil {
		t.Fatalf("db.Open: %v", err)
	}
	rnd := newDetRand(1)
	keys, err := CreateKeyring(e.keyPath, rnd)
	if err != nil {
		t.Fatalf("CreateKeyring: %v", err)
	}
	cfg := Config{Now: e.clock.Now, Rand: rnd, Password: cheapParams}
	for _, o := range opts {
		o(&cfg)
	}
	e.Service = New(store, keys, cfg)
	t.Cleanup(func() { e.Service.Close() })
	return e
}

// another builds a second Service on the same files and clock, as a second
// process or SSH daemon would have.
func (e *testEnv) another() *Service {
	e.t.Helper()
	store, err := db.Open(e.ctx, e.dbPath)
	if err != nil {
		e.t.Fatalf("db.Open: %v", err)
	}
	keys, err := LoadKeyring(e.keyPath)
	if err != nil {
		e.t.Fatalf("LoadKeyring: %v", err)
	}
	s := New(store, keys, Config{Now: e.clock.Now, Rand: newDetRand(2), Password: cheapParams})
	e.t.Cleanup(func() { s.Close() })
	return s
}

// world is the usual cast: account Acme with admin alice and users bob and
// carol; account Globex with admin gina and user hank.
type world struct {
	*testEnv
	acme, globex                  int64
	alice, bob, carol, gina, hank User
}

func newWorld(t *testing.T, opts ...envOption) *world {
	t.Helper()
	return newWorldIn(t, t.TempDir(), opts...)
}

// newWorldIn is newWorld with its files in dir.
func newWorldIn(t *testing.T, dir string, opts ...envOption) *world {
	t.Helper()
	w := &world{testEnv: newTestServiceIn(t, dir, opts...)}
	sess, err := w.RegisterAccount(w.ctx, "test", NewAccount{Name: "Acme",
		Admin: NewUser{Username: "alice", DisplayName: "Alice Admin", Password: testPassword}})
	if err != nil {
		t.Fatalf("RegisterAccount: %v", err)
	}
	w.acme = sess.AccountID()
	op := LocalOperator("local:test")
	g, err := w.CreateAccount(w.ctx, op, NewAccount{Name: "Globex",
		Admin: NewUser{Username: "gina", Password: testPassword}})
	if err != nil {
		t.Fatalf("CreateAccount: %v", err)
	}
	w.globex = g.ID
	w.alice = w.find("alice")
	w.gina = w.find("gina")
	w.bob = w.addUser(op, w.acme, "bob", RoleUser)
	w.carol = w.addUser(op, w.acme, "carol", RoleUser)
	w.hank = w.addUser(op, w.globex, "hank", RoleUser)
	return w
}

func (w *world) find(name string) User {
	w.t.Helper()
	u, err := w.FindUser(w.ctx, LocalOperator("local:test"), name)
	if err != nil {
		w.t.Fatalf("FindUser(%s): %v", name, err)
	}
	return u
}

func (e *testEnv) addUser(caller Session, account int64, name string, role Role) User {
	e.t.Helper()
	u, err := e.CreateUser(e.ctx, caller, account, NewUser{Username: name, Email: name + "@example.com",
		Role: role, Password: testPassword}, "")
	if err != nil {
		e.t.Fatalf("CreateUser(%s): %v", name, err)
	}
	// The cast logs in with the test password as if they had chosen it;
	// tests of the temporary password make their own users.
	if _, err := e.db.ExecContext(e.ctx, `UPDATE users SET must_change_password = 0 WHERE id = ?`, u.ID); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// login signs a user in with the test password and checks the stage.
func (e *testEnv) login(name string, want Stage) Session {
	e.t.Helper()
	sess, err := e.Login(e.ctx, name, testPassword, "test")
	if err != nil {
		e.t.Fatalf("Login(%s): %v", name, err)
	}
	if sess.Stage() != want {
		e.t.Fatalf("Login(%s): stage %d, want %d", name, sess.Stage(), want)
	}
	return sess
}

// enroll sets up MFA for a signed-in session and returns the secret and the
// recovery codes. The clock moves on a step so the next code is fresh.
func (e *testEnv) enroll(sess Session) ([]byte, []string) {
	e.t.Helper()
	en, err := e.BeginEnrollment(e.ctx, sess)
	if err != nil {
		e.t.Fatalf("BeginEnrollment: %v", err)
	}
	codes, _, err := e.ConfirmEnrollment(e.ctx, sess, e.code(en.secret, 0))
	if err != nil {
		e.t.Fatalf("ConfirmEnrollment: %v", err)
	}
	e.clock.Advance(totpPeriod * time.Second)
	e.secrets[sess.Username()] = en.secret
	return en.secret, codes
}

// enrollUser logs a user in, enrols them and returns the secret and codes.
func (e *testEnv) enrollUser(name string) ([]byte, []string) {
	e.t.Helper()
	return e.enroll(e.login(name, StageSignedIn))
}

// code is the TOTP code of secret at the fake clock's step plus offset.
func (e *testEnv) code(secret []byte, offset int64) string {
	return codeAt(secret, timeStep(e.clock.Now(), totpPeriod)+offset)
}

func codeAt(secret []byte, step int64) string {
	c, err := hotp(secret, uint64(step), totpDigits, SHA1)
	if err != nil {
		panic(err)
	}
	return c
}

// wrongCode is a well-formed code that matches no step in the window now,
// nor in the clock-drift search around it.
func (e *testEnv) wrongCode(secret []byte) string {
	near := map[string]bool{}
	for off := int64(-driftSearch - 1); off <= driftSearch+1; off++ {
		near[e.code(secret, off)] = true
	}
	for _, c := range []string{"000000", "111111", "222222", "333333", "444444", "555555"} {
		if !near[c] {
			return c
		}
	}
	panic("no wrong code")
}

// signIn logs in with the password and, for a user with MFA, a fresh code.
func (e *testEnv) signIn(name string, secret []byte) Session {
	e.t.Helper()
	if secret == nil {
		return e.login(name, StageSignedIn)
	}
	sess := e.login(name, StageCode)
	e.clock.Advance(totpPeriod * time.Second)
	out, err := e.VerifyLoginCode(e.ctx, sess, e.code(secret, 0))
	if err != nil {
		e.t.Fatalf("VerifyLoginCode(%s): %v", name, err)
	}
	return out
}

func (e *testEnv) count(table string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, "SELECT count(*) FROM "+table).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// counts snapshots the rows every failed request must leave alone.
func (e *testEnv) counts() [3]int {
	return [3]int{e.count("users"), e.count("mfa"), e.count("audit_events")}
}

func (e *testEnv) mfaRow(userID int64) db.MFA {
	e.t.Helper()
	m, err := db.MFAByUser(e.ctx, e.db, userID)
	if err != nil {
		e.t.Fatalf("MFAByUser(%d): %v", userID, err)
	}
	return m
}

func (e *testEnv) userRow(userID int64) db.User {
	e.t.Helper()
	u, err := db.UserByID(e.ctx, e.db, userID)
	if err != nil {
		e.t.Fatalf("UserByID(%d): %v", userID, err)
	}
	return u
}

// lastAudit returns the newest audit event.
func (e *testEnv) lastAudit() db.AuditEvent {
	e.t.Helper()
	ev, err := db.ListAudit(e.ctx, e.db, -1, 0, 1)
	if err != nil || len(ev) != 1 {
		e.t.Fatalf("ListAudit: %v (%d events)", err, len(ev))
	}
	return ev[0]
}

// errOf keeps the error of a call that also returns a session.
func errOf(_ Session, err error) error { return err }

// pwCounter is the failed-password counter that an attempt on name from
// source spends now: the origin's, where the user signed in within trustFor,
// else the name's bucket.
func (e *testEnv) pwCounter(name, source string) db.Counter {
	e.t.Helper()
	if u, err := db.UserByUsername(e.ctx, e.db, name); err == nil {
		at, c, ok, err := db.TrustedOrigin(e.ctx, e.db, u.ID, originOf(source))
		if err != nil {
			e.t.Fatal(err)
		}
		if ok && at >= e.clock.Now().Add(-trustFor).UnixNano() {
			return c
		}
	}
	c, err := db.BucketCounter(e.ctx, e.db, bucketOf(name))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// stepUpCode is a fresh code of the session's own authenticator, "" when
// they enrolled none: what an administrator types to act on another user.
func (e *testEnv) stepUpCode(s Session) string {
	secret := e.secrets[s.Username()]
	if secret == nil {
		return ""
	}
	e.clock.Advance(totpPeriod * time.Second)
	return e.code(secret, 0)
}

func (e *testEnv) countWhere(table, where string) int {
	e.t.Helper()
	var n int
	if err := e.db.QueryRowContext(e.ctx, "SELECT count(*) FROM "+table+" WHERE "+where).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

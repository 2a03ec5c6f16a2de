package tui

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/base32"
	"encoding/binary"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/db"
)

// testStart is a time-step boundary, so codes are predictable.
var testStart = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

const (
	adminPassword = "correct-horse-battery-1"
	userPassword  = "staple-orbit-lantern-2"
)

// fakeClock is a settable clock shared by core and the console.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// detRand is a deterministic random source: fixed secrets and recovery codes.
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

// testEnv is a core service on a migrated SQLite file with a fixed clock and
// random source, and the TOTP secrets of the users it enrolled.
type testEnv struct {
	t       testing.TB
	ctx     context.Context
	svc     *core.Service
	store   *db.DB // for what no console action does (see addUser)
	clock   *fakeClock
	secrets map[string][]byte
}

func newTestService(t testing.TB) *testEnv {
	t.Helper()
	dir := t.TempDir()
	return newTestServiceAt(t, dir, filepath.Join(dir, "smartmfa.db"))
}

// newTestServiceAt is newTestService on the store at location, its key file in dir.
func newTestServiceAt(t testing.TB, dir, location string) *testEnv {
	t.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, location)
	if err != nil {
		t.Fatal(err)
	}
	rnd := newDetRand(1)
	keys, err := core.CreateKeyring(filepath.Join(dir, "smartmfa.key"), rnd)
	if err != nil {
		t.Fatal(err)
	}
	clock := &fakeClock{t: testStart}
	svc := core.New(store, keys, core.Config{Now: clock.Now, Rand: rnd,
		Password: core.PasswordParams{MemoryKiB: 64, Time: 1, Threads: 1}})
	t.Cleanup(func() { svc.Close() })
	return &testEnv{t: t, ctx: ctx, svc: svc, store: store, clock: clock, secrets: map[string][]byte{}}
}

// register creates account Acme with administrator alice.
func (e *testEnv) register() core.Session {
	e.t.Helper()
	sess, err := e.svc.RegisterAccount(e.ctx, "test", core.NewAccount{Name: "Acme",
		Admin: core.NewUser{Username: "alice", DisplayName: "Alice Liddell", Email: "alice@example.com", Password: adminPassword}})
	if err != nil {
		e.t.Fatal(err)
	}
	return sess
}

// addUser adds a user to the admin's account, who logs in with userPassword
// as if they had chosen it: the temporary password's own tests use
// addTemporaryUser.
func (e *testEnv) addUser(admin core.Session, username, name string, role core.Role) core.User {
	e.t.Helper()
	u := e.addTemporaryUser(admin, username, name, role, userPassword)
	if _, err := e.store.ExecContext(e.ctx, `UPDATE users SET must_change_password = 0 WHERE id = ?`, u.ID); err != nil {
		e.t.Fatal(err)
	}
	return u
}

// addTemporaryUser adds a user as an administrator without MFA does: their
// password is temporary.
func (e *testEnv) addTemporaryUser(admin core.Session, username, name string, role core.Role, password string) core.User {
	e.t.Helper()
	u, err := e.svc.CreateUser(e.ctx, admin, admin.AccountID(), core.NewUser{Username: username, DisplayName: name,
		Email: username + "@example.com", Role: role, Password: password}, "")
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// enroll sets up MFA for a user through core, as a finished enrolment.
func (e *testEnv) enroll(username, password string) {
	e.t.Helper()
	sess, err := e.svc.Login(e.ctx, username, password, "test")
	if err != nil {
		e.t.Fatal(err)
	}
	if sess.Stage() == core.StageCode {
		e.t.Fatalf("%s already has MFA", username)
	}
	en, err := e.svc.BeginEnrollment(e.ctx, sess)
	if err != nil {
		e.t.Fatal(err)
	}
	e.secrets[username] = decodeKey(e.t, en.SetupKey)
	if _, _, err := e.svc.ConfirmEnrollment(e.ctx, sess, e.code(username)); err != nil {
		e.t.Fatal(err)
	}
}

// code moves the clock to the next time step and returns the user's code
// for it, so that no code is ever a replay.
func (e *testEnv) code(username string) string {
	e.t.Helper()
	e.clock.Advance(30 * time.Second)
	return totp(e.secrets[username], e.clock.Now())
}

func decodeKey(t testing.TB, setupKey string) []byte {
	t.Helper()
	k, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.ReplaceAll(setupKey, " ", ""))
	if err != nil {
		t.Fatalf("setup key %q: %v", setupKey, err)
	}
	return k
}

// totp is RFC 6238 (SHA1, 6 digits, 30 s), written out so the tests do not
// trust core's implementation.
func totp(key []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, key)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	return fmt.Sprintf("%06d", (binary.BigEndian.Uint32(sum[off:])&0x7fffffff)%1000000)
}

// asciiRenderer draws without colour, as the golden files are kept.
func asciiRenderer() *lipgloss.Renderer {
	r := lipgloss.NewRenderer(io.Discard)
	r.SetColorProfile(termenv.Ascii)
	r.SetHasDarkBackground(true)
	return r
}

// newTestModel is a console on the env's service, without colour.
func (e *testEnv) newTestModel() *model {
	return New(e.ctx, e.svc, Options{Source: "test", Renderer: asciiRenderer(), Now: e.clock.Now}).(*model)
}

// driver runs a model synchronously: every command runs at once and its
// message is fed back, so model tests need no timing.
type driver struct {
	t testing.TB
	m *model
}

func (e *testEnv) drive(w, h int) *driver {
	d := &driver{t: e.t, m: e.newTestModel()}
	d.send(tea.WindowSizeMsg{Width: w, Height: h})
	d.run(d.m.Init())
	return d
}

func (d *driver) send(msg tea.Msg) {
	d.t.Helper()
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

func (d *driver) run(cmd tea.Cmd) {
	d.t.Helper()
	if cmd == nil {
		return
	}
	switch msg := cmd().(type) {
	case nil:
	case tea.BatchMsg:
		for _, c := range msg {
			d.run(c)
		}
	case tea.QuitMsg:
	default:
		d.send(msg)
	}
}

// key sends a named key: "tab", "shift+tab", "enter", "esc", "space", "up"...
func (d *driver) key(names ...string) {
	d.t.Helper()
	for _, n := range names {
		d.send(keyMsg(n))
	}
}

func keyMsg(name string) tea.KeyMsg {
	types := map[string]tea.KeyType{"tab": tea.KeyTab, "shift+tab": tea.KeyShiftTab, "enter": tea.KeyEnter,
		"esc": tea.KeyEsc, "space": tea.KeySpace, "up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft,
		"right": tea.KeyRight, "end": tea.KeyEnd, "home": tea.KeyHome, "pgdown": tea.KeyPgDown, "pgup": tea.KeyPgUp,
		"backspace": tea.KeyBackspace, "ctrl+c": tea.KeyCtrlC, "ctrl+t": tea.KeyCtrlT,
		"ctrl+l": tea.KeyCtrlL}
	if t, ok := types[name]; ok {
		if t == tea.KeySpace {
			return tea.KeyMsg{Type: t, Runes: []rune{' '}}
		}
		return tea.KeyMsg{Type: t}
	}
	panic("unknown key " + name)
}

// typeText types s into whatever has the focus.
func (d *driver) typeText(s string) {
	d.t.Helper()
	for _, r := range s {
		d.send(tea.KeyMsg{Type: tea.KeyRunes, Runes: []rune{r}})
	}
}

// view is the screen as the terminal would show it.
func (d *driver) view() string { return d.m.View() }

// expect fails unless the screen shows want.
func (d *driver) expect(want string) {
	d.t.Helper()
	if v := d.view(); !strings.Contains(v, want) {
		d.t.Fatalf("the screen does not show %q:\n%s", want, v)
	}
}

// login logs a user in through the login screen (and the code screen when
// the user has MFA).
func (d *driver) login(e *testEnv, username, password string) {
	d.t.Helper()
	d.typeText(username)
	d.key("tab")
	d.typeText(password)
	d.key("enter")
	if d.m.cur == scrCode {
		d.typeText(e.code(username))
		d.key("enter")
	}
}

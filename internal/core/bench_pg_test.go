package core

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// The PostgreSQL benchmarks run the same work on SQLite and on PostgreSQL in
// the same benchmark, interleaved, and report each engine's figure and their
// ratio (PostgreSQL over SQLite): the machine's speed and load drift more than
// the figures do. They need PGHOST (they skip without it) and select with
// -bench Postgres:
//
//	PGHOST=/var/run/postgresql go test ./internal/core -run '^$' -bench Postgres

// benchServiceAt opens a Service on the store at location with its key file
// at keyPath, a real clock and cheap argon2, as benchService does.
func benchServiceAt(tb testing.TB, location, keyPath string) *Service {
	tb.Helper()
	store, err := db.Open(context.Background(), location)
	if err != nil {
		tb.Fatal(err)
	}
	keys, err := LoadKeyring(keyPath)
	if err != nil {
		keys, err = CreateKeyring(keyPath, newDetRand(9))
	}
	if err != nil {
		store.Close()
		tb.Fatal(err)
	}
	s := New(store, keys, Config{Password: benchParams})
	tb.Cleanup(func() { s.Close() })
	return s
}

// benchEngines returns a Service on a new SQLite file and one on a new
// PostgreSQL schema. dbtest.Main runs the test binary a second time with
// PostgreSQL as the tests' engine: these benchmarks already ran both, so they
// skip in that pass.
func benchEngines(b *testing.B) (sqlite, pg *Service) {
	b.Helper()
	skipSecondPass(b)
	dir := b.TempDir()
	pg = benchServiceAt(b, dbtest.RequirePostgres(b), filepath.Join(dir, "pg.key"))
	sqlite = benchServiceAt(b, filepath.Join(dir, "bench.db"), filepath.Join(dir, "bench.db.key"))
	return sqlite, pg
}

// skipSecondPass skips a benchmark that compares the engines itself in the
// pass dbtest.Main adds on PostgreSQL.
func skipSecondPass(b *testing.B) {
	b.Helper()
	if dbtest.Postgres() {
		b.Skip("compares both engines itself: ran in the first pass")
	}
}

// BenchmarkVerifyCodePostgres is BenchmarkVerifyCode's work, a login code
// check with its commit (the replay guard's conditional UPDATE), on
// PostgreSQL beside SQLite. It reports each engine's median in ms and
// "pg/sqlite", their ratio. Target: pg-ms at most 2.
func BenchmarkVerifyCodePostgres(b *testing.B) {
	sqlite, pg := benchEngines(b)
	benchEnginesRatio(b, verifyOp(b, pg), verifyOp(b, sqlite))
}

// BenchmarkLoginWithoutArgon2Postgres is BenchmarkLoginWithoutArgon2's work,
// a password login with argon2 made nearly free (its lookups, two commits
// and audit event), on PostgreSQL beside SQLite, reported as
// BenchmarkVerifyCodePostgres is.
func BenchmarkLoginWithoutArgon2Postgres(b *testing.B) {
	sqlite, pg := benchEngines(b)
	benchEnginesRatio(b, loginOp(b, pg), loginOp(b, sqlite))
}

// verifyOp sets up an account whose administrator has MFA, signed in up to
// the code, on s; the returned op checks one code of a new time step.
func verifyOp(b *testing.B, s *Service) func() {
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, LocalOperator("bench"), NewAccount{Name: "Bench",
		Admin: NewUser{Username: "ann", Password: testPassword}}); err != nil {
		b.Fatal(err)
	}
	clock := &fakeClock{t: time.Now()}
	s.cfg.Now = clock.Now
	sess, err := s.Login(ctx, "ann", testPassword, "bench")
	if err != nil {
		b.Fatal(err)
	}
	en, err := s.BeginEnrollment(ctx, sess)
	if err != nil {
		b.Fatal(err)
	}
	code := func() string {
		c, _ := hotp(en.secret, uint64(timeStep(clock.Now(), totpPeriod)), totpDigits, SHA1)
		return c
	}
	if _, _, err := s.ConfirmEnrollment(ctx, sess, code()); err != nil {
		b.Fatal(err)
	}
	pending := sess
	pending.stage = StageCode
	return func() {
		clock.Advance(totpPeriod * time.Second) // each code is of a new step, as a replay would be refused
		if _, err := s.VerifyLoginCode(ctx, pending, code()); err != nil {
			b.Fatal(err)
		}
	}
}

// loginOp sets up an account on s; the returned op is one password login.
func loginOp(b *testing.B, s *Service) func() {
	ctx := context.Background()
	if _, err := s.CreateAccount(ctx, LocalOperator("bench"), NewAccount{Name: "Bench",
		Admin: NewUser{Username: "ann", Password: testPassword}}); err != nil {
		b.Fatal(err)
	}
	return func() {
		if sess, err := s.Login(ctx, "ann", testPassword, "bench"); err != nil || sess.Stage() != StageSignedIn {
			b.Fatal(sess.Stage(), err)
		}
	}
}

// benchEnginesRatio runs pg and sqlite alternately, each timed on its own,
// the order swapped each round, and reports both medians in ms and pg's over
// sqlite's ("pg/sqlite"); ns/op covers both together.
func benchEnginesRatio(b *testing.B, pg, sqlite func()) {
	var pgD, liteD []time.Duration
	timed := func(f func(), d *[]time.Duration) {
		t0 := time.Now()
		f()
		*d = append(*d, time.Since(t0))
	}
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(pg, &pgD)
			timed(sqlite, &liteD)
		} else {
			timed(sqlite, &liteD)
			timed(pg, &pgD)
		}
	}
	pgMed, liteMed := medianMs(pgD), medianMs(liteD)
	b.ReportMetric(pgMed, "pg-ms")
	b.ReportMetric(liteMed, "sqlite-ms")
	b.ReportMetric(pgMed/liteMed, "pg/sqlite")
}

// medianMs is the median of d in ms; it sorts d.
func medianMs(d []time.Duration) float64 {
	slices.Sort(d)
	return float64(d[len(d)/2].Nanoseconds()) / 1e6
}

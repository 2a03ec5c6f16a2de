package core

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// benchParams is argon2 at its least (8 KiB, one pass): "without argon2"
// benchmarks measure the rest of a login, not 60-80 µs of hashing.
var benchParams = PasswordParams{MemoryKiB: 8, Time: 1, Threads: 1}

// benchService opens a Service on path with a real clock and cheap argon2, so
// that benchmarks measure what they name and not the password hash.
func benchService(tb testing.TB, path string) *Service {
	tb.Helper()
	ctx := context.Background()
	store, err := db.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	keyPath := path + ".key"
	keys, err := LoadKeyring(keyPath)
	if err != nil {
		keys, err = CreateKeyring(keyPath, newDetRand(9))
	}
	if err != nil {
		tb.Fatal(err)
	}
	s := New(store, keys, Config{Password: benchParams})
	tb.Cleanup(func() { s.Close() })
	return s
}

// BenchmarkVerifyCode is one login code check including its commit (the
// replay-guard UPDATE under synchronous=FULL), interleaved with a bare commit
// of one row (see benchRatio). Target: at most 1.5x the bare commit.
func BenchmarkVerifyCode(b *testing.B) {
	s := benchService(b, filepath.Join(b.TempDir(), "bench.db"))
	verify := verifyOp(b, s)
	ref := refCommit(b, s)
	b.ResetTimer()
	benchRatio(b, verify, ref)
}

// BenchmarkLoginWithoutArgon2 is a password login with argon2 made nearly
// free (m=64 KiB, t=1): the lookups, its two commits (the attempt reserved,
// then settled) and the audit event, interleaved with a bare commit of one
// row (see benchRatio). Target: at most 2x the bare commit.
func BenchmarkLoginWithoutArgon2(b *testing.B) {
	s := benchService(b, filepath.Join(b.TempDir(), "bench.db"))
	login := loginOp(b, s)
	ref := refCommit(b, s)
	b.ResetTimer()
	benchRatio(b, login, ref)
}

// refCommit returns the reference of benchRatio: a bare FULL commit of one
// row, a one-row UPDATE in its own BEGIN IMMEDIATE on the same file, pragmas
// and *sql.DB as the operation measured. It goes through the plain *sql.DB so
// that changes to package db never change the reference.
func refCommit(b *testing.B, s *Service) func() {
	ctx := context.Background()
	raw := s.db.DB
	for _, q := range []string{`CREATE TABLE IF NOT EXISTS bench_ref (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`,
		`INSERT OR IGNORE INTO bench_ref VALUES (1, 0)`} {
		if _, err := raw.ExecContext(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	return func() {
		tx, err := raw.BeginTx(ctx, nil) // immediate: the DSN sets _txlock
		if err != nil {
			b.Fatal(err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE bench_ref SET n = n + 1 WHERE id = 1`); err != nil {
			b.Fatal(err)
		}
		if err := tx.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// benchRatio runs op and ref alternately, each timed on its own, and reports
// op's median over ref's ("ratio-to-commit") and both medians in µs. The
// machine's speed and load drift more than the figures do, so only the ratio
// compares across runs; ns/op covers op and ref together. The order swaps
// each round so that neither always pays for the other's WAL checkpoint.
func benchRatio(b *testing.B, op, ref func()) {
	var opD, refD []time.Duration
	timed := func(f func(), d *[]time.Duration) {
		t0 := time.Now()
		f()
		*d = append(*d, time.Since(t0))
	}
	for i := 0; b.Loop(); i++ {
		if i%2 == 0 {
			timed(op, &opD)
			timed(ref, &refD)
		} else {
			timed(ref, &refD)
			timed(op, &opD)
		}
	}
	median := func(d []time.Duration) float64 {
		slices.Sort(d)
		return float64(d[len(d)/2].Nanoseconds()) / 1000
	}
	opMed, refMed := median(opD), median(refD)
	b.ReportMetric(opMed, "op-µs")
	b.ReportMetric(refMed, "commit-µs")
	b.ReportMetric(opMed/refMed, "ratio-to-commit")
}

// BenchmarkSeedDemo1M seeds one account of a million users, as
// `smartmfa demo --users 1000000` does. Target: 15 s.
func BenchmarkSeedDemo1M(b *testing.B) {
	for b.Loop() {
		b.StopTimer()
		s := benchService(b, filepath.Join(b.TempDir(), "seed.db"))
		b.StartTimer()
		res, err := s.SeedDemo(context.Background(), LocalOperator("bench"), DemoOptions{Users: 1_000_000, Password: testPassword})
		if err != nil || res.Users != 1_000_000 {
			b.Fatal(res, err)
		}
	}
}

// searchDB is a database of 1M users: 899 accounts of 1k, one of 100k ("Big")
// and one of 1k ("Small") in the middle. It is kept in the temp directory
// between runs (named by schema version) because it takes a while to build.
func searchDB(b *testing.B) (*Service, map[string]Session) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("smartmfa-bench-1m-v%d.db", db.SchemaVersion()))
	_, statErr := os.Stat(path)
	s := benchService(b, path)
	if statErr != nil {
		b.Logf("building %s (1M users) once", path)
		seedSearchStore(b, s)
	}
	return s, signInBenchAdmins(b, s)
}

// BenchmarkSearch1M measures one page of account-scoped search, as typed in
// the Users screen, with its count of matches, over a million users. It
// reports p50 and p99 in ms (target: p99 16 ms, one frame), and "ref" a fixed
// query to divide them by. "rare" terms match a few users of the account;
// "elsewhere" ones match many users of other accounts and none here.
func BenchmarkSearch1M(b *testing.B) {
	s, sessions := searchDB(b)
	ctx := context.Background()
	queries := searchClasses()
	// ref is a fixed piece of SQLite work, unchanged by search changes:
	// report search times as ratios to its p50, measured in the same run,
	// since the machine's speed and load vary more than the figures do.
	b.Run("ref/count-10k-index", func(b *testing.B) {
		sess := sessions["big"]
		var d []time.Duration
		for b.Loop() {
			t0 := time.Now()
			var n int
			if err := s.db.QueryRowContext(ctx, `SELECT count(*) FROM (SELECT 1 FROM users WHERE account_id = ? LIMIT 10000)`,
				sess.AccountID()).Scan(&n); err != nil || n != 10000 {
				b.Fatal(n, err)
			}
			d = append(d, time.Since(t0))
		}
		reportPercentiles(b, d)
	})
	// The index file opened bare, for the raw FTS5 reference.
	index, err := sql.Open("sqlite", "file:"+s.db.Path+db.IndexSuffix+"?mode=ro")
	if err != nil {
		b.Fatal(err)
	}
	defer index.Close()
	for _, acct := range []string{"small", "big"} {
		sess := sessions[acct]
		classes := make([]string, 0, len(queries[acct]))
		for c := range queries[acct] {
			classes = append(classes, c)
		}
		slices.Sort(classes)
		for _, class := range classes {
			b.Run(acct+"/"+class, func(b *testing.B) {
				var d, raw []time.Duration
				i := 0
				for b.Loop() {
					q := queries[acct][class][i%len(queries[acct][class])]
					q.Count = true // as the Users page asks for its first page
					i++
					t0 := time.Now()
					if _, err := s.SearchUsers(ctx, sess, sess.AccountID(), q); err != nil {
						b.Fatal(err)
					}
					d = append(d, time.Since(t0))
					if utf8.RuneCountInString(q.Term) >= 3 {
						raw = append(raw, rawMatch(b, index, sess.AccountID(), q.Term))
					}
				}
				reportPercentiles(b, d)
				if len(raw) > 0 {
					// The same FTS5 work bare: the page's rowids and the capped count.
					slices.Sort(raw)
					b.ReportMetric(float64(d[len(d)/2])/float64(raw[len(raw)/2]), "p50-to-raw")
					b.ReportMetric(float64(d[len(d)*99/100])/float64(raw[len(raw)*99/100]), "p99-to-raw")
				}
			})
		}
	}
}

// rawMatch times the FTS5 statements a page of a 3+-character term needs,
// bare: its 21 rowids and the count capped at 1,001, in the account's range.
func rawMatch(b *testing.B, index *sql.DB, accountID int64, term string) time.Duration {
	expr := `"` + strings.ReplaceAll(term, `"`, `""`) + `"`
	lo, hi := accountID<<32, accountID<<32|(1<<32-1)
	t0 := time.Now()
	rows, err := index.Query(`SELECT rowid FROM user_search WHERE user_search MATCH ? AND rowid BETWEEN ? AND ? ORDER BY rowid LIMIT 21`, expr, lo, hi)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
	}
	rows.Close()
	var n int
	if err := index.QueryRow(`SELECT count(*) FROM (SELECT 1 FROM user_search WHERE user_search MATCH ? AND rowid BETWEEN ? AND ? LIMIT 1001)`,
		expr, lo, hi).Scan(&n); err != nil {
		b.Fatal(err)
	}
	return time.Since(t0)
}

// reportPercentiles reports the p50 and p99 of d in ms.
func reportPercentiles(b *testing.B, d []time.Duration) {
	slices.Sort(d)
	b.ReportMetric(float64(d[len(d)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(d[len(d)*99/100].Microseconds())/1000, "p99-ms")
}

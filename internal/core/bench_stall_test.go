package core

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// demo1MAdmin is the administrator of the cached 1M-user demo account.
const demo1MAdmin = "bench-admin"

// seededDemo1M returns a copy, in the benchmark's temp directory, of a
// database holding one demo account of a million users just seeded by
// SeedDemo, with its key file beside it. The seeded file is kept in the temp
// directory between runs (named by schema version), as searchDB keeps its
// own, and copied for each run: the writes change it, and what is measured
// is the first writes after a seed.
func seededDemo1M(b *testing.B) (path string, demo DemoResult) {
	b.Helper()
	demo = DemoResult{Admin: demo1MAdmin, Users: 1_000_000}
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("smartmfa-bench-demo-1m-v%d.db", db.SchemaVersion()))
	if _, err := os.Stat(cached); err != nil {
		b.Logf("seeding %s (1M users) once", cached)
		building := cached + ".building"
		for _, f := range []string{building, building + "-wal", building + "-shm", building + ".key"} {
			os.Remove(f)
		}
		store, err := db.Open(context.Background(), building)
		if err != nil {
			b.Fatal(err)
		}
		keys, err := CreateKeyring(building+".key", newDetRand(9))
		if err != nil {
			b.Fatal(err)
		}
		s := New(store, keys, Config{Password: cheapParams})
		_, err = s.SeedDemo(context.Background(), LocalOperator("bench"),
			DemoOptions{Admin: demo1MAdmin, Users: demo.Users, Password: testPassword})
		if cerr := s.Close(); err == nil {
			err = cerr // closing the last connection checkpoints the WAL into the file
		}
		if err == nil {
			err = os.Rename(building+".key", cached+".key")
		}
		if err == nil {
			err = os.Rename(building, cached)
		}
		if err != nil {
			b.Fatal(err)
		}
	}
	path = filepath.Join(b.TempDir(), "demo.db")
	for _, suffix := range []string{"", ".key", "-wal"} {
		if err := copyFile(cached+suffix, path+suffix); err != nil && !(suffix == "-wal" && os.IsNotExist(err)) {
			b.Fatal(err)
		}
	}
	return path, demo
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// BenchmarkWritesAfterSeed1M is G1 of issue 11 at full size: 5,000 single
// profile writes by the administrator right after `demo` seeded a million
// users, while one of them signs in with a code beside the writes (see
// stallProbe). It reports the writes' max-ms, p99-ms and p50-ms, and
// auth-max-ms and auth-p99-ms, the longest and p99 sign-in step (password
// login with argon2 made nearly free, or code check). The reference, measured
// in the same run on the same file, interleaved after every tenth write, is a
// bare FULL commit of one row into a table of its own: commit-p50-ms its
// median, max-to-commit the slowest write divided by it. Targets: max-ms at
// most 200 and auth-max-ms at most 50. One iteration takes about half a
// minute; run it once:
//
//	go test ./internal/core -run '^$' -bench WritesAfterSeed1M -benchtime 1x
func BenchmarkWritesAfterSeed1M(b *testing.B) {
	const writes = 5_000
	var all stallRun
	var commits []time.Duration
	for b.Loop() {
		b.StopTimer()
		path, demo := seededDemo1M(b)
		s := benchService(b, path)
		clock := &fakeClock{t: time.Now()}
		s.cfg.Now = clock.Now
		ctx := context.Background()
		ref, err := db.Open(ctx, path) // a pool of its own, as a second process would have
		if err != nil {
			b.Fatal(err)
		}
		if _, err := ref.ExecContext(ctx, `CREATE TABLE bench_commit (id INTEGER PRIMARY KEY, n INTEGER NOT NULL)`); err != nil {
			b.Fatal(err)
		}
		commit := func(i int) error {
			if i%10 != 9 {
				return nil
			}
			t0 := time.Now()
			err := ref.WriteTx(ctx, func(q db.Querier) error {
				_, err := q.ExecContext(ctx, `INSERT INTO bench_commit (n) VALUES (?)`, i)
				return err
			})
			commits = append(commits, time.Since(t0))
			return err
		}
		p := newStallProbe(b, s, clock, demo, testPassword, writes)
		b.StartTimer()
		r, err := p.run(ctx, testPassword, commit)
		b.StopTimer()
		ref.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.Logf("writes over 50 ms: %v", slowWrites(r.writes, 50*time.Millisecond))
		b.Logf("sign-in steps over 50 ms (of %d): %v", len(r.auth), slowAuth(r.auth, 50*time.Millisecond))
		all.writes = append(all.writes, r.writes...)
		all.auth = append(all.auth, r.auth...)
		b.StartTimer()
	}
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	auth := authDurations(all.auth)
	commitP50 := percentile(commits, 0.5)
	b.ReportMetric(ms(percentile(all.writes, 1)), "max-ms")
	b.ReportMetric(ms(percentile(all.writes, 0.99)), "p99-ms")
	b.ReportMetric(ms(percentile(all.writes, 0.5)), "p50-ms")
	b.ReportMetric(ms(commitP50), "commit-p50-ms")
	b.ReportMetric(float64(percentile(all.writes, 1))/float64(commitP50), "max-to-commit")
	b.ReportMetric(ms(percentile(auth, 1)), "auth-max-ms")
	b.ReportMetric(ms(percentile(auth, 0.99)), "auth-p99-ms")
}

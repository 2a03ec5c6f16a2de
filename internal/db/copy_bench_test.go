package db_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

const benchCopyUsers = 1_000_000

// seedBulk adds an account and n users to a store through BulkUsers, the
// path `smartmfa demo` takes, with names and emails like the demo's.
func seedBulk(b *testing.B, d *db.DB, n int) {
	b.Helper()
	ctx := context.Background()
	var acct int64
	err := d.WriteTx(ctx, func(q db.Querier) (err error) {
		acct, err = db.InsertAccount(ctx, q, "Demo", db.NameKey("Demo"), 1)
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	first := strings.Fields("Ava Ben Chloe Daniel Emma Felix Grace Henry Isla Jack Kai Leo Mia Noah Olivia Paul")
	last := strings.Fields("Smith Jones Brown Taylor Wilson Davies Evans Thomas Müller Rossi Novak Kowalski")
	err = d.BulkUsers(ctx, acct, n, "$argon2id$v=19$m=19456,t=2,p=1$bench", func(i int, id int64, u *db.User) {
		f, l := first[i%len(first)], last[(i/len(first))%len(last)]
		u.Username = fmt.Sprintf("%s.%s%d", strings.ToLower(f), strings.ToLower(l), id)
		u.DisplayName = f + " " + l
		u.Email = fmt.Sprintf("%s%d@demo.example", strings.ToLower(f[:1]+l), id)
		u.CreatedAt, u.UpdatedAt = 2, 2
	}, nil)
	if err != nil {
		b.Fatal(err)
	}
}

// copySource is a SQLite store of a million bulk-loaded users, kept in the
// temp directory between runs (named by schema version) as the core
// benchmarks keep theirs: a copy only reads it.
func copySource(b *testing.B) string {
	b.Helper()
	cached := filepath.Join(os.TempDir(), fmt.Sprintf("smartmfa-bench-copy-1m-v%d.db", db.SchemaVersion()))
	if _, err := os.Stat(cached); err == nil {
		return cached
	}
	b.Logf("seeding %s (1M users) once", cached)
	building := cached + ".building"
	for _, f := range []string{"", db.IndexSuffix} {
		for _, g := range []string{"", "-wal", "-shm"} {
			os.Remove(building + f + g)
		}
	}
	d, err := db.Open(context.Background(), building)
	if err != nil {
		b.Fatal(err)
	}
	seedBulk(b, d, benchCopyUsers)
	// Move the WAL into the file, which alone is renamed: closing the store
	// left a 150 MB WAL beside it.
	var busy, logged, moved int
	err = d.DB.QueryRowContext(context.Background(), `PRAGMA wal_checkpoint(TRUNCATE)`).Scan(&busy, &logged, &moved)
	if err != nil || busy != 0 {
		b.Fatalf("checkpoint: busy %d, %v", busy, err)
	}
	if err := d.Close(); err != nil {
		b.Fatal(err)
	}
	for _, g := range []string{"", "-wal", "-shm"} {
		os.Remove(building + db.IndexSuffix + g) // the search index is not copied
	}
	for _, g := range []string{"-wal", "-shm"} {
		os.Remove(building + g)
	}
	if err := os.Rename(building, cached); err != nil {
		b.Fatal(err)
	}
	return cached
}

// BenchmarkCopy1M copies a store of a million users from SQLite to an empty
// PostgreSQL store, as `smartmfa copy` does, beside a reference measured in
// the same run: bulk-loading the same million users into a new SQLite file
// (BulkUsers, the demo's path). It reports copy-ns/op and seed-ns/op, and
// copy/seed, their ratio, since the machine's load moves both. ns/op is the
// copy alone. About a minute an iteration:
//
//	PGHOST=/var/run/postgresql go test ./internal/db -run '^$' -bench Copy1M -benchtime 1x
func BenchmarkCopy1M(b *testing.B) {
	copyOnce(b)
	source := copySource(b)
	ctx := context.Background()
	src, err := db.Open(ctx, source)
	if err != nil {
		b.Fatal(err)
	}
	defer src.Close()
	var copyTime, seedTime time.Duration
	for b.Loop() {
		b.StopTimer()
		dst := copyTarget(b)
		ref, err := db.Open(ctx, filepath.Join(b.TempDir(), "ref.db"))
		if err != nil {
			b.Fatal(err)
		}
		start := time.Now()
		seedBulk(b, ref, benchCopyUsers)
		seedTime += time.Since(start)
		ref.Close()

		b.StartTimer()
		start = time.Now()
		counts, err := db.CopyStore(ctx, src, dst, nil)
		copyTime += time.Since(start)
		b.StopTimer()
		if err != nil {
			b.Fatal(err)
		}
		if counts[1].Table != "users" || counts[1].Rows != benchCopyUsers {
			b.Fatalf("copied %+v, want %d users", counts[1], benchCopyUsers)
		}
		dst.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(copyTime.Nanoseconds())/float64(b.N), "copy-ns/op")
	b.ReportMetric(float64(seedTime.Nanoseconds())/float64(b.N), "seed-ns/op")
	b.ReportMetric(float64(copyTime)/float64(seedTime), "copy/seed")
}

package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// BenchmarkDemo1MPostgres is `smartmfa demo --users 1000000` on PostgreSQL
// (--db postgres://..., a new schema each time) beside the same command on a
// new SQLite file, each a process of its own, their order swapped each
// iteration. It reports pg-s and sqlite-s, the mean wall times from start to
// exit, and pg/sqlite, the ratio of their sums. A process's own CPU time
// would leave out the server's, so none is reported. Target: pg-s at most 30.
// It needs PGHOST (it skips without it):
//
//	PGHOST=/var/run/postgresql go test ./cmd/smartmfa -run '^$' -bench Demo1MPostgres -benchtime 3x
func BenchmarkDemo1MPostgres(b *testing.B) {
	const users = 1_000_000
	dbtest.RequirePostgres(b)
	bin := smartmfaBinary(b)
	var pg, lite []time.Duration
	i := 0
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		location := dbtest.Schema(b)
		b.StartTimer()
		demo := func(store string, into *[]time.Duration) {
			cmd := exec.Command(bin, "demo", "--db", store, "--users", strconv.Itoa(users))
			cmd.Env = []string{"HOME=" + dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
			for _, kv := range os.Environ() {
				if strings.HasPrefix(kv, "PG") { // the server the location leaves to libpq's variables
					cmd.Env = append(cmd.Env, kv)
				}
			}
			d, _, _ := timeProcess(b, cmd)
			*into = append(*into, d)
		}
		if i%2 == 0 {
			demo(location, &pg)
			demo(filepath.Join(dir, "demo.db"), &lite)
		} else {
			demo(filepath.Join(dir, "demo.db"), &lite)
			demo(location, &pg)
		}
		i++
		b.StopTimer()
		for _, store := range []string{location, filepath.Join(dir, "demo.db")} {
			checkDemoUsers(b, store, users)
		}
		b.StartTimer()
	}
	b.ReportMetric(total(pg).Seconds()/float64(len(pg)), "pg-s")
	b.ReportMetric(total(lite).Seconds()/float64(len(lite)), "sqlite-s")
	b.ReportMetric(float64(total(pg))/float64(total(lite)), "pg/sqlite")
}

// checkDemoUsers checks that demo left users demo users and its
// administrator in the store, and that a search finds one of them.
func checkDemoUsers(b *testing.B, store string, users int) {
	b.Helper()
	ctx := context.Background()
	d, err := db.Open(ctx, store)
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	var n int
	var acct int64
	if err := d.QueryRowContext(ctx, `SELECT count(*), min(account_id) FROM users`).Scan(&n, &acct); err != nil || n != users+1 {
		b.Fatalf("%s holds %d users (%v), want %d", store, n, err, users+1)
	}
	found, _, err := d.SearchUsers(ctx, db.UserSearch{AccountID: acct, Term: "demo-admin", Limit: 2})
	if err != nil || len(found) != 1 {
		b.Fatalf("%s: searching for the administrator found %d users (%v)", store, len(found), err)
	}
}

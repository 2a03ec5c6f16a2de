package main

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// BenchmarkDemo1MBesideBareInsert is G2 of issue 11: `smartmfa demo --users
// 1000000` as a process of its own, beside a reference measured in the same
// run, a bare bulk insert of the same rows, also a process of its own (this
// test binary again, see bareInsertEnv). It reports seed-s and bare-s, their
// wall times from start to exit; ratio, seed-s over bare-s; peak-MB and
// bare-peak-MB, each process's peak resident memory; and seed-cpu-s and
// bare-cpu-s, the CPU time each used (user and system), which the machine's
// load changes less than the wall times. Targets: seed-s at most
// 15, ratio at most 1.3, peak-MB at most 512. One iteration takes about half
// a minute. On a loaded machine one pair's ratio varies by a third from run
// to run; three iterations, which alternate which process goes first, give
// ratio as the sum of three of each:
//
//	go test ./cmd/smartmfa -run '^$' -bench Demo1MBesideBareInsert -benchtime 3x
func BenchmarkDemo1MBesideBareInsert(b *testing.B) {
	const users = 1_000_000
	bin := smartmfaBinary(b)
	var seed, bare, seedCPU, bareCPU []time.Duration
	var seedPeak, barePeak int64 // KiB
	i := 0
	for b.Loop() {
		dir := b.TempDir()
		demoDB, bareDB := filepath.Join(dir, "demo.db"), filepath.Join(dir, "bare.db")
		runSeed := func() {
			cmd := exec.Command(bin, "demo", "--db", demoDB, "--users", strconv.Itoa(users))
			cmd.Env = []string{"HOME=" + dir, "USER=tester", "PATH=" + os.Getenv("PATH")}
			d, cpu, peak := timeProcess(b, cmd)
			seed, seedCPU, seedPeak = append(seed, d), append(seedCPU, cpu), max(seedPeak, peak)
		}
		runBare := func() {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), bareInsertEnv+"="+bareDB, bareUsersEnv+"="+strconv.Itoa(users))
			d, cpu, peak := timeProcess(b, cmd)
			bare, bareCPU, barePeak = append(bare, d), append(bareCPU, cpu), max(barePeak, peak)
		}
		if i%2 == 0 { // alternate which goes first, should the machine drift
			runSeed()
			runBare()
		} else {
			runBare()
			runSeed()
		}
		i++
		b.StopTimer()
		checkSameRows(b, demoDB, bareDB, users)
		b.StartTimer()
	}
	b.ReportMetric(total(seed).Seconds()/float64(len(seed)), "seed-s")
	b.ReportMetric(total(bare).Seconds()/float64(len(bare)), "bare-s")
	b.ReportMetric(float64(total(seed))/float64(total(bare)), "ratio")
	b.ReportMetric(float64(seedPeak)/1024, "peak-MB")
	b.ReportMetric(float64(barePeak)/1024, "bare-peak-MB")
	b.ReportMetric(total(seedCPU).Seconds()/float64(len(seedCPU)), "seed-cpu-s")
	b.ReportMetric(total(bareCPU).Seconds()/float64(len(bareCPU)), "bare-cpu-s")
}

// timeProcess runs cmd to its end and returns its wall time, its CPU time
// and its peak resident memory in KiB (getrusage's ru_maxrss on Linux).
func timeProcess(b *testing.B, cmd *exec.Cmd) (wall, cpu time.Duration, peakKiB int64) {
	b.Helper()
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	t0 := time.Now()
	err := cmd.Run()
	wall = time.Since(t0)
	if err != nil {
		b.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, out.String())
	}
	ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage)
	if !ok {
		b.Fatalf("no resource usage for %s on this system", cmd.Args[0])
	}
	cpu = time.Duration(syscall.TimevalToNsec(ru.Utime) + syscall.TimevalToNsec(ru.Stime))
	return wall, cpu, int64(ru.Maxrss)
}

// checkSameRows checks that the bare insert wrote what demo wrote: as many
// users, and at a few places the same username, name and email under the same
// id, and password hashes of the same length. The reference copies core's
// generator (demoNames below); this is what tells when the two drift apart.
func checkSameRows(b *testing.B, demoDB, bareDB string, users int) {
	b.Helper()
	ctx := context.Background()
	demo, err := db.Open(ctx, demoDB)
	if err != nil {
		b.Fatal(err)
	}
	defer demo.Close()
	bare, err := sql.Open("sqlite", bareDSN(bareDB))
	if err != nil {
		b.Fatal(err)
	}
	defer bare.Close()
	var n int
	if err := bare.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n); err != nil || n != users {
		b.Fatalf("the bare insert wrote %d users (%v), want %d", n, err, users)
	}
	if err := demo.QueryRowContext(ctx, `SELECT count(*) FROM users WHERE role = 'user'`).Scan(&n); err != nil || n != users {
		b.Fatalf("demo wrote %d users (%v), want %d", n, err, users)
	}
	// The same rows but the hash: demo stores the one hash it shares once
	// and a reference to it in each row, the bare insert the hash itself.
	const row = `SELECT username, display_name, email FROM users WHERE id = ?`
	for _, id := range []int64{2, 3, 51, 4_951, 500_001, int64(users) + 1} {
		var want, got [3]string
		if err := demo.QueryRowContext(ctx, row, id).Scan(&want[0], &want[1], &want[2]); err != nil {
			b.Fatalf("demo user %d: %v", id, err)
		}
		if err := bare.QueryRowContext(ctx, row, id).Scan(&got[0], &got[1], &got[2]); err != nil {
			b.Fatalf("bare user %d: %v", id, err)
		}
		if got != want {
			b.Fatalf("user %d: the bare insert wrote %q, demo %q: update demoNames and bareInsert from core's generator", id, got, want)
		}
	}
}

// The bare insert runs in a process of its own: this test binary started
// again with bareInsertEnv naming the file to create and bareUsersEnv the
// number of users.
const (
	bareInsertEnv = "SMARTMFA_BENCH_BARE_INSERT"
	bareUsersEnv  = "SMARTMFA_BENCH_BARE_USERS"
)

func init() {
	path := os.Getenv(bareInsertEnv)
	if path == "" {
		return
	}
	n, err := strconv.Atoi(os.Getenv(bareUsersEnv))
	if err == nil {
		err = bareInsert(path, n)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bare insert:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// bareDSN opens a file with the pragmas of internal/db's dsn: WAL,
// synchronous FULL, a busy timeout, foreign keys, immediate transactions.
func bareDSN(path string) string {
	q := url.Values{}
	for _, p := range []string{"busy_timeout(10000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"} {
		q.Add("_pragma", p)
	}
	q.Set("_txlock", "immediate")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

// bareUsersTable is the users table as the migrations leave it (0001, less
// the two counters 0003 drops, plus the flag it adds), with its UNIQUE
// username and nothing else: no foreign key to accounts (there is no accounts
// table), no other index, no search index.
const bareUsersTable = `CREATE TABLE users (
    id                   INTEGER PRIMARY KEY,
    account_id           INTEGER NOT NULL,
    username             TEXT    NOT NULL COLLATE NOCASE UNIQUE,
    display_name         TEXT    NOT NULL DEFAULT '',
    email                TEXT    NOT NULL DEFAULT '',
    role                 TEXT    NOT NULL CHECK (role IN ('admin', 'user')),
    password_hash        TEXT    NOT NULL,
    disabled             INTEGER NOT NULL DEFAULT 0,
    created_at           INTEGER NOT NULL,
    updated_at           INTEGER NOT NULL,
    session_epoch        INTEGER NOT NULL DEFAULT 0,
    must_change_password INTEGER NOT NULL DEFAULT 0
)`

// demoNames are core's demo first and last names (internal/core/demo.go), in
// the same order: the bare insert must write the rows demo writes.
var demoNames = [2][]string{
	strings.Fields(`Ava Ben Chloe Daniel Emma Felix Grace Henry Isla Jack Kai Leo Mia Noah Olivia
		Paul Quinn Ruby Sam Tara Uma Victor Wendy Xavier Yara Zoe Amir Bianca Carlos Dina Elif Farah Goran Hana
		Ivan Jun Keira Lars Maya Nils Omar Priya Rosa Sven Tomas Ulla Vera Wei Yusuf Zane`),
	strings.Fields(`Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright
		Robinson Thompson White Hughes Edwards Green Hall Wood Harris Lewis Martin Jackson Clarke Clark Turner Hill
		Scott Cooper Morris Ward Moore King Watson Baker Harrison Morgan Patel Young Allen Mitchell James Anderson
		Phillips Lee Bell Parker Davis Miller Garcia Rossi Muller Schmidt Novak Kowalski Nielsen Larsen Berg Dubois
		Moreau Laurent Lopez Santos Silva Costa Ferreira Kim Park Chen Wang Li Zhang Singh Kumar Sato Suzuki Tanaka
		Ito Haddad Khan Ali Cohen Levi Murphy Kelly Byrne Walsh Ryan Doyle Olsen Hansen Jensen Lund Virtanen Horvat`),
}

// bareInsert creates path and inserts n users of account 1 with ids from 2,
// as demo creates them after its administrator (id 1) in account "Demo":
// one transaction of prepared 200-row INSERTs, as internal/db's BulkUsers.
// It sets the dsn's pragmas and no others, so SQLite's default page cache
// (2 MB) holds the username index: the reference is the plain insert, not
// BulkUsers' 512 MiB cache, with which it runs about twice as fast and
// twenty times as large.
func bareInsert(path string, n int) error {
	ctx := context.Background()
	d, err := sql.Open("sqlite", bareDSN(path))
	if err != nil {
		return err
	}
	defer d.Close()
	var mode string
	var sync int
	if err := d.QueryRowContext(ctx, `PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
		return fmt.Errorf("journal_mode %q, %v", mode, err)
	}
	if err := d.QueryRowContext(ctx, `PRAGMA synchronous`).Scan(&sync); err != nil || sync != 2 {
		return fmt.Errorf("synchronous %d, %v", sync, err)
	}
	if _, err := d.ExecContext(ctx, bareUsersTable); err != nil {
		return err
	}
	tx, err := d.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	const batch, cols = 200, 9
	row := `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO users (id, account_id, username, display_name, email, role, password_hash, created_at, updated_at) VALUES `+
		row+strings.Repeat(", "+row, batch-1))
	if err != nil {
		return err
	}
	defer stmt.Close()
	// The shape of an argon2id hash with core's parameters: 97 bytes, one for all.
	hash := "$argon2id$v=19$m=19456,t=2,p=1$" + strings.Repeat("s", 22) + "$" + strings.Repeat("h", 43)
	now := time.Now().UnixNano()
	first, last := demoNames[0], demoNames[1]
	args := make([]any, 0, batch*cols)
	for start := 0; start < n; start += batch {
		if n-start < batch {
			return fmt.Errorf("%d users is not a multiple of %d", n, batch)
		}
		args = args[:0]
		for j := range batch {
			i := start + j
			id := int64(i) + 2
			f, l := first[i%len(first)], last[(i/len(first))%len(last)]
			args = append(args, id, 1, fmt.Sprintf("%s.%s%d", strings.ToLower(f), strings.ToLower(l), id), f+" "+l,
				fmt.Sprintf("%s%d@demo.example", strings.ToLower(f[:1]+l), id), "user", hash, now, now)
		}
		if _, err := stmt.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// total is the sum of the durations a benchmark measured.
func total(d []time.Duration) (s time.Duration) {
	for _, x := range d {
		s += x
	}
	return s
}

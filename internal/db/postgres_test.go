package db_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestWriteTxRetriesConflicts: transactions that read a row and write it
// back, racing on one row, all commit and none loses another's write. On
// PostgreSQL the losers of each race fail with 40001 and WriteTx runs them
// again; on SQLite the writers queue.
func TestWriteTxRetriesConflicts(t *testing.T) {
	ctx := context.Background()
	d := openTest(t)
	if _, err := d.ExecContext(ctx, `INSERT INTO name_buckets (bucket, failures, locked_until, failed_at) VALUES (7, 0, 0, 0)`); err != nil {
		t.Fatal(err)
	}
	const workers, each = 4, 10
	var runs atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				errs <- d.WriteTx(ctx, func(q db.Querier) error {
					runs.Add(1)
					c, err := db.BucketCounter(ctx, q, 7)
					if err != nil {
						return err
					}
					_, err = q.ExecContext(ctx, `UPDATE name_buckets SET failures = ? WHERE bucket = 7`, c.Failures+1)
					return err
				})
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatalf("a transaction failed: %v", err)
		}
	}
	c, err := db.BucketCounter(ctx, d, 7)
	if err != nil {
		t.Fatal(err)
	}
	if c.Failures != workers*each {
		t.Fatalf("%d increments committed, want %d", c.Failures, workers*each)
	}
	t.Logf("%d transactions ran %d times", workers*each, runs.Load())
}

// TestPostgresTooNewRefused: a store migrated by a newer smartmfa is refused
// with one sentence that names it without its password.
func TestPostgresTooNewRefused(t *testing.T) {
	loc := dbtest.RequirePostgres(t)
	ctx := context.Background()
	d, err := db.Open(ctx, loc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ExecContext(ctx, `UPDATE smartmfa_schema SET version = version + 1`); err != nil {
		t.Fatal(err)
	}
	d.Close()
	_, err = db.Open(ctx, loc)
	if !errors.Is(err, db.ErrTooNew) || !strings.Contains(err.Error(), "upgrade smartmfa") {
		t.Fatalf("open of a newer schema: %v, want ErrTooNew asking for an upgrade", err)
	}
}

// TestPostgresHostsMigrateOnce: hosts opening a new store at once all
// succeed, and the schema is applied once.
func TestPostgresHostsMigrateOnce(t *testing.T) {
	loc := dbtest.RequirePostgres(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	stores := make([]*db.DB, 6)
	errs := make([]error, len(stores))
	for i := range stores {
		wg.Add(1)
		go func() {
			defer wg.Done()
			stores[i], errs[i] = db.Open(ctx, loc)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("host %d: %v", i, err)
		}
		defer stores[i].Close()
	}
	var rows, version int
	if err := stores[0].QueryRowContext(ctx, `SELECT count(*), max(version) FROM smartmfa_schema`).Scan(&rows, &version); err != nil {
		t.Fatal(err)
	}
	if rows != 1 || version < 1 {
		t.Fatalf("smartmfa_schema holds %d rows, version %d; want one row", rows, version)
	}
}

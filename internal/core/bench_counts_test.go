package core

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// oneAccountDB is a million users in one account, one in 100 of them with
// active MFA, kept in the temp directory between runs (named by schema
// version) because it takes a while to build.
func oneAccountDB(b *testing.B) (*Service, Session) {
	path := filepath.Join(os.TempDir(), fmt.Sprintf("smartmfa-bench-1m-one-v%d.db", db.SchemaVersion()))
	_, statErr := os.Stat(path)
	s := benchService(b, path)
	ctx := context.Background()
	if statErr != nil {
		b.Logf("building %s (1M users in one account) once", path)
		if _, err := s.SeedDemo(ctx, LocalOperator("bench"), DemoOptions{Account: "One", Users: 1_000_000, Password: testPassword}); err != nil {
			os.Remove(path)
			b.Fatal(err)
		}
		err := s.db.WriteTx(ctx, func(q db.Querier) error {
			for id := int64(2); id <= 1_000_001; id += 100 {
				if err := db.PutPendingMFA(ctx, q, db.MFA{UserID: id, Secret: []byte{1}, KeyID: "bench", Algorithm: "SHA1", Digits: 6, Period: 30}); err != nil {
					return err
				}
				if err := db.ActivateMFA(ctx, q, id, 1); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			os.Remove(path)
			b.Fatal(err)
		}
	}
	sess, err := s.Login(ctx, "one-admin", testPassword, "bench")
	if err != nil {
		b.Fatal(err)
	}
	return s, sess
}

// BenchmarkCounts1M is what the Account page and an MFA filter without a
// term cost at a million users in one account (target: 5 ms), each timed
// beside a point lookup of one user by id, interleaved, as the reference.
func BenchmarkCounts1M(b *testing.B) {
	s, sess := oneAccountDB(b)
	ctx := context.Background()
	acct := sess.AccountID()
	ops := map[string]func() error{
		"account-page": func() error {
			d, err := s.AccountDetails(ctx, sess, acct)
			if err == nil && (d.Users != 1_000_001 || d.WithMFA != 10_000) {
				err = fmt.Errorf("counts %+v", d)
			}
			return err
		},
		"mfa-on-page": func() error {
			p, err := s.SearchUsers(ctx, sess, acct, UserQuery{MFA: "on", Count: true})
			if err == nil && (p.Matches != 10_000 || len(p.Users) != 20) {
				err = fmt.Errorf("%d users, %d matches", len(p.Users), p.Matches)
			}
			return err
		},
		"mfa-off-admins-page": func() error {
			_, err := s.SearchUsers(ctx, sess, acct, UserQuery{MFA: "off", Role: RoleAdmin, Count: true})
			return err
		},
		"mfa-off-page-500": func() error {
			_, err := s.SearchUsers(ctx, sess, acct, UserQuery{MFA: "off", Count: true, After: 500_000})
			return err
		},
	}
	names := make([]string, 0, len(ops))
	for name := range ops {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		b.Run(name, func(b *testing.B) {
			var d, ref []time.Duration
			id := int64(1)
			for b.Loop() {
				t0 := time.Now()
				if err := ops[name](); err != nil {
					b.Fatal(err)
				}
				d = append(d, time.Since(t0))
				id = id*7919%1_000_000 + 1
				t0 = time.Now()
				if _, err := db.UserByID(ctx, s.db, id); err != nil {
					b.Fatal(err)
				}
				ref = append(ref, time.Since(t0))
			}
			reportPercentiles(b, d)
			slices.Sort(ref)
			b.ReportMetric(float64(ref[len(ref)/2].Microseconds())/1000, "ref-lookup-p50-ms")
			b.ReportMetric(float64(d[len(d)/2])/float64(ref[len(ref)/2]), "p50-to-lookup")
		})
	}
}

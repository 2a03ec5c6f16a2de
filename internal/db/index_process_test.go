package db_test

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
)

const (
	envIndexChild = "SMARTMFA_TEST_INDEX_CHILD" // the child's tag
	envIndexDB    = "SMARTMFA_TEST_INDEX_DB"
)

// TestHelperIndexWriter is not a test: TestIndexAcrossProcesses runs the
// test binary again with envIndexChild set. The child adds users named by its
// tag, renames every other one, and searches after each write, so that
// several processes catch the index up at once.
func TestHelperIndexWriter(t *testing.T) {
	tag := os.Getenv(envIndexChild)
	if tag == "" {
		return
	}
	ctx := context.Background()
	d, err := db.Open(ctx, os.Getenv(envIndexDB))
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for i := range 60 {
		err := d.WriteTx(ctx, func(q db.Querier) error {
			u := db.User{AccountID: 1, Username: fmt.Sprintf("%s-%d", tag, i), DisplayName: "Tag " + tag + " first",
				Role: "user", PasswordHash: "x"}
			if err := db.InsertUser(ctx, q, &u); err != nil {
				return err
			}
			if i%2 == 1 {
				u.DisplayName = "Tag " + tag + " renamed"
				return db.UpdateUserProfile(ctx, q, u)
			}
			return nil
		})
		if err == nil {
			_, _, err = d.SearchUsers(ctx, db.UserSearch{AccountID: 1, Term: "tag " + tag, Limit: 5})
		}
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
	}
	d.Close()
	os.Exit(0)
}

// TestIndexAcrossProcesses: four processes write users and search at once,
// each catching the shared index up; afterwards the index finds exactly what
// the users table holds, and a rebuild from scratch finds the same.
func TestIndexAcrossProcesses(t *testing.T) {
	path := filepath.Join(t.TempDir(), "shared.db")
	d, err := db.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.InsertAccount(context.Background(), d, "acct", "acct", 1); err != nil {
		t.Fatal(err)
	}
	d.Close()
	tags := []string{"qa", "qb", "qc", "qd"}
	var cmds []*exec.Cmd
	for _, tag := range tags {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperIndexWriter$", "-test.count=1")
		cmd.Env = append(os.Environ(), envIndexChild+"="+tag, envIndexDB+"="+path)
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %s: %v", tags[i], err)
		}
	}
	w := &indexWorld{t: t, path: path, acct: 1}
	w.reopen()
	defer func() { w.d.Close() }()
	check := func(how string) {
		for _, tag := range tags {
			for _, term := range []string{"tag " + tag + " first", "tag " + tag + " renamed"} {
				var want []string
				for i := range 60 {
					if strings.HasSuffix(term, "renamed") == (i%2 == 1) {
						want = append(want, fmt.Sprintf("%s-%d", tag, i))
					}
				}
				got := w.find(term)
				slices.Sort(got)
				slices.Sort(want)
				if !slices.Equal(got, want) {
					t.Errorf("%s, %q: found %d users, want %d", how, term, len(got), len(want))
				}
			}
		}
	}
	check("caught up by four processes")
	w.replace(path+db.IndexSuffix, "")
	check("rebuilt")
}

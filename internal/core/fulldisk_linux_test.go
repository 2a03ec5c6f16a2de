package core

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestFullDiskRefusesUnchecked puts the database on a tmpfs of 8 MiB and fills
// it: an attempt can no longer be recorded, so the right password and a wrong
// one get the same plain refusal and nothing is counted; once space is freed,
// the right password signs in. It needs root to mount the tmpfs (CI runs as
// root); TestUnrecordedAttemptIsRefusedUnchecked covers the rule anywhere.
func TestFullDiskRefusesUnchecked(t *testing.T) {
	dbtest.SQLiteOnly(t, "a full disk under the database file; a PostgreSQL server's disk is its own")
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root; TestUnrecordedAttemptIsRefusedUnchecked covers the rule")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v); TestUnrecordedAttemptIsRefusedUnchecked covers the rule", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	w := newWorldIn(t, dir)
	t.Cleanup(func() { w.Close() }) // before the unmount
	// With MFA, a right password once reached the code screen on a full disk:
	// that step wrote nothing until the code, so nothing failed.
	w.enrollUser("bob")
	// Empty the WAL, so that the next write needs new space, and fill the disk.
	if _, err := w.db.ExecContext(w.ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
		t.Fatal(err)
	}
	fill := filepath.Join(dir, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	block := make([]byte, 64<<10)
	for {
		if _, err := f.Write(block); err != nil {
			break
		}
	}
	f.Close()
	const src = "ssh:198.51.100.3:1"
	var answers []string
	for _, pw := range []string{testPassword, "a wrong password", testPassword} {
		sess, err := w.Login(w.ctx, "bob", pw, src)
		if !errors.Is(err, ErrUnavailable) || sess.Stage() != StageNone {
			t.Fatalf("login with the disk full: stage %d, %v; want ErrUnavailable", sess.Stage(), err)
		}
		answers = append(answers, err.Error())
	}
	if answers[0] != answers[1] {
		t.Errorf("right and wrong passwords answered %q and %q", answers[0], answers[1])
	}
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if c := w.pwCounter("bob", src); c.Failures != 0 {
		t.Errorf("%d failures counted while nothing could be recorded", c.Failures)
	}
	w.login("bob", StageCode)
}

// TestFullDiskSearchSaysSo: with the disk full, a search whose index must
// catch up fails with one sentence and no SQL, sign-ins are untouched by the
// index, and once space is freed the search finds what was added.
func TestFullDiskSearchSaysSo(t *testing.T) {
	dbtest.SQLiteOnly(t, "the search index file")
	if os.Geteuid() != 0 {
		t.Skip("mounting a tmpfs needs root")
	}
	dir := t.TempDir()
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size=8m"); err != nil {
		t.Skipf("cannot mount a tmpfs here (%v)", err)
	}
	t.Cleanup(func() { _ = syscall.Unmount(dir, syscall.MNT_DETACH) })
	w := newWorldIn(t, dir)
	t.Cleanup(func() { w.Close() }) // before the unmount
	op := LocalOperator("local:test")
	search := func(term string) (UserPage, error) {
		return w.SearchUsers(w.ctx, op, w.acme, UserQuery{Term: term})
	}
	if p, err := search("bob"); err != nil || len(p.Users) != 1 {
		t.Fatalf("search before: %d users, %v", len(p.Users), err)
	}
	w.addUser(op, w.acme, "zed", RoleUser)
	for _, path := range []string{w.dbPath, w.dbPath + db.IndexSuffix} {
		raw, err := sql.Open("sqlite", "file:"+path)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := raw.Exec("PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
		raw.Close()
	}
	fill := filepath.Join(dir, "fill")
	f, err := os.Create(fill)
	if err != nil {
		t.Fatal(err)
	}
	for block := make([]byte, 64<<10); ; {
		if _, err := f.Write(block); err != nil {
			break
		}
	}
	f.Close()
	_, err = search("zed")
	if err == nil {
		t.Fatal("a search that had to write its index succeeded on a full disk")
	}
	t.Logf("the full disk says: %v", err)
	if msg := err.Error(); strings.Contains(msg, "SELECT") || strings.Contains(msg, "INSERT") || strings.Contains(msg, "\n") {
		t.Errorf("the full disk says %q", msg)
	}
	if err := os.Remove(fill); err != nil {
		t.Fatal(err)
	}
	if p, err := search("zed"); err != nil || len(p.Users) != 1 {
		t.Errorf("search after freeing space: %d users, %v", len(p.Users), err)
	}
}

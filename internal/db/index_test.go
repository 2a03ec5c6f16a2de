package db_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// indexWorld is a database file with one account, reopened at will.
type indexWorld struct {
	t    *testing.T
	path string
	d    *db.DB
	acct int64
}

func newIndexWorld(t *testing.T) *indexWorld {
	w := &indexWorld{t: t, path: filepath.Join(t.TempDir(), "t.db")}
	w.reopen()
	t.Cleanup(func() { w.d.Close() })
	var err error
	if w.acct, err = db.InsertAccount(context.Background(), w.d, "acct", "acct", 1); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *indexWorld) reopen() {
	w.t.Helper()
	if w.d != nil {
		w.d.Close()
	}
	d, err := db.Open(context.Background(), w.path)
	if err != nil {
		w.t.Fatal(err)
	}
	w.d = d
}

func (w *indexWorld) add(username, name string) db.User {
	w.t.Helper()
	u := db.User{AccountID: w.acct, Username: username, DisplayName: name, Role: "user", PasswordHash: "x", CreatedAt: 1, UpdatedAt: 1}
	if err := db.InsertUser(context.Background(), w.d, &u); err != nil {
		w.t.Fatal(err)
	}
	return u
}

func (w *indexWorld) rename(u db.User, name string) {
	w.t.Helper()
	u.DisplayName = name
	if err := db.UpdateUserProfile(context.Background(), w.d, u); err != nil {
		w.t.Fatal(err)
	}
}

// find returns the usernames a term finds, in id order.
func (w *indexWorld) find(term string) []string {
	w.t.Helper()
	users, _, err := w.d.SearchUsers(context.Background(), db.UserSearch{AccountID: w.acct, Term: term, Limit: 100})
	if err != nil {
		w.t.Fatal(err)
	}
	var out []string
	for _, u := range users {
		out = append(out, u.Username)
	}
	return out
}

func (w *indexWorld) expect(term string, want ...string) {
	w.t.Helper()
	if got := w.find(term); !slices.Equal(got, want) {
		w.t.Errorf("search %q found %q, want %q", term, got, want)
	}
}

// replace closes the database, puts a copy of from in file's place (removes
// it when from is "") without its -wal and -shm, and opens the database again.
func (w *indexWorld) replace(file, from string) {
	w.t.Helper()
	w.d.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(file + suffix)
	}
	if from != "" {
		copyFile(w.t, from, file)
	}
	w.reopen()
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// TestIndexFollowsTheLog: users added and renamed one write at a time are
// found by their new names and no longer by their old ones.
func TestIndexFollowsTheLog(t *testing.T) {
	w := newIndexWorld(t)
	ann := w.add("ann", "Ann Smith")
	w.expect("smith", "ann")
	w.add("bob", "Bob Smithers")
	w.rename(ann, "Ann Jones")
	w.expect("smith", "bob")
	w.expect("jones", "ann")
	w.expect("a", "ann") // the one-character path reads the index's trigrams too
}

// TestIndexRebuilt: an index file that is missing, belongs to another
// database, is behind a pruned log, or is ahead of a database restored from
// an older copy is rebuilt from users, so search answers as the users are.
func TestIndexRebuilt(t *testing.T) {
	idx := func(w *indexWorld) string { return w.path + db.IndexSuffix }
	t.Run("missing", func(t *testing.T) {
		w := newIndexWorld(t)
		w.add("ann", "Ann Zoë")
		w.expect("zoë", "ann")
		w.replace(idx(w), "")
		w.expect("zoë", "ann")
	})
	t.Run("another database's", func(t *testing.T) {
		other := newIndexWorld(t)
		other.add("mallory", "Ann Other")
		other.expect("ann", "mallory")
		other.d.Close()
		w := newIndexWorld(t)
		w.add("ann", "Ann Mine")
		w.expect("ann", "ann")
		w.replace(idx(w), idx(other))
		w.expect("ann", "ann")
	})
	t.Run("behind a pruned log", func(t *testing.T) {
		w := newIndexWorld(t)
		w.add("ann", "Ann First")
		w.expect("first", "ann")
		w.d.Close()
		old := filepath.Join(t.TempDir(), "old-index")
		copyFile(t, idx(w), old)
		w.reopen()
		w.add("u0", "Pruned Early")
		for i := range 1100 { // more than the log keeps once applied
			w.add(fmt.Sprintf("u%d", i+1), "Filler")
			if i%100 == 0 {
				w.find("fill")
			}
		}
		w.add("zed", "Zed Last")
		w.expect("last", "zed")
		var pruned int64
		if err := w.d.QueryRow(`SELECT v FROM store_info WHERE k = 'search_pruned'`).Scan(&pruned); err != nil || pruned == 0 {
			t.Fatalf("the log was not pruned (%d, %v)", pruned, err)
		}
		w.replace(idx(w), old)
		w.expect("last", "zed")
		w.expect("first", "ann")
		w.expect("pruned", "u0")
	})
	t.Run("ahead of a restored database", func(t *testing.T) {
		w := newIndexWorld(t)
		w.add("ann", "Ann Kept")
		w.expect("kept", "ann")
		w.d.Close()
		backup := filepath.Join(t.TempDir(), "backup.db")
		copyFile(t, w.path, backup)
		w.reopen()
		w.add("bob", "Bob Lost")
		w.expect("lost", "bob")
		w.replace(w.path, backup)
		w.expect("lost")
		w.expect("kept", "ann")
	})
}

// TestIndexLockLeavesWritesAlone holds the index file's write lock, as FTS5
// merging a large segment does for seconds, and checks that user writes and
// the writes logins make still commit at once, and that search catches up
// once the lock is gone.
func TestIndexLockLeavesWritesAlone(t *testing.T) {
	w := newIndexWorld(t)
	ann := w.add("ann", "Ann")
	w.expect("ann", "ann")
	holder, err := sql.Open("sqlite", "file:"+w.path+db.IndexSuffix+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	tx, err := holder.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`INSERT INTO search_meta (k, v) VALUES ('held', 1)`); err != nil {
		t.Fatal(err)
	}
	for i := range 20 {
		start := time.Now()
		w.add(fmt.Sprintf("new%d", i), "Newcomer")
		w.rename(ann, fmt.Sprintf("Ann %d", i))
		if err := w.d.WriteTx(context.Background(), func(q db.Querier) error {
			return db.SetPasswordHash(context.Background(), q, ann.ID, "y", false, 2)
		}); err != nil {
			t.Fatal(err)
		}
		if took := time.Since(start); took > time.Second {
			t.Fatalf("write %d waited %v behind the index's lock", i, took)
		}
	}
	go func() { time.Sleep(200 * time.Millisecond); tx.Rollback() }()
	if got := w.find("newc"); len(got) != 20 {
		t.Errorf("after the lock, search found %d newcomers, want 20", len(got))
	}
	w.expect("ann 19", "ann")
}

// TestBulkRangeCaughtUp: a bulk load whose index did not commit (a crash
// between the two files' commits) is indexed from the log's range entry.
func TestBulkRangeCaughtUp(t *testing.T) {
	w := newIndexWorld(t)
	ctx := context.Background()
	ann := w.add("ann", "Ann")
	w.expect("ann", "ann")
	var seq int64
	if err := w.d.QueryRow(`SELECT max(seq) FROM search_changes`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	gen := func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("bulk%d", i), "Bulk Loaded", 1, 1
	}
	if err := w.d.BulkUsers(ctx, w.acct, 1500, "hash", gen, nil); err != nil {
		t.Fatal(err)
	}
	w.d.Close()
	raw, err := sql.Open("sqlite", "file:"+w.path+db.IndexSuffix)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{fmt.Sprintf(`DELETE FROM user_search WHERE rowid > %d`, w.acct<<32|ann.ID),
		fmt.Sprintf(`UPDATE search_meta SET v = %d WHERE k = 'applied'`, seq)} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	raw.Close()
	w.reopen()
	n, exact, err := w.d.CountUsers(ctx, db.UserSearch{AccountID: w.acct, Term: "loaded"})
	if err != nil || n != 1000+1 || exact {
		t.Errorf("after catching up, %d (exact %v) bulk users match, want more than 1000 (%v)", n, exact, err)
	}
	w.expect("bulk1499", "bulk1499")
	w.expect("ann", "ann")
}

// TestFailedBulkLeavesNoIndex: a bulk load that fails (a username taken
// half-way) leaves neither users nor index entries, and the index goes on
// following the log.
func TestFailedBulkLeavesNoIndex(t *testing.T) {
	w := newIndexWorld(t)
	ctx := context.Background()
	w.add("taken", "Already Here")
	w.expect("here", "taken")
	gen := func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("bulk%d", i), "Half Loaded", 1, 1
		if i == 700 {
			u.Username = "taken"
		}
	}
	if err := w.d.BulkUsers(ctx, w.acct, 1500, "hash", gen, nil); !errors.Is(err, db.ErrConflict) {
		t.Fatalf("bulk with a taken name: %v, want ErrConflict", err)
	}
	w.expect("half")
	w.add("after", "Half Later")
	w.expect("half", "after")
	w.expect("here", "taken")
}

// TestWarmIndex: a rebuild started in the background is waited for by a
// search of the same process, not raced at SQLite's lock; Close stops one
// under way and waits for it.
func TestWarmIndex(t *testing.T) {
	w := newIndexWorld(t)
	ctx := context.Background()
	gen := func(i int, id int64, u *db.User) {
		u.Username, u.DisplayName, u.CreatedAt, u.UpdatedAt = fmt.Sprintf("warm%d", i), "Warm Body", 1, 1
	}
	if err := w.d.BulkUsers(ctx, w.acct, 3000, "hash", gen, nil); err != nil {
		t.Fatal(err)
	}
	w.replace(w.path+db.IndexSuffix, "")
	w.d.WarmIndex(ctx)
	w.expect("warm2999", "warm2999")
	w.replace(w.path+db.IndexSuffix, "")
	w.d.WarmIndex(ctx)
	start := time.Now()
	if err := w.d.Close(); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("Close waited %v for the background rebuild", took)
	}
	w.reopen()
	w.expect("warm2999", "warm2999")
}

//go:build unix

package db_test

import (
	"os"
	"syscall"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// TestIndexFileHasTheDatabasesOwner: root searching a service's database
// leaves an index file the service can open (run as root; skipped elsewhere).
func TestIndexFileHasTheDatabasesOwner(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to give files away")
	}
	w := newIndexWorld(t)
	w.add("ann", "Ann")
	w.d.Close()
	for _, suffix := range []string{"", "-wal", "-shm"} {
		os.Remove(w.path + db.IndexSuffix + suffix)
		if err := os.Chown(w.path+suffix, 65534, 65534); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
	w.reopen()
	w.expect("ann", "ann")
	fi, err := os.Stat(w.path + db.IndexSuffix)
	if err != nil {
		t.Fatal(err)
	}
	if st := fi.Sys().(*syscall.Stat_t); st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("the index file is owned by %d:%d, want the database's 65534:65534", st.Uid, st.Gid)
	}
}

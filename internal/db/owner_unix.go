//go:build unix

package db

import (
	"os"
	"syscall"
)

// sameOwner gives file the owner and group of the database at dbPath when
// this process runs as root: an operator's command as root must not leave
// the service a file it cannot open. SQLite does the same for -wal and -shm.
func sameOwner(file, dbPath string) error {
	if os.Geteuid() != 0 {
		return nil
	}
	fi, err := os.Stat(dbPath)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	return os.Chown(file, int(st.Uid), int(st.Gid))
}

//go:build unix

package core

import (
	"os"
	"syscall"
)

// fileOwner is the uid that owns a file; ok is false where there is none.
func fileOwner(fi os.FileInfo) (uid int, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return int(st.Uid), true
}

//go:build !unix

package core

import "os"

// fileOwner reports no owner: this system has no Unix owners or mode bits,
// and the key file's protection is left to its access control lists.
func fileOwner(os.FileInfo) (uid int, ok bool) { return 0, false }

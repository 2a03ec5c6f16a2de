//go:build !unix

package core

import "os"

// lockKeyDir does not lock here: run one key command at a time.
func lockKeyDir(string) (unlock func(), err error) { return func() {}, nil }

// keepOwner leaves the owner to the directory's access control lists.
func keepOwner(*os.File, os.FileInfo) error { return nil }

// syncDir has nothing to sync here.
func syncDir(string) error { return nil }

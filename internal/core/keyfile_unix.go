//go:build unix

package core

import (
	"errors"
	"fmt"
	"os"
	"syscall"
)

// lockKeyDir keeps key rotations and retirements on one key file to one at a
// time. It locks the file's directory, which stays in place while the file is
// replaced; a second command is refused at once rather than left waiting for
// a rotation of a million secrets.
func lockKeyDir(dir string) (unlock func(), err error) {
	d, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("the key file's directory %s cannot be opened: %w", dir, errors.Unwrap(err))
	}
	if err := syscall.Flock(int(d.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		d.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return nil, ErrKeyBusy
		}
		return nil, fmt.Errorf("locking the key file's directory %s: %w", dir, err)
	}
	return func() {
		_ = syscall.Flock(int(d.Fd()), syscall.LOCK_UN)
		d.Close()
	}, nil
}

// keepOwner gives a replacement key file the owner and group of the file it
// replaces, so that a shared install's group still reads it.
func keepOwner(f *os.File, like os.FileInfo) error {
	want, ok := like.Sys().(*syscall.Stat_t)
	if !ok {
		return nil
	}
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if have, ok := fi.Sys().(*syscall.Stat_t); ok && have.Uid == want.Uid && have.Gid == want.Gid {
		return nil
	}
	if err := f.Chown(int(want.Uid), int(want.Gid)); err != nil {
		return fmt.Errorf("the new key file cannot keep the owner %s and group %d of the old one (run as its owner or root): %w",
			describeUID(int(want.Uid)), want.Gid, errors.Unwrap(err))
	}
	return nil
}

// syncDir makes a rename in dir durable: without it a crash could bring the
// old key file back after secrets were encrypted with the new key.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

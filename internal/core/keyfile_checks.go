package core

import (
	"errors"
	"fmt"
	"os"
	"os/user"
	"strconv"
	"strings"
	"syscall"
)

// openKeyFile opens the key file for reading and checks the open file, so that
// what is checked is what is read. O_NONBLOCK makes opening a named pipe
// return at once instead of waiting for a writer, forever; a regular file
// reads the same either way.
func openKeyFile(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s (the MFA secrets cannot be read without it; restore it or pass --key-file)", ErrKeyMissing, path)
	}
	if err != nil {
		// A socket cannot be opened at all: say what it is rather than blame permissions.
		if fi, serr := os.Stat(path); serr == nil && !fi.Mode().IsRegular() {
			return nil, notRegularKeyFile(path, fi.Mode())
		}
		return nil, fmt.Errorf("the key file %s cannot be read (check its permissions)", path)
	}
	fi, err := f.Stat()
	if err == nil {
		err = checkKeyFile(path, fi)
	} else {
		err = fmt.Errorf("the key file %s cannot be read (check its permissions)", path)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// checkKeyFile refuses a key file that is not a regular file, that another
// user owns (they could replace the key), or whose mode lets other users
// read or write it, or its group write it. Each refusal says how to fix it.
func checkKeyFile(path string, fi os.FileInfo) error {
	if !fi.Mode().IsRegular() {
		return notRegularKeyFile(path, fi.Mode())
	}
	uid, ok := fileOwner(fi)
	if !ok {
		return nil // no Unix owner or mode bits here (Windows)
	}
	if err := checkKeyOwner(path, uid, os.Geteuid()); err != nil {
		return err
	}
	perm := fi.Mode().Perm()
	switch {
	case perm&0o007 != 0:
		return fmt.Errorf("the key file %s is open to other users (mode %04o), who must neither read nor replace it; run: chmod 600 %s",
			path, perm, shellQuote(path))
	case perm&0o020 != 0:
		fix := "600"
		if perm&0o040 != 0 {
			fix = "640" // a shared install: keep the group's read
		}
		return fmt.Errorf("the key file %s can be written by its group (mode %04o); run: chmod %s %s", path, perm, fix, shellQuote(path))
	}
	return nil
}

// checkKeyOwner accepts a key file owned by the running user (euid) or by
// root, who can replace any file anyway: any other owner could swap the key.
func checkKeyOwner(path string, fileUID, euid int) error {
	if fileUID == euid || fileUID == 0 {
		return nil
	}
	return fmt.Errorf("the key file %s belongs to %s, who could replace it; run as root: chown %s %s",
		path, describeUID(fileUID), userName(euid), shellQuote(path))
}

// describeUID names a user for a message: "user bob (uid 1001)", or "uid 1001"
// when the system does not know the name.
func describeUID(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return fmt.Sprintf("user %s (uid %d)", u.Username, uid)
	}
	return fmt.Sprintf("uid %d", uid)
}

// userName is the login name of uid for a chown command, or the number.
func userName(uid int) string {
	if u, err := user.LookupId(strconv.Itoa(uid)); err == nil && u.Username != "" {
		return shellQuote(u.Username)
	}
	return strconv.Itoa(uid)
}

func notRegularKeyFile(path string, mode os.FileMode) error {
	what := "a special file"
	switch {
	case mode.IsDir():
		what = "a directory"
	case mode&os.ModeNamedPipe != 0:
		what = "a named pipe"
	case mode&os.ModeSocket != 0:
		what = "a socket"
	case mode&os.ModeDevice != 0:
		what = "a device"
	}
	return fmt.Errorf("the key file %s is not a regular file (it is %s); pass the key file itself with --key-file", path, what)
}

// shellQuote quotes a path for a command to paste into a POSIX shell.
func shellQuote(s string) string {
	safe := s != ""
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("/._-+:@%,=", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

//go:build unix

package core

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// newKeyFile writes a valid key file at dir/name with the given mode.
func newKeyFile(t *testing.T, dir, name string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if _, err := CreateKeyring(p, newDetRand(6)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(p, mode); err != nil { // the umask does not apply to chmod
		t.Fatal(err)
	}
	return p
}

// plainSentence fails when a key-file error carries a Go error chain or
// system-call noise instead of the one sentence the operator reads.
func plainSentence(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, noise := range []string{"\n", "syscall", "errno", "fstat", "open /", "lstat", "operation not", "<nil>"} {
		if strings.Contains(msg, noise) {
			t.Errorf("%q holds %q", msg, noise)
		}
	}
}

// TestKeyFileModes: a key file that other users can read or write, or that
// its group can write, is refused with the chmod that fixes it; group read
// (a shared host install with a dedicated group) and owner-only modes load.
func TestKeyFileModes(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		mode os.FileMode
		fix  string // "" when the mode is accepted
	}{
		{0o600, ""},
		{0o400, ""},
		{0o640, ""}, // group read: a shared host install
		{0o440, ""},
		{0o644, "chmod 600 "},
		{0o666, "chmod 600 "},
		{0o604, "chmod 600 "},
		{0o602, "chmod 600 "},
		{0o601, "chmod 600 "},
		{0o660, "chmod 640 "}, // a shared install whose group may write: keep the read
		{0o620, "chmod 600 "},
		{0o664, "chmod 600 "},
	} {
		t.Run(c.mode.String(), func(t *testing.T) {
			p := newKeyFile(t, dir, "k"+strings.TrimPrefix(c.mode.String(), "-"), c.mode)
			kr, err := LoadKeyring(p)
			if c.fix == "" {
				if err != nil || kr == nil {
					t.Fatalf("mode %04o refused: %v", c.mode, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("mode %04o accepted", c.mode)
			}
			plainSentence(t, err)
			if want := c.fix + p; !strings.Contains(err.Error(), want) {
				t.Errorf("mode %04o: %q does not say to run %q", c.mode, err, want)
			}
			if !strings.Contains(err.Error(), p) {
				t.Errorf("mode %04o: %q does not name the file", c.mode, err)
			}
		})
	}
}

// TestKeyFileModeFixQuotesThePath: the chmod to run works when pasted, even
// for a path with a space or a quote in it.
func TestKeyFileModeFixQuotesThePath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "my keys", "bob's")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	p := newKeyFile(t, dir, "smartmfa.key", 0o644)
	_, err := LoadKeyring(p)
	want := "chmod 600 '" + strings.ReplaceAll(p, "'", `'\''`) + "'"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("LoadKeyring: %v; want it to say %s", err, want)
	}
}

// TestKeyFileNotRegular: a FIFO, a directory or a device as the key file is
// refused at once; a FIFO must not hang the command waiting for a writer.
func TestKeyFileNotRegular(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.key")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	sub := filepath.Join(dir, "dir.key")
	if err := os.Mkdir(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	linkToFIFO := filepath.Join(dir, "link.key")
	if err := os.Symlink(fifo, linkToFIFO); err != nil {
		t.Fatal(err)
	}
	for name, p := range map[string]string{"fifo": fifo, "directory": sub, "device": os.DevNull, "link to a fifo": linkToFIFO} {
		t.Run(name, func(t *testing.T) {
			done := make(chan error, 1)
			start := time.Now()
			go func() { _, err := LoadKeyring(p); done <- err }()
			select {
			case err := <-done:
				if err == nil || !strings.Contains(err.Error(), "not a regular file") || !strings.Contains(err.Error(), p) {
					t.Errorf("LoadKeyring(%s): %v; want it refused as not a regular file", name, err)
				} else {
					plainSentence(t, err)
				}
				if d := time.Since(start); d > 200*time.Millisecond {
					t.Errorf("refusing the %s took %v", name, d)
				}
			case <-time.After(2 * time.Second):
				t.Fatalf("LoadKeyring(%s) hangs", name)
			}
		})
	}
	// Open must neither hang on it nor create a key beside it.
	w := newTestService(t)
	w.Close()
	done := make(chan error, 1)
	go func() {
		s, err := Open(w.ctx, w.dbPath, fifo, Config{})
		if err == nil {
			s.Close()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Error("Open with a FIFO as the key file succeeded")
		}
	case <-time.After(2 * time.Second):
		t.Fatal("Open with a FIFO as the key file hangs")
	}
}

// TestKeyFileSymlinkToAKey: a key file that is a symbolic link to a private
// key file loads, as an operator who keeps keys elsewhere would expect.
func TestKeyFileSymlinkToAKey(t *testing.T) {
	dir := t.TempDir()
	p := newKeyFile(t, dir, "real.key", 0o600)
	link := filepath.Join(dir, "link.key")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadKeyring(link); err != nil {
		t.Errorf("a link to a private key file: %v", err)
	}
}

// TestKeyFileOwner: a key file owned by another user, who could replace it,
// is refused; one owned by the running user or by root loads.
func TestKeyFileOwner(t *testing.T) {
	for _, c := range []struct {
		file, euid int
		ok         bool
	}{
		{1000, 1000, true},
		{0, 1000, true}, // root's file: root can replace any file anyway
		{0, 0, true},
		{1001, 1000, false},
		{1000, 0, false}, // root running on a user's key: that user could swap it
	} {
		err := checkKeyOwner("/x/smartmfa.key", c.file, c.euid)
		if (err == nil) != c.ok {
			t.Errorf("file uid %d, running as %d: %v; want ok=%t", c.file, c.euid, err, c.ok)
		}
	}
	if os.Geteuid() != 0 {
		t.Skip("giving a file to another user needs root; the decision itself is tested above")
	}
	p := newKeyFile(t, t.TempDir(), "smartmfa.key", 0o600)
	if err := os.Chown(p, 4242, 4242); err != nil {
		t.Fatal(err)
	}
	_, err := LoadKeyring(p)
	if err == nil || !strings.Contains(err.Error(), p) || !strings.Contains(err.Error(), "4242") {
		t.Fatalf("a key file owned by uid 4242: %v; want it refused, naming the file and the owner", err)
	}
	plainSentence(t, err)
	if !strings.Contains(err.Error(), "chown ") {
		t.Errorf("%q does not say how to fix it", err)
	}
}

// TestKeyFileMissingStillFailsClosed: the missing-key message is unchanged.
func TestKeyFileMissingStillFailsClosed(t *testing.T) {
	p := filepath.Join(t.TempDir(), "none.key")
	_, err := LoadKeyring(p)
	if !errors.Is(err, ErrKeyMissing) || !strings.Contains(err.Error(), "restore it or pass --key-file") {
		t.Errorf("missing key: %v", err)
	}
}

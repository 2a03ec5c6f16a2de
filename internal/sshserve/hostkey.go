package sshserve

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	gossh "golang.org/x/crypto/ssh"
)

// LoadHostKey reads the server's private host key at path. When no file is
// there it creates an Ed25519 key, mode 0600, and reports created. A key
// that other users may read is refused, as sshd refuses it: whoever holds
// it can impersonate the server to every user.
func LoadHostKey(path string) (signer gossh.Signer, created bool, err error) {
	data, err := readHostKey(path)
	if errors.Is(err, fs.ErrNotExist) {
		if err := createHostKey(path); err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, false, err
		} else if err == nil {
			created = true
		}
		data, err = readHostKey(path) // ours, or another process's that won the race
	}
	if err != nil {
		return nil, false, err
	}
	signer, err = gossh.ParsePrivateKey(data)
	if err != nil {
		return nil, false, fmt.Errorf("reading host key %s: %w", path, err)
	}
	return signer, created, nil
}

// Fingerprint is the SHA256 fingerprint of a host key as ssh shows it
// ("SHA256:..."), for users to compare on their first connection.
func Fingerprint(signer gossh.Signer) string {
	return gossh.FingerprintSHA256(signer.PublicKey())
}

func readHostKey(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("reading host key %s: %w", path, err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("host key %s may be read by other users (mode %04o): make it private with chmod 600", path, perm)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading host key %s: %w", path, err)
	}
	return data, nil
}

// createHostKey writes a new key beside path and links it into place, so
// that no other process ever reads a half-written key, and a key that
// appeared meanwhile is kept (fs.ErrExist).
func createHostKey(path string) error {
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return fmt.Errorf("creating host key %s: %w", path, err)
	}
	block, err := gossh.MarshalPrivateKey(priv, "smartmfa host key")
	if err != nil {
		return fmt.Errorf("creating host key %s: %w", path, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".smartmfa-host-key-*")
	if err != nil {
		return fmt.Errorf("creating host key %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	// CreateTemp makes the file 0600 already; Chmod says so to the reader.
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(pem.EncodeToMemory(block))
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path)
	}
	if errors.Is(err, fs.ErrExist) {
		return err
	}
	if err != nil {
		return fmt.Errorf("creating host key %s: %w", path, err)
	}
	return nil
}

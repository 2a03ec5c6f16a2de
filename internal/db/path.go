package db

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// FileName is the database's name inside the data directory.
const FileName = "smartmfa.db"

// DefaultPath is $XDG_DATA_HOME/smartmfa/smartmfa.db, falling back to
// ~/.local/share/smartmfa/smartmfa.db as the XDG base directory spec says.
func DefaultPath(getenv func(string) string) (string, error) {
	if dir := getenv("XDG_DATA_HOME"); filepath.IsAbs(dir) {
		return filepath.Join(dir, "smartmfa", FileName), nil
	}
	home := getenv("HOME")
	if home == "" {
		h, err := os.UserHomeDir()
		if err != nil {
			return "", errors.New("cannot find a home directory for the database; set --db or SMARTMFA_DB")
		}
		home = h
	}
	return filepath.Join(home, ".local", "share", "smartmfa", FileName), nil
}

// EnsureDefaultDir creates the default data directory 0700; an explicit --db
// path must name an existing directory instead, so a typo is not silently created.
func EnsureDefaultDir(path string) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return fmt.Errorf("cannot create the data directory %s (check the permissions of its parent)", dir)
	}
	return nil
}

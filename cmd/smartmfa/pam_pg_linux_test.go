package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/dbtest"
)

// TestPostgresPAMVerifyNamesTheKeyFile: with a PostgreSQL store there is no
// database file, so pam-verify takes the key file's owner, and a missing key
// file is named as such; it fails closed and creates nothing.
func TestPostgresPAMVerifyNamesTheKeyFile(t *testing.T) {
	e := newEnv(t)
	e.db = dbtest.RequirePostgres(t)
	key := filepath.Join(e.dir, "missing.key")
	r := e.pam("alice", "123456", pamUnavailable, "the key file "+key+" cannot be found", "--key-file", key)
	if strings.Contains(r.stderr, "database") {
		t.Errorf("the line speaks of a database file: %q", r.stderr)
	}
	if ents, _ := os.ReadDir(e.dir); len(ents) != 0 {
		t.Errorf("pam-verify created %v", ents)
	}
}

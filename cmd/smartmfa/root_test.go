package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestBadUsageExits2WithoutTouchingTheDatabase(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown command", []string{"acount", "list"}, `unknown command "acount"`},
		{"unknown subcommand", []string{"user", "lst", "acme"}, `did you mean "list"?`},
		{"unknown flag", []string{"account", "list", "--jsn"}, "unknown flag: --jsn"},
		{"unknown global flag", []string{"--database", "x", "account", "list"}, "unknown flag: --database"},
		{"missing argument", []string{"account", "create", "--admin", "alice"}, "account create takes NAME, not 0 arguments"},
		{"extra argument", []string{"account", "show", "acme", "extra"}, "account show takes NAME, not 2 arguments"},
		{"no arguments allowed", []string{"account", "list", "acme"}, "account list takes no arguments"},
		{"missing required flag", []string{"account", "create", "acme"}, `required flag(s) "admin" not set`},
		{"bad on|off", []string{"account", "require-mfa", "acme", "yes"}, `must be on or off, not "yes"`},
		{"bad --mfa", []string{"user", "list", "acme", "--mfa", "maybe"}, `--mfa must be on or off, not "maybe"`},
		{"bad --role", []string{"user", "list", "acme", "--role", "boss"}, `--role must be admin or user, not "boss"`},
		{"user add without user", []string{"user", "add", "acme"}, "user add takes ACCOUNT USER, not 1 argument"},
		{"audit with two accounts", []string{"audit", "a", "b"}, "audit takes at most one ACCOUNT"},
		{"negative audit limit", []string{"audit", "--limit", "-1"}, "--limit must be 0"},
		{"audit limit not a number", []string{"audit", "--limit", "ten"}, `invalid argument "ten"`},
		{"negative demo users", []string{"demo", "--users", "-5"}, "--users must be 0 or more"},
		{"version with argument", []string{"version", "now"}, "version takes no arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			r := e.run("", tt.args...)
			checkFailure(t, r, exitUsage, tt.want, tt.args)
			if !strings.Contains(r.stderr, "--help") {
				t.Errorf("usage error %q does not point to --help", r.stderr)
			}
			if _, err := os.Stat(e.db); !os.IsNotExist(err) {
				t.Errorf("a usage error created or touched the database (stat: %v)", err)
			}
		})
	}
}

func TestNoArgumentsPrintsHelp(t *testing.T) {
	e := newEnv(t)
	r := e.runRaw("")
	if r.code != 0 || r.stderr != "" {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	for _, want := range []string{"Usage:", "account", "user", "audit", "demo", "version", "--db", "--key-file", "--issuer"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("help does not mention %q:\n%s", want, r.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(e.dir, ".local")); !os.IsNotExist(err) {
		t.Errorf("help created the data directory (stat: %v)", err)
	}
}

func TestGroupAloneAndHelpFlagPrintHelp(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"account"}, {"user"}, {"user", "add", "--help"}, {"help", "audit"}} {
		r := e.run("", args...)
		if r.code != 0 || r.stderr != "" || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("%q: exit %d, stderr %q, stdout %q", args, r.code, r.stderr, r.stdout)
		}
	}
}

func TestDatabaseLocation(t *testing.T) {
	t.Run("missing directory is one sentence", func(t *testing.T) {
		e := newEnv(t)
		missing := filepath.Join(e.dir, "no", "such", "smartmfa.db")
		r := e.runRaw("", "--db", missing, "account", "list")
		checkFailure(t, r, exitFailure, "does not exist", []string{"--db", missing})
		if _, err := os.Stat(filepath.Join(e.dir, "no")); !os.IsNotExist(err) {
			t.Errorf("an explicit --db created its directory")
		}
	})
	t.Run("SMARTMFA_DB is explicit too", func(t *testing.T) {
		e := newEnv(t)
		e.vars["SMARTMFA_DB"] = filepath.Join(e.dir, "missing", "x.db")
		checkFailure(t, e.runRaw("", "account", "list"), exitFailure, "does not exist", nil)
		e.vars["SMARTMFA_DB"] = e.db
		if r := e.runRaw("", "account", "list"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		if _, err := os.Stat(e.db); err != nil {
			t.Errorf("SMARTMFA_DB was not used: %v", err)
		}
	})
	t.Run("default path is created under XDG_DATA_HOME", func(t *testing.T) {
		e := newEnv(t)
		e.vars["XDG_DATA_HOME"] = filepath.Join(e.dir, "xdg")
		if r := e.runRaw("", "account", "list"); r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		dir := filepath.Join(e.dir, "xdg", "smartmfa")
		st, err := os.Stat(dir)
		if err != nil || st.Mode().Perm() != 0o700 {
			t.Fatalf("data directory: %v, mode %v", err, st)
		}
		for _, f := range []string{"smartmfa.db", keyFileName} {
			st, err := os.Stat(filepath.Join(dir, f))
			if err != nil || st.Mode().Perm() != 0o600 {
				t.Errorf("%s: %v, mode %v", f, err, st)
			}
		}
	})
	t.Run("--key-file is used instead of the default", func(t *testing.T) {
		e := newEnv(t)
		key := filepath.Join(e.dir, "other.key")
		e.ok("", "--key-file", key, "account", "list")
		if _, err := os.Stat(key); err != nil {
			t.Errorf("--key-file not created: %v", err)
		}
		if _, err := os.Stat(filepath.Join(e.dir, keyFileName)); !os.IsNotExist(err) {
			t.Errorf("the default key file was created although --key-file was given")
		}
	})
	t.Run("not a database", func(t *testing.T) {
		e := newEnv(t)
		if err := os.WriteFile(e.db, []byte(strings.Repeat("not sqlite ", 100)), 0o600); err != nil {
			t.Fatal(err)
		}
		e.fail(exitFailure, "is not a smartmfa database", "", "account", "list")
	})
}

func TestMissingKeyFileFailsClosed(t *testing.T) {
	e := newEnv(t)
	e.createAccount("acme", "alice")
	e.addUser("acme", "bob")
	e.enrollMFA("bob", userPassword)
	if err := os.Remove(filepath.Join(e.dir, keyFileName)); err != nil {
		t.Fatal(err)
	}
	e.fail(exitFailure, "key file is missing", "", "user", "show", "bob")
	if _, err := os.Stat(filepath.Join(e.dir, keyFileName)); !os.IsNotExist(err) {
		t.Errorf("a new key file was created although MFA secrets depend on the old one")
	}
}

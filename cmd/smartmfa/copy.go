package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/db"
)

// copyCommand moves a single host's SQLite store to PostgreSQL, the step
// from one jump host to several. It works on the stores alone: the secrets
// move still encrypted, so it never opens the key file, and only names it.
func (a *app) copyCommand() *cobra.Command {
	var from, to string
	c := &cobra.Command{
		Use:   "copy --from SQLITE_PATH --to postgres://...",
		Short: "Copy a whole store from a SQLite file into an empty PostgreSQL store",
		Long: `Copy every account, user, authenticator (MFA), recovery code, lockout
counter and audit event from the SQLite file of a single host into an empty
PostgreSQL store, so that several jump hosts can share them.

The file is read as one snapshot: hosts may keep running on it, but what they
change after the copy begins stays behind, so stop them first. The PostgreSQL
store is written in one transaction that commits only when each table holds
as many rows as the file did; after a failure or Ctrl+C it is left empty. A
store that holds anything already is refused and left as it is.

The MFA secrets move still encrypted: copy needs no key, but every host that
uses the PostgreSQL store needs the key file (smartmfa.key beside the SQLite
file, or --key-file) copied to it.`,
		Example: "  $ smartmfa copy --from /var/lib/smartmfa/smartmfa.db \\\n" +
			"      --to 'postgres://smartmfa@db.example/smartmfa?sslmode=verify-full'",
		Args: exactArgs(),
	}
	c.RunE = a.action(func(cmd *cobra.Command, _ []string) error {
		// Ctrl+C ends the copy through its context, so the transaction is
		// rolled back and the operator is told the target stayed empty.
		ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
		defer stop()
		return a.copyStore(ctx, from, to)
	})
	f := c.Flags()
	f.StringVar(&from, "from", "", "`path` of the SQLite store to copy (required)")
	f.StringVar(&to, "to", "", "PostgreSQL store to copy into, a postgres://user@host/database `address` (required)")
	_ = c.MarkFlagRequired("from")
	_ = c.MarkFlagRequired("to")
	return c
}

// copyStore checks both locations before opening either, so that a refused
// copy creates nothing: db.Open would create a missing SQLite file. No
// message quotes --to, which may hold a password; an open store is named by
// its Path, which does not.
func (a *app) copyStore(ctx context.Context, from, to string) error {
	switch {
	case db.IsPostgres(from):
		return failf("--from must be the SQLite file of the store to copy, not a PostgreSQL address")
	case !db.IsPostgres(to):
		return failf("--to must be the PostgreSQL store to copy into (postgres://user@host/database), not a file")
	}
	st, err := os.Stat(from)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return failf("the SQLite store %s does not exist", quote(from))
	case err != nil:
		return failf("the SQLite store %s cannot be read (check its permissions)", quote(from))
	case st.IsDir():
		return failf("%s is a directory, not a SQLite store", quote(from))
	}
	src, err := db.Open(ctx, from)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := db.Open(ctx, to)
	if err != nil {
		return err
	}
	defer dst.Close()

	bar := a.progressBar("copying rows", "; checking the counts and committing…")
	counts, err := db.CopyStore(ctx, src, dst, func(done, total int64) { bar.update(int(done), int(total)) })
	bar.finish()
	switch {
	case errors.Is(err, db.ErrTargetNotEmpty):
		return failf("%s: %v; copy writes only into an empty store, and changed nothing", dst.Path, err)
	case errors.Is(err, context.Canceled):
		return failf("interrupted: %s was left empty", dst.Path)
	case err != nil:
		return failf("nothing was copied, %s was left empty: %s", dst.Path, describe(err))
	}

	// Paths in full (quote cuts at 64 characters): the operator copies from them.
	fmt.Fprintf(a.stdout, "copied %q to %s:\n", jsonText(from), dst.Path)
	t := newTable(a.stdout, "TABLE", "ROWS")
	for _, c := range counts {
		t.row(c.Table, c.Rows)
	}
	if err := t.flush(); err != nil {
		return err
	}
	key := a.keyPath
	if key == "" {
		key = filepath.Join(filepath.Dir(from), keyFileName)
	}
	if abs, err := filepath.Abs(key); err == nil {
		key = abs // the operator copies it from here to other hosts
	}
	// A host on PostgreSQL looks for the key in its data directory (see
	// storeLocation): name this user's, the likeliest.
	where := ""
	if def, err := db.DefaultPath(a.getenv); err == nil {
		where = fmt.Sprintf(" (%s for this user)", filepath.Dir(def))
	}
	_, err = fmt.Fprintf(a.stdout, "Each host that uses %s needs the same key file: copy %q to it, "+
		"into the data directory of the user that runs smartmfa there%s or where its --key-file points; "+
		"without it no user with MFA can log in there.\n", dst.Path, jsonText(key), where)
	return err
}

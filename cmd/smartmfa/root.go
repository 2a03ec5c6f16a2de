package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/user"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/db"
)

// keyFileName is the key file's name beside the database when --key-file is absent.
const keyFileName = "smartmfa.key"

// app is one invocation of the command line: its streams, environment and
// global flags. Nothing lives in package variables, so tests run many
// invocations in one process.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string

	dbPath  string // --db
	keyPath string // --key-file
	issuer  string // --issuer

	showVersion bool // --version

	// ran is set when a command's own code starts: an error before that is
	// cobra rejecting the command line (exit 2), after it a failure (exit 1).
	ran bool
}

// run executes the command line args and returns the process exit code. It is
// main without the process around it, so tests call it in-process.
func run(args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	a := &app{stdin: stdin, stdout: stdout, stderr: stderr, getenv: getenv}
	root := a.rootCommand()
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(context.Background())
	var status exitStatus
	if errors.As(err, &status) {
		return status.code // the command reported it (pam-verify)
	}
	return a.exitCode(cmd, err)
}

// rootCommand builds the whole command tree for this invocation.
func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "smartmfa",
		Short: "Terminal console and commands for multi-factor authentication",
		Long: `smartmfa manages the multi-factor authentication (TOTP) of the numbering
system's accounts and users. Without a command it opens the console (on the
first run it offers to register an account); the commands below script every
administrative task.

The database is --db, else $SMARTMFA_DB, else $XDG_DATA_HOME/smartmfa/smartmfa.db
(~/.local/share/smartmfa/smartmfa.db). The key that encrypts the MFA secrets is
kept in smartmfa.key beside the database unless --key-file says otherwise; keep
it safe and back it up: without it no enrolled user can log in.

Several jump hosts share one PostgreSQL store, named with TLS checked:

  --db 'postgres://USER@HOST/DB?sslmode=verify-full&sslrootcert=/etc/smartmfa/db-ca.pem'

verify-full checks the server's certificate and that it is for HOST; anything
less lets a machine in the middle read the password hashes and every attempt.
"postgres:" alone takes libpq's PG* variables. Keep the password out of the
address, in PGPASSWORD or ~/.pgpass. The key file is then smartmfa.key in
$XDG_DATA_HOME/smartmfa unless --key-file says otherwise; copy the same file
to every host. Each process holds at most 10 connections; a statement is
stopped after 10 s, connecting after 5 s (connect_timeout in the address). A store that cannot
be reached fails a command with one sentence; the console and serve say so and
keep running.

Exit status: 0 on success, 1 on failure, 2 on a wrong command line.`,
		Example: `  # open the console on the default database
  $ smartmfa

  # open the console on another SQLite file
  $ smartmfa --db /var/lib/smartmfa/smartmfa.db

  # a PostgreSQL store shared by several jump hosts, with TLS checked
  $ smartmfa --db 'postgres://smartmfa@db.example.net/smartmfa?sslmode=verify-full&sslrootcert=/etc/smartmfa/db-ca.pem'

  # a PostgreSQL store named by libpq's PG* variables
  $ smartmfa --db postgres: account list`,
		Args:              nil, // cobra then reports unknown commands itself
		RunE:              a.action(a.runConsole),
		SilenceUsage:      true,
		SilenceErrors:     true,
		DisableAutoGenTag: true, // the man pages say nothing of the date they were generated
	}
	// completion writes its scripts where the commands write, set before it exists.
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err.Error()} })
	// Our own --version rather than cobra's: a version template would link
	// text/template, whose reflection keeps every method of every type in
	// the binary (3 MB, +17%).
	root.Flags().BoolVarP(&a.showVersion, "version", "v", false, "print the version of smartmfa and exit")
	pf := root.PersistentFlags()
	pf.StringVar(&a.dbPath, "db", "", "database `path` (default $SMARTMFA_DB or $XDG_DATA_HOME/smartmfa/smartmfa.db)")
	pf.StringVar(&a.keyPath, "key-file", "", "key file `path` (default smartmfa.key beside the database)")
	pf.StringVar(&a.issuer, "issuer", core.DefaultIssuer, "`name` that authenticator apps show for this service")

	root.AddCommand(a.accountCommand(), a.userCommand(), a.auditCommand(), a.demoCommand(), a.copyCommand(), a.serveCommand(),
		a.pamVerifyCommand(), a.pamEnrolCommand(), a.sshdCheckCommand(), a.keyCommand(), a.versionCommand(), a.manCommand())
	addCompletion(root)
	return root
}

// runConsole is what `smartmfa` alone does: open the console on a terminal,
// print the help anywhere else.
func (a *app) runConsole(cmd *cobra.Command, _ []string) error {
	if a.showVersion {
		_, err := fmt.Fprintln(a.stdout, versionLine())
		return err
	}
	if !a.onTerminal() {
		return cmd.Help() // the console needs a terminal; a script gets the help
	}
	return a.console(cmd.Context())
}

// action wraps a command's code so that its errors count as failures (exit
// 1), unlike the errors cobra raises while reading the command line.
func (a *app) action(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		a.ran = true
		return fn(cmd, args)
	}
}

// group makes a command that only holds subcommands. Cobra would print the
// help for a mistyped subcommand and exit 0; a script must see exit 2.
func group(use, short string, subs ...*cobra.Command) *cobra.Command {
	c := &cobra.Command{
		Use:   use,
		Short: short,
		// SuggestionsFor reads this as is; only the root gets cobra's default of 2.
		SuggestionsMinimumDistance: 2,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) == 0 {
				return cmd.Help()
			}
			msg := fmt.Sprintf("unknown command %s for %q", quote(args[0]), cmd.CommandPath())
			if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
				msg += fmt.Sprintf("; did you mean %q?", s[0])
			}
			return usageError{msg}
		},
	}
	c.AddCommand(subs...)
	return c
}

// exactArgs checks the number of positional arguments and names them in the
// error, which says more than cobra's "accepts 1 arg(s)".
func exactArgs(names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) == len(names) {
			return nil
		}
		want := "no arguments"
		if len(names) > 0 {
			want = strings.Join(names, " ")
		}
		return usageError{fmt.Sprintf("%s takes %s, not %s", commandName(cmd), want, plural(len(args), "argument", "arguments"))}
	}
}

// commandName is a command's path without the program name, for messages
// that the "smartmfa: " prefix already starts.
func commandName(cmd *cobra.Command) string {
	return strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()+" ")
}

// openService resolves the database and key paths and opens core. The
// default data directory is created on first use; an explicit path must be
// in an existing directory, so a typo does not silently start a new database.
func (a *app) openService(ctx context.Context) (*core.Service, error) {
	return a.openServiceWith(ctx, core.Config{})
}

// openServiceWith opens the service with cfg; the issuer comes from the flags.
func (a *app) openServiceWith(ctx context.Context, cfg core.Config) (*core.Service, error) {
	path, dir, err := a.storeLocation(a.keyPath == "")
	if err != nil {
		return nil, err
	}
	keyPath := a.keyPath
	if keyPath == "" {
		keyPath = filepath.Join(dir, keyFileName)
	}
	cfg.Issuer = a.issuer
	return core.Open(ctx, path, keyPath, cfg)
}

// location is the store named by --db, else $SMARTMFA_DB; "" for the default.
func (a *app) location() string {
	if a.dbPath != "" {
		return a.dbPath
	}
	return a.getenv("SMARTMFA_DB")
}

// storeLocation resolves the store and the directory of the files kept
// beside it by default (the key file, the host key): a SQLite file's own
// directory, or for PostgreSQL the default data directory, created when
// ensureDir asks for it.
func (a *app) storeLocation(ensureDir bool) (path, dir string, err error) {
	path = a.location()
	if path != "" && !db.IsPostgres(path) {
		return path, filepath.Dir(path), nil
	}
	def, err := db.DefaultPath(a.getenv)
	if err != nil {
		return "", "", err
	}
	if path == "" || ensureDir {
		if err := db.EnsureDefaultDir(def); err != nil {
			return "", "", err
		}
	}
	if path == "" {
		path = def
	}
	return path, filepath.Dir(def), nil
}

// operator is the session every command acts as; the audit trail records it
// as local:<os user> so that each change names who ran it.
func (a *app) operator() core.Session {
	name := a.getenv("USER")
	if u, err := user.Current(); err == nil && u.Username != "" {
		name = u.Username
	}
	if name == "" {
		name = "unknown"
	}
	return core.LocalOperator("local:" + name)
}

// serviceAction is action for the commands that work on the database: it
// opens the service, runs fn as the local operator, and closes it.
func (a *app) serviceAction(fn func(ctx context.Context, svc *core.Service, op core.Session, args []string) error) func(*cobra.Command, []string) error {
	return a.action(func(cmd *cobra.Command, args []string) error {
		ctx := cmd.Context()
		svc, err := a.openService(ctx)
		if err != nil {
			return err
		}
		defer svc.Close()
		return fn(ctx, svc, a.operator(), args)
	})
}

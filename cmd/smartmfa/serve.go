package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	tea "github.com/charmbracelet/bubbletea"
	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/sshserve"
	"github.com/smartnumbers/smartmfa/internal/tui"
)

// hostKeyFileName is the host key's name beside the database when
// --host-key is absent.
const hostKeyFileName = "ssh_host_ed25519_key"

// serveOptions are the flags of `smartmfa serve`.
type serveOptions struct {
	listen        string
	hostKey       string
	idleTimeout   time.Duration
	sessionLimit  time.Duration
	maxSessions   int
	maxPerAddress int
	loginFailures int
	loginBackoff  time.Duration
	grace         time.Duration
}

// serveCommand serves the console over SSH: the daemon holds the database
// and the key; its users need neither.
func (a *app) serveCommand() *cobra.Command {
	var o serveOptions
	c := &cobra.Command{
		Use:   "serve",
		Short: "Serve the console over SSH, one console per session",
		Long: `Serve the console over SSH, so that the users of a jump host reach it with
"ssh -p 2222 host" and never need the database or key files, which stay with
the user that runs this command.

The SSH layer lets any client in: the console's own login (password, then
code) is the authentication, with the same lockouts and audit trail as the
local console; each session is audited as ssh:<address>. A terminal is
required. The host key is created on first start (0600) beside the database
unless --host-key names it; its fingerprint is logged for users to compare.

Each session start and end is logged on standard error (address, user once
signed in, duration), never a password or code. SIGTERM or SIGINT drains the
server: new connections are refused and open sessions are told, then closed
after --grace.

A PostgreSQL store that cannot be reached at start is tried again, after 1 s
and then twice as long each time up to 30 s, one log line a try, until it
answers or serve is stopped. While serving, sessions stay open through an
outage: their actions say the store cannot be reached, and work again once
it is back.`,
		Example: `  # listen on 127.0.0.1:2222 with the default database; users run ssh -p 2222 localhost
  $ smartmfa serve

  # listen on every address for users on other hosts (ssh -p 2222 jumphost)
  $ smartmfa --db /var/lib/smartmfa/smartmfa.db serve --listen 0.0.0.0:2222

  $ smartmfa serve --idle-timeout 5m --session-limit 30m --max-per-address 5`,
		Args: exactArgs(),
	}
	c.RunE = a.action(func(cmd *cobra.Command, _ []string) error {
		if err := o.check(); err != nil {
			return err
		}
		return a.serve(cmd.Context(), o)
	})
	f := c.Flags()
	f.StringVar(&o.listen, "listen", "127.0.0.1:2222", "`address` to listen on (host:port)")
	f.StringVar(&o.hostKey, "host-key", "", "host key `path` (default "+hostKeyFileName+" beside the database)")
	f.DurationVar(&o.idleTimeout, "idle-timeout", sshserve.DefaultIdleTimeout, "close a session after this long without a key pressed (warned a minute before)")
	f.DurationVar(&o.sessionLimit, "session-limit", sshserve.DefaultSessionLimit, "close a session after this long whatever it does")
	f.IntVar(&o.maxSessions, "max-sessions", sshserve.DefaultMaxSessions, "most sessions open at once")
	f.IntVar(&o.maxPerAddress, "max-per-address", sshserve.DefaultMaxPerAddress, "most sessions open at once from one IP address")
	f.IntVar(&o.loginFailures, "login-failures", sshserve.DefaultFailedLogins, "failed passwords or codes from one IP address before it must wait")
	f.DurationVar(&o.loginBackoff, "login-backoff", sshserve.DefaultBackoff, "first wait of an address after --login-failures, doubled for each further failure up to 15m")
	f.DurationVar(&o.grace, "grace", 10*time.Second, "on SIGTERM, how long open sessions are given before they are closed")
	return c
}

// check refuses limits that would turn a protection off or make no sense.
func (o serveOptions) check() error {
	for _, d := range []struct {
		flag string
		v    time.Duration
	}{{"--idle-timeout", o.idleTimeout}, {"--session-limit", o.sessionLimit}, {"--login-backoff", o.loginBackoff}, {"--grace", o.grace}} {
		if d.v <= 0 {
			return usageError{fmt.Sprintf("%s must be a positive duration such as 10m, not %s", d.flag, d.v)}
		}
	}
	for _, n := range []struct {
		flag string
		v    int
	}{{"--max-sessions", o.maxSessions}, {"--max-per-address", o.maxPerAddress}, {"--login-failures", o.loginFailures}} {
		if n.v <= 0 {
			return usageError{fmt.Sprintf("%s must be 1 or more, not %d", n.flag, n.v)}
		}
	}
	if _, _, err := net.SplitHostPort(o.listen); err != nil {
		return usageError{fmt.Sprintf("--listen takes host:port, such as 127.0.0.1:2222, not %s", quote(o.listen))}
	}
	return nil
}

// serve runs the SSH server until SIGTERM or SIGINT, then drains it.
func (a *app) serve(ctx context.Context, o serveOptions) error {
	log := slog.New(slog.NewTextHandler(a.stderr, nil))
	// Signals are caught from the start: a SIGTERM while the store is
	// awaited stops the wait, and once serving it drains the server.
	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, os.Interrupt)
	defer stop()
	svc, err := a.awaitStore(ctx, log)
	if err != nil && ctx.Err() != nil {
		log.Info("stopped before the store could be reached")
		return nil
	}
	if err != nil {
		return err
	}
	defer svc.Close()
	svc.WarmSearch(ctx)

	keyPath := o.hostKey
	if keyPath == "" {
		if keyPath, err = a.defaultHostKeyPath(); err != nil {
			return err
		}
	}
	signer, created, err := sshserve.LoadHostKey(keyPath)
	if err != nil {
		return err
	}
	if created {
		log.Info("created host key", "path", keyPath, "fingerprint", sshserve.Fingerprint(signer))
	}

	srv, err := sshserve.New(sshserve.Config{
		Console: func(ctx context.Context, s *sshserve.Session) tea.Model {
			// The console tells the server of each login as it happens: a
			// failure counts towards its address's backoff at once.
			return tui.New(ctx, svc, tui.Options{Source: s.Source, Renderer: s.Renderer, Styles: s.Styles,
				OnSignIn: s.SignedIn, OnSignOut: s.SignedOut, OnLoginFailed: s.LoginFailed})
		},
		HostKey:       signer,
		Log:           log,
		IdleTimeout:   o.idleTimeout,
		SessionLimit:  o.sessionLimit,
		MaxSessions:   o.maxSessions,
		MaxPerAddress: o.maxPerAddress,
		FailedLogins:  o.loginFailures,
		Backoff:       o.loginBackoff,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", o.listen)
	if err != nil {
		return failf("cannot listen on %s: %s", o.listen, oneLine(err.Error()))
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	log.Info("serving the console", "address", ln.Addr().String(), "host_key", keyPath,
		"fingerprint", sshserve.Fingerprint(signer), "connect", "ssh -p "+port+" HOST")
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	select {
	case err := <-served:
		return failf("serving on %s: %s", o.listen, oneLine(err.Error()))
	case <-ctx.Done():
	}
	stop() // a second signal now ends the process at once
	log.Info("shutting down", "sessions", srv.Sessions(), "grace", o.grace.String())
	err = srv.Shutdown(o.grace)
	if serr := <-served; err == nil {
		err = serr
	}
	if err != nil {
		return failf("shutting down: %s", oneLine(err.Error()))
	}
	log.Info("stopped")
	return nil
}

// How long serve waits between attempts to reach a store that cannot be
// reached at start: doubled from the first to the last, then kept.
const (
	storeRetryFirst = time.Second
	storeRetryMax   = 30 * time.Second
)

// awaitStore opens the service, waiting for a store that cannot be reached
// yet: a jump host that boots before its database server, or meets it in a
// fail-over, comes up once the store does instead of leaving the console
// down until someone restarts it. Each failed attempt logs one line, naming
// the store without its password. Any other failure (a wrong key, a login
// the server refuses) ends serve at once: waiting would not mend it.
func (a *app) awaitStore(ctx context.Context, log *slog.Logger) (*core.Service, error) {
	wait := storeRetryFirst
	for attempt := 1; ; attempt++ {
		// Anyone may reach the login screen over SSH: the accounts are
		// created by the operator (smartmfa account create), never by a client.
		svc, err := a.openServiceWith(ctx, core.Config{NoRegistration: true})
		if err == nil || !errors.Is(err, core.ErrUnreachable) {
			return svc, err
		}
		log.Warn("waiting for the store", "attempt", attempt, "retry_in", wait.String(), "error", oneLine(err.Error()))
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return nil, ctx.Err()
		}
		wait = min(2*wait, storeRetryMax)
	}
}

// defaultHostKeyPath is the host key beside the database, found as
// openService finds the database.
func (a *app) defaultHostKeyPath() (string, error) {
	_, dir, err := a.storeLocation(false)
	if err != nil {
		return "", err
	}
	return filepath.Join(dir, hostKeyFileName), nil
}

package main

import (
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/charmbracelet/x/term"
	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// Demo defaults. The password is printed and documented on purpose: demo
// data is for trying the console, never for real users.
const (
	demoAccount  = "Demo"
	demoPassword = "demo-password-1"
	demoUsers    = 50
)

// demoCommand fills a database to try the console; it prints the credentials
// to log in with, since that is the next thing the operator needs.
func (a *app) demoCommand() *cobra.Command {
	var opts core.DemoOptions
	var fromStdin bool
	c := &cobra.Command{
		Use:   "demo",
		Short: "Fill the database with a demo account and users to try the console",
		Long: fmt.Sprintf(`Create a demo account with an administrator and --users users, all with
the password %q unless --password-stdin gives another one.
Use it on a database of its own: demo users are not meant for production.`, demoPassword),
		Example: `  # a database of its own with 1000 users; then open the console on it with
  # smartmfa --db /tmp/smartmfa-demo.db and log in as demo-admin
  $ smartmfa --db /tmp/smartmfa-demo.db demo --users 1000

  $ smartmfa --db /tmp/smartmfa-demo.db demo --account Trial --users 20`,
		Args: exactArgs(),
	}
	c.RunE = a.action(func(cmd *cobra.Command, _ []string) error {
		if opts.Users < 0 {
			return usageError{fmt.Sprintf("--users must be 0 or more, not %d", opts.Users)}
		}
		ctx := cmd.Context()
		svc, err := a.openService(ctx)
		if err != nil {
			return err
		}
		defer svc.Close()
		opts.Password = demoPassword
		if fromStdin {
			if opts.Password, err = readPasswordLine(a.stdin); err != nil {
				return err
			}
		}
		// The search index is built after the last user: seconds at a million.
		bar := a.progressBar("creating users", "; building the search index…")
		opts.Progress = bar.update
		res, err := svc.SeedDemo(ctx, a.operator(), opts)
		bar.finish()
		if err != nil {
			return err
		}
		shown := fmt.Sprintf("the password %s", demoPassword)
		if fromStdin {
			shown = "the password given on standard input"
		}
		_, err = fmt.Fprintf(a.stdout, "created demo account %s with %s\nlog in as %s with %s\n",
			quote(res.Account.Name), plural(res.Users, "user", "users"), quote(res.Admin), shown)
		return err
	})
	f := c.Flags()
	f.StringVar(&opts.Account, "account", demoAccount, "`name` of the demo account")
	f.IntVar(&opts.Users, "users", demoUsers, "how many users to create besides the administrator")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the demo users' password as one line from standard input")
	return c
}

// progress draws a one-line bar on stderr while a long command works (demo
// users being created, a store being copied). It draws only on a terminal:
// in a log file the carriage returns are noise, and the command's own output
// says what was done.
type progress struct {
	mu    sync.Mutex
	w     io.Writer // nil when stderr is not a terminal
	label string    // what is counted: "creating users"
	then  string    // shown once the count is complete, for the work that follows it
	last  int       // last percentage drawn, -1 before the first
	drawn bool
}

// progressBar returns a bar that draws only when stderr is a terminal.
func (a *app) progressBar(label, then string) *progress {
	p := &progress{label: label, then: then, last: -1}
	if f, ok := a.stderr.(interface{ Fd() uintptr }); ok && term.IsTerminal(f.Fd()) {
		p.w = a.stderr
	}
	return p
}

// update redraws the bar when the percentage changes; core and db may call
// it from any goroutine.
func (p *progress) update(done, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.w == nil || total <= 0 {
		return
	}
	done = max(0, min(done, total))
	pct := done * 100 / total
	if pct == p.last {
		return
	}
	p.last, p.drawn = pct, true
	const width = 30
	filled := width * done / total
	fmt.Fprintf(p.w, "\r%s [%s%s] %3d%% %d/%d", p.label, strings.Repeat("#", filled), strings.Repeat(".", width-filled), pct, done, total)
	if done == total {
		fmt.Fprint(p.w, p.then)
	}
}

// finish ends the bar's line so that what follows starts on a line of its own.
func (p *progress) finish() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}

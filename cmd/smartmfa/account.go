package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// jsonAccount is an account in --json output.
type jsonAccount struct {
	ID         int64  `json:"id"`
	Name       string `json:"name"`
	RequireMFA bool   `json:"require_mfa"`
	// RequireMFAFrom is the enrolment deadline, when there is one.
	RequireMFAFrom string `json:"require_mfa_from,omitempty"`
	CreatedAt      string `json:"created_at"`
}

// jsonAccountDetails is `account show --json`: the account and its counts.
type jsonAccountDetails struct {
	jsonAccount
	Users      int `json:"users"`
	Enabled    int `json:"enabled"`
	Admins     int `json:"admins"`
	WithMFA    int `json:"with_mfa"`
	WithoutMFA int `json:"without_mfa"`
}

// toJSONAccount is the one place an account becomes JSON, so every command
// prints the same shape.
func toJSONAccount(ac core.Account) jsonAccount {
	out := jsonAccount{ID: ac.ID, Name: jsonText(ac.Name), RequireMFA: ac.RequireMFA, CreatedAt: jsonTime(ac.CreatedAt)}
	if !ac.RequireMFAFrom.IsZero() {
		out.RequireMFAFrom = jsonTime(ac.RequireMFAFrom)
	}
	return out
}

// requireMFAText is an account's requirement in a table: "on", "off", or
// "on from 2026-12-06 00:00 UTC" while its enrolment deadline is ahead.
func requireMFAText(ac core.Account, now time.Time) string {
	if ac.RequireMFA && ac.RequireMFAFrom.After(now) {
		return "on from " + ac.RequireMFAFrom.Format("2006-01-02 15:04 MST")
	}
	return onOff(ac.RequireMFA)
}

// accountCommand groups the account commands: the operator's side of the
// account details page.
func (a *app) accountCommand() *cobra.Command {
	c := group("account", "Create, list and show accounts and set their MFA policy",
		a.accountCreateCommand(), a.accountListCommand(), a.accountShowCommand(), a.accountRequireMFACommand())
	c.Example = `  $ smartmfa account create Acme --admin alice
  $ smartmfa account list
  $ smartmfa account show Acme
  $ smartmfa account require-mfa Acme on --grace 7d`
	return c
}

// findAccount looks an account up by name and turns "not found" into a
// sentence that names what was looked for.
func findAccount(ctx context.Context, svc *core.Service, op core.Session, name string) (core.Account, error) {
	ac, err := svc.FindAccount(ctx, op, name)
	if errors.Is(err, core.ErrNotFound) {
		return ac, failf("no account named %s", quote(name))
	}
	return ac, err
}

// accountCreateCommand checks what it can before asking for a password, so
// the operator does not type one twice for an account that cannot be created.
func (a *app) accountCreateCommand() *cobra.Command {
	var admin core.NewUser
	var fromStdin bool
	c := &cobra.Command{
		Use:   "create NAME --admin USER",
		Short: "Create an account with its first administrator",
		Long: `Create an account with its first user, an administrator. The password is
asked twice on the terminal, or read as one line from standard input with
--password-stdin.`,
		Example: `  $ smartmfa account create Acme --admin alice --name "Alice Martin" --email alice@acme.example

  # in a script, read the administrator's password from standard input
  $ smartmfa account create Acme --admin alice --password-stdin <<< "$PASSWORD"`,
		Args: exactArgs("NAME"),
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		// Refuse what would fail anyway before the operator types a password twice.
		admin.Role = core.RoleAdmin
		if err := core.CheckAccountName(args[0]); err != nil {
			return err
		}
		if err := core.CheckUserFields(admin); err != nil {
			return err
		}
		if _, err := svc.FindAccount(ctx, op, args[0]); err == nil {
			return failf("account %s already exists", quote(args[0]))
		}
		if _, err := svc.FindUser(ctx, op, admin.Username); err == nil {
			return failf("username %s already exists", quote(admin.Username))
		}
		var err error
		admin.Password, err = a.newPassword(fromStdin, admin.Username)
		if err != nil {
			return err
		}
		ac, err := svc.CreateAccount(ctx, op, core.NewAccount{Name: args[0], Admin: admin})
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "created account %s with administrator %s\n", quote(ac.Name), quote(admin.Username))
		return err
	})
	f := c.Flags()
	f.StringVar(&admin.Username, "admin", "", "`username` of the account's first administrator (required)")
	f.StringVar(&admin.DisplayName, "name", "", "display `name` of the administrator")
	f.StringVar(&admin.Email, "email", "", "`email` address of the administrator")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the administrator's password as one line from standard input")
	_ = c.MarkFlagRequired("admin")
	return c
}

func (a *app) accountListCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List every account",
		Args:  exactArgs(),
		Example: `  $ smartmfa account list
  $ smartmfa account list --json`,
	}
	c.RunE = a.action(func(cmd *cobra.Command, _ []string) error {
		ctx := cmd.Context()
		svc, err := a.openService(ctx)
		if err != nil {
			return err
		}
		defer svc.Close()
		accounts, err := svc.ListAccounts(ctx, a.operator())
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]jsonAccount, 0, len(accounts))
			for _, ac := range accounts {
				out = append(out, toJSONAccount(ac))
			}
			return writeJSON(a.stdout, out)
		}
		t := newTable(a.stdout, "NAME", "REQUIRE MFA", "CREATED")
		for _, ac := range accounts {
			t.row(clean(ac.Name, colName), requireMFAText(ac, time.Now()), tableTime(ac.CreatedAt))
		}
		return t.flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

func (a *app) accountShowCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show NAME",
		Short: "Show an account, its MFA policy and how many users have MFA",
		Args:  exactArgs("NAME"),
		Example: `  $ smartmfa account show Acme
  $ smartmfa account show Acme --json`,
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		ac, err := findAccount(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		d, err := svc.AccountDetails(ctx, op, ac.ID)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(a.stdout, jsonAccountDetails{jsonAccount: toJSONAccount(d.Account), Users: d.Users,
				Enabled: d.Enabled, Admins: d.Admins, WithMFA: d.WithMFA, WithoutMFA: d.WithoutMFA})
		}
		t := newTable(a.stdout, "FIELD", "VALUE")
		t.row("name", clean(d.Name, colName))
		t.row("require mfa", requireMFAText(d.Account, time.Now()))
		t.row("users", fmt.Sprintf("%d (%d enabled, %s)", d.Users, d.Enabled, plural(d.Admins, "administrator", "administrators")))
		t.row("with mfa", d.WithMFA)
		t.row("without mfa", plural(d.WithoutMFA, "enabled user", "enabled users"))
		t.row("created", tableTime(d.CreatedAt))
		return t.flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

// accountRequireMFACommand says how many users the change sends to MFA setup,
// as the console does before Save.
func (a *app) accountRequireMFACommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "require-mfa NAME on|off",
		Short: "Require MFA for every user of an account, or stop requiring it",
		Long: `Require multi-factor authentication for every user of an account (on) or
stop requiring it (off). Users without MFA are sent to MFA setup at their next
login and can do nothing else until they set it up.

With --grace or --from, MFA is required from a deadline: until then users
without MFA are shown MFA setup at login but may choose "Later", and SSH logins
(pam-verify) let them in without a code; from the deadline on they are forced
as without one. --grace 7d sets the deadline 7 days from now; --from
2026-12-31 sets it at the start of that day, UTC.`,
		Example: `  $ smartmfa account require-mfa Acme on

  # require MFA in a week; until then users may postpone setting it up
  $ smartmfa account require-mfa Acme on --grace 7d

  # require MFA from the start of 31 December, UTC
  $ smartmfa account require-mfa Acme on --from 2026-12-31

  $ smartmfa account require-mfa Acme off`,
		Args: exactArgs("NAME", "on|off"),
	}
	var on bool
	var grace, fromText string
	var from time.Time
	c.PreRunE = func(_ *cobra.Command, args []string) (err error) {
		if on, err = parseOnOff("the MFA requirement", args[1]); err != nil {
			return err
		}
		from, err = parseDeadline(on, grace, fromText, time.Now())
		return err
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		ac, err := findAccount(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		without, err := svc.SetRequireMFAFrom(ctx, op, ac.ID, on, from)
		if err != nil {
			return err
		}
		name, users := quote(ac.Name), plural(without, "enabled user has", "enabled users have")
		wasGrace := ac.RequireMFA && ac.RequireMFAFrom.After(time.Now())
		switch {
		case on && !from.IsZero():
			when := from.Format("2006-01-02 15:04 MST")
			_, err = fmt.Fprintf(a.stdout, "account %s requires MFA from %s (%s); %s no MFA yet and may postpone MFA setup until then\n",
				name, when, plural(core.DaysLeft(from, time.Now()), "day left", "days left"), users)
		case on && ac.RequireMFA && !wasGrace:
			_, err = fmt.Fprintf(a.stdout, "account %s already requires MFA; %s no MFA yet and go to MFA setup at their next login\n", name, users)
		case on:
			_, err = fmt.Fprintf(a.stdout, "account %s now requires MFA; %s no MFA yet and will be sent to MFA setup at their next login\n", name, users)
		case ac.RequireMFA:
			_, err = fmt.Fprintf(a.stdout, "account %s no longer requires MFA; %s no MFA\n", name, users)
		default:
			_, err = fmt.Fprintf(a.stdout, "account %s already does not require MFA; %s no MFA\n", name, users)
		}
		return err
	})
	c.Flags().StringVar(&grace, "grace", "", "require MFA only after this `period` (7d, or a duration such as 36h); until then users may postpone setup")
	c.Flags().StringVar(&fromText, "from", "", "require MFA only from this `date` (YYYY-MM-DD, UTC); until then users may postpone setup")
	return c
}

// parseDeadline reads --grace and --from into the enrolment deadline; zero
// when neither is given.
func parseDeadline(on bool, grace, from string, now time.Time) (time.Time, error) {
	switch {
	case grace == "" && from == "":
		return time.Time{}, nil
	case grace != "" && from != "":
		return time.Time{}, usageError{"give --grace or --from, not both"}
	case !on:
		return time.Time{}, usageError{"--grace and --from go only with on: off stops requiring MFA at once"}
	case from != "":
		t, err := time.ParseInLocation(time.DateOnly, from, time.UTC)
		if err != nil {
			return time.Time{}, usageError{fmt.Sprintf("--from must be a date such as 2026-12-31 (YYYY-MM-DD, UTC), not %s", quote(from))}
		}
		if !t.After(now) {
			return time.Time{}, usageError{fmt.Sprintf("--from %s is not in the future: leave it out to require MFA now", from)}
		}
		return t, nil
	}
	d, err := parseGrace(grace)
	if err != nil {
		return time.Time{}, usageError{fmt.Sprintf("--grace must be a number of days such as 7d, or a duration such as 36h, not %s", quote(grace))}
	}
	if d <= 0 {
		return time.Time{}, usageError{fmt.Sprintf("--grace %s is not a period ahead: leave it out to require MFA now", grace)}
	}
	return now.Add(d).UTC(), nil
}

// parseGrace reads a grace period: whole days ("7d") or a Go duration ("36h").
func parseGrace(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n > 3660 {
			return 0, errors.New("not a number of days")
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	return time.ParseDuration(s)
}

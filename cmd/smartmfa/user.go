package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// searchPageSize is how many users each SearchUsers call returns while
// `user list` walks every page; core's upper bound.
const searchPageSize = 500

// jsonUser is a user in --json output.
type jsonUser struct {
	ID        int64  `json:"id"`
	AccountID int64  `json:"account_id"`
	Account   string `json:"account"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	Role      string `json:"role"`
	Disabled  bool   `json:"disabled"`
	MFA       string `json:"mfa"` // on, pending or off: core.MFAWord
	CreatedAt string `json:"created_at"`
	UpdatedAt string `json:"updated_at"`
}

// toJSONUser is the one place a user becomes JSON; account names the account
// so that scripts need no second lookup.
func toJSONUser(u core.User, account string) jsonUser {
	return jsonUser{ID: u.ID, AccountID: u.AccountID, Account: jsonText(account), Username: jsonText(u.Username),
		Name: jsonText(u.DisplayName), Email: jsonText(u.Email), Role: string(u.Role), Disabled: u.Disabled,
		MFA: core.MFAWord(u.MFA), CreatedAt: jsonTime(u.CreatedAt), UpdatedAt: jsonTime(u.UpdatedAt)}
}

// status is the enabled/disabled column of tables.
func status(disabled bool) string {
	if disabled {
		return "disabled"
	}
	return "enabled"
}

// userCommand groups the user commands: the operator's side of the Users page.
func (a *app) userCommand() *cobra.Command {
	return group("user", "Add, list and show users, reset passwords, remove MFA, disable and enable",
		a.userAddCommand(), a.userListCommand(), a.userShowCommand(), a.userPasswdCommand(),
		a.userRemoveMFACommand(), a.userSetDisabledCommand(true), a.userSetDisabledCommand(false))
}

// findUser looks a user up by username and turns "not found" into a
// sentence that names what was looked for.
func findUser(ctx context.Context, svc *core.Service, op core.Session, username string) (core.User, error) {
	u, err := svc.FindUser(ctx, op, username)
	if errors.Is(err, core.ErrNotFound) {
		return u, failf("no user named %s", quote(username))
	}
	return u, err
}

func (a *app) userAddCommand() *cobra.Command {
	var nu core.NewUser
	var admin, fromStdin, generate bool
	c := &cobra.Command{
		Use:   "add ACCOUNT USER",
		Short: "Add a user to an account, with a temporary password",
		Long: `Add a user to an account, as a plain user or with --admin as an account
administrator. The password is temporary: at their first login, after their
code if they have MFA, the user must choose a password of their own before
anything else. It is asked twice on the terminal, read as one line from
standard input with --password-stdin, or generated and printed once with
--generate-password (16 random characters, for you to give to the user).`,
		Args: exactArgs("ACCOUNT", "USER"),
	}
	c.PreRunE = func(*cobra.Command, []string) error {
		if generate && fromStdin {
			return usageError{"--generate-password and --password-stdin do not go together: choose one"}
		}
		return nil
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		ac, err := findAccount(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		nu.Username, nu.Role = args[1], core.RoleUser
		if admin {
			nu.Role = core.RoleAdmin
		}
		if err := core.CheckUserFields(nu); err != nil {
			return err
		}
		if _, err := svc.FindUser(ctx, op, nu.Username); err == nil {
			return failf("username %s already exists", quote(nu.Username))
		}
		if generate {
			nu.Password, err = svc.GeneratePassword()
		} else {
			nu.Password, err = a.newPassword(fromStdin, nu.Username)
		}
		if err != nil {
			return err
		}
		u, err := svc.CreateUser(ctx, op, ac.ID, nu, "")
		if err != nil {
			return err
		}
		role := "user"
		if u.Role == core.RoleAdmin {
			role = "administrator"
		}
		msg := fmt.Sprintf("added %s to account %s as %s with a temporary password; they choose their own at the first login",
			quote(u.Username), quote(ac.Name), role)
		if ac.RequireMFA {
			msg += ", then set up MFA, which the account requires"
		}
		if generate {
			msg += fmt.Sprintf("\ntemporary password: %s\ngive it to %s now: it is not shown again", nu.Password, quote(u.Username))
		}
		_, err = fmt.Fprintln(a.stdout, msg)
		return err
	})
	f := c.Flags()
	f.BoolVar(&admin, "admin", false, "make the user an administrator of the account")
	f.StringVar(&nu.DisplayName, "name", "", "display `name` of the user")
	f.StringVar(&nu.Email, "email", "", "`email` address of the user")
	f.BoolVar(&fromStdin, "password-stdin", false, "read the password as one line from standard input")
	f.BoolVar(&generate, "generate-password", false, "generate the password and print it once")
	return c
}

// userListCommand checks its filters before opening the database: a bad
// --mfa or --role is a wrong command line (exit 2), not a failure.
func (a *app) userListCommand() *cobra.Command {
	var q core.UserQuery
	var role string
	var asJSON bool
	c := &cobra.Command{
		Use:   "list ACCOUNT",
		Short: "List or search the users of an account",
		Args:  exactArgs("ACCOUNT"),
	}
	c.PreRunE = func(*cobra.Command, []string) error {
		if q.MFA != "" {
			if _, err := parseOnOff("--mfa", q.MFA); err != nil {
				return err
			}
		}
		switch role {
		case "", string(core.RoleAdmin), string(core.RoleUser):
			q.Role = core.Role(role)
			return nil
		}
		return usageError{fmt.Sprintf("--role must be admin or user, not %s", quote(role))}
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		ac, err := findAccount(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		users, err := allUsers(ctx, svc, op, ac.ID, q)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]jsonUser, 0, len(users))
			for _, u := range users {
				out = append(out, toJSONUser(u, ac.Name))
			}
			return writeJSON(a.stdout, out)
		}
		t := newTable(a.stdout, "USERNAME", "NAME", "EMAIL", "ROLE", "MFA", "STATUS")
		for _, u := range users {
			t.row(clean(u.Username, colName), clean(u.DisplayName, colName), clean(u.Email, colName),
				u.Role, core.MFAWord(u.MFA), status(u.Disabled))
		}
		return t.flush()
	})
	f := c.Flags()
	f.StringVar(&q.Term, "search", "", "show only users whose username, name or email contains `text`")
	f.StringVar(&q.MFA, "mfa", "", "show only users with MFA (on) or without it (off)")
	f.StringVar(&role, "role", "", "show only administrators (admin) or plain users (user)")
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

// allUsers walks every page of a search: scripts want the whole list, and
// core serves it in pages to keep each query bounded.
func allUsers(ctx context.Context, svc *core.Service, op core.Session, accountID int64, q core.UserQuery) ([]core.User, error) {
	var users []core.User
	q.Limit = searchPageSize
	for {
		page, err := svc.SearchUsers(ctx, op, accountID, q)
		if err != nil {
			return nil, err
		}
		users = append(users, page.Users...)
		if page.Next == 0 {
			return users, nil
		}
		if page.Next <= q.After {
			return nil, errors.New("the user search did not advance; this is a bug in smartmfa")
		}
		q.After = page.Next
	}
}

func (a *app) userShowCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "show USER",
		Short: "Show a user, their role and MFA state",
		Args:  exactArgs("USER"),
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		u, err := findUser(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		ac, err := svc.GetAccount(ctx, op, u.AccountID)
		if err != nil {
			return err
		}
		if asJSON {
			return writeJSON(a.stdout, toJSONUser(u, ac.Name))
		}
		t := newTable(a.stdout, "FIELD", "VALUE")
		t.row("username", clean(u.Username, colName))
		t.row("account", clean(ac.Name, colName))
		t.row("name", clean(u.DisplayName, colName))
		t.row("email", clean(u.Email, colName))
		t.row("role", u.Role)
		t.row("status", status(u.Disabled))
		t.row("mfa", core.MFAWord(u.MFA))
		t.row("created", tableTime(u.CreatedAt))
		t.row("updated", tableTime(u.UpdatedAt))
		return t.flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

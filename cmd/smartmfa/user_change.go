package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// userPasswdCommand is how support resets a password. Like any password an
// administrator sets, it is temporary: the user chooses their own at the next
// login. Core also clears the lockouts where the user signs in.
func (a *app) userPasswdCommand() *cobra.Command {
	var fromStdin bool
	c := &cobra.Command{
		Use:   "passwd USER",
		Short: "Set a temporary password for a user and clear their lockouts",
		Long: `Set a temporary password for a user: at their next login, after their code if
they have MFA, they must choose a password of their own before anything else.
It also clears the password lockouts of the places where they signed in within
30 days. The password is asked twice on the terminal, or read as one line from
standard input with --password-stdin.`,
		Example: `  $ smartmfa user passwd bob

  # in a script, read the temporary password from standard input
  $ smartmfa user passwd bob --password-stdin <<< "$PASSWORD"`,
		Args: exactArgs("USER"),
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		u, err := findUser(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		pw, err := a.newPassword(fromStdin, u.Username)
		if err != nil {
			return err
		}
		if err := svc.ResetPassword(ctx, op, u.ID, pw, ""); err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "set a temporary password for %s; they choose their own at the next login\n", quote(u.Username))
		return err
	})
	c.Flags().BoolVar(&fromStdin, "password-stdin", false, "read the password as one line from standard input")
	return c
}

// userRemoveMFACommand is seed flow 4 from the command line: the reason goes
// to the audit trail, and the output says what the user's next login does.
func (a *app) userRemoveMFACommand() *cobra.Command {
	var reason string
	var yes bool
	c := &cobra.Command{
		Use:   "remove-mfa USER",
		Short: "Remove the MFA of a user who lost their authenticator",
		Long: `Remove the MFA of a user, for example one who lost their phone. Their next
login asks for no code, or sends them to MFA setup when their account requires
MFA. The reason is written in the audit trail. On a terminal it names the
user and asks first; a script passes --yes.`,
		Args: exactArgs("USER"),
		Example: `  # bob lost his phone; his next login asks for no code, or goes to MFA setup
  $ smartmfa user remove-mfa bob --reason "lost phone"

  # in a script, without the question
  $ smartmfa user remove-mfa bob --reason "lost phone" --yes`,
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		u, err := findUser(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		if err := core.CheckReason(reason); err != nil {
			return err
		}
		errNoMFA := failf("%s has no MFA to remove", quote(u.Username))
		if u.MFA == "none" {
			return errNoMFA
		}
		next := "their next login asks for no code"
		if ac, err := svc.GetAccount(ctx, op, u.AccountID); err == nil && ac.RequireMFA {
			next = "their account requires MFA, so their next login goes to MFA setup"
		}
		if err := a.confirm(yes, fmt.Sprintf("Remove the MFA of %s? %s.", quote(u.Username), strings.ToUpper(next[:1])+next[1:])); err != nil {
			return err
		}
		_, err = svc.RemoveUserMFA(ctx, op, u.ID, reason, "")
		if errors.Is(err, core.ErrNoMFA) {
			return errNoMFA
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "removed MFA from %s; %s\n", quote(u.Username), next)
		return err
	})
	a.yesFlag(c, &yes)
	c.Flags().StringVar(&reason, "reason", "", "why MFA is removed, for the audit trail (for example \"lost phone\")")
	return c
}

// userSetDisabledCommand builds `user disable` and `user enable`, which differ
// only in the value they set.
func (a *app) userSetDisabledCommand(disable bool) *cobra.Command {
	verb, state, effect, short := "enable", "enabled", "they can log in again", "Let a disabled user log in again"
	if disable {
		verb, state, effect, short = "disable", "disabled", "they can no longer log in", "Stop a user from logging in"
	}
	c := &cobra.Command{
		Use:   verb + " USER",
		Short: short,
		Args:  exactArgs("USER"),
	}
	if disable {
		c.Long = `Stop a user from logging in: to the console, over SSH and at the jump host's
SSH login. 'smartmfa user enable' lets them in again. On a terminal it names
the user and asks first; a script passes --yes.`
	}
	var yes bool
	c.Example = "  $ smartmfa user " + verb + " bob"
	if disable {
		c.Example += "\n\n  # in a script, without the question\n  $ smartmfa user disable bob --yes"
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		u, err := findUser(ctx, svc, op, args[0])
		if err != nil {
			return err
		}
		if u.Disabled == disable {
			_, err = fmt.Fprintf(a.stdout, "%s is already %s\n", quote(u.Username), state)
			return err
		}
		if disable {
			if err := a.confirm(yes, fmt.Sprintf("Disable %s? They can no longer log in, to the console, over SSH or at the jump host.", quote(u.Username))); err != nil {
				return err
			}
		}
		if _, err := svc.UpdateUser(ctx, op, u.ID, core.UserUpdate{Disabled: &disable}); err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "%s %s; %s\n", state, quote(u.Username), effect)
		return err
	})
	if disable {
		a.yesFlag(c, &yes)
	}
	return c
}

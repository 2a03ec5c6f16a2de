package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// jsonKey is a key in `key list --json`.
type jsonKey struct {
	ID      string `json:"id"`
	Added   string `json:"added,omitempty"` // absent when the key file does not say
	Current bool   `json:"current"`
	InFile  bool   `json:"in_key_file"`
	Secrets int    `json:"secrets"`
}

// keyCommand groups the commands on the key file that encrypts the secrets.
func (a *app) keyCommand() *cobra.Command {
	c := group("key", "List, rotate and retire the keys that encrypt the MFA secrets",
		a.keyListCommand(), a.keyRotateCommand(), a.keyRetireCommand())
	c.Example = `  # back up the key file before and after
  $ smartmfa key rotate
  $ smartmfa key list
  $ smartmfa key retire 3f9a0c17`
	return c
}

func (a *app) keyListCommand() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use:   "list",
		Short: "List the key file's keys and how many secrets each encrypts",
		Args:  exactArgs(),
		Example: `  $ smartmfa key list
  $ smartmfa key list --json`,
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, _ []string) error {
		keys, err := svc.ListKeys(ctx, op)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]jsonKey, 0, len(keys))
			for _, k := range keys {
				jk := jsonKey{ID: k.ID, Current: k.Current, InFile: k.InFile, Secrets: k.Secrets}
				if !k.Added.IsZero() {
					jk.Added = jsonTime(k.Added)
				}
				out = append(out, jk)
			}
			return writeJSON(a.stdout, out)
		}
		t := newTable(a.stdout, "ID", "ADDED", "ENCRYPTS NEW SECRETS", "SECRETS")
		for _, k := range keys {
			added := "-"
			if !k.Added.IsZero() {
				added = tableTime(k.Added)
			}
			use := "no"
			switch {
			case k.Current:
				use = "yes"
			case !k.InFile:
				use = "missing from the key file"
			}
			t.row(k.ID, added, use, k.Secrets)
		}
		return t.flush()
	})
	c.Flags().BoolVar(&asJSON, "json", false, "print JSON for scripts")
	return c
}

func (a *app) keyRotateCommand() *cobra.Command {
	var opts core.RotateOptions
	c := &cobra.Command{
		Use:   "rotate",
		Short: "Add a new key and re-encrypt every secret with it",
		Long: `Add a new random key to the front of the key file, where it encrypts every
new secret, then re-encrypt every stored secret with it, 500 per transaction.
The old keys stay in the file, so logins go on in other processes meanwhile;
retire them with 'smartmfa key retire ID' once 'smartmfa key list' shows them
empty. Back up the key file before and after.

Stopped at any point (even killed), run it again: it finishes the rotation to
the same key rather than adding another. With several hosts on one PostgreSQL
store, run it with --add-only, copy the new key file to every host, then run
it again without.`,
		Example: `  # back up the key file first
  $ smartmfa key rotate

  # several hosts on one PostgreSQL store: add the key, copy the key file
  # to every host, then re-encrypt
  $ smartmfa key rotate --add-only
  $ smartmfa key rotate

  # hold the store's write lock for less time
  $ smartmfa key rotate --batch 20`,
		Args: func(cmd *cobra.Command, args []string) error {
			if opts.Batch < 1 {
				return usageError{fmt.Sprintf("--batch takes 1 or more secrets, not %d", opts.Batch)}
			}
			return exactArgs()(cmd, args)
		},
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, _ []string) error {
		bar := a.progressBar("re-encrypting secrets", "")
		opts.Progress = bar.update
		res, err := svc.RotateKey(ctx, op, opts)
		bar.finish()
		if err != nil {
			return err
		}
		var b strings.Builder
		if res.Added {
			fmt.Fprintf(&b, "added key %s to the key file; it encrypts new secrets\n", res.KeyID)
		} else {
			fmt.Fprintf(&b, "finishing the rotation to key %s\n", res.KeyID)
		}
		if opts.AddOnly {
			b.WriteString("copy the key file to every host, then run smartmfa key rotate again to re-encrypt the secrets\n")
		} else {
			fmt.Fprintf(&b, "re-encrypted %s with key %s\n", plural(res.Reencrypted, "secret", "secrets"), res.KeyID)
		}
		if n := len(res.Unreadable); n > 0 {
			names := make([]string, 0, min(n, 10))
			for _, u := range res.Unreadable[:min(n, 10)] {
				names = append(names, quote(u))
			}
			more := ""
			if n > 10 {
				more = fmt.Sprintf(" and %d more", n-10)
			}
			fmt.Fprintf(&b, "%s could not be decrypted and stayed as they were (%s%s): remove their MFA with smartmfa user remove-mfa, then run smartmfa key rotate again\n",
				plural(n, "secret", "secrets"), strings.Join(names, ", "), more)
		}
		_, err = fmt.Fprint(a.stdout, b.String())
		if err == nil && len(res.Unreadable) > 0 {
			err = failf("%s left under an old key", plural(len(res.Unreadable), "secret", "secrets"))
		}
		return err
	})
	c.Flags().BoolVar(&opts.AddOnly, "add-only", false, "add the new key and stop before re-encrypting (several hosts: copy the key file first)")
	c.Flags().IntVar(&opts.Batch, "batch", core.RotateBatch, "secrets re-encrypted per transaction: fewer hold the store's write lock for less time")
	return c
}

func (a *app) keyRetireCommand() *cobra.Command {
	c := &cobra.Command{
		Use:   "retire ID",
		Short: "Remove a key that no secret uses from the key file",
		Long: `Remove key ID from the key file. It refuses the key that encrypts new
secrets and any key that still encrypts a stored secret ('smartmfa key list'
shows how many): finish 'smartmfa key rotate' first. On a terminal it asks
first; a script passes --yes.`,
		Example: `  # once smartmfa key list shows 0 secrets under key 3f9a0c17
  $ smartmfa key retire 3f9a0c17

  # in a script, without the question
  $ smartmfa key retire 3f9a0c17 --yes`,
		Args: exactArgs("ID"),
	}
	var yes bool
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		// Ask only about a key core would retire; a refusal needs no question.
		err := svc.CheckRetireKey(ctx, op, args[0])
		if err == nil {
			q := fmt.Sprintf("Remove key %s from the key file? A backup of the store from before the rotation cannot be read without a copy of it.", quote(args[0]))
			if err := a.confirm(yes, q); err != nil {
				return err
			}
			err = svc.RetireKey(ctx, op, args[0])
		}
		if errors.Is(err, core.ErrNotFound) {
			return failf("the key file holds no key %s (see smartmfa key list)", quote(args[0]))
		}
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(a.stdout, "retired key %s\n", args[0])
		return err
	})
	a.yesFlag(c, &yes)
	return c
}

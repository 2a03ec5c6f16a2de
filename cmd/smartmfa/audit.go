package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// auditPageSize is how many events each ListAudit call returns; core's upper bound.
const auditPageSize = 1000

// jsonAuditEvent is an audit event in --json output.
type jsonAuditEvent struct {
	ID        int64  `json:"id"`
	Time      string `json:"time"`
	AccountID int64  `json:"account_id"`
	Account   string `json:"account"`
	Actor     string `json:"actor"`
	Action    string `json:"action"`
	TargetID  int64  `json:"target_id"`
	Target    string `json:"target"`
	Source    string `json:"source"`
	Detail    string `json:"detail"`
}

// auditCommand shows the trail of one account or, for the operator, of all;
// names are looked up once so each event shows its account.
func (a *app) auditCommand() *cobra.Command {
	var asJSON bool
	var limit int
	c := &cobra.Command{
		Use:   "audit [ACCOUNT]",
		Short: "Show the audit trail, newest first",
		Long: `Show the audit trail of one account, or of every account, newest first: who
changed what, from where, and every failed login or code.`,
		Example: `  # the newest 100 events of every account
  $ smartmfa audit

  $ smartmfa audit Acme --limit 20

  # every event of an account, for a script
  $ smartmfa audit Acme --limit 0 --json > acme-audit.json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Sprintf("%s takes at most one ACCOUNT, not %d arguments", commandName(cmd), len(args))}
			}
			return nil
		},
	}
	c.PreRunE = func(*cobra.Command, []string) error {
		if limit < 0 {
			return usageError{fmt.Sprintf("--limit must be 0 (no limit) or more, not %d", limit)}
		}
		return nil
	}
	c.RunE = a.serviceAction(func(ctx context.Context, svc *core.Service, op core.Session, args []string) error {
		accountID, names := int64(-1), map[int64]string{}
		if len(args) == 1 {
			ac, err := findAccount(ctx, svc, op, args[0])
			if err != nil {
				return err
			}
			accountID, names[ac.ID] = ac.ID, ac.Name
		} else {
			accounts, err := svc.ListAccounts(ctx, op)
			if err != nil {
				return err
			}
			for _, ac := range accounts {
				names[ac.ID] = ac.Name
			}
		}
		events, err := auditEvents(ctx, svc, op, accountID, limit)
		if err != nil {
			return err
		}
		if asJSON {
			out := make([]jsonAuditEvent, 0, len(events))
			for _, e := range events {
				out = append(out, jsonAuditEvent{ID: e.ID, Time: jsonTime(e.At), AccountID: e.AccountID,
					Account: jsonText(names[e.AccountID]), Actor: jsonText(e.Actor), Action: jsonText(string(e.Action)),
					TargetID: e.TargetID, Target: jsonText(e.TargetName), Source: jsonText(e.Source), Detail: jsonText(e.Detail)})
			}
			return writeJSON(a.stdout, out)
		}
		t := newTable(a.stdout, "TIME", "ACCOUNT", "ACTOR", "ACTION", "TARGET", "SOURCE", "DETAIL")
		for _, e := range events {
			t.row(tableTime(e.At), clean(names[e.AccountID], colName), clean(e.Actor, colName), clean(string(e.Action), colName),
				clean(e.TargetName, colName), clean(e.Source, colName), clean(e.Detail, colDetail))
		}
		return t.flush()
	})
	f := c.Flags()
	f.BoolVar(&asJSON, "json", false, "print JSON for scripts")
	f.IntVar(&limit, "limit", 100, "show at most `n` events (0: all)")
	return c
}

// auditEvents reads up to limit events (0: all), newest first, page by page:
// core caps a page so that no single query holds the database for long.
func auditEvents(ctx context.Context, svc *core.Service, op core.Session, accountID int64, limit int) ([]core.AuditEvent, error) {
	var events []core.AuditEvent
	var before int64
	for limit == 0 || len(events) < limit {
		n := auditPageSize
		if limit > 0 {
			n = min(n, limit-len(events))
		}
		page, err := svc.ListAudit(ctx, op, accountID, before, n)
		if err != nil {
			return nil, err
		}
		events = append(events, page...)
		if len(page) < n {
			break
		}
		before = page[len(page)-1].ID
	}
	return events, nil
}

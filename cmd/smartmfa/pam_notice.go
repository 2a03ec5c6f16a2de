package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// pam-verify --notice: the line shown before the prompt, saying why the last
// code failed.

// pamNotice prints, for pam_exec's stdout option, what the user should know
// before the code prompt: sshd shows a module's lines only ahead of a later
// prompt, so after the code it is too late to explain a refusal.
func (a *app) pamNotice(ctx context.Context, req pamRequest, o pamOptions) pamOutcome {
	svc, out, ok := a.pamOpen(ctx, &req, o)
	if !ok {
		return out
	}
	defer svc.Close()
	st, err := svc.ExternalStatus(ctx, req.user)
	if err != nil {
		return pamOutcome{pamUnavailable, fmt.Sprintf("no notice for %v: %s", req, describe(err))}
	}
	hint := o.setupHint
	if hint == "" {
		host, _ := os.Hostname()
		hint = "ssh -p 2222 " + host
	}
	for _, line := range noticeLines(st, hint, time.Now()) {
		fmt.Fprintln(a.stdout, "smartmfa: "+line)
	}
	return pamOutcome{pamAccepted, ""}
}

// daysLeft is "1 day", "2 days".
func daysLeft(n int) string {
	if n == 1 {
		return "1 day"
	}
	return fmt.Sprintf("%d days", n)
}

// noticeLines are the sentences of a notice; none for a user who has nothing
// to be told, or who is no smartmfa user.
func noticeLines(st core.ExternalStatus, hint string, now time.Time) []string {
	switch {
	case !st.Known, st.Enrolling:
		return nil // pam-enrol's lines say what to do
	case !st.HasMFA && !st.RequiredFrom.IsZero():
		return []string{fmt.Sprintf("your account requires multi-factor authentication from %s (%s left):",
			st.RequiredFrom.Format(time.DateOnly), daysLeft(st.DaysLeft)),
			"press Enter at the prompt for now, and set it up with " + hint + "."}
	case !st.HasMFA && st.RequireMFA:
		return []string{"your account requires multi-factor authentication and you have not set it up:",
			"set it up with " + hint + ", then log in here again."}
	case !st.HasMFA:
		return []string{"you have no MFA yet: press Enter at the prompt.", "Set it up with " + hint + "."}
	case st.MFADisabled:
		return []string{"codes are disabled after too many wrong ones: ask an administrator to remove your MFA."}
	}
	var out []string
	var drift *core.ClockDriftError
	switch {
	case errors.Is(st.LastRefusal, core.ErrCodeReused):
		out = append(out, "your last code had already been used: wait for the next code your app shows.")
	case errors.As(st.LastRefusal, &drift):
		out = append(out, fmt.Sprintf("your last code was wrong (%d wrong in a row).", st.Failures),
			"your phone's clock is "+drift.Offset()+": set it to automatic time.")
	case errors.Is(st.LastRefusal, core.ErrInvalidCode):
		out = append(out, fmt.Sprintf("your last code was wrong (%d wrong in a row); check the account in your app.", st.Failures))
	}
	if !st.LockedUntil.IsZero() {
		lock := &core.LockedError{Until: st.LockedUntil}
		out = append(out, fmt.Sprintf("too many wrong codes: wait %v; a code typed before then is refused.", lock.RetryIn(now)))
	}
	return out
}

package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/smartnumbers/smartmfa/internal/core"
	"github.com/smartnumbers/smartmfa/internal/qrcode"
)

// pam-enrol prints, through a `pam_exec stdout` line before sshd's code
// prompt, the MFA set-up of a user whose account requires MFA and who has
// none: a line of what to do, the QR code, the account, the setup key and
// the recovery codes. pam-verify then takes the code typed at the prompt as
// the set-up's first code. Every rule is core's (BeginExternalEnrollment).

// enrolWidth is the terminal the set-up is laid out for: beside a QR code of
// up to 39 columns (usernames up to 18 characters with the default issuer),
// the text (39 columns: the setup key in groups of four) fits 80 columns, and
// with the lines sshd adds (pam_echo's, "Password:") and the command typed,
// 24 rows. A wider QR code gets the text under it.
const (
	enrolWidth = 80
	enrolGap   = 2
)

func (a *app) pamEnrolCommand() *cobra.Command {
	o := pamOptions{command: "pam-enrol", optional: true}
	cmd := &cobra.Command{
		Use:   "pam-enrol",
		Short: "Show the MFA set-up before an SSH login's code prompt, run by sshd through pam_exec",
		Long: `pam-enrol sets up MFA at the SSH login itself. For a user whose account
requires MFA and who has none, it prints the QR code, the account, the setup
key and ten recovery codes ahead of sshd's code prompt; the code the user
types at that prompt is the set-up's first code, which pam-verify checks and
which activates MFA and the recovery codes. A user who logs in again before
that sees the same QR code and key, with new recovery codes. For everyone
else it prints nothing.

/etc/pam.d/sshd, in place of "@include common-auth":

  auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-enrol
  auth optional  pam_echo.so smartmfa: enter the 6-digit code from your authenticator app
  auth required  pam_exec.so stdout quiet expose_authtok /usr/bin/smartmfa pam-verify
  auth optional  pam_permit.so

OpenSSH shows the lines without colours: the QR code is drawn for terminals
with a dark background, or with --qr light for light ones.

It runs as the owner of the database, as pam-verify does, creates neither
the database nor the key file, never refuses a login (it exits 0), and logs
to syslog (authpriv) only, since pam_exec shows its standard error to the
user.`,
		Example: `  # sshd runs it; in /etc/pam.d/sshd, first of the lines that replace
  # "@include common-auth" (see smartmfa pam-verify --help):
  # auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-enrol

  # for users whose terminals have a light background:
  # auth optional  pam_exec.so stdout quiet /usr/bin/smartmfa pam-enrol --qr light`,
		Args:          exactArgs(),
		SilenceErrors: true,
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			if o.qr != "dark" && o.qr != "light" {
				return usageError{fmt.Sprintf("--qr is dark or light, not %s", quote(o.qr))}
			}
			return a.pamRun(cmd.Context(), o, a.pamEnrol)
		}),
	}
	addPAMFlags(cmd, &o)
	cmd.Flags().StringVar(&o.qr, "qr", "dark", "the users' terminal `background`, dark or light: the QR code is drawn in the terminal's own text colour")
	return cmd
}

// pamEnrol shows the set-up, or nothing to a user who needs none.
func (a *app) pamEnrol(ctx context.Context, req pamRequest, o pamOptions) pamOutcome {
	svc, out, ok := a.pamOpen(ctx, &req, o)
	if !ok {
		return out
	}
	defer svc.Close()
	en, err := svc.BeginExternalEnrollment(ctx, req.user, core.PAMSource(req.rhost, req.service))
	if err != nil {
		return pamOutcome{pamUnavailable, fmt.Sprintf("no MFA set-up shown to %v: %s", req, describe(err))}
	}
	if en == nil {
		return pamOutcome{pamAccepted, ""}
	}
	lines := enrolLines(en, o.qr == "light", time.Now())
	fmt.Fprint(a.stdout, strings.Join(lines, "\n")+"\n")
	what := "a new MFA set-up"
	switch {
	case en.Status.MFADisabled:
		what = "that MFA is disabled after too many wrong codes"
	case en.Again:
		what = "the MFA set-up again"
	}
	return pamOutcome{pamAccepted, fmt.Sprintf("showed %v %s", req, what)}
}

// enrolLines lays the set-up out: a first line of what to do (OpenSSH puts
// "(user@host) " before it), then the text with the QR code to its right,
// or the QR code and the text under it when the code is too wide. The text
// starts each line, so that a client without a UTF-8 locale, which shows
// each of the QR code's blocks as a 12-character escape and wraps the line,
// still shows the key and the recovery codes whole. inkDark draws for light
// terminals.
func enrolLines(en *core.ExternalEnrollment, inkDark bool, now time.Time) []string {
	st := en.Status
	if st.MFADisabled {
		return []string{"smartmfa: too many wrong codes: ask an administrator to remove your MFA set-up."}
	}
	first := "smartmfa: your account requires MFA: set it up now."
	if !st.RequiredFrom.IsZero() {
		first = fmt.Sprintf("smartmfa: set up MFA before %s (%s left), or press Enter to skip.",
			st.RequiredFrom.Format(time.DateOnly), daysLeft(st.DaysLeft))
	}
	var drift *core.ClockDriftError
	switch {
	case !st.LockedUntil.IsZero():
		lock := &core.LockedError{Until: st.LockedUntil}
		first = fmt.Sprintf("smartmfa: too many wrong codes: wait %v, then try again.", lock.RetryIn(now))
	case errors.Is(st.LastRefusal, core.ErrCodeReused):
		first = "smartmfa: your last code was used: wait for the next one."
	case errors.As(st.LastRefusal, &drift):
		first = "smartmfa: your phone's clock is " + drift.Offset() + ": set automatic time."
	case st.LastRefusal != nil:
		first = "smartmfa: your last code was wrong: try again."
	}
	text := enrolText(en)
	qr := qrcode.HalfBlocks(en.URI, inkDark)
	if len(qr) == 0 {
		return append([]string{first}, text...)
	}
	qrWidth, textWidth := utf8.RuneCountInString(qr[0]), 0
	for _, l := range text {
		textWidth = max(textWidth, utf8.RuneCountInString(l))
	}
	out := []string{first}
	if textWidth+enrolGap+qrWidth > enrolWidth {
		out = append(out, qr...)
		return append(out, text...)
	}
	for i := range max(len(qr), len(text)) {
		row := ""
		if i < len(text) {
			row = text[i]
		}
		if i < len(qr) {
			row += strings.Repeat(" ", textWidth-utf8.RuneCountInString(row)+enrolGap) + qr[i]
		}
		out = append(out, strings.TrimRight(row, " "))
	}
	return out
}

// enrolText is what goes beside the QR code, all ASCII.
func enrolText(en *core.ExternalEnrollment) []string {
	out := []string{
		"Scan the QR code with Google",
		"Authenticator or any TOTP app (tap +),",
		"or add the account by hand:",
		"",
		"Account",
		core.CleanText(en.Account, 0),
		"Setup key (time based)",
		en.SetupKey,
		"",
		"Recovery codes: valid once set up, each",
		"for one login without your phone. Keep",
		"them: they are not shown again.",
	}
	codes := en.RecoveryCodes
	for i := 0; i < len(codes); i += 2 {
		row := codes[i]
		if i+1 < len(codes) {
			row += "    " + codes[i+1]
		}
		out = append(out, row)
	}
	return append(out, "", "Then enter the code your app shows.")
}

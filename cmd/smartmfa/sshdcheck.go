package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// sshd-check reads sshd's effective configuration and its PAM service file
// and says, line by line, what the set-up of "Codes at SSH login" lacks. It
// changes no file: an operator who reads the lines to add decides.

// finding is one line of the report.
type finding struct {
	ok   bool
	what string // the setting or line, and what is right or wrong with it
}

func (f finding) String() string {
	mark := "ok   "
	if !f.ok {
		mark = "FIX  "
	}
	return mark + f.what
}

type sshdCheckOptions struct {
	sshd       string // the sshd program, run with -T
	sshdOutput string // a file holding `sshd -T` output instead
	pamFile    string
	binary     string // the smartmfa that pam_exec must run
}

func (a *app) sshdCheckCommand() *cobra.Command {
	o := sshdCheckOptions{}
	cmd := &cobra.Command{
		Use:   "sshd-check",
		Short: "Say what sshd and its PAM file lack for codes at SSH login",
		Long: `sshd-check reads sshd's effective configuration (sshd -T, as root) and
sshd's PAM service file, and says line by line what is missing or wrong for
asking smartmfa's codes at SSH login (see pam-verify), then prints the lines to
add. It changes no file.

Exit status: 0 when nothing needs fixing, 1 when something does or a file
cannot be read, 2 on a wrong command line.`,
		Example: `  # as root, on the jump host
  $ smartmfa sshd-check

  # check a PAM file before installing it, against saved sshd -T output
  $ smartmfa sshd-check --pam ./sshd.pam --sshd-output ./sshd-T.txt`,
		Args: exactArgs(),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			return a.sshdCheck(cmd.Context(), o)
		}),
	}
	f := cmd.Flags()
	f.StringVar(&o.sshd, "sshd", "/usr/sbin/sshd", "the sshd `program` to ask for its configuration (sshd -T)")
	f.StringVar(&o.sshdOutput, "sshd-output", "", "read `file`, the saved output of sshd -T, instead of running sshd")
	f.StringVar(&o.pamFile, "pam", "/etc/pam.d/sshd", "sshd's PAM service `file`")
	f.StringVar(&o.binary, "binary", "", "the smartmfa `path` pam_exec must run (default: this program)")
	return cmd
}

func (a *app) sshdCheck(ctx context.Context, o sshdCheckOptions) error {
	settings, src, err := readSSHDSettings(ctx, o)
	if err != nil {
		return err
	}
	pam, err := os.ReadFile(o.pamFile)
	if err != nil {
		return failf("cannot read the PAM file %s: %v", o.pamFile, unwrapPathError(err))
	}
	binary := o.binary
	if binary == "" {
		if binary, err = os.Executable(); err != nil {
			binary = "/usr/bin/smartmfa"
		}
	}
	sshdFindings := checkSSHDSettings(settings)
	pamFindings := checkPAMFile(string(pam), binary)

	w := a.stdout
	fmt.Fprintf(w, "sshd (%s):\n", src)
	badSSHD := printFindings(w, sshdFindings)
	fmt.Fprintf(w, "\n%s:\n", o.pamFile)
	badPAM := printFindings(w, pamFindings)
	if badSSHD+badPAM == 0 {
		fmt.Fprintln(w, "\nNothing to fix: SSH logins ask for the key, then the smartmfa code.")
		return nil
	}
	if badSSHD > 0 {
		fmt.Fprintln(w, "\nsshd lines to add (sshd takes the first value it reads: put them in a file of")
		fmt.Fprintln(w, "/etc/ssh/sshd_config.d/ that sorts first, or at the top of sshd_config):")
		for _, l := range sshdLines {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if badPAM > 0 {
		fmt.Fprintf(w, "\nThe auth lines of %s, in place of \"@include common-auth\":\n", o.pamFile)
		for _, l := range pamLines(binary) {
			fmt.Fprintln(w, "  "+l)
		}
	}
	fmt.Fprintln(w, "\nKeep a root shell open while you change them, and test with a second login.")
	return failf("%s to fix", plural(badSSHD+badPAM, "thing", "things"))
}

func printFindings(w io.Writer, fs []finding) int {
	bad := 0
	for _, f := range fs {
		fmt.Fprintln(w, "  "+f.String())
		if !f.ok {
			bad++
		}
	}
	return bad
}

// unwrapPathError drops the path an *os.PathError repeats.
func unwrapPathError(err error) error {
	if pe, ok := err.(*os.PathError); ok {
		return pe.Err
	}
	return err
}

// readSSHDSettings is `sshd -T` as a map of lower-case keyword to value.
func readSSHDSettings(ctx context.Context, o sshdCheckOptions) (map[string]string, string, error) {
	var out []byte
	src := o.sshd + " -T"
	if o.sshdOutput != "" {
		src = o.sshdOutput
		b, err := os.ReadFile(o.sshdOutput)
		if err != nil {
			return nil, "", failf("cannot read %s: %v", o.sshdOutput, unwrapPathError(err))
		}
		out = b
	} else {
		ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		var stderr bytes.Buffer
		cmd := exec.CommandContext(ctx, o.sshd, "-T")
		cmd.Stderr = &stderr
		b, err := cmd.Output()
		if err != nil {
			msg := strings.TrimSpace(stderr.String())
			if msg == "" {
				msg = err.Error()
			}
			return nil, "", failf("%s -T failed (it needs root and sshd's host keys): %s", o.sshd, oneLine(msg))
		}
		out = b
	}
	m := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		key, value, _ := strings.Cut(strings.TrimSpace(sc.Text()), " ")
		if key != "" {
			if _, seen := m[strings.ToLower(key)]; !seen {
				m[strings.ToLower(key)] = strings.TrimSpace(value)
			}
		}
	}
	if len(m) == 0 {
		return nil, "", failf("%s holds no sshd settings", src)
	}
	return m, src, nil
}

// sshdLines are the sshd settings of the set-up.
var sshdLines = []string{
	"UsePAM yes",
	"PubkeyAuthentication yes",
	"PasswordAuthentication no",
	"KbdInteractiveAuthentication yes",
	"AuthenticationMethods publickey,keyboard-interactive:pam",
}

// pamLines are the PAM lines of the set-up, for binary.
func pamLines(binary string) []string {
	return []string{
		"auth optional  pam_exec.so stdout quiet " + binary + " pam-enrol",
		"auth optional  pam_echo.so smartmfa: enter the 6-digit code from your authenticator app",
		"auth optional  pam_exec.so stdout quiet " + binary + " pam-verify --notice",
		"auth required  pam_exec.so stdout quiet expose_authtok " + binary + " pam-verify",
		"auth optional  pam_permit.so",
	}
}

// checkSSHDSettings checks sshd -T's answer.
func checkSSHDSettings(m map[string]string) []finding {
	var out []finding
	want := func(key, value, why string) {
		got, ok := m[key]
		switch {
		case !ok:
			out = append(out, finding{false, fmt.Sprintf("%s is not set; want %s: %s", key, value, why)})
		case !strings.EqualFold(got, value):
			out = append(out, finding{false, fmt.Sprintf("%s is %s; want %s: %s", key, got, value, why)})
		default:
			out = append(out, finding{true, key + " " + got})
		}
	}
	want("usepam", "yes", "without PAM, pam-verify never runs")
	want("kbdinteractiveauthentication", "yes", "the code is asked by keyboard-interactive")
	want("pubkeyauthentication", "yes", "the first step is the user's key")

	methods := m["authenticationmethods"]
	switch {
	case methods == "" || methods == "any":
		out = append(out, finding{false, "authenticationmethods is any; want publickey,keyboard-interactive:pam: " +
			"without it a key alone logs in, and keyboard-interactive alone would ask only the code"})
	default:
		ok := true
		for _, alt := range strings.Fields(methods) {
			steps := strings.Split(alt, ",")
			hasKbd, hasKey := false, false
			for _, s := range steps {
				hasKbd = hasKbd || s == "keyboard-interactive" || s == "keyboard-interactive:pam"
				hasKey = hasKey || s == "publickey"
			}
			if !hasKbd {
				ok = false
				out = append(out, finding{false, fmt.Sprintf("authenticationmethods lets %q in without a code; want publickey,keyboard-interactive:pam", alt)})
			} else if !hasKey {
				ok = false
				out = append(out, finding{false, fmt.Sprintf("authenticationmethods lets %q in without a key; want publickey,keyboard-interactive:pam", alt)})
			}
		}
		if ok {
			out = append(out, finding{true, "authenticationmethods " + methods})
		}
	}
	if strings.EqualFold(m["passwordauthentication"], "yes") {
		out = append(out, finding{false, "passwordauthentication is yes; want no: the set-up is a key and a code, and a password method is one more way in to guard"})
	} else {
		out = append(out, finding{true, "passwordauthentication " + m["passwordauthentication"]})
	}
	return out
}

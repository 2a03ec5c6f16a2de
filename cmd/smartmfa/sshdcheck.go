package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
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

// pamLine is one auth line of a PAM service file.
type pamLine struct {
	n       int
	control string
	module  string
	args    []string
	text    string
}

// checkPAMFile checks the auth lines of sshd's PAM file for the set-up.
func checkPAMFile(text, binary string) []finding {
	var out []finding
	var lines []pamLine
	verify, notice, enrol := -1, -1, -1
	for i, raw := range strings.Split(text, "\n") {
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := pamFields(line)
		if fields[0] == "@include" {
			if len(fields) > 1 && strings.Contains(fields[1], "auth") {
				lines = append(lines, pamLine{n: i + 1, control: "include", module: fields[1], text: line})
			}
			continue
		}
		if strings.TrimPrefix(fields[0], "-") != "auth" || len(fields) < 3 {
			continue
		}
		pl := pamLine{n: i + 1, control: fields[1], module: filepath.Base(fields[2]), args: fields[3:], text: line}
		if pl.module == "pam_exec.so" && execsSmartmfa(pl.args, "pam-enrol") && enrol < 0 {
			enrol = len(lines)
		}
		if pl.module == "pam_exec.so" && execsSmartmfa(pl.args, "pam-verify") {
			if hasArg(pl.args, "--notice") {
				if notice < 0 {
					notice = len(lines)
				}
			} else if verify < 0 {
				verify = len(lines)
			}
		}
		lines = append(lines, pl)
	}
	if verify < 0 {
		for _, l := range lines {
			if l.control == "include" || l.control == "substack" || l.module == "pam_unix.so" {
				out = append(out, finding{false, fmt.Sprintf("line %d: %s asks for the Unix password; the lines below replace it", l.n, l.text)})
			}
		}
		return append(out, finding{false, "no auth line runs pam_exec.so ... smartmfa pam-verify: SSH logins ask for no code"})
	}
	v := lines[verify]
	for _, l := range lines[:verify] {
		switch {
		case l.control == "include" || l.control == "substack" || l.module == "pam_unix.so":
			out = append(out, finding{false, fmt.Sprintf("line %d: %s runs before pam-verify: pam_unix asks for the Unix password, "+
				"which pam_exec then passes on in place of the code; remove it (keys replace passwords here)", l.n, l.text)})
		case l.control == "sufficient" || strings.Contains(l.control, "done") || pamJumps(l.control):
			out = append(out, finding{false, fmt.Sprintf("line %d: %s can end or skip the stack before pam-verify; remove it", l.n, l.text)})
		}
	}
	if v.control == "required" || v.control == "requisite" {
		out = append(out, finding{true, fmt.Sprintf("line %d: %s", v.n, v.text)})
	} else {
		out = append(out, finding{false, fmt.Sprintf("line %d: pam-verify is %s; want required: any other control lets a wrong code in", v.n, v.control)})
	}
	if !hasArg(v.args, "expose_authtok") {
		out = append(out, finding{false, fmt.Sprintf("line %d: pam_exec lacks expose_authtok: it would neither ask for the code nor pass it on", v.n)})
	}
	if !hasArg(v.args, "quiet") {
		out = append(out, finding{false, fmt.Sprintf("line %d: pam_exec lacks quiet: users would read \"... failed: exit code 1\"", v.n)})
	}
	prog := pamExecProgram(v.args)
	out = append(out, checkBinary(v.n, prog, binary)...)

	permit := false
	for _, l := range lines[verify+1:] {
		permit = permit || l.module == "pam_permit.so"
		if l.module == "pam_unix.so" || l.control == "include" {
			out = append(out, finding{false, fmt.Sprintf("line %d: %s after pam-verify asks for a Unix password too; remove it", l.n, l.text)})
		}
	}
	if permit {
		out = append(out, finding{true, "an auth pam_permit.so line follows pam-verify (sshd's setcred needs it)"})
	} else {
		out = append(out, finding{false, "no auth pam_permit.so line after pam-verify: without it sshd drops the session at setcred; add \"auth optional pam_permit.so\""})
	}
	echo := false
	for _, l := range lines[:verify] {
		echo = echo || l.module == "pam_echo.so"
	}
	if echo {
		out = append(out, finding{true, "a pam_echo.so line explains pam_exec's \"Password:\" prompt"})
	} else {
		out = append(out, finding{false, "no pam_echo.so line before pam-verify: users see pam_exec's \"Password:\" and type their password; add the pam_echo line"})
	}
	switch {
	case notice < 0:
		out = append(out, finding{false, "no pam-verify --notice line: users are not told why their last code was refused (optional, recommended)"})
	case notice > verify:
		out = append(out, finding{false, fmt.Sprintf("line %d: the --notice line comes after pam-verify, where sshd never shows it; move it before", lines[notice].n)})
	case !hasArg(lines[notice].args, "stdout") || hasArg(lines[notice].args, "expose_authtok") || lines[notice].control != "optional":
		out = append(out, finding{false, fmt.Sprintf("line %d: the --notice line wants \"auth optional pam_exec.so stdout quiet ... pam-verify --notice\"", lines[notice].n)})
	default:
		out = append(out, finding{true, fmt.Sprintf("line %d: the notice before the prompt", lines[notice].n)})
	}
	switch {
	case enrol < 0:
		out = append(out, finding{false, "no pam-enrol line: users without MFA whose account requires it are refused at SSH login, " +
			"rather than shown the set-up there (optional, recommended)"})
	case enrol > verify:
		out = append(out, finding{false, fmt.Sprintf("line %d: the pam-enrol line comes after pam-verify, where sshd never shows it; move it before", lines[enrol].n)})
	case !hasArg(lines[enrol].args, "stdout") || hasArg(lines[enrol].args, "expose_authtok") || lines[enrol].control != "optional":
		out = append(out, finding{false, fmt.Sprintf("line %d: the pam-enrol line wants \"auth optional pam_exec.so stdout quiet ... pam-enrol\"", lines[enrol].n)})
	default:
		e := lines[enrol]
		out = append(out, finding{true, fmt.Sprintf("line %d: the MFA set-up before the prompt", e.n)})
		for _, f := range checkBinary(e.n, pamExecProgram(e.args), binary) {
			if !f.ok {
				out = append(out, f)
			}
		}
		if !hasArg(v.args, "stdout") {
			out = append(out, finding{false, fmt.Sprintf("line %d: the pam-verify line lacks stdout: users who set up MFA at login "+
				"are not told it worked; add it (pam-verify then logs to syslog only)", v.n)})
		}
	}
	return out
}

// checkBinary checks the program pam_exec runs as root.
func checkBinary(n int, prog, binary string) []finding {
	if !filepath.IsAbs(prog) {
		return []finding{{false, fmt.Sprintf("line %d: pam_exec runs %q; it needs an absolute path", n, prog)}}
	}
	fi, err := os.Stat(prog)
	if err != nil {
		return []finding{{false, fmt.Sprintf("line %d: %s: %v (this smartmfa is %s)", n, prog, unwrapPathError(err), binary)}}
	}
	var out []finding
	if fi.Mode().Perm()&0o022 != 0 || !ownedByRoot(fi) {
		out = append(out, finding{false, fmt.Sprintf("line %d: %s runs as root but can be replaced by others than root (chown root, chmod go-w)", n, prog)})
	}
	if fi.Mode().Perm()&0o111 == 0 {
		out = append(out, finding{false, fmt.Sprintf("line %d: %s is not executable", n, prog)})
	}
	if same, err := sameFile(prog, binary); err == nil && !same {
		out = append(out, finding{false, fmt.Sprintf("line %d: pam_exec runs %s, and this smartmfa is %s: make sure it is the version you mean", n, prog, binary)})
	}
	if len(out) == 0 {
		out = append(out, finding{true, fmt.Sprintf("line %d: %s is root's and executable", n, prog)})
	}
	return out
}

func sameFile(a, b string) (bool, error) {
	fa, err := os.Stat(a)
	if err != nil {
		return false, err
	}
	fb, err := os.Stat(b)
	if err != nil {
		return false, err
	}
	return os.SameFile(fa, fb), nil
}

// pamFields splits a PAM line, keeping [bracketed arguments] whole.
func pamFields(line string) []string {
	var out []string
	for line = strings.TrimSpace(line); line != ""; line = strings.TrimSpace(line) {
		if line[0] == '[' {
			if end := strings.IndexByte(line, ']'); end > 0 {
				out = append(out, line[:end+1])
				line = line[end+1:]
				continue
			}
		}
		end := strings.IndexAny(line, " \t")
		if end < 0 {
			end = len(line)
		}
		out = append(out, line[:end])
		line = line[end:]
	}
	return out
}

// pamJumps tells a [value=action] control that skips lines on success.
func pamJumps(control string) bool {
	if !strings.HasPrefix(control, "[") {
		return false
	}
	for _, kv := range strings.Fields(strings.Trim(control, "[]")) {
		k, v, _ := strings.Cut(kv, "=")
		if k == "success" && v != "ok" && v != "ignore" && v != "bad" && v != "die" {
			return true
		}
	}
	return false
}

func hasArg(args []string, want string) bool {
	for _, a := range args {
		if strings.EqualFold(strings.Trim(a, "[]"), want) || strings.HasPrefix(strings.Trim(a, "[]"), want+"=") {
			return true
		}
	}
	return false
}

// pamExecProgram is the program of a pam_exec line: its first argument
// that starts with "/" or is not one of pam_exec's options.
func pamExecProgram(args []string) string {
	for _, a := range args {
		switch {
		case strings.HasPrefix(a, "/"):
			return a
		case a == "debug" || a == "stdout" || a == "quiet" || a == "quiet_log" || a == "seteuid" || a == "expose_authtok" ||
			strings.HasPrefix(a, "log=") || strings.HasPrefix(a, "type="):
		default:
			return a
		}
	}
	return ""
}

// execsSmartmfa tells a pam_exec line that runs smartmfa's command (pam-verify
// or pam-enrol).
func execsSmartmfa(args []string, command string) bool {
	prog := pamExecProgram(args)
	if prog == "" {
		return false
	}
	for i, a := range args {
		if a == prog {
			return hasArg(args[i+1:], command)
		}
	}
	return false
}

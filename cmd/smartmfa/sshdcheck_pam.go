package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// The PAM half of sshd-check: sshd's PAM service file, read line by line
// for the auth lines the set-up needs, in the order it needs them.

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

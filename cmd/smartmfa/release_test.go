package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// What smartmfaBinary stamps into the binary, as the release's ldflags do.
const (
	testVersion = "1.2.3-test"
	testCommit  = "0123abcd"
	testDate    = "2026-01-02T03:04:05Z"
)

func TestVersion(t *testing.T) {
	e := newEnv(t)
	short, long := e.ok("", "--version").stdout, e.ok("", "version").stdout
	if short != long || !strings.HasPrefix(short, "smartmfa ") || !strings.Contains(short, runtime.Version()) {
		t.Errorf("--version %q and version %q differ or lack the Go release", short, long)
	}

	out, err := exec.Command(smartmfaBinary(t), "--version").Output()
	want := "smartmfa " + testVersion + " (commit " + testCommit + ", " + testDate + ", " +
		runtime.Version() + " " + runtime.GOOS + "/" + runtime.GOARCH + ")\n"
	if err != nil || string(out) != want {
		t.Errorf("stamped binary --version = %q, %v; want %q", out, err, want)
	}
}

func TestCompletionScripts(t *testing.T) {
	e := newEnv(t)
	for shell, want := range map[string]string{
		"bash": "__start_smartmfa",
		"zsh":  "#compdef smartmfa",
		"fish": "complete -c smartmfa",
	} {
		if out := e.ok("", "completion", shell).stdout; !strings.Contains(out, want) {
			t.Errorf("completion %s lacks %q", shell, want)
		}
	}
	e.fail(exitUsage, `unknown command "tcsh" for "smartmfa completion"`, "", "completion", "tcsh")

	// What the scripts ask the binary: names and on/off, never file names.
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"account", "require-mfa", "acme", ""}, "on\noff\n:4\n"},
		{[]string{"user", "list", "acme", "--mfa", ""}, "on\noff\n:4\n"},
		{[]string{"user", "show", ""}, ":4\n"},
		{[]string{"key", "retire", ""}, ":4\n"},
	} {
		if got := e.run("", append([]string{"__complete"}, tc.args...)...).stdout; got != tc.want {
			t.Errorf("__complete %q = %q, want %q", tc.args, got, tc.want)
		}
	}
}

// TestBashCompletesInBash sources the script in a real bash, which runs the
// binary as a user's shell would, and reads the words it offers.
func TestBashCompletesInBash(t *testing.T) {
	// The script needs the bash-completion package, as on a user's machine.
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	bash, err := exec.LookPath("bash")
	if _, statErr := os.Stat(bashCompletion); err != nil || statErr != nil {
		t.Skip("bash and bash-completion are needed (.ci/run installs them):", err, statErr)
	}
	script := `source ` + bashCompletion + `
source <(smartmfa completion bash)
COMP_LINE="smartmfa account require-mfa acme "
COMP_WORDS=(smartmfa account require-mfa acme "")
COMP_CWORD=4 COMP_POINT=${#COMP_LINE}
__start_smartmfa
echo "${COMPREPLY[*]}"`
	cmd := exec.Command(bash, "--norc", "-c", script)
	cmd.Env = []string{"PATH=" + filepath.Dir(smartmfaBinary(t)) + ":/usr/bin:/bin", "HOME=" + t.TempDir()}
	out, err := cmd.Output() // compopt complains on stderr outside a real completion
	if err != nil || strings.TrimSpace(string(out)) != "on off" {
		t.Errorf("bash offered %q, %v; want \"on off\"", out, err)
	}
}

func TestManPages(t *testing.T) {
	e := newEnv(t)
	page := e.ok("", "man").stdout
	for _, want := range []string{`.TH "SMARTMFA" "1"`, ".SH NAME", "smartmfa - Terminal console", ".SH SEE ALSO", "smartmfa-user(1)"} {
		if !strings.Contains(page, want) {
			t.Errorf("smartmfa man lacks %q", want)
		}
	}

	dir := filepath.Join(t.TempDir(), "man")
	e.ok("", "man", "--dir", dir)
	var want []string
	walk(freshRoot(), func(c *cobra.Command) {
		if c.IsAvailableCommand() || c == c.Root() {
			want = append(want, strings.ReplaceAll(c.CommandPath(), " ", "-")+".1")
		}
	})
	got, _ := filepath.Glob(filepath.Join(dir, "*.1"))
	for i := range got {
		got[i] = filepath.Base(got[i])
	}
	slices.Sort(want)
	if !slices.Equal(got, want) || !slices.Contains(got, "smartmfa-user-remove-mfa.1") || slices.Contains(got, "smartmfa-man.1") {
		t.Errorf("man pages %q, want %q", got, want)
	}

	// The indented lines of a description stay lines of their own.
	pam, err := os.ReadFile(filepath.Join(dir, "smartmfa-pam-verify.1"))
	if err != nil || !strings.Contains(string(pam), "\n.EX\n") {
		t.Errorf("pam-verify's page keeps no example block: %v", err)
	}
	if _, err := exec.LookPath("man"); err == nil {
		out, err := exec.Command("man", "-l", filepath.Join(dir, "smartmfa-pam-verify.1")).Output()
		if err != nil || !strings.Contains(string(out), "auth required  pam_exec.so stdout quiet expose_authtok /usr/bin/smartmfa pam-verify\n") {
			t.Errorf("man -l renders the PAM line run together: %v\n%s", err, out)
		}
	}

	// A release build dates its pages by its build date, not by today.
	out, err := exec.Command(smartmfaBinary(t), "man").Output()
	if err != nil || !strings.Contains(string(out), `.TH "SMARTMFA" "1" "Jan 2026" "smartmfa `+testVersion+`"`) {
		t.Errorf("stamped binary's page header: %v\n%.200s", err, out)
	}
}

// text/template's reflection makes the linker keep every exported method of
// every type: cobra's version and help templates would add 3 MB (+17%). The
// binary must do without it.
func TestBinaryLinksNoTextTemplate(t *testing.T) {
	out, err := exec.Command("go", "tool", "nm", smartmfaBinary(t)).Output()
	if err != nil {
		t.Fatalf("go tool nm: %v", err)
	}
	// Cobra's function map keeps a few helpers; executing a template is the cost.
	if strings.Contains(string(out), " T text/template.(*Template).Execute\n") {
		t.Error("the binary links text/template's Template.Execute")
	}
}

package main

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"
)

// versionLine is what `smartmfa version` and `smartmfa --version` print: the
// release, its commit and the commit's date when the release set them (the
// commit's, not the build's, so that a release builds reproducibly), and the
// Go toolchain and platform, which is what a bug report needs.
func versionLine() string {
	v, c, d := version, commit, date
	if v == "dev" {
		v, c = buildInfoVersion(c)
	}
	var extra []string
	if c != "" {
		extra = append(extra, "commit "+c)
	}
	if d != "" {
		extra = append(extra, d)
	}
	extra = append(extra, fmt.Sprintf("%s %s/%s", runtime.Version(), runtime.GOOS, runtime.GOARCH))
	return fmt.Sprintf("smartmfa %s (%s)", v, strings.Join(extra, ", "))
}

// buildInfoVersion names a build the release did not stamp: `go install
// …@v1.2.3` records the module version, a build in a checkout its commit.
func buildInfoVersion(commit string) (string, string) {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "dev", commit
	}
	v := "dev"
	if mv := info.Main.Version; mv != "" && mv != "(devel)" {
		v = strings.TrimPrefix(mv, "v")
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" && commit == "" {
			commit = s.Value[:min(len(s.Value), 12)]
		}
	}
	return v, commit
}

// versionCommand prints versionLine, as --version does.
func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version of smartmfa",
		Example: `  # what a bug report needs; smartmfa --version prints the same line
  $ smartmfa version`,
		Args: exactArgs(),
		RunE: a.action(func(*cobra.Command, []string) error {
			_, err := fmt.Fprintln(a.stdout, versionLine())
			return err
		}),
	}
}

package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// addCompletion adds cobra's `completion bash|zsh|fish|powershell` to root
// and teaches it what the arguments are: names and on/off, never files,
// except where a flag names a path.
func addCompletion(root *cobra.Command) {
	root.InitDefaultCompletionCmd()
	comp, _, err := root.Find([]string{"completion"})
	if err != nil || comp == root {
		return
	}
	comp.Example = `  # for this shell only: source <(smartmfa completion bash)
  # for every shell of this user:
  $ smartmfa completion bash > ~/.local/share/bash-completion/completions/smartmfa
  $ smartmfa completion zsh > "${fpath[1]}/_smartmfa"
  $ smartmfa completion fish > ~/.config/fish/completions/smartmfa.fish`
	// An unknown shell is a wrong command line (exit 2), as for the groups.
	comp.Args = nil
	comp.RunE = groupRun
	for _, sh := range comp.Commands() {
		sh.Example = fmt.Sprintf("  $ smartmfa completion %s > smartmfa.%s", sh.Name(), sh.Name())
	}

	// Account and user names and key ids are not files: offer nothing
	// rather than the directory's file names.
	walk(root, func(c *cobra.Command) {
		if c.ValidArgsFunction == nil && c.Runnable() {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
	})
	onOff := cobra.FixedCompletions([]string{"on", "off"}, cobra.ShellCompDirectiveNoFileComp)
	if c, _, err := root.Find([]string{"account", "require-mfa"}); err == nil {
		c.ValidArgsFunction = func(cmd *cobra.Command, args []string, toComplete string) ([]string, cobra.ShellCompDirective) {
			if len(args) == 1 {
				return onOff(cmd, args, toComplete)
			}
			return nil, cobra.ShellCompDirectiveNoFileComp
		}
	}
	if c, _, err := root.Find([]string{"user", "list"}); err == nil {
		_ = c.RegisterFlagCompletionFunc("mfa", onOff)
	}
}

// walk calls fn for c and every command below it.
func walk(c *cobra.Command, fn func(*cobra.Command)) {
	fn(c)
	for _, sub := range c.Commands() {
		walk(sub, fn)
	}
}

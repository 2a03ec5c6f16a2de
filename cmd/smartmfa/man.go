package main

import (
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
)

// manCommand prints smartmfa(1), or writes a page per command for the
// packages. cobra's generator, not mango-cobra: it gives every command its
// own page with its full description and examples, as gh's pages do, where
// mango-cobra keeps only each subcommand's one-line summary.
func (a *app) manCommand() *cobra.Command {
	var dir string
	c := &cobra.Command{
		Use:    "man",
		Short:  "Print the smartmfa(1) man page, or write every page into a directory",
		Hidden: true,
		Example: `  $ smartmfa man | man -l -
  # the pages the packages install, one per command
  $ smartmfa man --dir manpages`,
		Args: exactArgs(),
		RunE: a.action(func(cmd *cobra.Command, _ []string) error {
			walk(cmd.Root(), func(c *cobra.Command) { c.Long = manText(c.Long) })
			header := &doc.GenManHeader{Section: "1", Source: "smartmfa " + version, Manual: "smartmfa manual", Date: buildDate()}
			if dir == "" {
				return doc.GenMan(cmd.Root(), header, a.stdout)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				return failf("cannot create %s: %v", quote(dir), err)
			}
			return doc.GenManTree(cmd.Root(), header, dir)
		}),
	}
	c.Flags().StringVar(&dir, "dir", "", "write smartmfa.1 and a page per command into `directory`")
	return c
}

// buildDate dates the pages with the release's build date, so that one
// release always builds the same pages; nil lets cobra take
// SOURCE_DATE_EPOCH or today.
func buildDate() *time.Time {
	t, err := time.Parse(time.RFC3339, date)
	if err != nil {
		return nil
	}
	return &t
}

// manText readies a command's description for the generator, which reads
// Markdown: the indented lines the help shows as they are (file lines,
// commands) become code blocks, which the generator would otherwise run
// together into the paragraph.
func manText(long string) string {
	var b strings.Builder
	inBlock := false
	for _, line := range strings.Split(long, "\n") {
		indented := strings.HasPrefix(line, "  ")
		if indented != inBlock {
			b.WriteString("```\n")
			inBlock = indented
		}
		if indented {
			line = strings.TrimPrefix(line, "  ")
		}
		b.WriteString(line + "\n")
	}
	if inBlock {
		b.WriteString("```\n")
	}
	return strings.TrimSuffix(b.String(), "\n")
}

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// freshRoot builds a fresh command tree: parsing an example's flags sets
// them, so each example gets a tree of its own.
func freshRoot() *cobra.Command {
	a := &app{stdin: strings.NewReader(""), stdout: io.Discard, stderr: io.Discard,
		getenv: func(string) string { return "" }}
	return a.rootCommand()
}

// exampleCommands walks the tree, hidden commands included, but for cobra's
// own help command.
func exampleCommands(c *cobra.Command) []*cobra.Command {
	if c.HasParent() && c.Parent() == c.Root() && c.Name() == "help" {
		return nil
	}
	out := []*cobra.Command{c}
	for _, sub := range c.Commands() {
		out = append(out, exampleCommands(sub)...)
	}
	return out
}

// exampleLines are the command lines of an Example: the lines that start
// with "$ ", with any "\" continuation lines joined on.
func exampleLines(example string) []string {
	var out []string
	lines := strings.Split(example, "\n")
	for i := 0; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		if !strings.HasPrefix(line, "$ ") {
			continue
		}
		line = strings.TrimPrefix(line, "$ ")
		for strings.HasSuffix(line, "\\") && i+1 < len(lines) {
			i++
			line = strings.TrimSuffix(line, "\\") + " " + strings.TrimSpace(lines[i])
		}
		out = append(out, line)
	}
	return out
}

// shellWords splits a command line as a shell would for the cases examples
// use: single and double quotes, and a pipe or redirection (" |", " <",
// " >" outside quotes) ends smartmfa's part of the line.
func shellWords(line string) ([]string, error) {
	var words []string
	var word strings.Builder
	inWord := false
	var quote rune
	runes := []rune(line)
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case quote == '\'':
			if r == '\'' {
				quote = 0
			} else {
				word.WriteRune(r)
			}
		case quote == '"':
			switch {
			case r == '"':
				quote = 0
			case r == '\\' && i+1 < len(runes) && strings.ContainsRune(`"\$`+"`", runes[i+1]):
				i++
				word.WriteRune(runes[i])
			default:
				word.WriteRune(r)
			}
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t':
			if i+1 < len(runes) && strings.ContainsRune("|<>", runes[i+1]) {
				i = len(runes) // the rest is a pipe or redirection
			}
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if quote != 0 {
		return nil, errUnclosedQuote
	}
	if inWord {
		words = append(words, word.String())
	}
	return words, nil
}

var errUnclosedQuote = errors.New("unclosed quote")

func TestShellWords(t *testing.T) {
	tests := []struct{ line, want string }{
		{`smartmfa user list Acme --mfa off`, `smartmfa,user,list,Acme,--mfa,off`},
		{`smartmfa --db '/tmp/a b.db' audit`, `smartmfa,--db,/tmp/a b.db,audit`},
		{`smartmfa user remove-mfa bob --reason "lost phone"`, `smartmfa,user,remove-mfa,bob,--reason,lost phone`},
		{`smartmfa x --reason "say \"hi\"" | less`, `smartmfa,x,--reason,say "hi"`},
		{`smartmfa x --password-stdin < pw.txt`, `smartmfa,x,--password-stdin`},
		{`smartmfa x --json > out.json`, `smartmfa,x,--json`},
		{`smartmfa x --db 'a|b' | jq .`, `smartmfa,x,--db,a|b`},
	}
	for _, tt := range tests {
		got, err := shellWords(tt.line)
		if err != nil || strings.Join(got, ",") != tt.want {
			t.Errorf("shellWords(%q) = %q, %v; want %q", tt.line, got, err, tt.want)
		}
	}
	if _, err := shellWords(`smartmfa --db 'x`); err == nil {
		t.Error("an unclosed quote was accepted")
	}
}

// TestEveryCommandHasExamples checks that every command's help shows
// examples and that each example command line would be accepted: the command
// exists, its flags exist, its required flags are given, and it gets the
// number of arguments it takes.
func TestEveryCommandHasExamples(t *testing.T) {
	for _, c := range exampleCommands(freshRoot()) {
		t.Run(c.CommandPath(), func(t *testing.T) {
			if strings.TrimSpace(c.Example) == "" {
				t.Fatalf("%s has no Example", c.CommandPath())
			}
			for _, line := range exampleLines(c.Example) {
				if err := checkExample(c.CommandPath(), line); err != nil {
					t.Errorf("example %q: %v", line, err)
				}
			}
		})
	}
}

// checkExample parses line on a fresh tree; path is the command whose help
// shows it, which the example must run or be a subcommand of.
func checkExample(path, line string) error {
	words, err := shellWords(line)
	if err != nil {
		return err
	}
	if len(words) == 0 || words[0] != "smartmfa" {
		return errors.New("does not start with smartmfa")
	}
	root := freshRoot()
	found, rest, err := root.Find(words[1:])
	if err != nil {
		return err
	}
	if got := found.CommandPath(); got != path && !strings.HasPrefix(got, path+" ") {
		return fmt.Errorf("runs %s, not %s", got, path)
	}
	if err := found.ParseFlags(rest); err != nil {
		return err
	}
	args := found.Flags().Args()
	if found.HasSubCommands() && len(args) > 0 {
		return fmt.Errorf("%s has no subcommand %q", found.CommandPath(), args[0])
	}
	if err := found.ValidateArgs(args); err != nil {
		return err
	}
	if err := found.ValidateRequiredFlags(); err != nil {
		return err
	}
	return found.ValidateFlagGroups()
}

// TestCheckExampleRefusesWrongLines keeps the checker honest: each of these
// mistakes must be caught.
func TestCheckExampleRefusesWrongLines(t *testing.T) {
	tests := []struct{ path, line, want string }{
		{"smartmfa user", "smartmfa user ad Acme bob", `no subcommand "ad"`},
		{"smartmfa user list", "smartmfa user list --mfa off", "takes ACCOUNT"},
		{"smartmfa user show", "smartmfa user show bob --jsn", "unknown flag: --jsn"},
		{"smartmfa account create", "smartmfa account create Acme", `"admin" not set`},
		{"smartmfa account show", "smartmfa account list --json", "runs smartmfa account list"},
		{"smartmfa", "smartmfa acount list", `unknown command "acount"`},
		{"smartmfa version", "sudo smartmfa version", "does not start with smartmfa"},
		{"smartmfa audit", "smartmfa audit 'Acme", "unclosed quote"},
	}
	for _, tt := range tests {
		err := checkExample(tt.path, tt.line)
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("checkExample(%q) = %v, want an error with %q", tt.line, err, tt.want)
		}
	}
}

// Command smartmfa is the terminal MFA console of the numbering system and the
// non-interactive commands that script its administration: accounts, users,
// the MFA policy, the audit trail and demo data.
package main

import "os"

// Set at build time by the release (.goreleaser.yaml):
// -ldflags "-X main.version=1.2.3 -X main.commit=abc1234 -X main.date=2026-11-29T00:00:00Z".
var (
	version = "dev"
	commit  = ""
	date    = ""
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

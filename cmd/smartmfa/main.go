// Command smartmfa is the terminal MFA console of the numbering system and the
// non-interactive commands that script its administration: accounts, users,
// the MFA policy, the audit trail and demo data.
package main

import "os"

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = "dev"

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr, os.Getenv))
}

//go:build !linux

package main

import (
	"errors"
	"fmt"
	"os"
)

// becomeOwnerOf refuses: pam-verify changes its user only where Go applies
// that to every thread of the process (Linux).
func becomeOwnerOf(_, _ string) error {
	return errors.New("pam-verify runs on Linux only")
}

func checkRootOwned(path string, _ os.FileInfo) error {
	return fmt.Errorf("the map file %s cannot be checked here: pam-verify runs on Linux only", path)
}

func (a *app) pamLog(o pamOptions, out pamOutcome) {
	if !o.quiet {
		fmt.Fprintln(a.stderr, "smartmfa "+o.command+": "+out.msg)
	}
}

// ownedByRoot cannot tell here; pam_exec is Linux's.
func ownedByRoot(os.FileInfo) bool { return true }

//go:build linux

package tui

import (
	"os"
	"strings"
	"testing"
)

// TestInitGivesTermBack: termquery hides TERM from bubbletea's init; this
// package's init must have put it back before anything else runs.
func TestInitGivesTermBack(t *testing.T) {
	env, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Skipf("reading the start environment: %v", err)
	}
	want, had := "", false
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			want, had = v, true
		}
	}
	if got, ok := os.LookupEnv("TERM"); got != want || ok != had {
		t.Fatalf("TERM is %q (set %v), the process started with %q (set %v)", got, ok, want, had)
	}
}

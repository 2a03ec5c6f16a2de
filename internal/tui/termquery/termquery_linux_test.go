//go:build linux

package termquery

import (
	"os"
	"strings"
	"testing"
)

// startTerm is TERM as the process was started, from /proc: what Restore
// must give back.
func startTerm(t *testing.T) (string, bool) {
	t.Helper()
	env, err := os.ReadFile("/proc/self/environ")
	if err != nil {
		t.Skipf("reading the start environment: %v", err)
	}
	for _, kv := range strings.Split(string(env), "\x00") {
		if v, ok := strings.CutPrefix(kv, "TERM="); ok {
			return v, true
		}
	}
	return "", false
}

func TestTermIsHiddenUntilRestored(t *testing.T) {
	want, had := startTerm(t)
	if !hidden { // restored by an earlier run of this test (-count): hide again
		hide()
	}
	if got := os.Getenv("TERM"); got != "dumb" {
		t.Fatalf("after init TERM is %q, want dumb", got)
	}
	Restore()
	Restore() // a second call changes nothing
	got, ok := os.LookupEnv("TERM")
	if got != want || ok != had {
		t.Fatalf("after Restore TERM is %q (set %v), want %q (set %v)", got, ok, want, had)
	}
}

package vtscreen

import (
	"io"
	"strings"
	"testing"
	"time"
)

// Terminal is one program as a person sees it: what it writes is drawn on
// Screen, and keys are typed into Keys.
type Terminal struct {
	Name   string
	Screen *Screen
	Keys   io.Writer
}

// Settle waits until the terminal shows every one of want and has drawn
// nothing more for 100 ms, or fails the test after 10 s.
func (tm *Terminal) Settle(t testing.TB, want ...string) {
	t.Helper()
	Settle(t, []*Terminal{tm}, want...)
}

// Settle waits until every terminal shows every one of want and has drawn
// nothing more for 100 ms, or fails the test after 10 s.
func Settle(t testing.TB, terms []*Terminal, want ...string) {
	t.Helper()
	last, since := make([]int, len(terms)), make([]time.Time, len(terms))
	for i := range terms {
		last[i], since[i] = -1, time.Now()
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		settled := true
		for i, tm := range terms {
			if n := tm.Screen.Written(); n != last[i] {
				last[i], since[i] = n, time.Now()
			}
			text := tm.Screen.String()
			ok := time.Since(since[i]) >= 100*time.Millisecond
			for _, w := range want {
				ok = ok && strings.Contains(text, w)
			}
			if !ok && time.Now().After(deadline) {
				t.Fatalf("%s: the screen does not show %q and settle within 10 s:\n%s", tm.Name, want, text)
			}
			settled = settled && ok
		}
		if settled {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Step is keys typed into terminals and what they show once the keys are
// done.
type Step struct {
	Name string
	Keys []string // each written alone; a lone Escape is followed by a pause
	Want []string
}

// SameScreens types each step's keys into every terminal, waits for them
// to settle, and fails the test unless each screen is the first one's cell
// for cell. It also fails if any wrote a sequence the emulator does not
// know, since the comparison could then be wrong.
func SameScreens(t testing.TB, steps []Step, terms ...*Terminal) {
	t.Helper()
	settle := func(want ...string) {
		t.Helper()
		Settle(t, terms, want...)
	}
	ref := terms[0]
	for _, st := range steps {
		for _, k := range st.Keys {
			for _, tm := range terms {
				if _, err := io.WriteString(tm.Keys, k); err != nil {
					t.Fatalf("%s: typing %q: %v", tm.Name, k, err)
				}
			}
			if k == "\x1b" {
				// An Escape followed at once by an arrow's bytes would be
				// read as alt+[: let every program see it alone.
				settle()
			}
		}
		settle(st.Want...)
		for _, tm := range terms[1:] {
			// One may be a frame behind: look again for a moment before
			// calling them different.
			var diff string
			for deadline := time.Now().Add(time.Second); ; time.Sleep(20 * time.Millisecond) {
				diff = Diff(ref.Name, ref.Screen.Lines(), tm.Name, tm.Screen.Lines())
				if diff == "" || time.Now().After(deadline) {
					break
				}
			}
			if diff != "" {
				t.Fatalf("after %s the screens differ:\n%s\n%s shows:\n%s\n\n%s shows:\n%s", st.Name, diff,
					ref.Name, ref.Screen.String(), tm.Name, tm.Screen.String())
			}
		}
		lines := strings.SplitN(ref.Screen.String(), "\n", 4)
		t.Logf("after %s all %d show %q…", st.Name, len(terms), strings.Join(lines[:min(3, len(lines))], " | "))
	}
	for _, tm := range terms {
		if u := tm.Screen.Unknown(); len(u) > 0 {
			t.Errorf("%s wrote sequences the emulator does not know, so the comparison may be wrong: %v", tm.Name, u)
		}
	}
}

package tui

import (
	"fmt"
	"testing"
)

// linkSizes are the windows the link is checked in: the smallest the QR
// code fits, where the link takes its place, and a wider one that holds
// the QR code, its text and the link under them.
var linkSizes = []struct{ w, h int }{{80, 24}, {120, 30}}

// TestScreensSetupLink keeps the golden files of the setup link hidden,
// shown, and hidden again after leaving set-up and coming back, as
// TestScreens does (same clock and secrets). Regenerate with
// go test ./internal/tui -run TestScreens -update.
func TestScreensSetupLink(t *testing.T) {
	for _, size := range linkSizes {
		open := func(t *testing.T) *program {
			e := newTestService(t)
			e.register()
			p := e.start(t, size.w, size.h)
			p.login(e, "alice", adminPassword, false)
			p.waitFor("[>Add<]")
			p.key("enter")
			p.waitFor("Setup key", "ctrl+l show link")
			return p
		}
		t.Run(fmt.Sprintf("%dx%d hidden", size.w, size.h), func(t *testing.T) {
			p := open(t)
			p.golden()
		})
		t.Run(fmt.Sprintf("%dx%d shown", size.w, size.h), func(t *testing.T) {
			p := open(t)
			p.key("ctrl+l")
			p.waitFor("otpauth://totp/", "ctrl+l hide link")
			p.golden()
		})
		t.Run(fmt.Sprintf("%dx%d hidden after leaving and returning", size.w, size.h), func(t *testing.T) {
			p := open(t)
			p.key("ctrl+l")
			p.waitFor("otpauth://totp/")
			p.key("esc")
			p.waitFor("[>Add<]")
			p.key("enter")
			p.waitFor("Setup key", "ctrl+l show link")
			p.golden()
		})
	}
}

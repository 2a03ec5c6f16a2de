package tui

import (
	"fmt"
	"strings"
	"testing"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// The setup link: ctrl+l on MFA set-up shows the otpauth URI as text for
// desktop authenticators and password managers, and hides it again. Its
// golden files are in link_golden_test.go.

// openSetup logs alice in and opens MFA set-up in a w x h window.
func openSetup(t *testing.T, w, h int) (*testEnv, *driver, *setup) {
	t.Helper()
	return openSetupAs(t, "alice", w, h)
}

// openSetupAs is openSetup for alice or for a user of hers.
func openSetupAs(t *testing.T, username string, w, h int) (*testEnv, *driver, *setup) {
	t.Helper()
	e := newTestService(t)
	admin := e.register()
	password := adminPassword
	if username != "alice" {
		e.addUser(admin, username, "Someone", core.RoleUser)
		password = userPassword
	}
	d := e.drive(w, h)
	d.login(e, username, password)
	d.key("enter") // Add
	s, ok := d.m.scr.(*setup)
	if !ok || !s.loaded {
		t.Fatalf("Add did not open set-up:\n%s", d.view())
	}
	return e, d, s
}

// TestSetupLinkCopyable: the link is drawn whole, on lines of its own that
// start at the left edge and hold nothing else, so that selecting them
// copies the URI and only it; and it is not in the view while hidden. Also
// with the longest username the QR code is sized for, and in a window too
// small for the QR code.
func TestSetupLinkCopyable(t *testing.T) {
	cases := []struct {
		user string
		w, h int
	}{{"alice", 80, 24}, {"alice", 120, 30}, {"abcdefghijklmnop", 80, 24}, {"abcdefghijklmnop", 120, 30}, {"alice", 70, 22}}
	for _, size := range cases {
		t.Run(fmt.Sprintf("%s %dx%d", size.user, size.w, size.h), func(t *testing.T) {
			_, d, s := openSetupAs(t, size.user, size.w, size.h)
			uri := s.en.URI
			if !strings.HasPrefix(uri, "otpauth://totp/") {
				t.Fatalf("enrolment URI %q", uri)
			}
			if strings.Contains(d.view(), "otpauth") {
				t.Fatalf("the link shows before ctrl+l:\n%s", d.view())
			}
			d.key("ctrl+l")
			view := d.view()
			lines := strings.Split(view, "\n")
			start := -1
			for i, l := range lines {
				if strings.HasPrefix(l, "otpauth://") {
					start = i
					break
				}
			}
			if start < 0 {
				t.Fatalf("no line starts with the link:\n%s", view)
			}
			got := ""
			for _, l := range lines[start:] {
				if got == uri {
					break
				}
				l = strings.TrimRight(l, " ")
				if l == "" || !strings.HasPrefix(uri[len(got):], l) {
					t.Fatalf("line %q is not the next part of the link %q:\n%s", l, uri, view)
				}
				got += l
			}
			if got != uri {
				t.Fatalf("the link is cut: %q of %q:\n%s", got, uri, view)
			}
			if strings.Count(view, "\n")+1 > size.h {
				t.Fatalf("the view is taller than the window:\n%s", view)
			}
			if !strings.Contains(view, "Setup key (time based)") || !strings.Contains(view, "Code") {
				t.Fatalf("the link hid the setup key or the code field:\n%s", view)
			}
		})
	}
}

// TestSetupLinkKeepsTheCode: ctrl+l types nothing into the code field and
// leaves what was typed there, and toggles the link each time.
func TestSetupLinkKeepsTheCode(t *testing.T) {
	_, d, s := openSetup(t, 80, 24)
	if !s.f.typing() {
		t.Fatal("set-up does not open with the code field focused")
	}
	d.typeText("123")
	d.key("ctrl+l")
	if !s.showLink {
		t.Fatal("ctrl+l did not show the link")
	}
	if v := s.f.value(s.input); v != "123" {
		t.Fatalf("the code field holds %q after ctrl+l, want 123", v)
	}
	d.expect("ctrl+l hide link")
	d.typeText("456")
	d.key("ctrl+l")
	if s.showLink {
		t.Fatal("a second ctrl+l did not hide the link")
	}
	if v := s.f.value(s.input); v != "123456" {
		t.Fatalf("the code field holds %q, want 123456", v)
	}
	d.expect("ctrl+l show link")
}

// TestSetupLinkHiddenByANewEnrolment: when set-up starts again (another
// session removed the enrolment), the new key's link starts hidden; after
// set-up the link is gone with the secret.
func TestSetupLinkHiddenByANewEnrolment(t *testing.T) {
	e, d, s := openSetup(t, 80, 24)
	d.key("ctrl+l")
	old := s.en.URI
	d.send(enrolledMsg{stamp: d.m.c.stamp(), err: core.ErrNoEnrollment})
	if s.en.URI == old || !s.loaded {
		t.Fatalf("set-up did not start again:\n%s", d.view())
	}
	if s.showLink || strings.Contains(d.view(), "otpauth") {
		t.Fatalf("the new enrolment's link shows without ctrl+l:\n%s", d.view())
	}

	d.key("ctrl+l")
	d.typeText(totp(decodeKey(t, s.en.SetupKey), e.clock.Now()))
	d.key("enter")
	if s.codes == nil {
		t.Fatalf("set-up did not finish:\n%s", d.view())
	}
	d.key("ctrl+l")
	if v := d.view(); s.showLink || strings.Contains(v, "otpauth") || strings.Contains(v, "ctrl+l") {
		t.Fatalf("the link shows after set-up:\n%s", v)
	}
}

func TestURILines(t *testing.T) {
	const uri = "otpauth://totp/smartnumbers:alice?secret=732V7YHBEV2QVJQI2XRA77BNCIJPJJDF&issuer=smartnumbers"
	tests := []struct {
		name string
		w    int
		want []string
	}{
		{"one line", 120, []string{uri}},
		{"exactly one line", len(uri), []string{uri}},
		{"before the issuer", 80, []string{
			"otpauth://totp/smartnumbers:alice?secret=732V7YHBEV2QVJQI2XRA77BNCIJPJJDF",
			"&issuer=smartnumbers"}},
		{"before each parameter", 41, []string{
			"otpauth://totp/smartnumbers:alice",
			"?secret=732V7YHBEV2QVJQI2XRA77BNCIJPJJDF",
			"&issuer=smartnumbers"}},
		{"a part longer than a line", 20, []string{
			"otpauth://totp/smart", "numbers:alice",
			"?secret=732V7YHBEV2Q", "VJQI2XRA77BNCIJPJJDF",
			"&issuer=smartnumbers"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := uriLines(uri, tt.w)
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Fatalf("uriLines(%d) =\n%s\nwant\n%s", tt.w, strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

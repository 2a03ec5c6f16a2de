package qrcode

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHalfBlocks(t *testing.T) {
	uri := "otpauth://totp/smartnumbers:abcdefghijklmnop?secret=" + strings.Repeat("A", 32) + "&issuer=smartnumbers"
	for _, inkDark := range []bool{false, true} {
		lines := HalfBlocks(uri, inkDark)
		if len(lines) != 20 || utf8.RuneCountInString(lines[0]) != 39 {
			t.Fatalf("inkDark %v: %d rows of %d cells, want 20 of 39 (DESIGN.md's budget)", inkDark, len(lines), utf8.RuneCountInString(lines[0]))
		}
		for i, l := range lines {
			if n := utf8.RuneCountInString(l); n != 39 {
				t.Errorf("inkDark %v: row %d is %d cells wide", inkDark, i, n)
			}
			if strings.Trim(l, " █▀▄") != "" {
				t.Errorf("inkDark %v: row %d holds other characters: %q", inkDark, i, l)
			}
		}
	}
	if HalfBlocks("", false) != nil || HalfBlocks(strings.Repeat("x", MaxText+1), false) != nil {
		t.Error("empty or too long text is drawn")
	}
}

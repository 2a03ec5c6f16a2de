package core

import (
	"errors"
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// The seeds run in every go test; go test -fuzz=FuzzX explores from them.

func FuzzParseCode(f *testing.F) {
	for _, s := range append([]string{"123456", "000000", "abcde-12345", "ABCDE12345", "0123456789",
		"zzzzz-zzzzz", "abcde--1234", "-abcde1234", "123 456", " 123456\t", " abcde-12345 "}, malformedCodes...) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		code, kind, err := parseCode(in)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) || code != "" || kind != 0 {
				t.Fatalf("parseCode(%q) = %q, %d, %v", in, code, kind, err)
			}
			return
		}
		switch kind {
		case codeTOTP:
			if code != strings.NewReplacer(" ", "", "\t", "").Replace(in) || len(code) != 6 || !isDigits(code) {
				t.Fatalf("parseCode(%q) = TOTP %q: not the input less its spaces", in, code)
			}
		case codeRecovery:
			if len(code) != 10 || strings.Trim(code, recoveryAlphabet) != "" {
				t.Fatalf("parseCode(%q) = recovery %q", in, code)
			}
			if in = strings.Trim(in, " \t"); len(in) != 10 && len(in) != 11 || strings.ToLower(strings.Replace(in, "-", "", 1)) != code {
				t.Fatalf("parseCode(%q) = recovery %q: not the input less a dash", in, code)
			}
		default:
			t.Fatalf("parseCode(%q): kind %d", in, kind)
		}
		if again, k2, err := parseCode(code); err != nil || again != code || k2 != kind {
			t.Fatalf("parseCode is not idempotent on %q", code)
		}
	})
}

func FuzzCheckUsername(f *testing.F) {
	for _, s := range []string{"alice", "a.b-c_d@e+f", "Bob42", "x", strings.Repeat("a", 64)} {
		f.Add(s)
	}
	for _, s := range badUsernames {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, u string) {
		err := checkUsername(u)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("checkUsername(%q): %v is not an input error", u, err)
			}
			return
		}
		if len(u) == 0 || len(u) > MaxUsernameLen || strings.ContainsRune(u, ':') {
			t.Fatalf("accepted %q", u)
		}
		for _, r := range u {
			if r >= utf8.RuneSelf || !unicode.IsPrint(r) || unicode.IsSpace(r) {
				t.Fatalf("accepted %q with rune %U", u, r)
			}
		}
		if strings.ToLower(u) != strings.Map(unicode.ToLower, u) || CleanText(u, 0) != u {
			t.Fatalf("accepted %q, which folds or cleans differently", u)
		}
		// The otpauth label parses back to exactly issuer and username.
		p, err := url.Parse(otpauthURI(DefaultIssuer, u, []byte("12345678901234567890")))
		if err != nil || p.Path != "/"+DefaultIssuer+":"+u || p.Query().Get("issuer") != DefaultIssuer {
			t.Fatalf("otpauth URI of %q parses to %v, %v", u, p, err)
		}
	})
}

func FuzzCheckText(f *testing.F) {
	for _, s := range []string{"Alice Smith", "Zoë 李", "a", "x y", strings.Repeat("é", 128)} {
		f.Add(s, 128)
	}
	for _, s := range badTexts {
		f.Add(s, 128)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max%300 + 1
		if max < 1 {
			max += 300
		}
		err := checkText("field", s, max, true)
		if err != nil {
			if !errors.Is(err, ErrInvalidInput) {
				t.Fatalf("checkText(%q): %v is not an input error", s, err)
			}
			return
		}
		if s == "" || !utf8.ValidString(s) || utf8.RuneCountInString(s) > max || strings.TrimSpace(s) != s {
			t.Fatalf("accepted %q (max %d)", s, max)
		}
		if CleanText(s, 0) != s {
			t.Fatalf("accepted %q, which CleanText changes", s)
		}
	})
}

func FuzzCleanText(f *testing.F) {
	for _, s := range []string{"plain", "\x1b[2J\x1b]0;t\x07", "a\u202eb", "\xff\xfe", "tab\there", "\u009b31m",
		strings.Repeat("界", 70), "\r\n", "\u200b\ufeff"} {
		f.Add(s, 0)
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, s string, max int) {
		max = max % 200
		if max < 0 {
			max = -max
		}
		out := CleanText(s, max)
		if !utf8.ValidString(out) {
			t.Fatalf("CleanText(%q) = %q: invalid UTF-8", s, out)
		}
		for _, r := range out {
			if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == 0x1b {
				t.Fatalf("CleanText(%q) = %q holds %U", s, out, r)
			}
		}
		n := utf8.RuneCountInString(out)
		if max > 0 && n > max+1 {
			t.Fatalf("CleanText(%q, %d) has %d runes", s, max, n)
		}
		if max == 0 && n != utf8.RuneCountInString(strings.ToValidUTF8(s, "\uFFFD")) {
			t.Fatalf("CleanText(%q, 0) dropped or added runes: %q", s, out)
		}
	})
}

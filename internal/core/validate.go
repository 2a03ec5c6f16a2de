package core

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Field limits. Usernames appear in otpauth URIs and QR codes, so they are short.
const (
	MaxUsernameLen    = 64
	MaxDisplayNameLen = 128
	MaxEmailLen       = 254
	MaxAccountNameLen = 64
)

// checkUsername allows ASCII letters, digits and . _ - @ +, starting with a
// letter or digit: no ':' (it separates issuer and user in the otpauth
// label), nothing that case-folds differently, nothing invisible.
func checkUsername(u string) error {
	if u == "" {
		return inputErr("username", "is required")
	}
	if len(u) > MaxUsernameLen {
		return inputErr("username", "must have at most %d characters", MaxUsernameLen)
	}
	for i := 0; i < len(u); i++ {
		c := u[i]
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if i == 0 && !alnum {
			return inputErr("username", "must start with a letter or digit")
		}
		if !alnum && !strings.ContainsRune("._-@+", rune(c)) {
			return inputErr("username", "may hold only letters, digits and . _ - @ +")
		}
	}
	return nil
}

// checkText validates free text such as names: valid UTF-8, within max
// characters, no control, escape or bidirectional-override characters, and no
// leading or trailing space. It rejects rather than strips: stored text is
// exactly what was typed.
func checkText(field, s string, max int, required bool) error {
	if s == "" {
		if required {
			return inputErr(field, "is required")
		}
		return nil
	}
	if !utf8.ValidString(s) {
		return inputErr(field, "must be valid text")
	}
	if utf8.RuneCountInString(s) > max {
		return inputErr(field, "must have at most %d characters", max)
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return inputErr(field, "may not contain control or escape characters")
		}
	}
	if strings.TrimSpace(s) != s {
		return inputErr(field, "may not start or end with a space")
	}
	return nil
}

// checkEmail is deliberately loose: one @ with text on both sides, no spaces.
func checkEmail(e string) error {
	if err := checkText("email", e, MaxEmailLen, false); err != nil || e == "" {
		return err
	}
	at := strings.LastIndexByte(e, '@')
	if at <= 0 || at == len(e)-1 || strings.ContainsAny(e, " \t") {
		return inputErr("email", "must look like name@example.com")
	}
	return nil
}

// CleanText makes any text safe to draw on a terminal: control and escape
// characters become U+FFFD and the result is cut to max characters (0: no cut).
// Callers use it on everything user-supplied before display.
func CleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if max > 0 && n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

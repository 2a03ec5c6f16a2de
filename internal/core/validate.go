package core

import (
	"slices"
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Field limits. Usernames appear in otpauth URIs and QR codes, so they are short.
const (
	MaxUsernameLen    = 64
	MaxDisplayNameLen = 128
	MaxEmailLen       = 254
	MaxAccountNameLen = 64
)

// Messages that the console repeats when it refuses a paste (CheckControlChars),
// so that it says what the command line says.
const (
	msgControl         = "may not contain control or escape characters"
	msgPasswordControl = "may not contain control characters (tab, newline, escape)" // as checkPassword says
	msgUsernameChars   = "may hold only letters, digits and . _ - @ +"
)

// CheckControlChars returns the input error core gives on submit when text
// for a field holds a control character (tab, newline, escape, C1), and nil
// otherwise. field is the name core's errors give it ("password", "username",
// "name"...). The console checks typed and pasted text with it before the text
// reaches a field, whose input would strip those characters silently and keep
// the rest.
func CheckControlChars(field, s string) error {
	if !strings.ContainsFunc(s, unicode.IsControl) {
		return nil
	}
	switch field {
	case "password":
		return inputErr(field, msgPasswordControl)
	case "username":
		return inputErr(field, msgUsernameChars)
	}
	return inputErr(field, msgControl)
}

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
			return inputErr("username", msgUsernameChars)
		}
	}
	return nil
}

// checkText validates free text such as names: valid UTF-8, within max
// characters, no control, escape, bidirectional-override, invisible or
// formatting characters, no line or paragraph separators, and no leading or
// trailing space. It rejects rather than strips: stored text is exactly what
// was typed.
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
		switch {
		case unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r):
			return inputErr(field, msgControl)
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return inputErr(field, "may not contain line or paragraph separators (U+%04X)", r)
		case invisible(r):
			return inputErr(field, "may not contain invisible or formatting characters (U+%04X)", r)
		}
	}
	if strings.TrimSpace(s) != s {
		return inputErr(field, "may not start or end with a space")
	}
	return nil
}

// invisible reports a character that draws nothing, or nothing of its own:
// the default-ignorable code points (zero-width spaces and joiners, the
// Hangul fillers, variation selectors, tags), every other format character,
// and the blank Braille pattern, which fonts draw as a space.
func invisible(r rune) bool {
	return defaultIgnorable(r) || unicode.Is(unicode.Cf, r) || r == '\u2800'
}

// defaultIgnorable is Unicode's Default_Ignorable_Code_Point, derived as
// DerivedCoreProperties.txt derives it from the properties Go has:
// Other_Default_Ignorable_Code_Point + Cf + Variation_Selector, minus
// White_Space, the interlinear annotation characters FFF9..FFFB, the Egyptian
// hieroglyph format controls 13430..1343F and Prepended_Concatenation_Mark.
func defaultIgnorable(r rune) bool {
	if r >= 0xFFF9 && r <= 0xFFFB || r >= 0x13430 && r <= 0x1343F ||
		unicode.In(r, unicode.White_Space, unicode.Prepended_Concatenation_Mark) {
		return false
	}
	return unicode.In(r, unicode.Other_Default_Ignorable_Code_Point, unicode.Cf, unicode.Variation_Selector)
}

// normalizeName is the form a name is stored in: NFC, so that a letter typed
// as a base and a combining mark is the same text as its precomposed form.
// Invalid UTF-8 is left for checkText to refuse.
func normalizeName(s string) string {
	if !utf8.ValidString(s) {
		return s
	}
	return norm.NFC.String(s)
}

// checkName validates a name people tell apart by sight (an account name, a
// user's display name), in its normalized form: checkText's rules, no
// private-use or unassigned characters (their look depends on the font), and
// one script as UTS #39's "highly restrictive" level allows, so that a Latin
// name cannot hide a Cyrillic or Greek look-alike letter.
func checkName(field, s string, max int, required bool) error {
	s = normalizeName(s)
	if err := checkText(field, s, max, required); err != nil {
		return err
	}
	for _, r := range s {
		if !unicode.In(r, unicode.L, unicode.M, unicode.N, unicode.P, unicode.S, unicode.Z, unicode.Cc, unicode.Cf) {
			return inputErr(field, "may not contain private-use or unassigned characters (U+%04X)", r)
		}
	}
	if a, b, at, mixed := mixedScripts(s); mixed {
		return inputErr(field, "may not mix %s and %s letters (U+%04X is %s)", a, b, at, b)
	}
	return nil
}

// scriptNames lists Go's script tables in a fixed order, so that a message
// names the same scripts every time.
var scriptNames = func() []string {
	names := make([]string, 0, len(unicode.Scripts))
	for n := range unicode.Scripts {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}()

// scriptOf is the Script property of r ("Common" for digits, spaces and
// punctuation that every script uses; "Inherited" for combining marks).
func scriptOf(r rune) string {
	if r < utf8.RuneSelf {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return "Latin"
		}
		return "Common"
	}
	for _, n := range scriptNames {
		if unicode.Is(unicode.Scripts[n], r) {
			return n
		}
	}
	return "Unknown"
}

// highlyRestrictive are the sets of scripts UTS #39 (section 5.2) lets one
// string mix at its "highly restrictive" level, beside any single script.
var highlyRestrictive = [][]string{
	{"Latin", "Han", "Hiragana", "Katakana"}, // Japanese
	{"Latin", "Han", "Bopomofo"},             // Chinese
	{"Latin", "Han", "Hangul"},               // Korean
}

// mixedScripts reports whether s mixes scripts beyond what the highly
// restrictive level allows. It names two scripts that may not mix, the one
// with more letters first, and the first letter of the other: in "аcme" the
// odd one out is the Cyrillic а. Common and Inherited characters go with any
// script. It reads the Script property, not Script_Extensions, which Go
// lacks: a Common character that only some scripts use (U+0640 ARABIC
// TATWEEL) goes with any script.
func mixedScripts(s string) (major, minor string, at rune, mixed bool) {
	var seen []string
	var first []rune
	var count []int
	for _, r := range s {
		sc := scriptOf(r)
		if sc == "Common" || sc == "Inherited" {
			continue
		}
		if i := slices.Index(seen, sc); i >= 0 {
			count[i]++
			continue
		}
		seen, first, count = append(seen, sc), append(first, r), append(count, 1)
	}
	if len(seen) <= 1 {
		return "", "", 0, false
	}
	for _, allowed := range highlyRestrictive {
		if !slices.ContainsFunc(seen, func(sc string) bool { return !slices.Contains(allowed, sc) }) {
			return "", "", 0, false
		}
	}
	// Some pair of scripts is in no set together, since the sets share
	// Latin and Han and differ in the rest.
	for i := range seen {
		for j := i + 1; j < len(seen); j++ {
			if mayMix(seen[i], seen[j]) {
				continue
			}
			if count[j] > count[i] {
				return seen[j], seen[i], first[i], true
			}
			return seen[i], seen[j], first[j], true
		}
	}
	return seen[0], seen[1], first[1], true
}

func mayMix(x, y string) bool {
	for _, allowed := range highlyRestrictive {
		if slices.Contains(allowed, x) && slices.Contains(allowed, y) {
			return true
		}
	}
	return false
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

// CleanText makes any text safe to draw on a terminal: control, escape and
// invisible characters and line separators become U+FFFD and the result is cut to max characters (0: no cut).
// Callers use it on everything user-supplied before display.
func CleanText(s string, max int) string {
	var b strings.Builder
	n := 0
	for _, r := range strings.ToValidUTF8(s, "\uFFFD") {
		if max > 0 && n == max {
			b.WriteRune('…')
			break
		}
		if unicode.IsControl(r) || unicode.In(r, unicode.Zl, unicode.Zp) || invisible(r) {
			r = '\uFFFD'
		}
		b.WriteRune(r)
		n++
	}
	return b.String()
}

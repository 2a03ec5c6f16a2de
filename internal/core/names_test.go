package core

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"unicode"
)

// lookAlikeNames are names that print like an honest one, or break the
// table they are printed in. Each must be refused as an account name and as a
// display name, and the refusal must name the field and say why.
var lookAlikeNames = map[string]struct {
	name string
	why  string // in the message
}{
	"hangul filler":                {"acme\u3164", "invisible"},
	"halfwidth hangul filler":      {"ac\uffa0me", "invisible"},
	"hangul choseong filler":       {"\u115facme", "invisible"},
	"zero width space":             {"ac\u200bme", "invisible"},
	"zero width joiner":            {"ac\u200dme", "invisible"},
	"soft hyphen":                  {"ac\u00adme", "invisible"},
	"combining grapheme joiner":    {"ac\u034fme", "invisible"},
	"variation selector 16":        {"acme\ufe0f", "invisible"},
	"variation selector 17":        {"acme\U000E0100", "invisible"},
	"mongolian variation selector": {"acme\u180b", "invisible"},
	"mongolian vowel separator":    {"acme\u180e", "invisible"},
	"tag letter":                   {"acme\U000E0041", "invisible"},
	"word joiner":                  {"ac\u2060me", "invisible"},
	"byte order mark":              {"\ufeffacme", "invisible"},
	"khmer inherent vowel":         {"acme\u17b4", "invisible"},
	"braille blank":                {"acme\u2800", "invisible"},
	"line separator":               {"acme\u2028corp", "line"},
	"paragraph separator":          {"acme\u2029", "line"},
	"cyrillic a":                   {"\u0430cme", "Latin and Cyrillic letters (U+0430 is Cyrillic)"},
	"greek alpha":                  {"\u0391cme", "Latin and Greek letters (U+0391 is Greek)"},
	"greek and cyrillic":           {"\u03a9\u043c\u0435\u0433\u0430", "Greek"},
	"latin and arabic":             {"acme \u0634\u0631\u0643\u0629", "Arabic"},
	"japanese and korean":          {"\u3072\u3089 \ud55c\uad6d", "Hangul"},
	"private use":                  {"acme\ue000", "private-use"},
	"unassigned":                   {"acme\u0378", "unassigned"},
	"noncharacter":                 {"acme\ufffe", "unassigned"},
	"bidi override":                {"acme\u202e", "control"},
	"escape":                       {"acme\x1b[31m", "control"},
}

// TestLookAlikeNamesRefused: each look-alike is an InputError naming the
// field, as an account name and as a user's display name, and changes nothing.
func TestLookAlikeNamesRefused(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	op := LocalOperator("local:test")
	for desc, c := range lookAlikeNames {
		t.Run(desc, func(t *testing.T) {
			before := w.counts()
			accounts := w.count("accounts")
			bob := w.userRow(w.bob.ID)
			name := c.name
			errs := map[string]error{"CheckAccountName": CheckAccountName(name)}
			_, errs["CreateAccount"] = w.CreateAccount(w.ctx, op, NewAccount{Name: name, Admin: NewUser{Username: "dave", Password: testPassword}})
			_, errs["CreateUser name"] = w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "dave", DisplayName: name, Password: testPassword}, "")
			_, errs["UpdateUser name"] = w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &name})
			errs["CheckUserFields"] = CheckUserFields(NewUser{Username: "dave", DisplayName: name, Role: RoleUser})
			for op, err := range errs {
				var in *InputError
				if !errors.As(err, &in) {
					t.Errorf("%s(%+q): %v, want an InputError", op, name, err)
					continue
				}
				field := "name"
				if strings.Contains(op, "Account") {
					field = "account name"
				}
				if in.Field != field || !strings.Contains(in.Msg, c.why) {
					t.Errorf("%s(%+q): field %q, message %q; want field %q and %q in the message", op, name, in.Field, in.Msg, field, c.why)
				}
				if CleanText(in.Msg, 0) != in.Msg || strings.ContainsFunc(in.Msg, func(r rune) bool { return r > unicode.MaxASCII }) {
					t.Errorf("%s: the message %q must be plain ASCII: it is shown when the name cannot be", op, in.Msg)
				}
			}
			if w.counts() != before || w.count("accounts") != accounts || w.userRow(w.bob.ID) != bob {
				t.Errorf("rows changed")
			}
		})
	}
}

// TestInvisibleEmailsRefused: emails follow no script rule (an address may be
// internationalised) but refuse invisible characters and line separators.
func TestInvisibleEmailsRefused(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	for _, e := range []string{"bob\u3164@example.com", "bob@example.com\u2028", "b\u2029ob@example.com",
		"bob\u00ad@example.com", "bob@exa\ufe0fmple.com", "bob\U000E0041@example.com"} {
		before := w.userRow(w.bob.ID)
		_, err := w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{Email: &e})
		var in *InputError
		if !errors.As(err, &in) || in.Field != "email" {
			t.Errorf("UpdateUser email %+q: %v, want an InputError on the email", e, err)
		}
		if w.userRow(w.bob.ID) != before {
			t.Errorf("email %+q changed bob", e)
		}
	}
	for _, e := range []string{"иван@пример.рф", "josé@example.com", "bob+x@example.com"} {
		if _, err := w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{Email: &e}); err != nil {
			t.Errorf("UpdateUser email %q: %v", e, err)
		}
	}
}

// TestNamesAllowed: one script, or the combinations UTS #39's highly
// restrictive level allows (Latin with Han and the Japanese kana, with Han and
// Bopomofo, with Han and Hangul), with any digits, spaces and punctuation. The
// stored form is NFC.
func TestNamesAllowed(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	op := LocalOperator("local:test")
	for i, c := range []struct{ in, stored string }{
		{"Acme 2 (Paris) - R&D", "Acme 2 (Paris) - R&D"},
		{"e\u0301cole Normale", "\u00e9cole Normale"}, // combining acute: NFC composes it
		{"Zu\u0308rich AG", "Z\u00fcrich AG"},
		{"\u041c\u043e\u0441\u043a\u0432\u0430 1", "\u041c\u043e\u0441\u043a\u0432\u0430 1"},                                         // Cyrillic only
		{"\u0418\u0306\u043e\u0448\u043a\u0430\u0440-\u041e\u043b\u0430", "\u0419\u043e\u0448\u043a\u0430\u0440-\u041e\u043b\u0430"}, // И + breve -> Й
		{"\u0391\u03b8\u03ae\u03bd\u03b1", "\u0391\u03b8\u03ae\u03bd\u03b1"},                                                         // Greek only
		{"Acme \u6771\u4eac\u30bf\u30ef\u30fc \u3072\u3089", "Acme \u6771\u4eac\u30bf\u30ef\u30fc \u3072\u3089"},                     // Latin Han Katakana Hiragana
		{"Acme \u53f0\u5317 \u3105\u3106", "Acme \u53f0\u5317 \u3105\u3106"},                                                         // Latin Han Bopomofo
		{"Acme \uc11c\uc6b8 \u6f22\u5b57", "Acme \uc11c\uc6b8 \u6f22\u5b57"},                                                         // Latin Hangul Han
		{"\u0634\u0631\u0643\u0629 \u0661\u0662", "\u0634\u0631\u0643\u0629 \u0661\u0662"},                                           // Arabic with its digits
		{"Caf\u00e9 \u2013 \u00bfQu\u00e9?", "Caf\u00e9 \u2013 \u00bfQu\u00e9?"},
	} {
		a, err := w.CreateAccount(w.ctx, op, NewAccount{Name: c.in, Admin: NewUser{Username: "admin" + string(rune('a'+i)),
			DisplayName: c.in, Password: testPassword}})
		if err != nil {
			t.Errorf("CreateAccount(%+q): %v", c.in, err)
			continue
		}
		if a.Name != c.stored {
			t.Errorf("CreateAccount(%+q) stored %+q, want %+q", c.in, a.Name, c.stored)
		}
		u, err := w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "user" + string(rune('a'+i)), DisplayName: c.in, Password: testPassword}, "")
		if err != nil {
			t.Errorf("CreateUser(name %+q): %v", c.in, err)
			continue
		}
		if got := w.userRow(u.ID).DisplayName; got != c.stored {
			t.Errorf("CreateUser(name %+q) stored %+q, want %+q", c.in, got, c.stored)
		}
	}
	// An update stores the NFC form too, and the same name typed decomposed is no change.
	decomposed := "Jose\u0301 Bob"
	u, err := w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &decomposed})
	if err != nil || u.DisplayName != "Jos\u00e9 Bob" || w.userRow(w.bob.ID).DisplayName != "Jos\u00e9 Bob" {
		t.Fatalf("UpdateUser(%+q): %+q, %v", decomposed, u.DisplayName, err)
	}
	events := w.count("audit_events")
	if _, err := w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &decomposed}); err != nil || w.count("audit_events") != events {
		t.Errorf("the same name again, decomposed: %v, %d new events", err, w.count("audit_events")-events)
	}
}

// TestAccountNamesUniqueFolded: account names are unique under NFC, full
// case folding and compatibility forms, so these all collide with Acme; and
// an account is found under any of them.
func TestAccountNamesUniqueFolded(t *testing.T) {
	w := newWorld(t) // has "Acme"
	op := LocalOperator("local:test")
	create := func(name string) error {
		_, err := w.CreateAccount(w.ctx, op, NewAccount{Name: name, Admin: NewUser{Username: "x" + strconv.Itoa(w.count("users")), Password: testPassword}})
		return err
	}
	for _, name := range []string{"ACME", "acme", "aCmE", "\uff21cme", "\uff41\uff43\uff4d\uff45"} {
		if err := create(name); !errors.Is(err, ErrExists) {
			t.Errorf("CreateAccount(%+q) beside Acme: %v, want ErrExists", name, err)
		}
		a, err := w.FindAccount(w.ctx, op, name)
		if err != nil || a.ID != w.acme {
			t.Errorf("FindAccount(%+q): %+v, %v; want Acme", name, a, err)
		}
	}
	// The three acme variants of issue 7: the second and third never coexist with the first.
	for _, name := range []string{"acme\u3164", "\u0430cme"} {
		if err := create(name); !errors.Is(err, ErrInvalidInput) && !errors.Is(err, ErrExists) {
			t.Errorf("CreateAccount(%+q): %v, want it refused or colliding", name, err)
		}
	}
	for _, pair := range [][2]string{
		{"\u00e9cole", "E\u0301COLE"}, // composed and decomposed, two cases
		{"Stra\u00dfe", "STRASSE"},    // full case folding: ß is ss
		{"\u1f08\u0345\u03c1\u03c7\u03c9\u03bd", "\u1f00\u03b9\u03c1\u03c7\u03c9\u03bd"}, // iota subscript: canonical caseless
		{"\u03a3\u03bf\u03c6\u03af\u03b1", "\u03c3\u03bf\u03c6\u03b9\u0301\u03b1"},       // Greek, final/medial sigma, accent decomposed
		{"\ufb01rm", "FIRM"},            // the fi ligature is a compatibility form
		{"Acme\u2122", "AcmeTM"},        // so is the trade mark sign
		{"Acme\u00a0Corp", "acme corp"}, // no-break space: compatibility space
	} {
		if err := create(pair[0]); err != nil {
			t.Errorf("CreateAccount(%+q): %v", pair[0], err)
			continue
		}
		if err := create(pair[1]); !errors.Is(err, ErrExists) {
			t.Errorf("CreateAccount(%+q) beside %+q: %v, want ErrExists", pair[1], pair[0], err)
		}
	}
	// The message of a collision names the account as typed, quoted.
	if err := create("ACME"); err == nil || !strings.Contains(err.Error(), `"ACME"`) {
		t.Errorf("collision message: %v", err)
	}
}

// TestDefaultIgnorableIsFaithful checks defaultIgnorable against
// Default_Ignorable_Code_Point of DerivedCoreProperties.txt (Unicode 15.0,
// Go's tables), every code point of it, so that no derivation rule is lost.
func TestDefaultIgnorableIsFaithful(t *testing.T) {
	ranges := [][2]rune{
		{0x00AD, 0x00AD}, {0x034F, 0x034F}, {0x061C, 0x061C}, {0x115F, 0x1160}, {0x17B4, 0x17B5},
		{0x180B, 0x180F}, {0x200B, 0x200F}, {0x202A, 0x202E}, {0x2060, 0x206F}, {0x3164, 0x3164},
		{0xFE00, 0xFE0F}, {0xFEFF, 0xFEFF}, {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFF8}, {0x1BCA0, 0x1BCA3},
		{0x1D173, 0x1D17A}, {0xE0000, 0xE0FFF},
	}
	want := func(r rune) bool {
		for _, rg := range ranges {
			if r >= rg[0] && r <= rg[1] {
				return true
			}
		}
		return false
	}
	n := 0
	for r := rune(0); r <= unicode.MaxRune; r++ {
		if got := defaultIgnorable(r); got != want(r) {
			t.Errorf("defaultIgnorable(U+%04X) = %t", r, got)
		}
		if want(r) {
			n++
		}
	}
	if n != 4174 {
		t.Errorf("the reference list holds %d code points, DerivedCoreProperties 15.0 has 4174", n)
	}
	if unicode.Version != "15.0.0" {
		t.Logf("Go's Unicode tables are %s: check the reference list against its DerivedCoreProperties.txt", unicode.Version)
	}
}

// TestCleanTextHidesSeparatorsAndInvisibles: names stored before these rules
// still print on one line, and an invisible difference shows.
func TestCleanTextHidesSeparatorsAndInvisibles(t *testing.T) {
	for in, want := range map[string]string{
		"acme\u2028corp": "acme\ufffdcorp",
		"acme\u2029":     "acme\ufffd",
		"acme\u3164":     "acme\ufffd",
		"ac\u200bme":     "ac\ufffdme",
		"\u0430cme":      "\u0430cme", // visible, if confusable: refused at input, shown as stored
	} {
		if got := CleanText(in, 0); got != want {
			t.Errorf("CleanText(%+q) = %+q, want %+q", in, got, want)
		}
	}
}

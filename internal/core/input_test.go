package core

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

var badUsernames = map[string]string{
	"colon":         "bob:admin",
	"issuer label":  "smartnumbers:bob",
	"newline":       "bob\nroot",
	"nul":           "bob\x00",
	"tab":           "bob\tx",
	"ESC sequence":  "\x1b[2Jbob",
	"OSC title":     "bob\x1b]0;pwned\x07",
	"C1 CSI":        "bob\u009b31m",
	"bidi override": "bob\u202egnp",
	"10 kB":         strings.Repeat("a", 10<<10),
	"65 characters": strings.Repeat("b", 65),
	"space":         "bob smith",
	"leading dot":   ".bob",
	"empty":         "",
	"non-ASCII":     "bøb",
	"full-width":    "ｂｏｂ",
	"invalid UTF-8": "bob\xff",
	"slash":         "bob/../x",
	"percent":       "bob%3A",
	"question mark": "bob?secret=x",
}

var badTexts = map[string]string{
	"ESC sequence":  "Bob \x1b[31mRed",
	"newline":       "Bob\nSmith",
	"bell":          "Bob\a",
	"C1 CSI":        "Bob\u009b2J",
	"bidi override": "Bob\u202e",
	"zero width":    "Bob\u200bSmith",
	"10 kB":         strings.Repeat("x", 10<<10),
	"invalid UTF-8": "Bob\xc3",
	"leading space": " Bob",
}

// TestBadUsernamesRefused: creation refuses each bad username with an input
// error and changes nothing; login answers the one credentials error.
func TestBadUsernamesRefused(t *testing.T) {
	w := newWorld(t, withOpenRegistration)
	admin := w.login("alice", StageSignedIn)
	for name, u := range badUsernames {
		t.Run(name, func(t *testing.T) {
			before := w.counts()
			if _, err := w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: u, Password: testPassword}, ""); !errors.Is(err, ErrInvalidInput) {
				t.Errorf("CreateUser: %v, want ErrInvalidInput", err)
			}
			_, err := w.RegisterAccount(w.ctx, "test", NewAccount{Name: "New " + name, Admin: NewUser{Username: u, Password: testPassword}})
			if !errors.Is(err, ErrInvalidInput) {
				t.Errorf("RegisterAccount: %v, want ErrInvalidInput", err)
			}
			if w.counts() != before {
				t.Errorf("rows changed: %v -> %v", before, w.counts())
			}
			if _, err := w.Login(w.ctx, u, testPassword, "test"); !errors.Is(err, ErrInvalidCredentials) {
				t.Errorf("Login: %v, want ErrInvalidCredentials", err)
			}
			// Failed logins of unknown names share the hour's one event.
			after := w.counts()
			if after[0] != before[0] || after[1] != before[1] || after[2] > before[2]+1 {
				t.Errorf("a failed login must add at most one audit event and nothing else: %v -> %v", before, after)
			}
			ev := w.lastAudit()
			if ev.Action != string(ActionLoginFailed) || utf8.RuneCountInString(ev.TargetName) > MaxUsernameLen+1 ||
				CleanText(ev.TargetName, 0) != ev.TargetName {
				t.Errorf("audit of the failed login: %s %q", ev.Action, ev.TargetName)
			}
		})
	}
}

func TestBadTextRefused(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	for name, text := range badTexts {
		t.Run(name, func(t *testing.T) {
			before := w.counts()
			bob := w.userRow(w.bob.ID)
			errs := map[string]error{}
			_, errs["CreateUser name"] = w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "dave", DisplayName: text, Password: testPassword}, "")
			_, errs["CreateUser email"] = w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "dave", Email: text + "@x.org", Password: testPassword}, "")
			_, errs["UpdateUser name"] = w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{DisplayName: &text})
			email := "bob@" + text
			_, errs["UpdateUser email"] = w.UpdateUser(w.ctx, admin, w.bob.ID, UserUpdate{Email: &email})
			errs["RemoveUserMFA reason"] = errOf(w.RemoveUserMFA(w.ctx, admin, w.bob.ID, text, ""))
			_, errs["CreateAccount name"] = w.CreateAccount(w.ctx, LocalOperator("x"), NewAccount{Name: text,
				Admin: NewUser{Username: "dave", Password: testPassword}})
			for op, err := range errs {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("%s: %v, want ErrInvalidInput", op, err)
				}
			}
			if w.counts() != before || w.userRow(w.bob.ID) != bob {
				t.Errorf("rows changed: %v -> %v", before, w.counts())
			}
		})
	}
}

func TestBadPasswordsRefused(t *testing.T) {
	w := newWorld(t)
	admin := w.login("alice", StageSignedIn)
	bobSess := w.login("bob", StageSignedIn)
	cases := map[string]string{
		"1 MB":          strings.Repeat("p", 1<<20),
		"1025 runes":    strings.Repeat("é", 1025),
		"7 characters":  "short12",
		"common":        "Password123",
		"invalid UTF-8": "long enough\xff",
		"empty":         "",
	}
	for name, pw := range cases {
		t.Run(name, func(t *testing.T) {
			before := w.counts()
			bob := w.userRow(w.bob.ID)
			errs := map[string]error{
				"ResetPassword":  w.ResetPassword(w.ctx, admin, w.bob.ID, pw, ""),
				"ChangePassword": errOf(w.ChangePassword(w.ctx, bobSess, testPassword, pw)),
			}
			_, errs["CreateUser"] = w.CreateUser(w.ctx, admin, w.acme, NewUser{Username: "dave", Password: pw}, "")
			for op, err := range errs {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("%s: %v, want ErrInvalidInput", op, err)
				}
			}
			if w.counts() != before || w.userRow(w.bob.ID) != bob {
				t.Error("a refused password changed rows")
			}
		})
	}
	// A password is exact as typed: 1024 characters work, nothing is cut.
	long := strings.Repeat("é", 1024)
	if err := w.ResetPassword(w.ctx, admin, w.bob.ID, long, ""); err != nil {
		t.Fatalf("1024-character password: %v", err)
	}
	if _, err := w.Login(w.ctx, "bob", long[:len(long)-2], "test"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("a prefix of the password signed in: %v", err)
	}
	if _, err := w.Login(w.ctx, "bob", long, "test"); err != nil {
		t.Errorf("the whole password: %v", err)
	}
	// A 1 MB password at login is one more wrong answer, counted like one.
	failures := w.pwCounter("bob", "elsewhere").Failures
	if _, err := w.Login(w.ctx, "bob", strings.Repeat("p", 1<<20), "elsewhere"); !errors.Is(err, ErrInvalidCredentials) {
		t.Errorf("1 MB password at login: %v", err)
	}
	if got := w.pwCounter("bob", "elsewhere").Failures; got != failures+1 {
		t.Errorf("failures %d -> %d, want one more", failures, got)
	}
}

var malformedCodes = []string{"12345", "1234567", "１２３４５６", "", "abcdef", "123 45", "1234 567",
	"12345\x00", "12-3456", "+12345", "abcde-1234", "abcde_12345", "iiiii-lllll", "٠١٢٣٤٥", "123\n456", " ", "123\u00a0456"}

// TestMalformedCodesChangeNothing: a malformed code is an input error that is
// neither counted nor audited, at login, confirmation and deletion.
func TestMalformedCodesChangeNothing(t *testing.T) {
	w := newWorld(t)
	w.enrollUser("bob")
	pending := w.login("carol", StageSignedIn)
	if _, err := w.BeginEnrollment(w.ctx, pending); err != nil {
		t.Fatal(err)
	}
	atCode := w.login("bob", StageCode)
	signedIn := w.signIn("bob", w.secrets["bob"])
	for _, code := range malformedCodes {
		t.Run(code, func(t *testing.T) {
			before, bob, carol := w.counts(), w.mfaRow(w.bob.ID), w.mfaRow(w.carol.ID)
			errs := map[string]error{}
			_, errs["VerifyLoginCode"] = w.VerifyLoginCode(w.ctx, atCode, code)
			_, errs["DeleteMyMFA"] = w.DeleteMyMFA(w.ctx, signedIn, code)
			_, _, errs["ConfirmEnrollment"] = w.ConfirmEnrollment(w.ctx, pending, code)
			for op, err := range errs {
				if !errors.Is(err, ErrInvalidInput) {
					t.Errorf("%s(%q): %v, want ErrInvalidInput", op, code, err)
				}
			}
			if w.counts() != before || w.mfaRow(w.bob.ID).Failures != bob.Failures || w.mfaRow(w.carol.ID).Failures != carol.Failures {
				t.Errorf("%q changed rows or counters", code)
			}
		})
	}
}

// TestCheckControlCharsSaysWhatCoreSays: the console refuses a paste with
// CheckControlChars; its message must be the one core gives on submit, field
// by field, so the console and the command line say the same.
func TestCheckControlCharsSaysWhatCoreSays(t *testing.T) {
	for _, c := range []struct {
		field, text string
		core        error
	}{
		{"password", "long enough\x1b[31m", checkPassword("long enough\x1b[31m")},
		{"password", "long\tenough", checkPassword("long\tenough")},
		{"username", "bob\n", checkUsername("bob\n")},
		{"name", "Ac\x1b[31mme", checkName("name", "Ac\x1b[31mme", MaxDisplayNameLen, false)},
		{"account name", "Acme\u009b2J", CheckAccountName("Acme\u009b2J")},
		{"email", "bob@x.org\r\n", checkEmail("bob@x.org\r\n")},
		{"reason", "lost\x07", checkText("reason", "lost\x07", 200, false)},
	} {
		got := CheckControlChars(c.field, c.text)
		if got == nil || c.core == nil || got.Error() != c.core.Error() {
			t.Errorf("CheckControlChars(%q, %+q) = %v; core says %v", c.field, c.text, got, c.core)
		}
	}
	for _, ok := range []string{"Bob", "", "é\u2028", "a b"} {
		if err := CheckControlChars("name", ok); err != nil {
			t.Errorf("CheckControlChars(%+q) = %v: only control characters are its business", ok, err)
		}
	}
}

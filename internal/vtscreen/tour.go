package vtscreen

import "strings"

// ConsoleTour is the keys the serve tests type into smartmfa's console, as a
// user would: a wrong password (an unknown name, whose failures count apart
// from alice's), signing in as alice with password, then Users, Account and
// My MFA from the top menu. Each screen leaves longer lines than the next one
// draws at the same place, which is where text of the previous screen once
// stayed over serve.
func ConsoleTour(password string) []Step {
	const esc, tab, backtab, backspace, enter, left, right = "\x1b", "\t", "\x1b[Z", "\x7f", "\r", "\x1b[D", "\x1b[C"
	step := func(name string, keys []string, want ...string) Step {
		return Step{Name: name, Keys: keys, Want: want}
	}
	return []Step{
		step("start", nil, "Log in", "Password"),
		step("a wrong password", []string{"nobody", tab, "wrong-password-1", enter}, "Invalid username or password."),
		step("sign-in", []string{backtab, strings.Repeat(backspace, len("nobody")), "alice", tab, password, enter},
			"My multi-factor authentication", "alice (admin)"),
		step("Users", []string{esc, right, right, enter}, "Username", "Page 1"),
		step("Account", []string{esc, left, enter}, "Account details"),
		step("My MFA", []string{esc, left, enter}, "My multi-factor authentication"),
	}
}

package main

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/smartnumbers/smartmfa/internal/vtscreen"
)

// TestServeEndToEndOpenSSH reaches the console through `smartmfa serve` with
// the real OpenSSH client in tmux, as a jump host's user would: alice logs
// in and enrols with a code oathtool computes from the setup key on the
// screen. The audit trail names the SSH session as the source, and the
// server's log names alice when her session ends.
func TestServeEndToEndOpenSSH(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ssh is needed for the end-to-end test (install openssh-client)")
		}
		t.Skip("ssh (openssh-client) is not installed: skipping the end-to-end test")
	}
	e := newEnv(t)
	e.createAccount("Acme", "alice")
	srv := newTmux(t, e)
	s := startServe(t, e)
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}

	command := "ssh -tt -F /dev/null -p " + port + " -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null" +
		" -o LogLevel=ERROR -o AddressFamily=inet -o BatchMode=yes localhost"
	srv.tmux("new-session", "-d", "-s", "ssh", "-x", "80", "-y", "24", command)
	p := &pane{s: srv, target: "ssh"}

	p.login("alice", adminPassword)
	p.waitFor("alice (admin)", "is not set up")
	p.keys("Enter")
	key := p.setupKey()
	p.typeText(oathtool(t, key, ""))
	p.keys("Enter")
	p.waitFor("Multi-factor authentication has been set up", "Recovery codes")
	p.keys("Enter")
	p.waitFor("10 left")
	p.keys("C-c")
	log := s.waitLog(`msg="session end"`)
	if !strings.Contains(log, "user=alice") {
		t.Errorf("the end of the session does not name alice:\n%s", log)
	}
	for _, secret := range []string{adminPassword, strings.ReplaceAll(key, " ", "")} {
		if strings.Contains(log, secret) {
			t.Errorf("the server's log holds a secret:\n%s", log)
		}
	}

	audit := e.ok("", "audit", "Acme").stdout
	for _, want := range []string{"mfa.enabled", "ssh:127.0.0.1:"} {
		if !strings.Contains(audit, want) {
			t.Errorf("the audit trail does not show %q:\n%s", want, audit)
		}
	}
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM", code)
	}
}

// TestServeLooksLikeTheLocalConsoleInTmux runs `smartmfa serve` and, in
// two windows of one tmux session (so of one size), the real OpenSSH client
// connected to it and the local console on the same database, both with
// the TERM tmux gives its windows (tmux-256color for tmux 3.3 here), and
// again both with TERM=screen, older tmux's default. The same keys go to both, and after a
// wrong password, sign-in, Users, Account and My MFA the two panes must
// hold the same text (capture-pane -p) and the same colours and attributes
// wherever they show (capture-pane -e): over SSH the console looks exactly
// as it does locally (issue 8, item 1). Nothing is normalised: both sign in as alice, so even the
// header's name is the same.
func TestServeLooksLikeTheLocalConsoleInTmux(t *testing.T) {
	if _, err := exec.LookPath("ssh"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("ssh is needed for the end-to-end test (install openssh-client)")
		}
		t.Skip("ssh (openssh-client) is not installed: skipping the end-to-end test")
	}
	for _, termVar := range []string{"$TERM", "screen"} {
		t.Run(strings.TrimPrefix(termVar, "$"), func(t *testing.T) { sameInTmux(t, termVar) })
	}
}

func sameInTmux(t *testing.T, termVar string) {
	e := newEnv(t)
	e.createAccount("Acme", "alice")
	e.addUser("Acme", "bob")
	srv := newTmux(t, e)
	s := startServe(t, e)
	_, port, err := net.SplitHostPort(s.addr)
	if err != nil {
		t.Fatal(err)
	}

	// Each command starts from an empty environment but for TERM ($TERM:
	// what tmux sets in its windows).
	clean := "env -i HOME=" + e.dir + " USER=tester TERM=" + termVar + " PATH=$PATH "
	srv.tmux("new-session", "-d", "-s", "same", "-n", "local", "-x", "80", "-y", "24",
		clean+smartmfaBinary(t)+" --db "+e.db)
	srv.tmux("new-window", "-d", "-t", "same", "-n", "ssh",
		clean+"ssh -tt -F /dev/null -p "+port+" -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null"+
			" -o LogLevel=ERROR -o AddressFamily=inet -o BatchMode=yes localhost")
	term := termVar
	if termVar == "$TERM" {
		term = strings.TrimSpace(srv.tmux("show-options", "-gv", "default-terminal"))
	}
	local, remote := &pane{s: srv, target: "same:local"}, &pane{s: srv, target: "same:ssh"}
	both := []*pane{local, remote}

	same := func(step string, want ...string) {
		t.Helper()
		for _, p := range both {
			p.waitFor(want...)
		}
		// One pane may be a frame behind: compare until they agree or a
		// second has passed.
		var a, b, diffStyle string
		for deadline := time.Now().Add(time.Second); ; time.Sleep(50 * time.Millisecond) {
			a, b = local.screen(), remote.screen()
			diffStyle = diffVisibleStyle(srv.tmux("capture-pane", "-p", "-e", "-t", local.target),
				srv.tmux("capture-pane", "-p", "-e", "-t", remote.target))
			if a == b && diffStyle == "" || time.Now().After(deadline) {
				break
			}
		}
		if a != b {
			t.Fatalf("TERM=%s, after %s the panes differ:\n%s\nlocal:\n%s\nssh:\n%s", term, step,
				vtscreen.Diff("local", strings.Split(a, "\n"), "ssh", strings.Split(b, "\n")), a, b)
		}
		if diffStyle != "" {
			t.Fatalf("TERM=%s, after %s the panes' colours or attributes differ: %s", term, step, diffStyle)
		}
	}
	typeText := func(s string) {
		for _, p := range both {
			p.typeText(s)
		}
	}
	keys := func(names ...string) {
		for _, k := range names {
			for _, p := range both {
				p.keys(k)
			}
		}
	}

	same("start", "Log in", "Password")
	typeText("nobody") // an unknown name: its failure is not counted against alice
	keys("Tab")
	typeText("wrong-password-1")
	keys("Enter")
	same("a wrong password", "Invalid username or password.")
	keys("BTab")
	for range len("nobody") {
		keys("BSpace")
	}
	typeText("alice")
	keys("Tab")
	typeText(adminPassword)
	keys("Enter")
	same("sign-in", "My multi-factor authentication", "alice (admin)")
	keys("Escape", "Right", "Right", "Enter")
	same("Users", "Username", "Page 1")
	keys("Escape", "Left", "Enter")
	same("Account", "Account details")
	keys("Escape", "Left", "Enter")
	same("My MFA", "My multi-factor authentication")
	t.Logf("TERM=%s: the panes are the same after each step; the last:\n%s", term, local.screen())

	keys("C-c")
	if code := s.stop(); code != 0 {
		t.Errorf("serve exits %d after SIGTERM", code)
	}
}

// cellStyle is what shows of a cell's attributes.
type cellStyle struct {
	fg, bg                       string
	bold, faint, italic, ul, rev bool
}

// diffVisibleStyle compares two captures of `tmux capture-pane -p -e` cell
// by cell and says where what shows differs, or "". A blank cell shows its
// background, underline and reverse (with its foreground, which reverse
// shows as background) and nothing else: tmux keeps the foreground of
// blank cells from whatever last wrote or erased them, which differs with
// the frames each program happened to draw and is never seen.
func diffVisibleStyle(a, b string) string {
	ca, cb := styledCells(a), styledCells(b)
	for y := range max(len(ca), len(cb)) {
		for x := range max(rowLen(ca, y), rowLen(cb, y)) {
			r1, s1 := cellAt(ca, x, y)
			r2, s2 := cellAt(cb, x, y)
			if r1 != r2 || visible(r1, s1) != visible(r2, s2) {
				return fmt.Sprintf("line %d column %d: local %q %+v, ssh %q %+v", y+1, x+1, r1, visible(r1, s1), r2, visible(r2, s2))
			}
		}
	}
	return ""
}

type styledCell struct {
	r rune
	s cellStyle
}

func rowLen(rows [][]styledCell, y int) int {
	if y < len(rows) {
		return len(rows[y])
	}
	return 0
}

func cellAt(rows [][]styledCell, x, y int) (rune, cellStyle) {
	if y < len(rows) && x < len(rows[y]) {
		return rows[y][x].r, rows[y][x].s
	}
	return ' ', cellStyle{}
}

func visible(r rune, s cellStyle) cellStyle {
	if r != ' ' {
		return s
	}
	v := cellStyle{bg: s.bg, ul: s.ul, rev: s.rev}
	if s.rev {
		v.fg = s.fg
	}
	return v
}

// styledCells reads a capture with escape sequences into cells; the
// attributes carry on from one line to the next, as tmux writes them.
func styledCells(capture string) [][]styledCell {
	var rows [][]styledCell
	var st cellStyle
	for _, line := range strings.Split(strings.TrimRight(capture, "\n"), "\n") {
		var row []styledCell
		for len(line) > 0 {
			if rest, ok := strings.CutPrefix(line, "\x1b["); ok {
				end := strings.IndexAny(rest, "@ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
				if end < 0 {
					break
				}
				if rest[end] == 'm' {
					st = applySGR(st, strings.Split(rest[:end], ";"))
				}
				line = rest[end+1:]
				continue
			}
			r, n := utf8.DecodeRuneInString(line)
			row = append(row, styledCell{r, st})
			line = line[n:]
		}
		rows = append(rows, row)
	}
	return rows
}

func applySGR(st cellStyle, params []string) cellStyle {
	for i := 0; i < len(params); i++ {
		switch p := params[i]; {
		case p == "" || p == "0":
			st = cellStyle{}
		case p == "1":
			st.bold = true
		case p == "2":
			st.faint = true
		case p == "3":
			st.italic = true
		case p == "4":
			st.ul = true
		case p == "7":
			st.rev = true
		case p == "22":
			st.bold, st.faint = false, false
		case p == "23":
			st.italic = false
		case p == "24":
			st.ul = false
		case p == "27":
			st.rev = false
		case p == "39":
			st.fg = ""
		case p == "49":
			st.bg = ""
		case p == "38" || p == "48":
			n := map[string]int{"5": 2, "2": 4}[params[min(i+1, len(params)-1)]]
			colour := strings.Join(params[i+1:min(i+1+n, len(params))], ";")
			if p == "38" {
				st.fg = colour
			} else {
				st.bg = colour
			}
			i += n
		case len(p) == 2 && (p[0] == '3' || p[0] == '9'):
			st.fg = p
		case len(p) == 2 && p[0] == '4' || len(p) == 3 && p[:2] == "10":
			st.bg = p
		}
	}
	return st
}

func TestDiffVisibleStyle(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		same bool
	}{
		{"\x1b[1mab\x1b[0m", "\x1b[1mab", true},
		{"\x1b[1mab", "ab", false},
		{"\x1b[90mab \x1b[39m\ncd", "\x1b[90mab\x1b[39m \ncd", true}, // a blank's foreground does not show
		{"\x1b[7mab \x1b[0m", "\x1b[7mab\x1b[0m ", false},            // a reversed blank does
		{"\x1b[38;5;196ma\x1b[48;2;1;2;3mb", "\x1b[38;5;196ma\x1b[48;2;1;2;3mb", true},
		{"\x1b[38;5;196ma", "\x1b[38;5;197ma", false},
		{"\x1b[44m \x1b[0m", " ", false},
	} {
		if d := diffVisibleStyle(tc.a, tc.b); (d == "") != tc.same {
			t.Errorf("%q and %q: %q", tc.a, tc.b, d)
		}
	}
}

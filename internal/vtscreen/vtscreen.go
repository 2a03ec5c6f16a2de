// Package vtscreen is a small terminal emulator for tests: it reads what a
// program writes to its terminal and keeps the text of the screen that a
// person would see, cell by cell. Colours and attributes are dropped.
//
// It understands what Bubble Tea v1's standard renderer and termenv write
// (cursor moves, CR and LF, erasing in line and in display, the alternate
// screen, SGR) and the common rest of an xterm's repertoire (scrolling
// regions, inserting and deleting, saving the cursor), so that a test can
// compare what two ways of running the console show. A sequence it does not
// know is recorded (Unknown) rather than guessed at, so a test can refuse a
// comparison made on a screen the emulator may have got wrong.
//
// It is test support: nothing in the product imports it.
package vtscreen

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"github.com/charmbracelet/x/ansi"
)

// Screen is a terminal of a fixed size. It is an io.Writer; every method is
// safe to call while another goroutine writes.
type Screen struct {
	mu      sync.Mutex
	w, h    int
	main    [][]rune
	alt     [][]rune
	cells   [][]rune // main or alt, whichever is shown
	onAlt   bool
	x, y    int  // the cursor, 0-based
	wrap    bool // the cursor is past the last column: the next rune wraps first
	top     int  // scrolling region, 0-based and inclusive
	bottom  int
	savedX  int
	savedY  int
	noWrap  bool // DECAWM off
	parser  parser
	unknown []string
	written int
}

// New returns a blank screen of w columns and h lines, cursor at the top
// left.
func New(w, h int) *Screen {
	s := &Screen{w: w, h: h}
	s.main, s.alt = blank(w, h), blank(w, h)
	s.cells = s.main
	s.bottom = h - 1
	return s
}

// reset is RIS: everything as New left it but what was written so far.
func (s *Screen) reset() {
	s.main, s.alt = blank(s.w, s.h), blank(s.w, s.h)
	s.cells, s.onAlt = s.main, false
	s.x, s.y, s.wrap, s.savedX, s.savedY, s.noWrap = 0, 0, false, 0, 0, false
	s.top, s.bottom = 0, s.h-1
}

func blank(w, h int) [][]rune {
	rows := make([][]rune, h)
	for i := range rows {
		rows[i] = blankRow(w)
	}
	return rows
}

func blankRow(w int) []rune {
	row := make([]rune, w)
	for i := range row {
		row[i] = ' '
	}
	return row
}

// Write feeds the screen what a program wrote. It never fails.
func (s *Screen) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.written += len(p)
	for _, b := range p {
		s.parser.feed(s, b)
	}
	return len(p), nil
}

// Resize changes the screen's size as a terminal window does when it is
// dragged: what fits stays where it was, the rest is cut, new cells are
// blank, and the scrolling region is the whole screen again.
func (s *Screen) Resize(w, h int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	resize := func(old [][]rune) [][]rune {
		rows := blank(w, h)
		for y := range min(h, len(old)) {
			copy(rows[y], old[y][:min(w, len(old[y]))])
		}
		return rows
	}
	s.main, s.alt = resize(s.main), resize(s.alt)
	s.cells = s.main
	if s.onAlt {
		s.cells = s.alt
	}
	s.w, s.h = w, h
	s.top, s.bottom = 0, h-1
	s.moveTo(s.x, s.y)
	s.savedX, s.savedY = clamp(s.savedX, 0, w-1), clamp(s.savedY, 0, h-1)
}

// Lines returns the text of each line, every one exactly as wide as the
// screen (blank cells are spaces).
func (s *Screen) Lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, s.h)
	for i, row := range s.cells {
		var b strings.Builder
		for _, r := range row {
			if r != 0 { // 0: the right half of a wide character
				b.WriteRune(r)
			}
		}
		out[i] = b.String()
	}
	return out
}

// String is the screen's text, lines without their trailing blanks, joined
// by newlines: what `tmux capture-pane -p` prints.
func (s *Screen) String() string {
	lines := s.Lines()
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	return strings.Join(lines, "\n")
}

// Cursor returns the cursor's column and line, 0-based.
func (s *Screen) Cursor() (x, y int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.x, s.y
}

// AltScreen reports whether the alternate screen is shown.
func (s *Screen) AltScreen() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.onAlt
}

// Written is how many bytes the screen has been fed.
func (s *Screen) Written() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}

// Unknown returns the sequences the screen did not understand, as quoted
// strings, in the order they came.
func (s *Screen) Unknown() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.unknown...)
}

func (s *Screen) unknownSeq(seq string) {
	if len(s.unknown) < 100 {
		s.unknown = append(s.unknown, strconv.Quote(seq))
	}
}

// put draws one printable rune at the cursor.
func (s *Screen) put(r rune) {
	width := ansi.StringWidthWc(string(r))
	if width == 0 {
		return // a combining mark: the cell before keeps its base
	}
	if s.wrap && !s.noWrap {
		s.x, s.wrap = 0, false
		s.lineFeed()
	}
	if s.x+width > s.w {
		if s.noWrap {
			s.x = s.w - width
		} else {
			s.x = 0
			s.lineFeed()
		}
	}
	row := s.cells[s.y]
	row[s.x] = r
	if width == 2 {
		row[s.x+1] = 0
	}
	s.x += width
	if s.x >= s.w {
		s.x, s.wrap = s.w-1, true
	}
}

// lineFeed moves the cursor down a line, scrolling the region at its
// bottom.
func (s *Screen) lineFeed() {
	s.wrap = false
	if s.y == s.bottom {
		s.scrollUp(1)
		return
	}
	if s.y < s.h-1 {
		s.y++
	}
}

func (s *Screen) reverseIndex() {
	s.wrap = false
	if s.y == s.top {
		s.scrollDown(1)
		return
	}
	if s.y > 0 {
		s.y--
	}
}

// scrollUp moves the lines of the scrolling region up by n, blank lines
// coming in at its bottom.
func (s *Screen) scrollUp(n int) {
	n = min(n, s.bottom-s.top+1)
	region := s.cells[s.top : s.bottom+1]
	copy(region, region[n:])
	for i := len(region) - n; i < len(region); i++ {
		region[i] = blankRow(s.w)
	}
}

func (s *Screen) scrollDown(n int) {
	n = min(n, s.bottom-s.top+1)
	region := s.cells[s.top : s.bottom+1]
	copy(region[n:], region)
	for i := range n {
		region[i] = blankRow(s.w)
	}
}

func (s *Screen) moveTo(x, y int) {
	s.x, s.y, s.wrap = clamp(x, 0, s.w-1), clamp(y, 0, s.h-1), false
}

func clamp(n, lo, hi int) int { return min(max(n, lo), hi) }

func (s *Screen) eraseCells(y, from, to int) { // [from, to)
	row := s.cells[y]
	for x := max(from, 0); x < min(to, s.w); x++ {
		row[x] = ' '
	}
}

func (s *Screen) setAlt(on, clear bool) {
	if on == s.onAlt {
		return
	}
	s.onAlt = on
	if on {
		if clear {
			s.alt = blank(s.w, s.h)
		}
		s.cells = s.alt
	} else {
		s.cells = s.main
	}
}

// parser is the state of an escape sequence being read.
type parser struct {
	state  int
	seq    []byte // the whole sequence so far, for Unknown
	params []byte // CSI parameters and intermediates
	utf8   []byte // a rune split across writes
}

const (
	ground = iota
	escape
	escapeCharset // ESC ( and the like: one more byte
	csi
	str // OSC, DCS, APC, PM, SOS: until BEL or ST
	strEscape
)

func (p *parser) feed(s *Screen, b byte) {
	switch p.state {
	case ground:
		p.ground(s, b)
	case escape:
		p.escape(s, b)
	case escapeCharset:
		p.state = ground
	case csi:
		p.seq = append(p.seq, b)
		if b >= 0x40 && b <= 0x7e {
			p.state = ground
			s.csi(string(p.params), b, string(p.seq))
			return
		}
		p.params = append(p.params, b)
	case str:
		switch b {
		case 0x07:
			p.state = ground
		case 0x1b:
			p.state = strEscape
		}
	case strEscape:
		p.state = ground // ESC \ ends the string; anything else too
		if b != '\\' {
			p.escape(s, b)
		}
	}
}

func (p *parser) ground(s *Screen, b byte) {
	if len(p.utf8) > 0 || b >= 0x80 {
		p.utf8 = append(p.utf8, b)
		if !utf8.FullRune(p.utf8) {
			return
		}
		r, _ := utf8.DecodeRune(p.utf8)
		p.utf8 = p.utf8[:0]
		s.put(r)
		return
	}
	switch b {
	case 0x1b:
		p.state, p.seq = escape, append(p.seq[:0], b)
	case '\r':
		s.x, s.wrap = 0, false
	case '\n', 0x0b, 0x0c:
		s.lineFeed()
	case '\b':
		if s.x > 0 {
			s.x--
		}
		s.wrap = false
	case '\t':
		s.x = min((s.x/8+1)*8, s.w-1)
	case 0x07, 0x00, 0x0e, 0x0f:
	default:
		if b >= 0x20 && b < 0x7f {
			s.put(rune(b))
		}
	}
}

func (p *parser) escape(s *Screen, b byte) {
	p.seq = append(p.seq, b)
	p.state = ground
	switch b {
	case '[':
		p.state, p.params = csi, p.params[:0]
	case ']', 'P', '_', '^', 'X':
		p.state = str
	case '(', ')', '*', '+', '#', '%':
		p.state = escapeCharset
	case '7':
		s.savedX, s.savedY = s.x, s.y
	case '8':
		s.moveTo(s.savedX, s.savedY)
	case 'D':
		s.lineFeed()
	case 'E':
		s.x = 0
		s.lineFeed()
	case 'M':
		s.reverseIndex()
	case 'c':
		s.reset()
	case '=', '>', '\\':
	default:
		s.unknownSeq(string(p.seq))
	}
}

// csi carries out a control sequence: params holds its parameter and
// intermediate bytes, final its last byte.
func (s *Screen) csi(params string, final byte, seq string) {
	private := ""
	if params != "" && strings.IndexByte("<=>?", params[0]) >= 0 {
		private, params = params[:1], params[1:]
	}
	intermediate := ""
	if i := strings.IndexAny(params, " !\"#$%&'()*+,-./"); i >= 0 {
		intermediate, params = params[i:], params[:i]
	}
	var args []int
	if params != "" {
		for _, f := range strings.Split(params, ";") {
			sub, _, _ := strings.Cut(f, ":")
			n, err := strconv.Atoi(sub)
			if sub != "" && err != nil {
				s.unknownSeq(seq)
				return
			}
			args = append(args, n)
		}
	}
	arg := func(i, def int) int { // a missing or zero parameter is the default
		if i < len(args) && args[i] > 0 {
			return args[i]
		}
		return def
	}
	if intermediate != "" {
		if !(intermediate == " " && final == 'q') { // DECSCUSR, the cursor's shape
			s.unknownSeq(seq)
		}
		return
	}
	if private == "?" {
		switch final {
		case 'h', 'l':
			on := final == 'h'
			for _, mode := range args {
				switch mode {
				case 1049:
					if on {
						s.savedX, s.savedY = s.x, s.y
						s.setAlt(true, true)
					} else {
						s.setAlt(false, false)
						s.moveTo(s.savedX, s.savedY)
					}
				case 47, 1047:
					s.setAlt(on, mode == 1047)
				case 7:
					s.noWrap = !on
				case 1, 12, 25, 1000, 1002, 1003, 1004, 1005, 1006, 1015, 2004, 2026, 2027:
					// keys, blinking, cursor shown, mouse, focus, paste,
					// synchronized output: nothing on the screen changes
				default:
					s.unknownSeq(seq)
				}
			}
		case 'n', 'c', 'p', 'u': // reports and queries: no answer, nothing drawn
		default:
			s.unknownSeq(seq)
		}
		return
	}
	if private != "" {
		if final != 'c' && final != 'm' && final != 'u' && final != 'q' { // queries, key modes
			s.unknownSeq(seq)
		}
		return
	}
	switch final {
	case 'A': // stops at the region's top, if the cursor is in the region
		limit := 0
		if s.y >= s.top {
			limit = s.top
		}
		s.moveTo(s.x, max(s.y-arg(0, 1), limit))
	case 'B':
		limit := s.h - 1
		if s.y <= s.bottom {
			limit = s.bottom
		}
		s.moveTo(s.x, min(s.y+arg(0, 1), limit))
	case 'C':
		s.moveTo(s.x+arg(0, 1), s.y)
	case 'D':
		s.moveTo(s.x-arg(0, 1), s.y)
	case 'E':
		s.moveTo(0, s.y+arg(0, 1))
	case 'F':
		s.moveTo(0, s.y-arg(0, 1))
	case 'G', '`':
		s.moveTo(arg(0, 1)-1, s.y)
	case 'd':
		s.moveTo(s.x, arg(0, 1)-1)
	case 'H', 'f':
		s.moveTo(arg(1, 1)-1, arg(0, 1)-1)
	case 'J':
		switch arg(0, 0) {
		case 0:
			s.eraseCells(s.y, s.x, s.w)
			for y := s.y + 1; y < s.h; y++ {
				s.cells[y] = blankRow(s.w)
			}
		case 1:
			s.eraseCells(s.y, 0, s.x+1)
			for y := 0; y < s.y; y++ {
				s.cells[y] = blankRow(s.w)
			}
		case 2, 3:
			for y := range s.cells {
				s.cells[y] = blankRow(s.w)
			}
		default:
			s.unknownSeq(seq)
		}
	case 'K':
		switch arg(0, 0) {
		case 0:
			s.eraseCells(s.y, s.x, s.w)
		case 1:
			s.eraseCells(s.y, 0, s.x+1)
		case 2:
			s.eraseCells(s.y, 0, s.w)
		default:
			s.unknownSeq(seq)
		}
		s.wrap = false
	case 'X':
		s.eraseCells(s.y, s.x, s.x+arg(0, 1))
	case '@':
		row, n := s.cells[s.y], min(arg(0, 1), s.w-s.x)
		copy(row[s.x+n:], row[s.x:])
		s.eraseCells(s.y, s.x, s.x+n)
	case 'P':
		row, n := s.cells[s.y], min(arg(0, 1), s.w-s.x)
		copy(row[s.x:], row[s.x+n:])
		s.eraseCells(s.y, s.w-n, s.w)
	case 'L', 'M':
		if s.y < s.top || s.y > s.bottom {
			return
		}
		top := s.top
		s.top = s.y
		if final == 'L' {
			s.scrollDown(arg(0, 1))
		} else {
			s.scrollUp(arg(0, 1))
		}
		s.top = top
		s.x = 0
	case 'S':
		s.scrollUp(arg(0, 1))
	case 'T':
		s.scrollDown(arg(0, 1))
	case 'r':
		top, bottom := arg(0, 1)-1, arg(1, s.h)-1
		if top < bottom && bottom < s.h {
			s.top, s.bottom = top, bottom
			s.moveTo(0, 0)
		}
	case 's':
		s.savedX, s.savedY = s.x, s.y
	case 'u':
		s.moveTo(s.savedX, s.savedY)
	case 'm', 'n', 'c', 't', 'h', 'l', 'q':
		// attributes, reports, window operations, ANSI modes (insert mode
		// is the one that would matter, and nothing here sets it)
		if (final == 'h' || final == 'l') && arg(0, 0) == 4 {
			s.unknownSeq(seq)
		}
	default:
		s.unknownSeq(seq)
	}
}

// Diff describes where two screens' texts differ, line by line, for a test
// failure; "" when they are equal.
func Diff(nameA string, a []string, nameB string, b []string) string {
	var out strings.Builder
	for i := range max(len(a), len(b)) {
		var la, lb string
		if i < len(a) {
			la = a[i]
		}
		if i < len(b) {
			lb = b[i]
		}
		if la != lb {
			fmt.Fprintf(&out, "line %d\n  %-6s %q\n  %-6s %q\n", i+1, nameA, la, nameB, lb)
		}
	}
	return out.String()
}

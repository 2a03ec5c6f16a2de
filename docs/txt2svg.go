//go:build ignore

// txt2svg renders a terminal screen captured as text (tmux capture-pane -p)
// as an SVG picture of a dark terminal window:
//
//	go run docs/txt2svg.go in.txt out.svg
//
// Every line is a <text> element on a fixed grid of cells, so columns line up
// whatever monospace font the viewer has. The block characters ▀ ▄ █ ▌ ▐
// are drawn as filled rectangles instead of glyphs: a QR code drawn with half
// blocks then comes out exact, with square modules and no gaps between
// lines, and scans from the picture. Blocks are filled with the foreground
// colour, as a terminal without colours (NO_COLOR) on a dark theme shows
// them. Every rune is taken to be one cell wide, as all the console's
// characters are.
package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"
)

const (
	cols, rows = 80, 24 // the least drawn; a larger capture grows the picture
	cellW      = 9.0    // DejaVu Sans Mono's advance at fontSize is 9.03
	cellH      = 18.0   // two square half-block modules of 9 x 9
	fontSize   = 15.0
	baseline   = 14.0 // from the top of a cell
	pad        = 14.0 // between the frame and the text
	barH       = 28.0 // the title bar
	background = "#1e1e1e"
	foreground = "#e5e5e5"
	fontFamily = "DejaVu Sans Mono, Menlo, Consolas, monospace"
)

// block is the part of a cell a block character fills: top and bottom as
// fractions of the cell's height, x0 and x1 of its width.
type block struct{ top, bottom, x0, x1 float64 }

var blocks = map[rune]block{
	'█': {0, 1, 0, 1},
	'▀': {0, 0.5, 0, 1},
	'▄': {0.5, 1, 0, 1},
	'▌': {0, 1, 0, 0.5},
	'▐': {0, 1, 0.5, 1},
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: go run docs/txt2svg.go in.txt out.svg")
		os.Exit(2)
	}
	data, err := os.ReadFile(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	out, err := os.Create(os.Args[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	w := bufio.NewWriter(out)
	render(w, screenLines(string(data)))
	if err := w.Flush(); err == nil {
		err = out.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// screenLines splits a capture into lines of runes, without the final
// newline, control characters or trailing spaces.
func screenLines(s string) [][]rune {
	s = strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var lines [][]rune
	for _, l := range strings.Split(s, "\n") {
		var rs []rune
		for _, r := range l {
			switch {
			case r == '\t':
				rs = append(rs, ' ')
			case r < 0x20 || r == 0x7f || r == 0xfffd || (r >= 0x80 && r < 0xa0):
				// not a character a screen shows, nor valid XML
			default:
				rs = append(rs, r)
			}
		}
		lines = append(lines, []rune(strings.TrimRight(string(rs), " ")))
	}
	return lines
}

func render(w *bufio.Writer, lines [][]rune) {
	nCols, nRows := cols, max(rows, len(lines))
	for _, l := range lines {
		nCols = max(nCols, len(l))
	}
	width := 2*pad + float64(nCols)*cellW
	height := barH + 2*pad + float64(nRows)*cellH
	x0, y0 := pad, barH+pad

	fmt.Fprintf(w, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g">`+"\n",
		width, height, width, height)
	fmt.Fprintf(w, `<rect width="%g" height="%g" rx="9" ry="9" fill="%s" stroke="#444" stroke-width="1"/>`+"\n",
		width, height, background)
	fmt.Fprintf(w, `<path d="M0.5 %g V9 A8.5 8.5 0 0 1 9 0.5 H%g A8.5 8.5 0 0 1 %g 9 V%g Z" fill="#2d2d2d"/>`+"\n",
		barH, width-9, width-0.5, barH)
	fmt.Fprintf(w, `<line x1="0.5" y1="%g" x2="%g" y2="%g" stroke="#444" stroke-width="1"/>`+"\n", barH, width-0.5, barH)
	for i, c := range []string{"#ff5f57", "#febc2e", "#28c840"} {
		fmt.Fprintf(w, `<circle cx="%g" cy="%g" r="6" fill="%s"/>`+"\n", 20+float64(i)*20, barH/2, c)
	}

	// Blocks: one rectangle per run of cells filling the same part.
	fmt.Fprintf(w, `<g fill="%s" shape-rendering="crispEdges">`+"\n", foreground)
	for y, l := range lines {
		for x := 0; x < len(l); {
			b, ok := blocks[l[x]]
			if !ok {
				x++
				continue
			}
			end := x + 1
			for end < len(l) && blocks[l[end]] == b && (b.x0 == 0 && b.x1 == 1) {
				end++
			}
			fmt.Fprintf(w, `<rect x="%g" y="%g" width="%g" height="%g"/>`+"\n",
				x0+(float64(x)+b.x0)*cellW, y0+(float64(y)+b.top)*cellH,
				(float64(end-x-1)+b.x1-b.x0)*cellW, (b.bottom-b.top)*cellH)
			x = end
		}
	}
	fmt.Fprintln(w, `</g>`)

	// Text: blocks become spaces, so that the grid stays whole.
	fmt.Fprintf(w, `<g font-family="%s" font-size="%g" fill="%s">`+"\n", fontFamily, fontSize, foreground)
	for y, l := range lines {
		text := make([]rune, len(l))
		for i, r := range l {
			if _, ok := blocks[r]; ok {
				r = ' '
			}
			text[i] = r
		}
		s := strings.TrimRight(string(text), " ")
		if s == "" {
			continue
		}
		n := len([]rune(s))
		// textLength holds every line to the grid when the viewer's font is
		// not exactly cellW wide.
		fmt.Fprintf(w, `<text x="%g" y="%g" xml:space="preserve" textLength="%g" lengthAdjust="spacing">%s</text>`+"\n",
			x0, y0+float64(y)*cellH+baseline, float64(n)*cellW, escape(s))
	}
	fmt.Fprintln(w, `</g>`)
	fmt.Fprintln(w, `</svg>`)
}

func escape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/smartnumbers/smartmfa/internal/core"
)

// Column widths for user-supplied text in tables: long values are cut with
// an ellipsis so that one row cannot push the others off the screen. JSON
// output is never cut.
const (
	colName   = 40
	colDetail = 60
)

// writeJSON prints v indented, for scripts: stable lowercase field names,
// arrays for lists, times in RFC 3339 UTC.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// table writes aligned columns with a header line; Flush prints them.
type table struct{ tw *tabwriter.Writer }

// newTable starts a table with its header line.
func newTable(w io.Writer, header ...any) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)}
	t.row(header...)
	return t
}

// row writes one line; every string cell must already be cleaned, since a
// tab or newline inside a cell would break the columns.
func (t *table) row(cells ...any) {
	for i, c := range cells {
		if i > 0 {
			fmt.Fprint(t.tw, "\t")
		}
		fmt.Fprint(t.tw, c)
	}
	fmt.Fprint(t.tw, "\n")
}

// flush aligns and prints the rows.
func (t *table) flush() error { return t.tw.Flush() }

// clean makes user-supplied text safe for a terminal and cuts it to max
// characters; dash stands in for empty text so columns stay readable.
func clean(s string, max int) string {
	if s == "" {
		return "-"
	}
	return core.CleanText(s, max)
}

// jsonText cleans user-supplied text for JSON output without cutting it:
// JSON escapes control characters, but not the invisible formatting ones
// that could disguise a name when the output reaches a terminal.
func jsonText(s string) string { return core.CleanText(s, 0) }

// jsonTime is the one time format of --json output.
func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// tableTime is the time format of tables, always UTC so that output from
// different hosts compares.
func tableTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05Z") }

// onOff shows a boolean setting the way the command line spells it.
func onOff(b bool) string {
	if b {
		return "on"
	}
	return "off"
}

// parseOnOff reads an on|off argument; anything else is a wrong command line.
func parseOnOff(what, s string) (bool, error) {
	switch s {
	case "on":
		return true, nil
	case "off":
		return false, nil
	}
	return false, usageError{fmt.Sprintf("%s must be on or off, not %s", what, quote(s))}
}

// plural returns "1 user" or "2 users".
func plural(n int, one, many string) string {
	if n == 1 {
		return fmt.Sprintf("%d %s", n, one)
	}
	return fmt.Sprintf("%d %s", n, many)
}

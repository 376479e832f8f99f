package main

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/width"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// Human output. Every text a user or agent wrote (titles, descriptions,
// assignees, actors, comments, reasons, IDs typed on the command line)
// passes through display before it reaches the terminal; --json output
// keeps the exact text.

const timeLayout = "2006-01-02 15:04:05"

func localTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.Local().Format(timeLayout)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// display makes s safe to print on a terminal: control characters (C0,
// DEL, C1: escape sequences such as OSC 52, which writes the clipboard, or
// ESC[2J, which clears the screen), bidi and other invisible format
// characters (U+202E turns the text after it around), and line and
// paragraph separators are shown escaped, as \x1b or \u202e, so that
// nothing acts and nothing hides; invalid UTF-8 becomes U+FFFD.
func display(s string) string {
	if safeASCII(s) {
		return s // the common case in long lists
	}
	var b strings.Builder
	for _, r := range strings.ToValidUTF8(s, "\ufffd") {
		switch {
		case r == '\t':
			b.WriteRune(r) // harmless, and part of pasted code
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20, r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafeRune(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// safeASCII reports whether s is printable ASCII only (a tab makes it
// false, to be looked at rune by rune).
func safeASCII(s string) bool {
	for i := range len(s) {
		if s[i]-0x20 >= 0x7f-0x20 { // below 0x20 wraps around: one test for both ends
			return false
		}
	}
	return true
}

// unsafeRune reports whether r, beyond ASCII, is a control or an invisible
// format character (bidi marks, embeddings, overrides and isolates, zero
// width spaces and joiners) or a line or paragraph separator.
func unsafeRune(r rune) bool {
	return r >= 0x80 && (unicode.Is(unicode.Cc, r) || unicode.Is(unicode.Cf, r) || unicode.Is(unicode.Zl, r) || unicode.Is(unicode.Zp, r))
}

// runeWidth is how many terminal columns r takes: 2 for East Asian wide and
// full-width characters, 0 for combining marks, else 1.
func runeWidth(r rune) int {
	if r < 0x300 {
		return 1
	}
	if unicode.In(r, unicode.Mn, unicode.Me) {
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}

// displayWidth is how many terminal columns s takes.
func displayWidth(s string) int {
	if safeASCII(s) {
		return len(s)
	}
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

// pad writes s and then spaces up to n columns.
func pad(s string, n int) string {
	if w := displayWidth(s); w < n {
		return s + strings.Repeat(" ", n-w)
	}
	return s
}

// columns writes rows as left-aligned columns two spaces apart, aligned by
// display width; the last column is not padded. Cells must already be
// displayable (see display and oneLine).
func columns(w io.Writer, rows [][]string) {
	if len(rows) == 0 {
		return
	}
	var widths []int
	cells := make([]int, 0, len(rows)*len(rows[0])) // each cell's width, measured once
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			cw := displayWidth(c)
			cells = append(cells, cw)
			widths[i] = max(widths[i], cw)
		}
	}
	var line []byte
	k := 0
	for _, r := range rows {
		line = line[:0]
		for i, c := range r {
			line = append(line, c...)
			if i < len(r)-1 {
				for range widths[i] - cells[k] + 2 {
					line = append(line, ' ')
				}
			}
			k++
		}
		line = append(line, '\n')
		w.Write(line)
	}
}

// oneLine makes s displayable on one line of at most n columns: spaces
// folded, controls escaped, and cut with "..." if it is wider.
func oneLine(s string, n int) string {
	if len(s) <= n && safeASCII(s) && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s // already one tidy line: the common case in long lists
	}
	s = display(strings.Join(strings.Fields(s), " "))
	if displayWidth(s) <= n {
		return s
	}
	w := 0
	for i, r := range s {
		if w+runeWidth(r) > n-3 {
			return s[:i] + "..."
		}
		w += runeWidth(r)
	}
	return s
}

// Widths at which a cell is cut.
const (
	titleWidth = 72
	actorWidth = 32
)

// lines writes text, a line at a time, each displayable and indented.
func lines(w io.Writer, indent, text string) {
	for _, l := range strings.Split(strings.TrimRight(text, "\n"), "\n") {
		fmt.Fprintln(w, indent+display(l))
	}
}

func printItems(w io.Writer, items []tracker.Item) {
	if len(items) == 0 {
		fmt.Fprintln(w, "no work items")
		return
	}
	rows := make([][]string, 0, len(items)+1)
	rows = append(rows, []string{"ID", "STATUS", "PRIORITY", "TYPE", "ASSIGNEE", "TITLE"})
	for _, it := range items {
		rows = append(rows, []string{display(it.ID), string(it.Status), string(it.Priority), string(it.Type),
			oneLine(dash(it.Assignee), actorWidth), oneLine(it.Title, titleWidth)})
	}
	columns(w, rows)
}

// keyValues writes rows of a name and a value, indented, the values
// aligned.
func keyValues(w io.Writer, rows [][]string) {
	for _, r := range rows {
		r[0] = "  " + r[0]
	}
	columns(w, rows)
}

// printItem shows one item's card: the status (a status of blocked is set
// by hand, with its reason; waiting on other items shows as "waiting on"),
// the claim, its blockers with their states, and the items waiting on it.
func printItem(w io.Writer, c app.Card) {
	it := c.Item
	fmt.Fprintf(w, "%s  %s\n\n", display(it.ID), display(it.Title))
	status := string(it.Status)
	if it.Status == tracker.Blocked {
		status += " (set by hand"
		if it.StatusReason != "" {
			status += ": " + oneLine(it.StatusReason, titleWidth)
		}
		status += ")"
	}
	rows := [][]string{
		{"status", status},
		{"type", string(it.Type)},
		{"priority", string(it.Priority)},
		{"assignee", display(dash(it.Assignee))},
	}
	if cl := c.Claim; cl != nil {
		state := "held until " + localTime(cl.ExpiresAt)
		if cl.Expired {
			state = "expired at " + localTime(cl.ExpiresAt) + "; ready offers it again"
		}
		rows = append(rows, []string{"claim", oneLine(cl.Holder, actorWidth) + ", since " + localTime(cl.Since) + ", " + state})
	}
	rows = append(rows, []string{"initiative", display(dash(it.Initiative))})
	if len(c.Blockers) > 0 {
		rows = append(rows, []string{"waiting on", refs(c.Blockers)})
	}
	if len(c.Blocks) > 0 {
		rows = append(rows, []string{"blocks", refs(c.Blocks)})
	}
	rows = append(rows, []string{"version", strconv.FormatInt(it.Version, 10)},
		[]string{"created", localTime(it.CreatedAt)}, []string{"updated", localTime(it.UpdatedAt)})
	keyValues(w, rows)
	if it.Description != "" {
		fmt.Fprintln(w)
		lines(w, "  ", it.Description)
	}
	if len(it.Comments) > 0 {
		fmt.Fprintf(w, "\ncomments (%d)\n", len(it.Comments))
		for _, c := range it.Comments {
			fmt.Fprintf(w, "  %s  %s\n", localTime(c.Time), oneLine(c.Author, actorWidth))
			lines(w, "    ", c.Text)
		}
	}
}

func printHistory(w io.Writer, h []app.Entry) {
	rows := make([][]string, 0, len(h)+1)
	rows = append(rows, []string{"VER", "TIME", "ACTOR", "CHANGE"})
	for _, e := range h {
		r := e.Record
		rows = append(rows, []string{strconv.FormatInt(r.Version, 10), localTime(r.Time),
			oneLine(dash(r.Metadata.Actor), actorWidth), display(e.Summary)})
	}
	columns(w, rows)
}

// printLogRecord writes one line of jerry log: position, time, stream,
// version, actor and summary, what changed.
func printLogRecord(w io.Writer, rec es.Record, summary string) {
	fmt.Fprintf(w, "%7d  %s  %s %-6s %s %s\n", rec.Position, localTime(rec.Time),
		pad(display(app.StreamLabel(rec.Stream)), 12), fmt.Sprintf("v%d", rec.Version),
		pad(oneLine(dash(rec.Metadata.Actor), actorWidth), 14), display(summary))
}

func printInitiatives(w io.Writer, list []tracker.InitiativeState) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no initiatives")
		return
	}
	rows := make([][]string, 0, len(list)+1)
	rows = append(rows, []string{"ID", "STATUS", "ITEMS", "TITLE"})
	for _, in := range list {
		rows = append(rows, []string{display(in.ID), string(in.Status), strconv.Itoa(len(in.Members)), oneLine(in.Title, titleWidth)})
	}
	columns(w, rows)
}

// printInitiative shows one initiative and its members.
func printInitiative(w io.Writer, in tracker.InitiativeState, members []app.Member) {
	fmt.Fprintf(w, "%s  %s\n\n", display(in.ID), display(in.Title))
	keyValues(w, [][]string{{"status", string(in.Status)}, {"version", strconv.FormatInt(in.Version, 10)},
		{"created", localTime(in.CreatedAt)}, {"updated", localTime(in.UpdatedAt)}})
	if in.Description != "" {
		fmt.Fprintln(w)
		lines(w, "  ", in.Description)
	}
	items := make([]tracker.Item, len(members))
	for i, m := range members {
		items[i] = m.Item
		if m.Err != nil {
			items[i].Title = "(" + app.Explain(m.Err).Message + ")"
		}
	}
	fmt.Fprintf(w, "\nwork items (%d)\n", len(items))
	if len(items) > 0 {
		printItems(w, items)
	}
}

// printChange reports a write: what it recorded, or that nothing changed.
func printChange(w io.Writer, id string, version int64, events []any) {
	if len(events) == 0 {
		fmt.Fprintf(w, "%s: nothing to change (version %d)\n", display(id), version)
		return
	}
	for _, e := range events {
		fmt.Fprintf(w, "%s: %s\n", display(id), display(tracker.Describe(e)))
	}
}

// refs lists other items with their states: "J-1 (in_progress, alice)".
func refs(bs []tracker.BlockerState) string {
	parts := make([]string, len(bs))
	for i, b := range bs {
		st := string(b.Status)
		if st == "" {
			st = "unknown"
		}
		if b.Assignee != "" {
			st += ", " + oneLine(b.Assignee, actorWidth)
		}
		parts[i] = display(b.ID) + " (" + st + ")"
	}
	return strings.Join(parts, ", ")
}

// cardItems returns the items of cards, for the tables.
func cardItems(cards []app.Card) []tracker.Item {
	out := make([]tracker.Item, len(cards))
	for i, c := range cards {
		out[i] = c.Item
	}
	return out
}

// printStuck shows what cannot move now, and why.
func printStuck(w io.Writer, stuck []app.Stuck) {
	if len(stuck) == 0 {
		fmt.Fprintln(w, "nothing is blocked")
		return
	}
	rows := [][]string{{"ID", "STATUS", "ASSIGNEE", "WHY", "TITLE"}}
	for _, s := range stuck {
		var why []string
		if len(s.Why.Blockers) > 0 {
			why = append(why, "waiting on "+refs(s.Why.Blockers))
		}
		if s.Why.Manual {
			m := "blocked by hand"
			if s.Why.Reason != "" {
				m += ": " + oneLine(s.Why.Reason, titleWidth)
			}
			why = append(why, m)
		}
		if s.Why.Expired {
			why = append(why, "claim expired")
		}
		rows = append(rows, []string{display(s.Item.ID), string(s.Item.Status), oneLine(dash(s.Item.Assignee), actorWidth),
			strings.Join(why, "; "), oneLine(s.Item.Title, titleWidth)})
	}
	columns(w, rows)
}

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// The --json shapes. Their fields are a contract (DESIGN.md section 5):
// add none without updating it.

type itemJSON struct {
	ID          string        `json:"id"`
	Title       string        `json:"title"`
	Description string        `json:"description"`
	Type        string        `json:"type"`
	Status      string        `json:"status"`
	Priority    string        `json:"priority"`
	Assignee    string        `json:"assignee"`
	Initiative  string        `json:"initiative"`
	Comments    []commentJSON `json:"comments"`
	Version     int64         `json:"version"`
	CreatedAt   time.Time     `json:"created_at"`
	UpdatedAt   time.Time     `json:"updated_at"`
}

type commentJSON struct {
	Author string    `json:"author"`
	Time   time.Time `json:"time"`
	Text   string    `json:"text"`
}

func itemView(it tracker.Item) itemJSON {
	cs := make([]commentJSON, len(it.Comments))
	for i, c := range it.Comments {
		cs[i] = commentJSON{Author: c.Author, Time: c.Time.UTC(), Text: c.Text}
	}
	return itemJSON{ID: it.ID, Title: it.Title, Description: it.Description, Type: string(it.Type),
		Status: string(it.Status), Priority: string(it.Priority), Assignee: it.Assignee, Initiative: it.Initiative,
		Comments: cs, Version: it.Version, CreatedAt: it.CreatedAt.UTC(), UpdatedAt: it.UpdatedAt.UTC()}
}

func itemViews(items []tracker.Item) []itemJSON {
	out := make([]itemJSON, len(items))
	for i, it := range items {
		out[i] = itemView(it)
	}
	return out
}

type initiativeJSON struct {
	ID          string    `json:"id"`
	Title       string    `json:"title"`
	Description string    `json:"description"`
	Status      string    `json:"status"`
	Members     []string  `json:"members"`
	Version     int64     `json:"version"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
}

func initiativeView(s tracker.InitiativeState) initiativeJSON {
	m := s.Members
	if m == nil {
		m = []string{}
	}
	return initiativeJSON{ID: s.ID, Title: s.Title, Description: s.Description, Status: string(s.Status),
		Members: m, Version: s.Version, CreatedAt: s.CreatedAt.UTC(), UpdatedAt: s.UpdatedAt.UTC()}
}

type historyJSON struct {
	Version  int64           `json:"version"`
	Position int64           `json:"position"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	Actor    string          `json:"actor"`
	Data     json.RawMessage `json:"data"`
}

func historyView(h []app.Entry) []historyJSON {
	out := make([]historyJSON, len(h))
	for i, e := range h {
		r := e.Record
		out[i] = historyJSON{Version: r.Version, Position: r.Position, Type: r.Type, Time: r.Time, Actor: r.Metadata.Actor, Data: r.Data}
	}
	return out
}

type logJSON struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	Type     string          `json:"type"`
	Time     time.Time       `json:"time"`
	ID       uuid.UUID       `json:"id"`
	Data     json.RawMessage `json:"data"`
	Metadata es.Metadata     `json:"metadata"`
}

func logView(r es.Record) logJSON {
	return logJSON{Position: r.Position, Stream: r.Stream, Version: r.Version, Type: r.Type, Time: r.Time, ID: r.ID, Data: r.Data, Metadata: r.Metadata}
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// Human output.

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

func table(w io.Writer) *tabwriter.Writer { return tabwriter.NewWriter(w, 0, 0, 2, ' ', 0) }

// columns writes rows as left-aligned columns two spaces apart; the last
// column is not padded. It is tabwriter without the per-cell cost, for long
// lists.
func columns(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, cell := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], utf8.RuneCountInString(cell))
		}
	}
	var line []byte
	for _, r := range rows {
		line = line[:0]
		for i, cell := range r {
			line = append(line, cell...)
			if i < len(r)-1 {
				for range widths[i] - utf8.RuneCountInString(cell) + 2 {
					line = append(line, ' ')
				}
			}
		}
		line = append(line, '\n')
		w.Write(line)
	}
}

// oneLine flattens s and cuts it to n runes.
func oneLine(s string, n int) string {
	if len(s) <= n && !strings.ContainsAny(s, "\t\n\r\v\f") && !strings.Contains(s, "  ") && strings.TrimSpace(s) == s {
		return s // already one tidy line: the common case in long lists
	}
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > n {
		return string(r[:n-3]) + "..."
	}
	return s
}

func printItems(w io.Writer, items []tracker.Item) {
	if len(items) == 0 {
		fmt.Fprintln(w, "no work items")
		return
	}
	rows := make([][]string, 0, len(items)+1)
	rows = append(rows, []string{"ID", "STATUS", "PRIORITY", "TYPE", "ASSIGNEE", "TITLE"})
	for _, it := range items {
		rows = append(rows, []string{it.ID, string(it.Status), string(it.Priority), string(it.Type), dash(it.Assignee), oneLine(it.Title, 72)})
	}
	columns(w, rows)
}

// printItem shows one item. statusOf, if not nil, tells the blockers'
// statuses.
func printItem(w io.Writer, it tracker.Item, statusOf func(string) string) {
	fmt.Fprintf(w, "%s  %s\n\n", it.ID, it.Title)
	tw := table(w)
	row := func(k, v string) { fmt.Fprintf(tw, "  %s\t%s\n", k, v) }
	row("status", string(it.Status))
	row("type", string(it.Type))
	row("priority", string(it.Priority))
	row("assignee", dash(it.Assignee))
	row("initiative", dash(it.Initiative))
	if len(it.Blockers) > 0 {
		bs := make([]string, len(it.Blockers))
		for i, b := range it.Blockers {
			bs[i] = b
			if statusOf != nil {
				bs[i] += " (" + statusOf(b) + ")"
			}
		}
		row("blocked by", strings.Join(bs, ", "))
	}
	row("version", fmt.Sprint(it.Version))
	row("created", localTime(it.CreatedAt))
	row("updated", localTime(it.UpdatedAt))
	tw.Flush()
	if it.Description != "" {
		fmt.Fprintln(w)
		for _, l := range strings.Split(strings.TrimRight(it.Description, "\n"), "\n") {
			fmt.Fprintln(w, "  "+l)
		}
	}
	if len(it.Comments) > 0 {
		fmt.Fprintf(w, "\ncomments (%d)\n", len(it.Comments))
		for _, c := range it.Comments {
			fmt.Fprintf(w, "  %s  %s\n", localTime(c.Time), c.Author)
			for _, l := range strings.Split(strings.TrimRight(c.Text, "\n"), "\n") {
				fmt.Fprintln(w, "    "+l)
			}
		}
	}
}

func printHistory(w io.Writer, h []app.Entry) {
	tw := table(w)
	fmt.Fprintln(tw, "VER\tTIME\tACTOR\tCHANGE")
	for _, e := range h {
		r := e.Record
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Version, localTime(r.Time), dash(r.Metadata.Actor), e.Summary)
	}
	tw.Flush()
}

func printInitiatives(w io.Writer, list []tracker.InitiativeState) {
	if len(list) == 0 {
		fmt.Fprintln(w, "no initiatives")
		return
	}
	tw := table(w)
	fmt.Fprintln(tw, "ID\tSTATUS\tITEMS\tTITLE")
	for _, in := range list {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", in.ID, in.Status, len(in.Members), oneLine(in.Title, 72))
	}
	tw.Flush()
}

// printChange reports a write: what it recorded, or that nothing changed.
func printChange(w io.Writer, id string, version int64, events []any) {
	if len(events) == 0 {
		fmt.Fprintf(w, "%s: nothing to change (version %d)\n", id, version)
		return
	}
	for _, e := range events {
		fmt.Fprintf(w, "%s: %s\n", id, tracker.Describe(e))
	}
}

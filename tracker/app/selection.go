package app

import (
	"strings"

	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// Selection is the filter every face offers over items (jerry list's
// flags, the API's and the board's query parameters), as the text a person
// or agent typed. Values of one field are alternatives; different fields
// must all hold (Labels: every one). "none" among Assignees or Initiatives
// stands for none: unassigned, in no initiative. A face only splits its
// input into the fields; Narrow reads them.
type Selection struct {
	Statuses    []string
	Assignees   []string
	Types       []string
	Priorities  []string
	Labels      []string
	Initiatives []string
}

// Narrow reads the selection into q's matching fields, appending to what
// they hold. A value that cannot be read is an error of the tracker's
// (tracker.ErrInvalidStatus, ...), which names the field.
func (sel Selection) Narrow(q *board.Query) error {
	for _, s := range sel.Statuses {
		st, err := tracker.ParseStatus(s)
		if err != nil {
			return err
		}
		q.Statuses = append(q.Statuses, st)
	}
	for _, s := range sel.Types {
		t, err := tracker.ParseType(s)
		if err != nil {
			return err
		}
		q.Types = append(q.Types, t)
	}
	for _, s := range sel.Priorities {
		p, err := tracker.ParsePriority(s)
		if err != nil {
			return err
		}
		q.Priorities = append(q.Priorities, p)
	}
	for _, s := range sel.Labels {
		l, err := tracker.ParseLabel(s)
		if err != nil {
			return err
		}
		q.Labels = append(q.Labels, l)
	}
	q.Assignees = append(q.Assignees, orNone(sel.Assignees)...)
	q.Initiatives = append(q.Initiatives, orNone(sel.Initiatives)...)
	return nil
}

// orNone trims each value, and reads "none" as "".
func orNone(vals []string) []string {
	out := make([]string, 0, len(vals))
	for _, v := range vals {
		v = strings.TrimSpace(v)
		if strings.EqualFold(v, "none") {
			v = ""
		}
		out = append(out, v)
	}
	return out
}

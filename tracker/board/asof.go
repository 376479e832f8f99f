package board

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"

	"github.com/jerry-es/jerry/tracker"
)

// Lists as of a time read each item's state intervals (intervals.go) in
// ID order and keep those whose state then matches: a list by ID with a
// limit stops as soon as it has enough; other orders and filters read
// every item's intervals, a few hundred bytes each.

// itemsAsOf answers q as of q.AsOf.
func (b *Board) itemsAsOf(ctx context.Context, tx *sql.Tx, q Query, ready bool) ([]tracker.Item, error) {
	t := micros(q.AsOf)
	query, args := "SELECT id, intervals, times FROM items ORDER BY num, id", []any(nil)
	if q.itemID != "" {
		query, args = "SELECT id, intervals, times FROM items WHERE id = ?", []any{q.itemID}
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	byID := q.Sort == "" || q.Sort == ByID
	blockers := &statesAsOf{tx: tx, t: t, seen: make(map[string]string)}
	var out []tracker.Item
	var st rawState
	for rows.Next() {
		var id string
		var intervals, times sql.RawBytes
		if err := rows.Scan(&id, &intervals, &times); err != nil {
			return nil, err
		}
		found, ok, _ := stateAt(intervals, t, &st)
		if !ok {
			return nil, fmt.Errorf("%w: state intervals of %s", ErrDamaged, id)
		}
		if !found || !q.matches(&st, ready) {
			continue
		}
		it, err := itemOf(id, st.state(), times, t)
		if err != nil {
			return nil, err
		}
		if ready {
			done, err := blockers.allDone(ctx, it.Blockers)
			if err != nil {
				return nil, err
			}
			if !done {
				continue
			}
		}
		out = append(out, it)
		if byID && q.Limit > 0 && len(out) == q.Limit {
			break
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows.Close()
	if !byID {
		slices.SortFunc(out, q.Sort.compare)
		if q.Limit > 0 && len(out) > q.Limit {
			out = out[:q.Limit]
		}
	}
	return out, nil
}

// matches reports whether an item in state st is one q selects (the
// filters of where, read in Go).
func (q Query) matches(st *rawState, ready bool) bool {
	status := st.status()
	if status == "" || (len(q.Statuses) == 0 && !q.All && (status == string(tracker.Done) || status == string(tracker.Cancelled))) {
		return false
	}
	in := func(vals []string, v []byte) bool { return len(vals) == 0 || slices.Contains(vals, string(v)) }
	if !in(strs(q.Statuses), st.str[3]) || !in(q.Assignees, st.str[5]) || !in(strs(q.Types), st.str[2]) ||
		!in(strs(q.Priorities), st.str[4]) || !in(q.Initiatives, st.str[6]) {
		return false
	}
	if ready && (len(st.str[5]) != 0 || (status != string(tracker.Backlog) && status != string(tracker.Ready))) {
		return false
	}
	for _, l := range q.Labels {
		// labels is a JSON array of strings: look for the element.
		var ls []string
		if decodeList(string(st.str[7]), &ls) != nil || !slices.Contains(ls, l) {
			return false
		}
	}
	return true
}

// itemOf returns the item id in state st at time t, with its version and
// last change then from its event times.
func itemOf(id string, st listState, times []byte, t int64) (tracker.Item, error) {
	it := tracker.Item{ID: id, Title: st.title, Description: st.description, Type: tracker.ItemType(st.typ),
		Status: tracker.Status(st.status), Priority: tracker.Priority(st.priority), Assignee: st.assignee,
		Initiative: st.initiative, CreatedAt: fromMicros(st.created)}
	if err := decodeExtra(st.extra, &it); err != nil {
		return it, err
	}
	if err := decodeList(st.labels, &it.Labels); err != nil {
		return it, err
	}
	if err := decodeList(st.blockers, &it.Blockers); err != nil {
		return it, err
	}
	v, updated, ok := timeAt(times, t)
	if !ok || v == 0 {
		return it, fmt.Errorf("%w: no event times of %s as of %d", ErrDamaged, id, t)
	}
	it.Version, it.UpdatedAt = v, fromMicros(updated)
	return it, nil
}

// compare orders two items as s says.
func (s Sort) compare(x, y tracker.Item) int {
	byNum := func(x, y tracker.Item) int {
		return cmp.Or(cmp.Compare(idNumber(x.ID), idNumber(y.ID)), strings.Compare(x.ID, y.ID))
	}
	switch s {
	case ByPriority:
		return cmp.Or(cmp.Compare(x.Priority.Rank(), y.Priority.Rank()), x.CreatedAt.Compare(y.CreatedAt), byNum(x, y))
	case ByCreated:
		return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), byNum(y, x))
	case ByUpdated:
		return cmp.Or(y.UpdatedAt.Compare(x.UpdatedAt), byNum(y, x))
	}
	return byNum(x, y)
}

// statesAsOf looks up the statuses of items at time t, once each.
type statesAsOf struct {
	tx   *sql.Tx
	t    int64
	stmt *sql.Stmt
	seen map[string]string
}

// allDone reports whether every item of ids was done at the time.
func (s *statesAsOf) allDone(ctx context.Context, ids []string) (bool, error) {
	for _, id := range ids {
		status, ok := s.seen[id]
		if !ok {
			if s.stmt == nil {
				var err error
				if s.stmt, err = s.tx.PrepareContext(ctx, "SELECT intervals FROM items WHERE id = ?"); err != nil {
					return false, err
				}
			}
			var intervals []byte
			err := s.stmt.QueryRowContext(ctx, id).Scan(&intervals)
			if err != nil && err != sql.ErrNoRows {
				return false, err
			}
			var st rawState
			if found, valid, _ := stateAt(intervals, s.t, &st); !valid {
				return false, fmt.Errorf("%w: state intervals of %s", ErrDamaged, id)
			} else if found {
				status = st.status()
			}
			s.seen[id] = status
		}
		if status != string(tracker.Done) {
			return false, nil
		}
	}
	return true, nil
}

// membersAsOf returns the items that named an initiative at time t, as
// pairs of initiative and item, in ID order.
func membersAsOf(ctx context.Context, tx *sql.Tx, t int64) ([][2]string, error) {
	rows, err := tx.QueryContext(ctx, "SELECT id, intervals FROM items ORDER BY num, id")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out [][2]string
	var st rawState
	for rows.Next() {
		var id string
		var intervals sql.RawBytes
		if err := rows.Scan(&id, &intervals); err != nil {
			return nil, err
		}
		found, ok, _ := stateAt(intervals, t, &st)
		if !ok {
			return nil, fmt.Errorf("%w: state intervals of %s", ErrDamaged, id)
		}
		if found && len(st.str[6]) > 0 && st.status() != "" {
			out = append(out, [2]string{string(st.str[6]), id})
		}
	}
	return out, rows.Err()
}

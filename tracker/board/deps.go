package board

import (
	"context"
	"database/sql"
	"fmt"
	"github.com/jerry-es/jerry/tracker"
	"slices"
	"strconv"
	"strings"
	"time"
)

// DependencyPath returns a chain of blockers leading from work item from
// to work item to (from, b1, ..., to), or nil if there is none, and the
// version of the dependency graph stream, all read in one consistent cut
// of the model: the check that block makes before it reserves an edge
// with that version as the expected one. The edges are the items'
// blockers and the reservations their items have not gone past yet. It
// walks depth first, visiting each item once.
func (b *Board) DependencyPath(ctx context.Context, from, to string) (path []string, graphVersion int64, err error) {
	err = b.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT value FROM meta WHERE key = 'graph_version'").Scan(&graphVersion); err != nil {
			return err
		}
		edges, err := tx.PrepareContext(ctx, `SELECT x.blocker FROM items i JOIN blockers x ON x.rid = i.rid WHERE i.id = ?1
			UNION SELECT blocker FROM reservations WHERE item = ?1`)
		if err != nil {
			return err
		}
		defer edges.Close()
		parent := map[string]string{from: ""}
		stack := []string{from}
		for len(stack) > 0 {
			id := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if id == to {
				for at := id; at != ""; at = parent[at] {
					path = append(path, at)
				}
				slices.Reverse(path)
				return nil
			}
			rows, err := edges.QueryContext(ctx, id)
			if err != nil {
				return err
			}
			for rows.Next() {
				var bl string
				if err := rows.Scan(&bl); err != nil {
					rows.Close()
					return err
				}
				if _, seen := parent[bl]; !seen {
					parent[bl] = id
					stack = append(stack, bl)
				}
			}
			rows.Close()
			if err := rows.Err(); err != nil {
				return err
			}
		}
		return nil
	})
	return path, graphVersion, err
}

// maxVars is how many IDs one query names: SQLite limits the variables
// of a statement.
const maxVars = 500

// States returns what a card shows of each of the work items ids (ID,
// title, status, assignee) now, by ID; an ID the model lacks is missing.
func (b *Board) States(ctx context.Context, ids []string) (map[string]tracker.BlockerState, error) {
	// Each ID once (many items share a blocker), in one read of the model.
	ids = slices.Compact(slices.Sorted(slices.Values(ids)))
	out := make(map[string]tracker.BlockerState, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	err := b.read(ctx, func(tx *sql.Tx) error {
		for len(ids) > 0 {
			n := min(len(ids), maxVars)
			if err := states(ctx, tx, ids[:n], out); err != nil {
				return err
			}
			ids = ids[n:]
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func states(ctx context.Context, tx *sql.Tx, ids []string, out map[string]tracker.BlockerState) error {
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	// One packed column, as briefCols: the driver locks for each column.
	rows, err := tx.QueryContext(ctx, `SELECT octet_length(id) || ',' || octet_length(status) || ',' || octet_length(assignee) || ':' ||
		id || status || assignee || title FROM items WHERE status <> '' AND id IN (`+placeholders(len(ids))+")", args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	var packed string
	for rows.Next() {
		if err := rows.Scan(&packed); err != nil {
			return err
		}
		s, ok := unpackState(packed)
		if !ok {
			return fmt.Errorf("%w: state row %q", ErrDamaged, packed)
		}
		out[s.ID] = s
	}
	return rows.Err()
}

// unpackState reads a row of states: the byte lengths of ID, status and
// assignee, separated by commas and ended by a colon, then those texts and
// the title back to back; ok is false if it is malformed.
func unpackState(p string) (s tracker.BlockerState, ok bool) {
	head, body, ok := strings.Cut(p, ":")
	if !ok {
		return s, false
	}
	var f [3]string
	for k := range f {
		n, rest, found := strings.Cut(head, ",")
		if found == (k == len(f)-1) {
			return s, false
		}
		v, err := strconv.Atoi(n)
		if err != nil || v < 0 || v > len(body) {
			return s, false
		}
		f[k], body, head = body[:v], body[v:], rest
	}
	return tracker.BlockerState{ID: f[0], Status: tracker.Status(f[1]), Assignee: f[2], Title: body}, true
}

// Waiting returns, for each of the work items ids, the open items whose
// blockers include it, by ID number.
func (b *Board) Waiting(ctx context.Context, ids []string) (map[string][]tracker.BlockerState, error) {
	out := make(map[string][]tracker.BlockerState)
	for len(ids) > maxVars {
		if err := b.waiting(ctx, ids[:maxVars], out); err != nil {
			return nil, err
		}
		ids = ids[maxVars:]
	}
	return out, b.waiting(ctx, ids, out)
}

func (b *Board) waiting(ctx context.Context, ids []string, out map[string][]tracker.BlockerState) error {
	if len(ids) == 0 {
		return nil
	}
	return b.read(ctx, func(tx *sql.Tx) error {
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		rows, err := tx.QueryContext(ctx, `SELECT x.blocker, i.id, i.title, i.status, i.assignee FROM blockers x JOIN items i ON i.rid = x.rid
			WHERE x.blocker IN (`+placeholders(len(ids))+`) AND i.status NOT IN ('', 'done', 'cancelled') ORDER BY i.num, i.id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var bl, st string
			var s tracker.BlockerState
			if err := rows.Scan(&bl, &s.ID, &s.Title, &st, &s.Assignee); err != nil {
				return err
			}
			s.Status = tracker.Status(st)
			out[bl] = append(out[bl], s)
		}
		return rows.Err()
	})
}

// Stuck returns, by ID number, the open work items that cannot move at
// time now: those with a blocker that is not done, those whose status is
// blocked, and those held by a claim that has expired. With brief, each
// item holds what [Query.Brief] reads, and its blockers, claim and status
// reason: what says why it is stuck.
func (b *Board) Stuck(ctx context.Context, now time.Time, brief bool) ([]tracker.Item, error) {
	// The candidates come from the partial index items_stuck, in ID
	// order (its condition, unqualified, is the query's: no join here);
	// a claim there may not have expired yet.
	var out []tracker.Item
	err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = b.selectItems(ctx, tx, Query{Brief: brief, why: brief}, ` AND `+stuckCand+`
			AND (i.status = 'blocked' OR i.open_blockers > 0 OR i.expires <= ?)`, []any{micros(now)}, "")
		return err
	})
	return out, err
}

package board

import (
	"context"
	"database/sql"
	"slices"
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

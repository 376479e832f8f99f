package board

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// Entry is one event in the activity feed.
type Entry struct {
	Position int64     `json:"position"`
	Time     time.Time `json:"time"`
	Stream   string    `json:"stream"`
	// Item is the work item's or initiative's ID, "" for a bookkeeping
	// stream.
	Item    string `json:"item,omitempty"`
	Version int64  `json:"version"`
	Actor   string `json:"actor,omitempty"`
	Type    string `json:"type"`
	// Summary says in a few words what changed (tracker.Describe).
	Summary string `json:"summary"`
}

// FeedQuery selects events of the feed. Zero fields match everything.
type FeedQuery struct {
	// Since and Until bound the events' times, both inclusive.
	Since, Until time.Time
	// Items are work item or initiative IDs.
	Items []string
	// Actors are who recorded the events.
	Actors []string
	// Types are event type names; a name ending in "." (or a bare
	// aggregate type such as "workitem") matches every type it begins.
	Types []string
	// From is the least position.
	From int64
	// All includes the bookkeeping streams: ID counters and dependency
	// reservations.
	All bool
	// Reverse returns the entries newest first; by default they come in
	// log order.
	Reverse bool
	// Limit is the most entries returned, the first ones in the order
	// asked for: with Reverse, the latest. 0 means all.
	Limit int
}

// Feed returns the events q selects.
func (b *Board) Feed(ctx context.Context, q FeedQuery) ([]Entry, error) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "time >= ?"), append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "time <= ?"), append(args, micros(q.Until))
	}
	if q.From > 0 {
		conds, args = append(conds, "pos >= ?"), append(args, q.From)
	}
	if !q.All {
		conds = append(conds, "book = 0")
	}
	if len(q.Items) > 0 {
		var streams []string
		for _, id := range q.Items {
			streams = append(streams, itemPrefix+id, initiativePrefix+id)
		}
		conds = append(conds, "stream IN ("+placeholders(len(streams))+")")
		for _, s := range streams {
			args = append(args, s)
		}
	}
	if len(q.Actors) > 0 {
		conds = append(conds, "actor IN ("+placeholders(len(q.Actors))+")")
		for _, a := range q.Actors {
			args = append(args, a)
		}
	}
	if len(q.Types) > 0 {
		var alts []string
		for _, t := range q.Types {
			switch {
			case strings.HasSuffix(t, "."):
				alts, args = append(alts, "(type >= ? AND type < ?)"), append(args, t, t[:len(t)-1]+"/")
			case !strings.Contains(t, "."):
				alts, args = append(alts, "(type >= ? AND type < ?)"), append(args, t+".", t+"/")
			default:
				alts, args = append(alts, "type = ?"), append(args, t)
			}
		}
		conds = append(conds, "("+strings.Join(alts, " OR ")+")")
	}
	// Pick the index: SQLite cannot know how few rows a time bound or an
	// item leaves, and would walk the whole feed in position order.
	from := "feed"
	switch {
	case len(q.Items) > 0:
		from = "feed INDEXED BY feed_stream"
	case !q.Since.IsZero():
		from = "feed INDEXED BY feed_time"
	case len(q.Actors) > 0 && q.Limit == 0:
		from = "feed INDEXED BY feed_actor"
	}
	query := "SELECT pos, time, stream, version, actor, type, summary FROM " + from
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	if q.Reverse {
		query += " ORDER BY pos DESC"
	} else {
		query += " ORDER BY pos"
	}
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	var out []Entry
	err := b.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e Entry
			var t int64
			if err := rows.Scan(&e.Position, &t, &e.Stream, &e.Version, &e.Actor, &e.Type, &e.Summary); err != nil {
				return err
			}
			e.Time = fromMicros(t)
			switch {
			case strings.HasPrefix(e.Stream, itemPrefix):
				e.Item = e.Stream[len(itemPrefix):]
			case strings.HasPrefix(e.Stream, initiativePrefix):
				e.Item = e.Stream[len(initiativePrefix):]
			}
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

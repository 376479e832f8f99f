package board

import (
	"context"
	"database/sql"
	"fmt"
	"iter"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
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

// The feed is not a table of events: the log is one already, read by
// position. The model keeps, for each block of blockSize consecutive
// positions, what a filter needs to skip the block: the least and greatest
// event time in it, which actors and event types occur in it (as bits of
// a mask: names are given bits in the order they first appear, and the
// last bit stands for every name beyond), and how many of its events are
// an item's or an initiative's. A query picks the blocks that may hold a
// match with one indexed read, then reads those blocks of the log and
// keeps what matches exactly: its cost follows what it prints (and the
// blocks around it), not the size of the log. An item's events come from
// its stream when the log can read streams.
const blockSize = 256

// otherBit stands, in a mask, for every name that has no bit of its own.
const (
	nameBits = 63
	otherBit = uint64(1) << nameBits
)

func blockOf(pos int64) int64 { return (pos - 1) / blockSize }

// block is what the model keeps of one block of the log.
type block struct {
	minTime, maxTime int64
	types, actors    uint64
	visible          int64
}

// names gives actors and event types their bits.
type names map[string]uint64 // "a:" or "t:" + name -> bit

func (n names) bit(kind, name string) uint64 {
	if b, ok := n[kind+name]; ok {
		return b
	}
	return otherBit
}

// full reports whether every bit of kind is taken.
func (n names) full(kind string) bool { return n.count(kind) >= nameBits }

func (n names) count(kind string) int {
	c := 0
	for k := range n {
		if strings.HasPrefix(k, kind) {
			c++
		}
	}
	return c
}

func loadNames(ctx context.Context, tx *sql.Tx) (names, error) {
	rows, err := tx.QueryContext(ctx, "SELECT kind, name, bit FROM feed_names")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	n := make(names)
	for rows.Next() {
		var kind, name string
		var bit int64
		if err := rows.Scan(&kind, &name, &bit); err != nil {
			return nil, err
		}
		n[kind+name] = uint64(1) << bit
	}
	return n, rows.Err()
}

// streamReader is the part of an event store that reads one stream: the
// feed of an item reads its stream rather than the log's blocks.
type streamReader interface {
	ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error]
}

// Feed returns the events q selects, up to the model's position.
func (b *Board) Feed(ctx context.Context, q FeedQuery) ([]Entry, error) {
	var pos int64
	var blocks []int64
	var nm names
	err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		if pos, _, err = checkpoint(ctx, tx); err != nil {
			return err
		}
		if nm, err = loadNames(ctx, tx); err != nil {
			return err
		}
		if len(q.Items) > 0 {
			if _, ok := b.log.(streamReader); ok {
				return nil
			}
		}
		blocks, err = feedBlocks(ctx, tx, q, nm)
		return err
	})
	if err != nil {
		return nil, err
	}
	if sr, ok := b.log.(streamReader); ok && len(q.Items) > 0 {
		return b.itemFeed(ctx, sr, q, pos)
	}
	var out []Entry
	for _, blk := range blocks {
		first, last := max(blk*blockSize+1, q.From), min(blk*blockSize+blockSize, pos)
		if first > last {
			continue
		}
		var got []Entry
		for rec, err := range b.log.ReadLog(ctx, first) {
			if err != nil {
				return nil, fmt.Errorf("board: read the log: %w", err)
			}
			if rec.Position > last {
				break
			}
			e, ok, err := b.entry(rec, q)
			if err != nil {
				return nil, err
			}
			if ok {
				got = append(got, e)
			}
		}
		if q.Reverse {
			slices.Reverse(got)
		}
		out = append(out, got...)
		if q.Limit > 0 && len(out) >= q.Limit {
			return out[:q.Limit], nil
		}
	}
	return out, nil
}

// feedBlocks returns the blocks that may hold events q selects, in the
// order q asks for.
func feedBlocks(ctx context.Context, tx *sql.Tx, q FeedQuery, nm names) ([]int64, error) {
	var conds []string
	var args []any
	if !q.Since.IsZero() {
		conds, args = append(conds, "max_time >= ?"), append(args, micros(q.Since))
	}
	if !q.Until.IsZero() {
		conds, args = append(conds, "min_time <= ?"), append(args, micros(q.Until))
	}
	if q.From > 0 {
		conds, args = append(conds, "blk >= ?"), append(args, blockOf(q.From))
	}
	if !q.All {
		conds = append(conds, "visible > 0")
	}
	if len(q.Actors) > 0 {
		var m uint64
		for _, a := range q.Actors {
			m |= nm.bit("a:", a)
		}
		conds, args = append(conds, "actors & ? <> 0"), append(args, int64(m))
	}
	if len(q.Types) > 0 {
		var m uint64
		for _, t := range q.Types {
			for k, bit := range nm {
				if n, ok := strings.CutPrefix(k, "t:"); ok && typeMatches(t, n) {
					m |= bit
				}
			}
		}
		if nm.full("t:") {
			m |= otherBit
		}
		conds, args = append(conds, "types & ? <> 0"), append(args, int64(m))
	}
	query := "SELECT blk FROM feed_blocks"
	if len(conds) > 0 {
		query += " WHERE " + strings.Join(conds, " AND ")
	}
	if q.Reverse {
		query += " ORDER BY blk DESC"
	} else {
		query += " ORDER BY blk"
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var blk int64
		if err := rows.Scan(&blk); err != nil {
			return nil, err
		}
		out = append(out, blk)
	}
	return out, rows.Err()
}

// typeMatches reports whether event type typ is one that filter names: the
// type itself, or a prefix ending in "." or a bare aggregate type.
func typeMatches(filter, typ string) bool {
	switch {
	case strings.HasSuffix(filter, "."):
		return strings.HasPrefix(typ, filter)
	case !strings.Contains(filter, "."):
		return strings.HasPrefix(typ, filter+".")
	}
	return typ == filter
}

// itemFeed returns the events of q's items, read from their streams.
func (b *Board) itemFeed(ctx context.Context, sr streamReader, q FeedQuery, pos int64) ([]Entry, error) {
	var out []Entry
	for _, id := range q.Items {
		for _, stream := range []string{itemPrefix + id, initiativePrefix + id} {
			for rec, err := range sr.ReadStream(ctx, stream, 1, 0) {
				if err != nil {
					return nil, fmt.Errorf("board: read %s: %w", stream, err)
				}
				if rec.Position > pos {
					break
				}
				if rec.Position < q.From {
					continue
				}
				e, ok, err := b.entry(rec, q)
				if err != nil {
					return nil, err
				}
				if ok {
					out = append(out, e)
				}
			}
		}
	}
	slices.SortFunc(out, func(x, y Entry) int { return int(x.Position - y.Position) })
	out = slices.CompactFunc(out, func(x, y Entry) bool { return x.Position == y.Position })
	if q.Reverse {
		slices.Reverse(out)
	}
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// entry returns the feed entry of rec, and whether q selects it.
func (b *Board) entry(rec es.Record, q FeedQuery) (Entry, bool, error) {
	e := Entry{Position: rec.Position, Time: rec.Time, Stream: rec.Stream, Version: rec.Version, Actor: rec.Metadata.Actor, Type: rec.Type}
	switch {
	case strings.HasPrefix(rec.Stream, itemPrefix):
		e.Item = rec.Stream[len(itemPrefix):]
	case strings.HasPrefix(rec.Stream, initiativePrefix):
		e.Item = rec.Stream[len(initiativePrefix):]
	}
	if (e.Item == "" && !q.All) || rec.Position < q.From ||
		(!q.Since.IsZero() && rec.Time.Before(q.Since)) || (!q.Until.IsZero() && rec.Time.After(q.Until)) ||
		(len(q.Actors) > 0 && !slices.Contains(q.Actors, e.Actor)) ||
		(len(q.Types) > 0 && !slices.ContainsFunc(q.Types, func(t string) bool { return typeMatches(t, rec.Type) })) ||
		(len(q.Items) > 0 && !slices.Contains(q.Items, e.Item)) {
		return e, false, nil
	}
	s, err := b.summary(rec, e.Item != "")
	e.Summary = s
	return e, err == nil, err
}

// summary says what rec changed; an event of a type this version does not
// know, outside an item's or an initiative's stream, is shown by its type.
func (b *Board) summary(rec es.Record, ours bool) (string, error) {
	if _, known := b.reg.Schema(rec.Type); !known && !ours {
		return rec.Type, nil
	}
	data, err := b.reg.Decode(rec)
	if err != nil {
		return "", fmt.Errorf("board: decode the event at position %d: %w", rec.Position, err)
	}
	return tracker.Describe(data), nil
}

// feedAgg gathers the block summaries of the events a batch applies.
type feedAgg struct {
	names  names
	counts map[string]int // names of each kind
	added  [][3]any       // new names: kind, name, bit
	blocks map[int64]*block
}

func (f *feedAgg) reset(nm names) {
	f.names, f.added = nm, f.added[:0]
	f.counts = map[string]int{"a:": nm.count("a:"), "t:": nm.count("t:")}
	if f.blocks == nil {
		f.blocks = make(map[int64]*block)
	}
	clear(f.blocks)
}

// bitFor returns the bit of name, giving it the next free one if any.
func (f *feedAgg) bitFor(kind, name string) uint64 {
	if b, ok := f.names[kind+name]; ok {
		return b
	}
	n := f.counts[kind]
	if n >= nameBits {
		return otherBit
	}
	b := uint64(1) << n
	f.names[kind+name], f.counts[kind] = b, n+1
	f.added = append(f.added, [3]any{kind, name, n})
	return b
}

func (f *feedAgg) add(rec es.Record, t int64, visible bool) {
	blk := blockOf(rec.Position)
	bl := f.blocks[blk]
	if bl == nil {
		bl = &block{minTime: t, maxTime: t}
		f.blocks[blk] = bl
	}
	bl.minTime, bl.maxTime = min(bl.minTime, t), max(bl.maxTime, t)
	bl.types |= f.bitFor("t:", rec.Type)
	bl.actors |= f.bitFor("a:", rec.Metadata.Actor)
	if visible {
		bl.visible++
	}
}

// flush writes the batch's names and blocks, merging them into the blocks
// a previous batch wrote.
func (f *feedAgg) flush(ctx context.Context, a *applier, tx *sql.Tx) error {
	for _, n := range f.added {
		if _, err := a.exec(ctx, tx, "INSERT INTO feed_names (kind, name, bit) VALUES (?, ?, ?)", n[0], n[1], n[2]); err != nil {
			return err
		}
	}
	f.added = f.added[:0]
	for blk, bl := range f.blocks {
		if _, err := a.exec(ctx, tx, `INSERT INTO feed_blocks (blk, min_time, max_time, types, actors, visible) VALUES (?, ?, ?, ?, ?, ?)
			ON CONFLICT (blk) DO UPDATE SET min_time = min(min_time, excluded.min_time), max_time = max(max_time, excluded.max_time),
			types = types | excluded.types, actors = actors | excluded.actors, visible = visible + excluded.visible`,
			blk, bl.minTime, bl.maxTime, int64(bl.types), int64(bl.actors), bl.visible); err != nil {
			return err
		}
	}
	clear(f.blocks)
	return nil
}

func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?,", n), ",") }

package board

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// An empty model catching up many events is filled by a bulk load rather
// than row by row: the whole log is folded in memory (its memory follows
// the items and their comments, not the log), then every item's final row, its
// labels, blockers and text are inserted in large statements in the order
// of their keys, and the secondary indexes are built once, at the end, all
// in the one transaction that also sets the checkpoint: a process killed
// during the load leaves the model empty, as it found it, and the next
// catch-up starts over. Building an index once, sorted, costs much less
// than keeping it up to date row by row, and a derivable cache need not be
// synced to disk until the load commits.
// perInsert is how many rows one INSERT statement adds.
const perInsert = 100

// Variables for the tests.
var (
	// bulkMin: fewer events than this are applied row by row.
	bulkMin = int64(2000)
	// bulkProgress is how many events a bulk load folds between
	// progress reports and writes of the items that stretch did not
	// touch.
	bulkProgress = 65536
)

// bulk fills the empty model in tx with the events up to last.
func (b *Board) bulk(ctx context.Context, tx *sql.Tx, a *applier, last int64, progress Progress) (int64, int, error) {
	// A page cache that holds the tables' growing edges while they load
	// (the default is 2 MB).
	if _, err := tx.ExecContext(ctx, "PRAGMA cache_size = -65536"); err != nil {
		return 0, 0, b.wrap(err)
	}
	defer tx.ExecContext(ctx, "PRAGMA cache_size = -2000")
	for _, ix := range indexes {
		if _, err := tx.ExecContext(ctx, "DROP INDEX IF EXISTS "+ix); err != nil {
			return 0, 0, b.wrap(err)
		}
	}
	a.fresh, a.bulk, a.pos = true, true, -1
	clear(a.items)
	clear(a.inits)
	nm, err := loadNames(ctx, tx)
	if err != nil {
		return 0, 0, b.wrap(err)
	}
	a.feed.reset(nm)
	var pos int64
	var n int
	var lastID string
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	for batch := range a.readDecoded(rctx, b.log, last) {
		for _, d := range batch {
			rec := d.rec
			if d.err != nil {
				return 0, 0, d.err
			}
			if err := a.applyData(ctx, tx, rec, d.data); err != nil {
				return 0, 0, fmt.Errorf("board: apply the event at position %d (%s %s v%d): %w", rec.Position, rec.Type, rec.Stream, rec.Version, err)
			}
			pos, lastID = rec.Position, rec.ID.String()
			n++
			if n%bulkProgress == 0 {
				a.chunk++
				if err := a.writeSettled(ctx, tx); err != nil {
					return 0, 0, b.wrap(err)
				}
				if progress != nil {
					progress(int64(n), pos, last)
				}
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	if n == 0 {
		return 0, 0, nil
	}
	if err := a.writeAll(ctx, tx); err != nil {
		return 0, 0, b.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, schema); err != nil {
		return 0, 0, b.wrap(err)
	}
	// Reservations that their items have gone past are settled (now that
	// items are indexed by ID).
	if _, err := tx.ExecContext(ctx, `DELETE FROM reservations WHERE item_version < coalesce((SELECT version FROM items WHERE items.id = reservations.item), 0)`); err != nil {
		return 0, 0, b.wrap(err)
	}
	if _, err := tx.ExecContext(ctx, "INSERT OR REPLACE INTO meta (key, value) VALUES ('position', ?), ('last_id', ?)", pos, lastID); err != nil {
		return 0, 0, b.wrap(err)
	}
	a.bulk, a.fresh = false, false
	clear(a.items)
	clear(a.inits)
	return pos, n, nil
}

// decoded is an event read from the log with its data decoded, or the
// error that ended the read.
type decoded struct {
	rec  es.Record
	data any
	err  error
}

// readDecoded reads the log up to position last and decodes its events on
// a goroutine of its own, handing them over in batches: a bulk load then
// reads and folds on two cores. Cancelling ctx stops it.
func (a *applier) readDecoded(ctx context.Context, log es.LogReader, last int64) <-chan []decoded {
	// Room for the reading to go on while the other side writes.
	ch := make(chan []decoded, 128)
	go func() {
		defer close(ch)
		batch := make([]decoded, 0, 512)
		send := func() bool {
			select {
			case ch <- batch:
				batch = make([]decoded, 0, 512)
				return true
			case <-ctx.Done():
				return false
			}
		}
		for rec, err := range log.ReadLog(ctx, 1) {
			if err != nil {
				batch = append(batch, decoded{err: fmt.Errorf("board: read the log: %w", err)})
				send()
				return
			}
			data, err := a.decode(rec)
			if err != nil {
				err = fmt.Errorf("board: apply the event at position %d (%s %s v%d): %w", rec.Position, rec.Type, rec.Stream, rec.Version, err)
			}
			batch = append(batch, decoded{rec, data, err})
			if len(batch) == cap(batch) || rec.Position >= last || err != nil {
				if !send() || rec.Position >= last || err != nil {
					return
				}
			}
		}
		if len(batch) > 0 {
			send()
		}
	}()
	return ch
}

// rows gathers the values of rows to insert, cols each, and inserts them
// perInsert at a time.
type rows struct {
	a      *applier
	insert string // "INSERT INTO t (c1, c2) VALUES "
	cols   int
	args   []any
}

func (r *rows) add(ctx context.Context, tx *sql.Tx, vals ...any) error {
	r.args = append(r.args, vals...)
	if len(r.args) >= perInsert*r.cols {
		return r.flush(ctx, tx)
	}
	return nil
}

func (r *rows) flush(ctx context.Context, tx *sql.Tx) error {
	err := r.a.insertRows(ctx, tx, r.insert, r.cols, r.args)
	r.args = r.args[:0]
	return err
}

// byNum returns the entries of the items in ID order.
func (a *applier) byNum() []*entry {
	type keyed struct {
		num int64
		e   *entry
	}
	ks := make([]keyed, 0, len(a.items))
	for _, e := range a.items {
		ks = append(ks, keyed{idNumber(e.it.ID), e})
	}
	slices.SortFunc(ks, func(x, y keyed) int { return cmp.Or(cmp.Compare(x.num, y.num), strings.Compare(x.e.it.ID, y.e.it.ID)) })
	out := make([]*entry, len(ks))
	for i, k := range ks {
		out[i] = k.e
	}
	return out
}

// chunk holds the values of the rows of some items, ready to insert.
type chunk struct {
	items, comments, search, blockers []any
	err                               error
}

type labelRow struct {
	label, status string
	num, rid      int64
}

// writeAll writes every item and initiative the bulk fold holds, and the
// feed's blocks. A goroutine of its own encodes the items' rows while this
// one inserts them.
func (a *applier) writeAll(ctx context.Context, tx *sql.Tx) error {
	var fresh []*entry
	for _, e := range a.byNum() {
		if !e.written {
			fresh = append(fresh, e)
		}
	}
	if err := a.insertItems(ctx, tx, fresh); err != nil {
		return err
	}
	// Items written early and changed since: updated row by row.
	for _, e := range a.items {
		if e.dirty {
			if err := a.writeItem(ctx, tx, e); err != nil {
				return err
			}
			e.dirty, e.textDirty, e.labelsDirty, e.blockersDirty = false, false, false, false
		}
	}
	if err := a.flushInitiatives(ctx, tx); err != nil {
		return err
	}
	return a.feed.flush(ctx, a, tx)
}

// writeSettled inserts the items that the last stretch of the log did not
// touch: most will not change again, and inserting them now, while the
// other goroutine reads on, shortens the load.
func (a *applier) writeSettled(ctx context.Context, tx *sql.Tx) error {
	var settled []*entry
	for _, e := range a.byNum() {
		if !e.written && e.chunk < a.chunk {
			settled = append(settled, e)
		}
	}
	return a.insertItems(ctx, tx, settled)
}

// insertItems inserts the rows of new items all (in ID order), with their
// labels, blockers and text. A goroutine of its own encodes the rows while
// this one inserts them.
func (a *applier) insertItems(ctx context.Context, tx *sql.Tx, all []*entry) error {
	chunks := make(chan chunk, 4)
	var labels []labelRow
	go func() {
		defer close(chunks)
		const perChunk = 2 * perInsert
		for len(all) > 0 {
			var c chunk
			n := min(len(all), perChunk)
			for _, e := range all[:n] {
				if c.err = e.values(&c, &labels); c.err != nil {
					break
				}
			}
			select {
			case chunks <- c:
			case <-ctx.Done():
				return
			}
			if c.err != nil {
				return
			}
			all = all[n:]
		}
	}()
	items := &rows{a: a, cols: len(itemSet) + 3, insert: "INSERT INTO items (" + strings.Join(itemSet, ", ") + ", id, num, rid) VALUES "}
	search := &rows{a: a, cols: 4, insert: "INSERT INTO search (rowid, title, description, comments) VALUES "}
	comments := &rows{a: a, cols: 2, insert: "INSERT INTO comments (rid, comments) VALUES "}
	blockers := &rows{a: a, cols: 2, insert: "INSERT INTO blockers (rid, blocker) VALUES "}
	var failed error
	for c := range chunks {
		if failed != nil {
			continue // let the encoder finish
		}
		if c.err != nil {
			failed = c.err
			continue
		}
		for _, r := range []struct {
			r    *rows
			args []any
		}{{items, c.items}, {comments, c.comments}, {search, c.search}, {blockers, c.blockers}} {
			r.r.args = append(r.r.args, r.args...)
			if err := r.r.flush(ctx, tx); err != nil {
				failed = err
				break
			}
		}
	}
	if failed != nil {
		return failed
	}
	// In the order of the table's key: each insert appends to the tree.
	slices.SortFunc(labels, func(x, y labelRow) int {
		return cmp.Or(strings.Compare(x.label, y.label), strings.Compare(x.status, y.status), cmp.Compare(x.num, y.num), cmp.Compare(x.rid, y.rid))
	})
	lr := &rows{a: a, cols: 4, insert: "INSERT OR IGNORE INTO labels (label, status, num, rid) VALUES "}
	for _, l := range labels {
		if err := lr.add(ctx, tx, l.label, l.status, l.num, l.rid); err != nil {
			return err
		}
	}
	return lr.flush(ctx, tx)
}

// values appends the values of e's rows to c, and its labels to labels.
func (e *entry) values(c *chunk, labels *[]labelRow) error {
	it := &e.it
	comments := "[]"
	if len(it.Comments) > 0 {
		b, err := json.Marshal(it.Comments)
		if err != nil {
			return err
		}
		comments = string(b)
	}
	num := idNumber(it.ID)
	// What the row holds, for an update if the item changes later.
	e.row = e.rowOf()
	if comments != "[]" {
		c.comments = append(c.comments, e.rid, comments)
		e.comments = comments
	}
	e.dbLabels, e.dbStatus = slices.Clone(it.Labels), string(it.Status)
	e.written, e.dirty, e.textDirty, e.labelsDirty, e.blockersDirty = true, false, false, false, false
	c.items = append(append(c.items, e.row...), it.ID, num, e.rid)
	for _, l := range it.Labels {
		*labels = append(*labels, labelRow{l, string(it.Status), num, e.rid})
	}
	for _, bl := range slices.Sorted(slices.Values(it.Blockers)) {
		c.blockers = append(c.blockers, e.rid, bl)
	}
	if it.Status != "" {
		c.search = append(c.search, e.rid, it.Title, it.Description, commentText(it.Comments))
	}
	return nil
}

// commentText is what the full-text index holds of an item's comments.
func commentText(cs []tracker.Comment) string {
	var sb strings.Builder
	for i, c := range cs {
		if i > 0 {
			sb.WriteByte('\n')
		}
		sb.WriteString(c.Text)
	}
	return sb.String()
}

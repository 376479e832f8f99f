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
// than row by row, on three goroutines: one reads and decodes the log, one
// folds it in memory (its memory follows the items and their comments, not
// the log) and encodes the rows of the items as they settle (every
// bulkProgress events, those the last stretch did not touch; at the end,
// the rest), and the one that owns the transaction inserts them in large
// statements in the order of their keys. Items touched again after their
// row was written are updated row by row at the end. The secondary indexes
// stay: their upkeep overlaps the reading (building them after the load,
// sorted, took a second more of a 1M-event load: measured). All of it is
// one transaction that also sets the checkpoint: a process killed during
// the load leaves the model as it found it, and the next catch-up starts
// over.

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
	a.fresh, a.bulk, a.pos = true, true, -1
	clear(a.items)
	clear(a.inits)
	nm, err := loadNames(ctx, tx)
	if err != nil {
		return 0, 0, b.wrap(err)
	}
	a.feed.reset(nm)
	a.graphVersion, a.reservations = -1, nil
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	f := &folder{a: a, last: last}
	jobs := make(chan job, 4)
	go f.run(rctx, b.log, jobs)
	var failed error
	for j := range jobs {
		if failed != nil {
			continue // until the folder stops
		}
		if failed = a.insertJob(ctx, tx, j); failed != nil {
			cancel()
			continue
		}
		if progress != nil && j.done > 0 {
			progress(j.done, j.pos, last)
		}
	}
	// The folder is done: the entries are this goroutine's again.
	if failed != nil {
		return 0, 0, b.wrap(failed)
	}
	if f.err != nil {
		return 0, 0, f.err
	}
	if err := ctx.Err(); err != nil {
		return 0, 0, err
	}
	pos, n, lastID := f.pos, f.n, f.lastID
	if n == 0 {
		return 0, 0, nil
	}
	if err := a.writeAll(ctx, tx); err != nil {
		return 0, 0, b.wrap(err)
	}
	if err := countOpenBlockers(ctx, tx); err != nil {
		return 0, 0, b.wrap(err)
	}
	// Reservations that their items have gone past are settled.
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

// countOpenBlockers sets the open_blockers of every item that has
// blockers, once all the rows are in: a row written early may name a
// blocker whose status changed, or whose row came, later in the load.
func countOpenBlockers(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, "UPDATE items SET open_blockers = "+openCount+" WHERE rid IN (SELECT rid FROM blockers)")
	return err
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
	// Items written early and changed since: updated row by row.
	for _, e := range a.items {
		if e.dirty {
			if err := a.writeItem(ctx, tx, e); err != nil {
				return err
			}
			e.dirty, e.textDirty, e.labelsDirty, e.blockersDirty = false, false, false, false
		}
	}
	if a.graphVersion >= 0 {
		if _, err := tx.ExecContext(ctx, "UPDATE meta SET value = ? WHERE key = 'graph_version'", a.graphVersion); err != nil {
			return err
		}
	}
	resv := &rows{a: a, cols: 3, insert: "INSERT OR IGNORE INTO reservations (item, item_version, blocker) VALUES "}
	resv.args = a.reservations
	if err := resv.flush(ctx, tx); err != nil {
		return err
	}
	if err := a.flushInitiatives(ctx, tx); err != nil {
		return err
	}
	return a.feed.flush(ctx, a, tx)
}

// job is what the folder hands over to insert: the rows of items, and how
// far the fold has come.
type job struct {
	c      chunk
	labels []labelRow
	done   int64 // events folded (0: no progress to report)
	pos    int64
}

// folder folds the log on a goroutine of its own for a bulk load, and
// encodes the rows of the items as they settle: every bulkProgress
// events, those the last stretch did not touch; at the end, the rest.
// Until it closes its channel it alone touches the applier's entries.
type folder struct {
	a      *applier
	last   int64
	pos    int64
	n      int
	lastID string
	err    error
}

func (f *folder) run(ctx context.Context, log es.LogReader, jobs chan<- job) {
	defer close(jobs)
	a := f.a
	send := func(j job) bool {
		select {
		case jobs <- j:
			return true
		case <-ctx.Done():
			return false
		}
	}
	for batch := range a.readDecoded(ctx, log, f.last) {
		for _, d := range batch {
			rec := d.rec
			if d.err != nil {
				f.err = d.err
				return
			}
			if err := a.applyData(ctx, nil, rec, d.data); err != nil {
				f.err = fmt.Errorf("board: apply the event at position %d (%s %s v%d): %w", rec.Position, rec.Type, rec.Stream, rec.Version, err)
				return
			}
			f.pos, f.lastID = rec.Position, rec.ID.String()
			f.n++
			if f.n%bulkProgress == 0 {
				a.chunk++
				j, err := a.encode(func(e *entry) bool { return e.chunk < a.chunk })
				if err != nil {
					f.err = err
					return
				}
				j.done, j.pos = int64(f.n), f.pos
				if !send(j) {
					return
				}
			}
		}
	}
	if ctx.Err() != nil {
		return
	}
	j, err := a.encode(func(*entry) bool { return true })
	if err != nil {
		f.err = err
		return
	}
	send(j)
}

// encode returns the rows of the items not written yet that settled says
// are settled, in ID order, and marks them written.
func (a *applier) encode(settled func(e *entry) bool) (job, error) {
	var j job
	for _, e := range a.byNum() {
		if !e.written && settled(e) {
			if err := e.values(&j.c, &j.labels); err != nil {
				return j, err
			}
		}
	}
	// In the order of the table's key: each insert appends to the tree.
	slices.SortFunc(j.labels, func(x, y labelRow) int {
		return cmp.Or(strings.Compare(x.label, y.label), strings.Compare(x.status, y.status), cmp.Compare(x.num, y.num), cmp.Compare(x.rid, y.rid))
	})
	return j, nil
}

// insertJob inserts the rows of j.
func (a *applier) insertJob(ctx context.Context, tx *sql.Tx, j job) error {
	for _, r := range []struct {
		insert string
		cols   int
		args   []any
	}{
		{"INSERT INTO items (" + strings.Join(itemSet, ", ") + ", id, num, rid) VALUES ", len(itemSet) + 3, j.c.items},
		{"INSERT INTO comments (rid, comments) VALUES ", 2, j.c.comments},
		{"INSERT INTO search (rowid, title, description, comments) VALUES ", 4, j.c.search},
		{"INSERT INTO blockers (rid, blocker) VALUES ", 2, j.c.blockers},
	} {
		if err := a.insertRows(ctx, tx, r.insert, r.cols, r.args); err != nil {
			return err
		}
	}
	lr := &rows{a: a, cols: 4, insert: "INSERT OR IGNORE INTO labels (label, status, num, rid) VALUES "}
	for _, l := range j.labels {
		if err := lr.add(ctx, tx, l.label, l.status, l.num, l.rid); err != nil {
			return err
		}
	}
	return lr.flush(ctx, tx)
}

// values appends the values of e's rows to c, and its labels to labels.
func (e *entry) values(c *chunk, labels *[]labelRow) error {
	it := &e.it
	comments, err := commentsJSON(it.Comments)
	if err != nil {
		return err
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

// commentsJSON is what the comments table holds of an item's comments:
// "[]" when it has none (no row is written for that).
func commentsJSON(cs []tracker.Comment) (string, error) {
	if len(cs) == 0 {
		return "[]", nil
	}
	b, err := json.Marshal(cs)
	return string(b), err
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

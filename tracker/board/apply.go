package board

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// entry is a work item as the applier folds it.
type entry struct {
	rid int64 // 0: not in the database yet
	// row is what the items table holds for it, by column (itemSet's
	// order): an update sets only the columns that changed, so that
	// SQLite leaves the indexes of the others alone.
	row []any
	// dbLabels are the labels the labels table holds for it, with
	// dbStatus.
	dbLabels []string
	dbStatus string
	it       tracker.Item
	at       int64 // running maximum of its event times
	// times holds the time of each event of its stream (see appendTime),
	// which answer its version and last change as of a time; last is the
	// last one.
	times []byte
	last  int64
	// intervals holds its state intervals (see intervals.go); lastFrom
	// is when the last one began.
	intervals []byte
	lastFrom  int64
	// comments is the JSON of its comments as the database holds them
	// ("" if it holds none).
	comments string
	// state is stateOf(&it) if stateOK: each event then computes it once.
	state   listState
	stateOK bool
	// A bulk load's: the stretch of the log that last touched the item,
	// and whether its row is written.
	chunk   int
	written bool
	// What the batch changed, to write at its end.
	dirty, textDirty, labelsDirty, blockersDirty bool
}

// listState is what a list or ready query as of a time can filter and
// sort on, and shows.
type listState struct {
	title, description, typ, status, priority, assignee, initiative string
	labels, blockers                                                string // JSON arrays
	created                                                         int64
	extra                                                           string // see extraOf
}

func stateOf(it *tracker.Item) listState {
	return listState{it.Title, it.Description, string(it.Type), string(it.Status), string(it.Priority), it.Assignee,
		it.Initiative, jsonList(it.Labels), jsonList(it.Blockers), micros(it.CreatedAt), extraOf(it)}
}

// extra is what an item holds beyond the columns queries filter on: its
// claim (holder, since, renewed, lease: whether it has expired depends on
// the time of the question) and the reason of its last status change.
type extra struct {
	Claim        *tracker.Claim `json:"claim,omitempty"`
	StatusReason string         `json:"status_reason,omitempty"`
}

func extraOf(it *tracker.Item) string {
	if it.Claim == nil && it.StatusReason == "" {
		return "{}"
	}
	b, _ := json.Marshal(extra{it.Claim, it.StatusReason})
	return string(b)
}

func decodeExtra(s string, it *tracker.Item) error {
	if s == "{}" || s == "" {
		return nil
	}
	var x extra
	if err := json.Unmarshal([]byte(s), &x); err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	it.Claim, it.StatusReason = x.Claim, x.StatusReason
	return nil
}

func jsonList(s []string) string {
	if len(s) == 0 {
		return "[]"
	}
	b, _ := json.Marshal(s)
	return string(b)
}

type initEntry struct {
	st    tracker.InitiativeState
	at    int64
	isNew bool
	dirty bool
	hist  []initHist
}

type initHist struct {
	fromAt int64
	st     tracker.InitiativeState
}

// applier folds batches of the log into the model's tables. It keeps the
// items it has folded between batches of one catch-up, as long as no other
// process wrote to the model in between.
type applier struct {
	reg   *es.Registry
	deps  string // the dependency graph's stream
	pos   int64  // where its cache is valid
	tx    *sql.Tx
	stmts map[string]*sql.Stmt // prepared in tx
	// fresh means the cache holds every item and initiative in the model:
	// the catch-up started from an empty one.
	fresh bool
	// bulk means the fold is a bulk load (see bulk.go): each new item is
	// given its rowid at once.
	bulk    bool
	nextRid int64
	chunk   int // the stretch of the log being folded
	// graphVersion and reservations are what a bulk load's fold found
	// of the dependency graph stream, to write at its end.
	graphVersion int64
	reservations []any
	items        map[string]*entry
	inits        map[string]*initEntry
	feed         feedAgg // the feed's blocks the batch touched
}

func newApplier(reg *es.Registry, deps string) *applier {
	return &applier{reg: reg, deps: deps, items: make(map[string]*entry), inits: make(map[string]*initEntry)}
}

// maxCached bounds the items kept between batches.
const maxCached = 200000

// run applies the events after position from, up to last and at most max
// of them, in tx. It returns the position reached and how many it applied.
func (a *applier) run(ctx context.Context, tx *sql.Tx, log es.LogReader, from, last int64, max int) (int64, int, error) {
	switch {
	case from == 0:
		// An empty model: every item is new, and the cache will hold
		// them all, so no item needs looking up.
		a.fresh = true
		clear(a.items)
		clear(a.inits)
	case from != a.pos || (!a.fresh && len(a.items) > maxCached):
		a.fresh = false
		clear(a.items)
		clear(a.inits)
	}
	a.pos = -1 // until this batch commits, the cache may hold rows it rolls back
	nm, err := loadNames(ctx, tx)
	if err != nil {
		return 0, 0, err
	}
	a.feed.reset(nm)
	pos, n := from, 0
	var lastID string
	for rec, err := range log.ReadLog(ctx, from+1) {
		if err != nil {
			return 0, 0, fmt.Errorf("board: read the log: %w", err)
		}
		if err := a.apply(ctx, tx, rec); err != nil {
			return 0, 0, fmt.Errorf("board: apply the event at position %d (%s %s v%d): %w", rec.Position, rec.Type, rec.Stream, rec.Version, err)
		}
		pos, lastID = rec.Position, rec.ID.String()
		n++
		if n >= max || pos >= last {
			break
		}
	}
	if n == 0 {
		return from, 0, nil
	}
	if err := a.flush(ctx, tx); err != nil {
		return 0, 0, err
	}
	if _, err := a.exec(ctx, tx, "UPDATE meta SET value = CASE key WHEN 'position' THEN ? ELSE ? END WHERE key IN ('position', 'last_id')", pos, lastID); err != nil {
		return 0, 0, err
	}
	a.pos = pos // valid once the caller commits; a failed commit ends the catch-up
	return pos, n, nil
}

func (a *applier) apply(ctx context.Context, tx *sql.Tx, rec es.Record) error {
	data, err := a.decode(rec)
	if err != nil {
		return err
	}
	return a.applyData(ctx, tx, rec, data)
}

// decode returns the data of rec that the model folds: that of an item's
// or an initiative's events, and of the dependency reservations. An event
// of a type this version does not know is an error in an item's or an
// initiative's stream, as for the aggregate; elsewhere it only shows in
// the feed, by its type.
func (a *applier) decode(rec es.Record) (any, error) {
	if ours(rec.Stream) {
		return decode(a.reg, rec)
	}
	if _, known := a.reg.Schema(rec.Type); known && rec.Stream == a.deps {
		return decode(a.reg, rec)
	}
	return nil, nil
}

func ours(stream string) bool {
	return strings.HasPrefix(stream, itemPrefix) || strings.HasPrefix(stream, initiativePrefix)
}

// applyData applies rec, whose data decode returned.
func (a *applier) applyData(ctx context.Context, tx *sql.Tx, rec es.Record, data any) error {
	env := es.Envelope{ID: rec.ID, Type: rec.Type, Version: rec.Version, Time: rec.Time, Metadata: rec.Metadata, Data: data}
	t := micros(rec.Time)
	switch {
	case strings.HasPrefix(rec.Stream, itemPrefix):
		e, err := a.item(ctx, tx, rec.Stream[len(itemPrefix):])
		if err != nil {
			return err
		}
		e.times, e.last = appendTime(e.times, e.last, t), t
		e.chunk = a.chunk
		a.foldItem(e, env, max(e.at, t))
	case strings.HasPrefix(rec.Stream, initiativePrefix):
		in, err := a.initiative(ctx, tx, rec.Stream[len(initiativePrefix):])
		if err != nil {
			return err
		}
		at := max(in.at, t)
		in.st.Apply(env)
		in.at, in.dirty = at, true
		in.hist = append(in.hist, initHist{fromAt: at, st: in.st})
	case rec.Stream == a.deps:
		if a.bulk {
			// A bulk load folds on a goroutine of its own: what goes to
			// the database waits for the end (see bulk.go).
			a.graphVersion = rec.Version
		} else if _, err := a.exec(ctx, tx, "UPDATE meta SET value = ? WHERE key = 'graph_version'", rec.Version); err != nil {
			return err
		}
		if d, ok := data.(tracker.DependencyReserved); ok {
			e, err := a.item(ctx, tx, d.Item)
			if err != nil {
				return err
			}
			if e.it.Version <= d.ItemVersion { // not settled yet
				if a.bulk {
					a.reservations = append(a.reservations, d.Item, d.ItemVersion, d.Blocker)
				} else if _, err := a.exec(ctx, tx, "INSERT OR IGNORE INTO reservations (item, item_version, blocker) VALUES (?, ?, ?)",
					d.Item, d.ItemVersion, d.Blocker); err != nil {
					return err
				}
			}
		}
	}
	a.feed.add(rec, t, ours(rec.Stream))
	return nil
}

// decode decodes rec's data, reading the common shapes of the current
// schema without reflection (tracker.DecodeFast).
func decode(reg *es.Registry, rec es.Record) (any, error) {
	if schema, known := reg.Schema(rec.Type); known && schema == rec.Schema {
		if data, ok := tracker.DecodeFast(rec.Type, rec.Data); ok {
			return data, nil
		}
	}
	return reg.Decode(rec)
}

func (a *applier) foldItem(e *entry, env es.Envelope, at int64) {
	before := e.it
	wasNew := e.it.Status == ""
	oldState := e.state
	if !e.stateOK {
		oldState = stateOf(&e.it)
	}
	e.it.Apply(env)
	e.it.Version, e.at, e.dirty = env.Version, at, true
	switch env.Data.(type) {
	case tracker.ItemCreated, tracker.ItemEdited, tracker.Commented:
		e.textDirty = true
	}
	if !slices.Equal(before.Labels, e.it.Labels) {
		e.labelsDirty = true
	}
	if !slices.Equal(before.Blockers, e.it.Blockers) {
		e.blockersDirty = true
	}
	if e.it.Status == "" {
		e.stateOK = false
		return // not created yet: no state to list
	}
	st := stateOf(&e.it)
	e.state, e.stateOK = st, true
	if wasNew || st != oldState {
		prev := &oldState
		if wasNew {
			prev = &listState{} // what an item's intervals start from
		}
		e.intervals, e.lastFrom = appendInterval(e.intervals, e.lastFrom, at, prev, &st), at
	}
}

// rowOf returns the values of the itemSet columns for e.
func (e *entry) rowOf() []any {
	it := &e.it
	return []any{it.Title, it.Description, string(it.Type), string(it.Status), string(it.Priority), int64(it.Priority.Rank()),
		it.Assignee, it.Initiative, jsonList(it.Labels), jsonList(it.Blockers), it.Version,
		micros(it.CreatedAt), micros(it.UpdatedAt), e.at, extraOf(it), append([]byte{}, e.times...), append([]byte{}, e.intervals...), expiresOf(it)}
}

// expiresOf returns when it's claim expires (0 if it has none).
func expiresOf(it *tracker.Item) int64 {
	if it.Claim == nil {
		return 0
	}
	return micros(it.Claim.ExpiresAt())
}

// itemSet lists the columns writeItem sets, in its order.
var itemSet = []string{"title", "description", "type", "status", "priority", "prank", "assignee", "initiative",
	"labels", "blockers", "version", "created", "updated", "at", "extra", "times", "intervals", "expires"}

// itemCols lists the columns scanItem reads; "comments" stands for the
// item's comments, kept in a table of their own (see commentsOf).
const itemCols = "rid, id, title, description, type, status, priority, assignee, initiative, labels, blockers, comments, version, created, updated, at, extra"

// commentsOf returns the expression of the comments of the item row alias
// (its JSON array), or of none if !want.
func commentsOf(alias string, want bool) string {
	if !want {
		return "'[]'"
	}
	return "coalesce((SELECT c.comments FROM comments c WHERE c.rid = " + alias + ".rid), '[]')"
}

// itemColsOf returns itemCols for the item row alias, with its comments if
// want.
func itemColsOf(alias string, want bool) string {
	cols := strings.ReplaceAll(itemCols, ", ", ", "+alias+".")
	return strings.Replace(alias+"."+cols, alias+".comments", commentsOf(alias, want), 1)
}

// item returns the entry of work item id, from the cache, the database, or
// new.
func (a *applier) item(ctx context.Context, tx *sql.Tx, id string) (*entry, error) {
	if e := a.items[id]; e != nil {
		return e, nil
	}
	e := &entry{it: tracker.Item{ID: id}}
	if a.fresh {
		if a.bulk {
			a.nextRid++
			e.rid = a.nextRid
		}
		a.items[id] = e
		return e, nil
	}
	row := a.queryRow(ctx, tx, "SELECT "+itemColsOf("i", true)+", i.times, i.intervals FROM items i WHERE i.id = ?", id)
	var comments string
	err := scanItem(rowWith{row, []any{&e.times, &e.intervals}}, &e.it, &e.rid, &comments, &e.at)
	switch {
	case err == sql.ErrNoRows:
	case err != nil:
		return nil, err
	default:
		if err := json.Unmarshal([]byte(comments), &e.it.Comments); err != nil {
			return nil, fmt.Errorf("%w: comments of %s: %v", ErrDamaged, id, err)
		}
		e.dbLabels, e.dbStatus = slices.Clone(e.it.Labels), string(e.it.Status)
		if _, last, ok := timeAt(e.times, openEnd); ok {
			e.last = last
		}
		var st rawState
		if _, ok, from := stateAt(e.intervals, openEnd, &st); ok {
			e.lastFrom = from
		} else {
			return nil, fmt.Errorf("%w: state intervals of %s", ErrDamaged, id)
		}
		e.row, e.comments = e.rowOf(), comments
	}
	a.items[id] = e
	return e, nil
}

type scanner interface{ Scan(dest ...any) error }

// rowWith scans a row with more columns at its end.
type rowWith struct {
	row  scanner
	more []any
}

func (r rowWith) Scan(dest ...any) error { return r.row.Scan(append(dest, r.more...)...) }

// scanItem reads the columns itemCols names into it.
func scanItem(row scanner, it *tracker.Item, rid *int64, comments *string, at *int64) error {
	var typ, status, prio, labels, blockers, ext string
	var created, updated int64
	if err := row.Scan(rid, &it.ID, &it.Title, &it.Description, &typ, &status, &prio, &it.Assignee, &it.Initiative,
		&labels, &blockers, comments, &it.Version, &created, &updated, at, &ext); err != nil {
		return err
	}
	if err := decodeExtra(ext, it); err != nil {
		return err
	}
	it.Type, it.Status, it.Priority = tracker.ItemType(typ), tracker.Status(status), tracker.Priority(prio)
	it.CreatedAt, it.UpdatedAt = fromMicros(created), fromMicros(updated)
	if err := decodeList(labels, &it.Labels); err != nil {
		return err
	}
	return decodeList(blockers, &it.Blockers)
}

func decodeList(s string, out *[]string) error {
	*out = nil
	if s == "[]" || s == "" {
		return nil
	}
	if list, ok := plainList(s); ok {
		*out = list
		return nil
	}
	if err := json.Unmarshal([]byte(s), out); err != nil {
		return fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	return nil
}

// plainList reads a JSON array of strings that holds no escape, as
// jsonList writes most lists, without the JSON decoder: with no
// backslash, a quote can only delimit an element. ok is false for any
// other text.
func plainList(s string) (list []string, ok bool) {
	if len(s) < 4 || !strings.HasPrefix(s, `["`) || !strings.HasSuffix(s, `"]`) || strings.IndexByte(s, '\\') >= 0 {
		return nil, false
	}
	list = strings.Split(s[2:len(s)-2], `","`)
	for _, e := range list {
		if strings.IndexByte(e, '"') >= 0 {
			return nil, false
		}
	}
	return list, true
}

func (a *applier) initiative(ctx context.Context, tx *sql.Tx, id string) (*initEntry, error) {
	if in := a.inits[id]; in != nil {
		return in, nil
	}
	in := &initEntry{st: tracker.InitiativeState{ID: id}}
	if a.fresh {
		in.isNew = true
		a.inits[id] = in
		return in, nil
	}
	var status string
	var created, updated int64
	err := a.queryRow(ctx, tx, "SELECT title, description, status, version, created, updated, at FROM initiatives WHERE id = ?", id).
		Scan(&in.st.Title, &in.st.Description, &status, &in.st.Version, &created, &updated, &in.at)
	switch {
	case err == sql.ErrNoRows:
		in.isNew = true
	case err != nil:
		return nil, err
	default:
		in.st.Status = tracker.InitiativeStatus(status)
		in.st.CreatedAt, in.st.UpdatedAt = fromMicros(created), fromMicros(updated)
	}
	a.inits[id] = in
	return in, nil
}

// flush writes what the batch changed.
func (a *applier) flush(ctx context.Context, tx *sql.Tx) error {
	if err := a.feed.flush(ctx, a, tx); err != nil {
		return err
	}
	for _, e := range a.items {
		if e.dirty {
			if err := a.writeItem(ctx, tx, e); err != nil {
				return err
			}
		}
	}
	for _, e := range a.items {
		e.dirty, e.textDirty, e.labelsDirty, e.blockersDirty = false, false, false, false
	}
	return a.flushInitiatives(ctx, tx)
}

// openCount counts the blockers of the row of items in an UPDATE that are
// not done: what its open_blockers holds.
const openCount = `(SELECT count(*) FROM blockers x LEFT JOIN items bi ON bi.id = x.blocker
	WHERE x.rid = items.rid AND (bi.status IS NULL OR bi.status <> 'done'))`

// openBlockers keeps the open_blockers of the items that e's item blocks
// when writeItem changes its status to or from done (before the labels
// take e.dbStatus on). The count of e's own blockers follows when they
// change. A bulk load counts them all at its end instead (see
// countOpenBlockers): its rows are not all written as it goes.
func (a *applier) openBlockers(ctx context.Context, tx *sql.Tx, e *entry) error {
	wasDone, done := e.dbStatus == string(tracker.Done), e.it.Status == tracker.Done
	if a.bulk || wasDone == done {
		return nil
	}
	d := 1
	if done {
		d = -1
	}
	_, err := a.exec(ctx, tx, "UPDATE items SET open_blockers = open_blockers + ? WHERE rid IN (SELECT rid FROM blockers WHERE blocker = ?)", d, e.it.ID)
	return err
}

func (a *applier) writeItem(ctx context.Context, tx *sql.Tx, e *entry) error {
	it := &e.it
	comments, err := commentsJSON(it.Comments)
	if err != nil {
		return err
	}
	args := e.rowOf()
	if e.rid == 0 {
		err := a.queryRow(ctx, tx, `INSERT INTO items (`+strings.Join(itemSet, ", ")+`, id, num)
			VALUES (`+placeholders(len(itemSet)+2)+`) RETURNING rid`,
			append(args, it.ID, idNumber(it.ID))...).Scan(&e.rid)
		if err != nil {
			return err
		}
	} else {
		var set []string
		var vals []any
		for i, v := range args {
			if e.row == nil || !same(e.row[i], v) {
				set, vals = append(set, itemSet[i]+" = ?"), append(vals, v)
			}
		}
		if len(set) > 0 {
			if _, err := a.exec(ctx, tx, "UPDATE items SET "+strings.Join(set, ", ")+" WHERE rid = ?", append(vals, e.rid)...); err != nil {
				return err
			}
		}
	}
	e.row = args
	if comments != e.comments && (comments != "[]" || e.comments != "") {
		if _, err := a.exec(ctx, tx, "INSERT OR REPLACE INTO comments (rid, comments) VALUES (?, ?)", e.rid, comments); err != nil {
			return err
		}
		e.comments = comments
	}
	// Reservations of the item that its stream has gone past are settled
	// (a bulk load writes its reservations after the items, and settles
	// them all at once: see bulk.go).
	if !a.bulk {
		if _, err := a.exec(ctx, tx, "DELETE FROM reservations WHERE item = ? AND item_version < ?", it.ID, it.Version); err != nil {
			return err
		}
	}
	num := idNumber(it.ID)
	if err := a.openBlockers(ctx, tx, e); err != nil {
		return err
	}
	if e.labelsDirty || e.dbStatus != string(it.Status) {
		for _, l := range e.dbLabels {
			if _, err := a.exec(ctx, tx, "DELETE FROM labels WHERE label = ? AND status = ? AND num = ? AND rid = ?", l, e.dbStatus, num, e.rid); err != nil {
				return err
			}
		}
		for _, l := range it.Labels {
			if _, err := a.exec(ctx, tx, "INSERT INTO labels (label, status, num, rid) VALUES (?, ?, ?, ?)", l, string(it.Status), num, e.rid); err != nil {
				return err
			}
		}
		e.dbLabels, e.dbStatus = slices.Clone(it.Labels), string(it.Status)
	}
	if e.blockersDirty {
		if _, err := a.exec(ctx, tx, "DELETE FROM blockers WHERE rid = ?", e.rid); err != nil {
			return err
		}
		for _, bl := range it.Blockers {
			if _, err := a.exec(ctx, tx, "INSERT INTO blockers (rid, blocker) VALUES (?, ?)", e.rid, bl); err != nil {
				return err
			}
		}
		if !a.bulk {
			if _, err := a.exec(ctx, tx, "UPDATE items SET open_blockers = "+openCount+" WHERE rid = ?", e.rid); err != nil {
				return err
			}
		}
	}
	if e.textDirty && it.Status != "" {
		if _, err := a.exec(ctx, tx, "DELETE FROM search WHERE rowid = ?", e.rid); err != nil {
			return err
		}
		if _, err := a.exec(ctx, tx, "INSERT INTO search (rowid, title, description, comments) VALUES (?, ?, ?, ?)",
			e.rid, it.Title, it.Description, commentText(it.Comments)); err != nil {
			return err
		}
	}
	return nil
}

func (a *applier) flushInitiatives(ctx context.Context, tx *sql.Tx) error {
	for _, in := range a.inits {
		if !in.dirty {
			continue
		}
		s := &in.st
		if _, err := a.exec(ctx, tx, `INSERT INTO initiatives (id, num, title, description, status, version, created, updated, at)
			VALUES (?,?,?,?,?,?,?,?,?) ON CONFLICT (id) DO UPDATE SET title=excluded.title, description=excluded.description,
			status=excluded.status, version=excluded.version, created=excluded.created, updated=excluded.updated, at=excluded.at`,
			s.ID, idNumber(s.ID), s.Title, s.Description, string(s.Status), s.Version, micros(s.CreatedAt), micros(s.UpdatedAt), in.at); err != nil {
			return err
		}
		for _, h := range in.hist {
			if _, err := a.exec(ctx, tx, "UPDATE initiative_history SET to_at = ? WHERE id = ? AND to_at = ?", h.fromAt, s.ID, openEnd); err != nil {
				return err
			}
			if _, err := a.exec(ctx, tx, `INSERT OR REPLACE INTO initiative_history (id, from_at, to_at, title, description, status, version, created, updated)
				VALUES (?,?,?,?,?,?,?,?,?)`, s.ID, h.fromAt, openEnd, h.st.Title, h.st.Description, string(h.st.Status), h.st.Version,
				micros(h.st.CreatedAt), micros(h.st.UpdatedAt)); err != nil {
				return err
			}
		}
		in.hist, in.dirty, in.isNew = in.hist[:0], false, false
	}
	return nil
}

// same reports whether two column values are equal.
func same(x, y any) bool {
	if bx, ok := x.([]byte); ok {
		by, ok := y.([]byte)
		return ok && bytes.Equal(bx, by)
	}
	return x == y
}

// appendTime appends event time t to times, whose last time is last: as
// the difference, a signed varint (times along a stream mostly grow by
// little; an import may bring some that go back).
func appendTime(times []byte, last, t int64) []byte {
	return binary.AppendVarint(times, t-last)
}

// timeAt returns, of the events whose times are in times, how many
// recorded at or before t form the longest prefix (the version of the
// stream as of t, as a temporal load counts it) and the time of the last
// of them. ok is false if times is damaged.
func timeAt(times []byte, t int64) (version, last int64, ok bool) {
	var cur, runMax int64
	for i := 0; len(times) > 0; i++ {
		d, n := binary.Varint(times)
		if n <= 0 {
			return 0, 0, false
		}
		times = times[n:]
		cur += d
		if i == 0 || cur > runMax {
			runMax = cur
		}
		if runMax > t {
			break
		}
		version, last = version+1, cur
	}
	return version, last, true
}

// insertRows inserts the rows in args, cols values each, several rows a
// statement: one statement per row costs most of a rebuild's time.
func (a *applier) insertRows(ctx context.Context, tx *sql.Tx, insert string, cols int, args []any) error {
	const perStmt = 100
	one := "(" + strings.Repeat("?,", cols-1) + "?)"
	for len(args) > 0 {
		n := min(len(args)/cols, perStmt)
		q := insert + one + strings.Repeat(","+one, n-1)
		if _, err := a.exec(ctx, tx, q, args[:n*cols]...); err != nil {
			return err
		}
		args = args[n*cols:]
	}
	return nil
}

// stmt returns query prepared in tx, preparing it once per transaction:
// parsing SQL is a large part of applying an event otherwise.
func (a *applier) stmt(ctx context.Context, tx *sql.Tx, query string) (*sql.Stmt, error) {
	if a.tx != tx {
		a.tx, a.stmts = tx, make(map[string]*sql.Stmt)
	}
	if st, ok := a.stmts[query]; ok {
		return st, nil
	}
	st, err := tx.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	a.stmts[query] = st
	return st, nil
}

func (a *applier) exec(ctx context.Context, tx *sql.Tx, query string, args ...any) (sql.Result, error) {
	st, err := a.stmt(ctx, tx, query)
	if err != nil {
		return nil, err
	}
	return st.ExecContext(ctx, args...)
}

func (a *applier) queryRow(ctx context.Context, tx *sql.Tx, query string, args ...any) *sql.Row {
	st, err := a.stmt(ctx, tx, query)
	if err != nil {
		// A Row carrying the error: QueryRow on a closed statement.
		return tx.QueryRowContext(ctx, query, args...)
	}
	return st.QueryRowContext(ctx, args...)
}

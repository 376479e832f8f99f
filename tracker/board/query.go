package board

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/jerry-es/jerry/tracker"
)

// Sort orders a list of items.
type Sort string

// The orders of a list.
const (
	// ByID is by ID number, lowest first (the default).
	ByID Sort = "id"
	// ByPriority is most urgent first, then oldest first.
	ByPriority Sort = "priority"
	// ByCreated is newest first.
	ByCreated Sort = "created"
	// ByUpdated is most recently changed first.
	ByUpdated Sort = "updated"
)

// ParseSort returns the order named s.
func ParseSort(s string) (Sort, error) {
	switch o := Sort(strings.ToLower(strings.TrimSpace(s))); o {
	case ByID, ByPriority, ByCreated, ByUpdated:
		return o, nil
	case "":
		return ByID, nil
	}
	return "", fmt.Errorf("%w: sort %q (want one of id, priority, created, updated)", tracker.ErrInvalidInput, s)
}

// Query selects work items. Within one field the values are alternatives
// (any of the statuses); across fields all must hold. Empty fields match
// everything.
type Query struct {
	Statuses []tracker.Status
	// Assignees: "" in the list stands for unassigned.
	Assignees  []string
	Types      []tracker.ItemType
	Priorities []tracker.Priority
	// Labels: an item must have every one of them.
	Labels []string
	// Initiatives: "" in the list stands for no initiative.
	Initiatives []string
	// All includes done and cancelled items, which are hidden unless All
	// is set or Statuses names them.
	All bool
	// Sort is the order; zero means ByID (ready: ByPriority).
	Sort Sort
	// Limit is the most items returned; 0 means all.
	Limit int
	// AsOf, if not zero, answers as of that time: each item in the state
	// after its events recorded at or before it.
	AsOf time.Time
	// Comments includes each item's comments (not with AsOf).
	Comments bool
	// Brief reads only what a table of items shows: each item's ID,
	// title, type, status, priority and assignee, and the times it is
	// ordered by (CreatedAt, UpdatedAt); its other fields stay empty
	// (Comments is then ignored). For Items and Ready now: as of a time,
	// and in Search, every field is read.
	Brief bool

	itemID string    // one item, for Item
	why    bool      // with Brief: the blockers, claim and status reason too (Stuck)
	now    time.Time // when claims are judged expired (Ready); zero: now
}

// where builds the query's conditions over a row of items (alias i); lists
// as of a time filter in Go (see asof.go).
//
// With joined, the query's FROM holds labels l joined to i, and the first
// label is matched on l.
func (q Query) where(args *[]any, joined bool) string {
	var conds []string
	in := func(col string, vals []string) {
		if len(vals) == 0 {
			return
		}
		conds = append(conds, col+" IN ("+strings.TrimSuffix(strings.Repeat("?,", len(vals)), ",")+")")
		for _, v := range vals {
			*args = append(*args, v)
		}
	}
	in("i.status", strs(q.Statuses))
	in("i.assignee", q.Assignees)
	in("i.type", strs(q.Types))
	in("i.priority", strs(q.Priorities))
	in("i.initiative", q.Initiatives)
	if len(q.Statuses) == 0 && !q.All {
		conds = append(conds, "i.status NOT IN ('done', 'cancelled')")
	}
	conds = append(conds, "i.status <> ''")
	if q.itemID != "" {
		conds = append(conds, "i.id = ?")
		*args = append(*args, q.itemID)
	}
	for k, l := range q.Labels {
		if k == 0 && joined {
			// The first label drives the query: see items.
			conds = append(conds, "l.label = ? AND l.status = i.status")
		} else {
			// (The status is the item's: every label row carries it.)
			conds = append(conds, "EXISTS (SELECT 1 FROM labels m WHERE m.label = ? AND m.status = i.status AND m.num = i.num AND m.rid = i.rid)")
		}
		*args = append(*args, l)
	}
	return strings.Join(conds, " AND ")
}

func strs[T ~string](s []T) []string {
	out := make([]string, len(s))
	for i, v := range s {
		out[i] = string(v)
	}
	return out
}

func (s Sort) orderBy() string {
	switch s {
	case "":
		return "i.num, i.id"
	case ByPriority:
		return "i.prank, i.created, i.num, i.id"
	case ByCreated:
		return "i.created DESC, i.num DESC, i.id DESC"
	case ByUpdated:
		return "i.updated DESC, i.num DESC, i.id DESC"
	}
	return "i.num, i.id"
}

// Items returns the work items q selects.
func (b *Board) Items(ctx context.Context, q Query) ([]tracker.Item, error) {
	var out []tracker.Item
	err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = b.items(ctx, tx, q, false)
		return err
	})
	return out, err
}

// Ready returns the work items an agent may take next, among those q
// selects: every blocker done, and either unassigned in backlog or ready,
// or (now, not as of a past time) held by a claim that has expired (in
// backlog, ready or in progress); most urgent first, then oldest (or in
// q.Sort's order). As of q.AsOf, if set, only unassigned items count.
func (b *Board) Ready(ctx context.Context, q Query) ([]tracker.Item, error) {
	if q.Sort == "" {
		q.Sort = ByPriority
	}
	var out []tracker.Item
	err := b.read(ctx, func(tx *sql.Tx) error {
		var err error
		out, err = b.items(ctx, tx, q, true)
		return err
	})
	return out, err
}

func (b *Board) items(ctx context.Context, tx *sql.Tx, q Query, ready bool) ([]tracker.Item, error) {
	if !q.AsOf.IsZero() {
		return b.itemsAsOf(ctx, tx, q, ready)
	}
	if !ready {
		return b.selectItems(ctx, tx, q, "", nil, "")
	}
	// The pool has two parts, each read in order from an index of its
	// own, stopping at the limit: unclaimed items, and claimed items
	// whose claim has expired (their agent is gone).
	const blockersDone = ` AND i.open_blockers = 0`
	free, err := b.selectItems(ctx, tx, q, ` AND i.expires = 0 AND i.assignee = '' AND i.status IN ('backlog', 'ready')`+blockersDone, nil, "items_ready")
	if err != nil {
		return nil, err
	}
	now := q.now
	if now.IsZero() {
		now = time.Now()
	}
	expired, err := b.selectItems(ctx, tx, q, ` AND i.expires <> 0 AND i.expires <= ? AND i.status IN ('backlog', 'ready', 'in_progress')`+blockersDone,
		[]any{micros(now)}, "items_claimed")
	if err != nil || len(expired) == 0 {
		return free, err
	}
	out := append(free, expired...)
	slices.SortFunc(out, q.Sort.compare)
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// selectItems returns the items q selects that also meet the condition
// more (with its arguments), read through the index hint if q's order is
// by priority and it names no label.
func (b *Board) selectItems(ctx context.Context, tx *sql.Tx, q Query, more string, moreArgs []any, hint string) ([]tracker.Item, error) {
	var args []any
	cond := q.where(&args, len(q.Labels) > 0) + more
	args = append(args, moreArgs...)
	cols := itemColsOf("i", q.Comments)
	if q.Brief {
		cols = briefCols
		if q.why {
			cols += whyCols
		}
	}
	from := "items i"
	if len(q.Labels) > 0 {
		// Walk the first label's rows (one status at a time, in ID
		// order) rather than every item of the statuses.
		from = "labels l CROSS JOIN items i ON i.rid = l.rid"
		if len(q.Statuses) > 0 {
			var args2 []any
			for _, st := range q.Statuses {
				args2 = append(args2, string(st))
			}
			cond += " AND l.status IN (" + placeholders(len(q.Statuses)) + ")"
			args = append(args, args2...)
		}
	} else if hint != "" && q.Sort == ByPriority {
		// The partial index holds exactly the candidates, in this order:
		// a limit stops the walk early. (Without statistics SQLite may
		// pick the assignee index and sort every candidate.)
		from = "items i INDEXED BY " + hint
	}
	order := q.Sort.orderBy()
	if len(q.Labels) > 0 && (q.Sort == "" || q.Sort == ByID) {
		// The label rows of one status come in ID order: a limit stops
		// the walk early instead of sorting every match.
		order = "l.num, i.id"
	}
	query := "SELECT " + cols + " FROM " + from + " WHERE " + cond + " ORDER BY " + order
	if q.Limit > 0 {
		query += fmt.Sprintf(" LIMIT %d", q.Limit)
	}
	rows, err := tx.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	if q.Brief {
		return scanBrief(rows, q.why)
	}
	var out []tracker.Item
	for rows.Next() {
		var it tracker.Item
		var rid, at int64
		var cs string
		if err := scanItem(rows, &it, &rid, &cs, &at); err != nil {
			return nil, err
		}
		if cs != "[]" {
			if err := json.Unmarshal([]byte(cs), &it.Comments); err != nil {
				return nil, fmt.Errorf("%w: comments of %s: %v", ErrDamaged, it.ID, err)
			}
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// briefCols is what scanBrief reads: a brief row packed into one column,
// since the driver takes a lock for every column it hands over. It is a
// header of byte lengths (ID, type, status, priority, assignee) and times
// (created, updated) in decimal, separated by commas and ended by a colon,
// then those five texts and the title, back to back. whyCols follow it
// for Query.why.
const (
	briefCols = `octet_length(i.id) || ',' || octet_length(i.type) || ',' || octet_length(i.status) || ',' ||
		octet_length(i.priority) || ',' || octet_length(i.assignee) || ',' || i.created || ',' || i.updated || ':' ||
		i.id || i.type || i.status || i.priority || i.assignee || i.title`
	whyCols = ", i.blockers, i.extra"
)

// scanBrief reads rows of briefCols (and whyCols if why) into items.
func scanBrief(rows *sql.Rows, why bool) ([]tracker.Item, error) {
	var out []tracker.Item
	var packed, blockers, ext string
	dest := []any{&packed}
	if why {
		dest = append(dest, &blockers, &ext)
	}
	for rows.Next() {
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		it, ok := unpackBrief(packed)
		if !ok {
			return nil, fmt.Errorf("%w: brief row %q", ErrDamaged, packed)
		}
		if why {
			if err := decodeExtra(ext, &it); err != nil {
				return nil, err
			}
			if err := decodeList(blockers, &it.Blockers); err != nil {
				return nil, err
			}
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// unpackBrief reads a row of briefCols; ok is false if it is malformed.
func unpackBrief(s string) (it tracker.Item, ok bool) {
	head, body, ok := strings.Cut(s, ":")
	if !ok {
		return it, false
	}
	var n [7]int64
	for k := range n {
		f, rest, found := strings.Cut(head, ",")
		if found == (k == len(n)-1) {
			return it, false
		}
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil || (k < 5 && (v < 0 || v > int64(len(body)))) {
			return it, false
		}
		n[k], head = v, rest
	}
	var text [5]string
	for k := range text {
		if n[k] > int64(len(body)) {
			return it, false
		}
		text[k], body = body[:n[k]], body[n[k]:]
	}
	it = tracker.Item{ID: text[0], Type: tracker.ItemType(text[1]), Status: tracker.Status(text[2]),
		Priority: tracker.Priority(text[3]), Assignee: text[4], Title: body,
		CreatedAt: fromMicros(n[5]), UpdatedAt: fromMicros(n[6])}
	return it, true
}

// Item returns work item id now, with its comments, and whether the model
// has it.
func (b *Board) Item(ctx context.Context, id string) (tracker.Item, bool, error) {
	items, err := b.Items(ctx, Query{All: true, Comments: true, Limit: 1, itemID: id})
	if err != nil || len(items) == 0 {
		return tracker.Item{}, false, err
	}
	return items[0], true, nil
}

// Blocking returns the IDs of the items that id blocks (whose blockers
// include it), by ID number.
func (b *Board) Blocking(ctx context.Context, id string) ([]string, error) {
	var out []string
	err := b.read(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, "SELECT i.id FROM blockers x JOIN items i ON i.rid = x.rid WHERE x.blocker = ? ORDER BY i.num, i.id", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				return err
			}
			out = append(out, s)
		}
		return rows.Err()
	})
	return out, err
}

// Hit is a work item found by [Board.Search], with its rank: lower is a
// better match (SQLite's bm25).
type Hit struct {
	tracker.Item
	Rank float64
}

// rankAll is the most matches Search ranks by bm25: beyond, with a
// limit, it ranks by where the words occur, which costs what it returns.
const rankAll = 2000

// Search returns the work items whose title, description or comments hold
// every word of text (a word matches as a prefix too), among those q
// selects (q.AsOf and q.Sort are not used), best match first: by bm25,
// title matches weighing most, then the description. Text so common that
// more than 2,000 items match it, searched with a limit, is ranked by
// where its words occur instead (every word in the title first), newest
// first within that: ranking every match would cost as much as the store.
func (b *Board) Search(ctx context.Context, text string, q Query) ([]Hit, error) {
	match := ftsQuery(text)
	if match == "" {
		return nil, fmt.Errorf("%w: nothing to search for in %q", tracker.ErrInvalidInput, text)
	}
	var out []Hit
	err := b.read(ctx, func(tx *sql.Tx) error {
		if q.Limit > 0 {
			var n int
			// Counted on the words themselves: a prefix query merges
			// every match of every longer word before it yields one.
			if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT rowid FROM search WHERE search MATCH ? LIMIT ?)", ftsWords(text), rankAll+1).Scan(&n); err != nil {
				return err
			}
			if n > rankAll {
				var err error
				out, err = b.searchCommon(ctx, tx, ftsWords(text), match, q)
				return err
			}
		}
		args := []any{match}
		cond := q.where(&args, false)
		cols := itemColsOf("i", q.Comments)
		// Title matches weigh most, then the description. The full-text
		// index ranks inside its own module, best first, and the items'
		// filters apply to its best k matches: k grows until the limit is
		// met or every match has been seen.
		query := `SELECT ` + cols + `, s.rank FROM (SELECT rowid, rank FROM search WHERE search MATCH ? AND rank MATCH 'bm25(10.0, 4.0, 1.0)'
			ORDER BY rank LIMIT ?) s JOIN items i ON i.rid = s.rowid WHERE ` + cond + ` ORDER BY s.rank, i.num`
		if q.Limit > 0 {
			query += fmt.Sprintf(" LIMIT %d", q.Limit)
		}
		k := -1 // all
		if q.Limit > 0 {
			k = 4 * q.Limit
		}
		args = append(args[:1], append([]any{k}, args[1:]...)...)
		for {
			out = out[:0]
			n, err := b.searchRows(ctx, tx, query, args, &out)
			if err != nil {
				return err
			}
			if k < 0 || len(out) >= q.Limit || n < k {
				return nil
			}
			k *= 8
			args[1] = k
		}
	})
	return out, err
}

// searchCommon answers a search with many matches: those with every word
// in the title (Rank 0), then the others (Rank 1), newest first in each,
// until q.Limit are found.
func (b *Board) searchCommon(ctx context.Context, tx *sql.Tx, words, match string, q Query) ([]Hit, error) {
	var out []Hit
	seen := make(map[string]bool)
	// The words themselves first (their lists are read newest first and
	// stop at the limit), then as prefixes of longer words.
	for tier, m := range []string{"{title} : (" + words + ")", words, match} {
		tier = min(tier, 1)
		args := []any{m}
		cond := q.where(&args, false)
		cols := itemColsOf("i", q.Comments)
		query := `SELECT ` + cols + `, ` + fmt.Sprint(tier) + ` FROM (SELECT rowid FROM search WHERE search MATCH ? ORDER BY rowid DESC LIMIT ?) s
			JOIN items i ON i.rid = s.rowid WHERE ` + cond + ` ORDER BY s.rowid DESC`
		for k := 4 * q.Limit; ; k *= 8 {
			a := append([]any{m, k}, args[1:]...)
			var hits []Hit
			n, err := b.searchRows(ctx, tx, query, a, &hits)
			if err != nil {
				return nil, err
			}
			kept := 0
			for _, h := range hits {
				if !seen[h.ID] {
					kept++
				}
			}
			if kept+len(out) >= q.Limit || n < k {
				for _, h := range hits {
					if !seen[h.ID] && len(out) < q.Limit {
						seen[h.ID] = true
						out = append(out, h)
					}
				}
				break
			}
		}
		if len(out) >= q.Limit {
			break
		}
	}
	return out, nil
}

// searchRows runs a search query, appending its hits to out; it returns
// how many matches the full-text index gave (before the filters).
func (b *Board) searchRows(ctx context.Context, tx *sql.Tx, query string, args []any, out *[]Hit) (int, error) {
	var n int
	if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM (SELECT rowid FROM search WHERE search MATCH ? LIMIT ?)", args[0], args[1]).Scan(&n); err != nil {
		return 0, err
	}
	err := func() error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var h Hit
			var rid, at int64
			var cs string
			if err := scanItem(rowWithRank{rows, &h.Rank}, &h.Item, &rid, &cs, &at); err != nil {
				return err
			}
			if cs != "[]" {
				if err := json.Unmarshal([]byte(cs), &h.Comments); err != nil {
					return fmt.Errorf("%w: comments of %s: %v", ErrDamaged, h.ID, err)
				}
			}
			*out = append(*out, h)
		}
		return rows.Err()
	}()
	return n, err
}

// rowWithRank scans an item row followed by a rank column.
type rowWithRank struct {
	rows *sql.Rows
	rank *float64
}

func (r rowWithRank) Scan(dest ...any) error { return r.rows.Scan(append(dest, r.rank)...) }

// ftsQuery turns what a person typed into an FTS5 query: each word, quoted
// (so that no character is FTS5 syntax), as a prefix, all required.
func ftsQuery(text string) string {
	words := strings.FieldsFunc(text, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
	for i, w := range words {
		words[i] = `"` + w + `"*`
	}
	return strings.Join(words, " AND ")
}

// ftsWords is ftsQuery with each word whole, not as a prefix.
func ftsWords(text string) string {
	return strings.ReplaceAll(ftsQuery(text), `"*`, `"`)
}

// Initiatives returns every initiative, now or as of asOf if it is not
// zero, by ID number, with its members: the items that name it (as of the
// same time), so that the two sides of membership always agree.
func (b *Board) Initiatives(ctx context.Context, asOf time.Time) ([]tracker.InitiativeState, error) {
	var out []tracker.InitiativeState
	err := b.read(ctx, func(tx *sql.Tx) error {
		var rows *sql.Rows
		var err error
		if asOf.IsZero() {
			rows, err = tx.QueryContext(ctx, "SELECT id, title, description, status, version, created, updated FROM initiatives WHERE status <> '' ORDER BY num, id")
		} else {
			t := micros(asOf)
			rows, err = tx.QueryContext(ctx, `SELECT h.id, h.title, h.description, h.status, h.version, h.created, h.updated
				FROM initiative_history h JOIN initiatives n ON n.id = h.id
				WHERE h.from_at <= ? AND h.to_at > ? AND h.status <> '' ORDER BY n.num, h.id`, t, t)
		}
		if err != nil {
			return err
		}
		byID := make(map[string]int)
		for rows.Next() {
			var s tracker.InitiativeState
			var status string
			var created, updated int64
			if err := rows.Scan(&s.ID, &s.Title, &s.Description, &status, &s.Version, &created, &updated); err != nil {
				rows.Close()
				return err
			}
			s.Status = tracker.InitiativeStatus(status)
			s.CreatedAt, s.UpdatedAt = fromMicros(created), fromMicros(updated)
			byID[s.ID] = len(out)
			out = append(out, s)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		if len(out) == 0 {
			return nil
		}
		if asOf.IsZero() {
			rows, err = tx.QueryContext(ctx, "SELECT initiative, id FROM items WHERE initiative <> '' AND status <> '' ORDER BY initiative, num, id")
		} else {
			members, err := membersAsOf(ctx, tx, micros(asOf))
			if err != nil {
				return err
			}
			for _, m := range members {
				if i, ok := byID[m[0]]; ok {
					out[i].Members = append(out[i].Members, m[1])
				}
			}
			return nil
		}
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var in, id string
			if err := rows.Scan(&in, &id); err != nil {
				return err
			}
			if i, ok := byID[in]; ok {
				out[i].Members = append(out[i].Members, id)
			}
		}
		return rows.Err()
	})
	return out, err
}

// Counts returns how many work items and initiatives the model holds.
func (b *Board) Counts(ctx context.Context) (items, initiatives int, err error) {
	err = b.read(ctx, func(tx *sql.Tx) error {
		if err := tx.QueryRowContext(ctx, "SELECT count(*) FROM items WHERE status <> ''").Scan(&items); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, "SELECT count(*) FROM initiatives WHERE status <> ''").Scan(&initiatives)
	})
	return items, initiatives, err
}

package app

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// BoardFile is the name of the indexed read model's file beside a file
// store (DIR/readmodels/board.db).
const BoardFile = "board.db"

// WithBoard makes list, ready, search, initiative list, log and block's
// cycle check answer from the indexed read model (package board) in the
// SQLite file at path, brought up to date with the log before each
// answer. Without it the service keeps the model in a temporary file that
// Close removes, built from the whole log on first use.
func WithBoard(path string) Option { return func(o *options) { o.board = path } }

// Close releases the read model. The service must not be used after.
func (s *Service) Close() error {
	s.boardMu.Lock()
	defer s.boardMu.Unlock()
	var err error
	if s.board != nil {
		err = s.board.Close()
		s.board = nil
	}
	return err
}

// Board returns the read model, opened on first use, without catching up.
func (s *Service) Board(ctx context.Context) (*board.Board, error) {
	s.boardMu.Lock()
	defer s.boardMu.Unlock()
	if s.board != nil {
		return s.board, nil
	}
	if s.log == nil {
		return nil, errors.New("the store has no global log")
	}
	if s.boardPath != "" {
		b, err := board.Open(ctx, s.boardPath, s.log, s.reg, board.Options{Notes: s.boardNotes, DependencyStream: DependencyStream})
		if err == nil {
			s.board = b
			return b, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		// The model is a cache: a store whose model cannot be opened
		// there (read-only, in the way) still answers, from one of its
		// own. A read-only store is expected and not noted.
		if !board.Unwritable(err) {
			s.boardNote("read model not saved (%v): answering from a temporary one built from the log", err)
		}
	}
	return s.tempBoard(ctx)
}

// tempBoard opens a read model in a new temporary file, removed when it
// is closed; boardMu is held.
func (s *Service) tempBoard(ctx context.Context) (*board.Board, error) {
	b, err := board.OpenTemp(ctx, s.log, s.reg, board.Options{Notes: s.boardNotes, DependencyStream: DependencyStream})
	if err != nil {
		return nil, err
	}
	s.board = b
	return b, nil
}

// current returns the read model caught up with the log. A model that a
// query then finds damaged is repaired by calling again with repair.
func (s *Service) current(ctx context.Context) (*board.Board, error) {
	b, err := s.Board(ctx)
	if err != nil {
		return nil, err
	}
	if _, err := b.CatchUp(ctx, nil); err != nil {
		if !board.Unwritable(err) || b.Temporary() {
			return nil, err
		}
		s.boardNote("read model not saved (%v): answering from a temporary one built from the log", err)
		// The model cannot be brought up to date where it is (a
		// read-only store, a full disk): answer from a temporary one.
		s.boardMu.Lock()
		s.board.Close()
		s.board = nil
		b, err = s.tempBoard(ctx)
		s.boardMu.Unlock()
		if err != nil {
			return nil, err
		}
		if _, err := b.CatchUp(ctx, nil); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// query runs fn on the current model; if the model turns out damaged, it
// is rebuilt and fn runs once more.
func query[T any](ctx context.Context, s *Service, fn func(b *board.Board) (T, error)) (T, error) {
	b, err := s.current(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	v, err := fn(b)
	if errors.Is(err, board.ErrDamaged) {
		if err := b.Repair(ctx); err != nil {
			return v, err
		}
		if _, err := b.CatchUp(ctx, nil); err != nil {
			return v, err
		}
		v, err = fn(b)
	}
	return v, err
}

// normQuery normalises the IDs a query names.
func normQuery(q board.Query) board.Query {
	for i, in := range q.Initiatives {
		if in != "" {
			q.Initiatives[i] = InitiativeID(in)
		}
	}
	return q
}

// Items returns the work items q selects, from the read model (as of
// q.AsOf, if set).
func (s *Service) Items(ctx context.Context, q board.Query) ([]tracker.Item, error) {
	q = normQuery(q)
	return query(ctx, s, func(b *board.Board) ([]tracker.Item, error) { return b.Items(ctx, q) })
}

// ReadyItems returns the work items ready to be taken among those q
// selects, as [board.Board.Ready] answers: every blocker done, and
// unassigned in backlog or ready, or (now) held by an expired claim; most
// urgent first.
func (s *Service) ReadyItems(ctx context.Context, q board.Query) ([]tracker.Item, error) {
	q = normQuery(q)
	return query(ctx, s, func(b *board.Board) ([]tracker.Item, error) { return b.Ready(ctx, q) })
}

// Search returns the work items whose title, description or comments hold
// every word of text, among those q selects, best match first.
func (s *Service) Search(ctx context.Context, text string, q board.Query) ([]board.Hit, error) {
	q = normQuery(q)
	return query(ctx, s, func(b *board.Board) ([]board.Hit, error) { return b.Search(ctx, text, q) })
}

// Feed returns the events of the activity feed that q selects. Item IDs
// are normalised: "42" is J-42.
func (s *Service) Feed(ctx context.Context, q board.FeedQuery) ([]board.Entry, error) {
	for i, id := range q.Items {
		if n := InitiativeID(id); n != id && len(id) > 1 && (id[0] == 'i' || id[0] == 'I') {
			q.Items[i] = n
		} else {
			q.Items[i] = ItemID(id)
		}
	}
	return query(ctx, s, func(b *board.Board) ([]board.Entry, error) { return b.Feed(ctx, q) })
}

// InitiativesAsOf returns every initiative now, or as of asOf if it is
// not zero, with the items that name it as members.
func (s *Service) InitiativesAsOf(ctx context.Context, asOf time.Time) ([]tracker.InitiativeState, error) {
	return query(ctx, s, func(b *board.Board) ([]tracker.InitiativeState, error) { return b.Initiatives(ctx, asOf) })
}

// RebuildBoard recreates the read model from the first event, calling
// progress after each transaction.
func (s *Service) RebuildBoard(ctx context.Context, progress board.Progress) (int64, error) {
	b, err := s.Board(ctx)
	if err != nil {
		return 0, err
	}
	return b.Rebuild(ctx, progress)
}

// Counts returns how many work items and initiatives the read model holds.
func (s *Service) Counts(ctx context.Context) (items, initiatives int, err error) {
	c, err := query(ctx, s, func(b *board.Board) ([2]int, error) {
		i, n, err := b.Counts(ctx)
		return [2]int{i, n}, err
	})
	return c[0], c[1], err
}

// Label puts labels on work item id (add) or takes them off. Labels the
// item already has (or, removing, lacks) record nothing.
func (s *Service) Label(ctx context.Context, id string, add bool, labels []string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	if len(labels) == 0 {
		return Result[tracker.Item]{}, Usagef("name at least one label")
	}
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error {
		if add {
			return w.Label(labels...)
		}
		return w.Unlabel(labels...)
	})
}

// WithBoardNotes sets a function told, in one line, of an indexed read
// model that was thrown away and is being rebuilt, or could not be saved.
func WithBoardNotes(fn func(msg string)) Option { return func(o *options) { o.bnotes = fn } }

func (s *Service) boardNote(format string, args ...any) {
	if s.boardNotes != nil {
		s.boardNotes(fmt.Sprintf(format, args...))
	}
}

// ListCards returns the cards of the work items q selects, from the
// indexed read model (as of q.AsOf, if set).
func (s *Service) ListCards(ctx context.Context, q board.Query) ([]Card, error) {
	items, err := s.Items(ctx, q)
	if err != nil {
		return nil, err
	}
	return s.cards(ctx, items, q.AsOf)
}

// ReadyCards returns the cards of the work items ready to be taken among
// those q selects, most urgent first (q.Sort empty): open, not set to
// blocked, in the pool (unassigned in backlog or ready, or their claim
// expired) and every blocker done, at q.AsOf or now.
func (s *Service) ReadyCards(ctx context.Context, q board.Query) ([]Card, error) {
	if q.AsOf.IsZero() {
		// The model answers the whole rule now, expired claims
		// included, stopping at the limit.
		items, err := s.ReadyItems(ctx, q)
		if err != nil {
			return nil, err
		}
		return s.cards(ctx, items, time.Time{})
	}
	if len(q.Statuses) == 0 {
		// An expired claim puts an item in progress back in the pool.
		q.Statuses = []tracker.Status{tracker.Backlog, tracker.Ready, tracker.InProgress}
	}
	if q.Sort == "" {
		q.Sort = board.ByPriority
	}
	limit := q.Limit
	q.Limit = 0
	items, err := s.Items(ctx, q)
	if err != nil {
		return nil, err
	}
	var pool []tracker.Item
	for _, it := range items {
		if !it.Status.Closed() && it.Status != tracker.Blocked && it.Available(q.AsOf) {
			pool = append(pool, it)
		}
	}
	cards, err := s.cards(ctx, pool, q.AsOf)
	if err != nil {
		return nil, err
	}
	out := cards[:0]
	for _, c := range cards {
		done := true
		for _, b := range c.Blockers {
			if b.Status != tracker.Done {
				done = false
			}
		}
		if done {
			out = append(out, c)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return out, nil
}

// cards returns the cards of items now (asOf zero) or as of asOf.
func (s *Service) cards(ctx context.Context, items []tracker.Item, asOf time.Time) ([]Card, error) {
	if asOf.IsZero() {
		// From the indexed model: the states of the items' blockers and
		// the open items that wait on them, in two queries.
		ids := make([]string, len(items))
		var blockers []string
		for i, it := range items {
			ids[i] = it.ID
			blockers = append(blockers, it.Blockers...)
		}
		type maps struct {
			states  map[string]tracker.BlockerState
			waiting map[string][]tracker.BlockerState
		}
		m, err := query(ctx, s, func(b *board.Board) (maps, error) {
			st, err := b.States(ctx, blockers)
			if err != nil {
				return maps{}, err
			}
			w, err := b.Waiting(ctx, ids)
			return maps{st, w}, err
		})
		if err != nil {
			return nil, err
		}
		now := es.Now()
		out := make([]Card, len(items))
		for i, it := range items {
			c := Card{Item: it, Blocks: m.waiting[it.ID], Claim: ClaimAt(it, now), Blockers: make([]tracker.BlockerState, len(it.Blockers))}
			for j, b := range it.Blockers {
				if st, ok := m.states[b]; ok {
					c.Blockers[j] = st
				} else {
					c.Blockers[j] = tracker.BlockerState{ID: b}
				}
			}
			out[i] = c
		}
		return out, nil
	}
	out := make([]Card, len(items))
	for i, it := range items {
		c, err := s.Card(ctx, it, asOf)
		if err != nil {
			return nil, err
		}
		out[i] = c
	}
	return out, nil
}

// FeedRecords returns the records of the events q selects, in the order
// Feed gives them: the feed's index picks them, and the log gives their
// data, read in runs of nearby positions.
func (s *Service) FeedRecords(ctx context.Context, q board.FeedQuery) ([]es.Record, error) {
	entries, err := s.Feed(ctx, q)
	if err != nil || len(entries) == 0 {
		return nil, err
	}
	want := make([]int64, len(entries))
	for i, e := range entries {
		want[i] = e.Position
	}
	sorted := slices.Clone(want)
	slices.Sort(sorted)
	byPos := make(map[int64]es.Record, len(sorted))
	// A gap this long is cheaper to seek over than to read through.
	const maxGap = 256
	for i := 0; i < len(sorted); {
		next := i
		for rec, err := range s.log.ReadLog(ctx, sorted[i]) {
			if err != nil {
				return nil, fmt.Errorf("read the log: %w", err)
			}
			if rec.Position == sorted[next] {
				byPos[rec.Position] = rec
				next++
				if next == len(sorted) || sorted[next]-rec.Position > maxGap {
					break
				}
			}
		}
		if next == i {
			return nil, fmt.Errorf("read the log: no event at position %d", sorted[i])
		}
		i = next
	}
	out := make([]es.Record, len(want))
	for i, p := range want {
		rec, err := s.reg.Upcast(byPos[p])
		if err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}

// CardsNow returns the cards of items now.
func (s *Service) CardsNow(ctx context.Context, items []tracker.Item) ([]Card, error) {
	return s.cards(ctx, items, time.Time{})
}

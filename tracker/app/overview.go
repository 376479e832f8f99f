package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// Overview is the read model of every work item and initiative, folded
// from the global log one record at a time with [Overview.Apply]. It uses
// the same folds as the aggregates ([tracker.Item.Apply],
// [tracker.InitiativeState.Apply]), so it always agrees with them.
//
// Its state is plain data keyed by ID, and Position says how far into the
// log it has read: persisting both is enough to resume it later. An
// Overview is not safe for concurrent use, reads included (they decode
// comments and sort items lazily).
type Overview struct {
	reg    *es.Registry
	pos    int64
	lastID uuid.UUID // of the record at pos, to check a saved model against its store
	items  map[string]*itemEntry
	// order holds every item once: by ID number if sorted, else in the
	// order they appeared. New items mostly come in ID order, so it stays
	// sorted, and listing all items needs no sort.
	order  []*itemEntry
	sorted bool
	inits  map[string]*tracker.InitiativeState
	// graphVersion is the version of the dependency graph stream, and
	// pending holds its reservations not yet settled, by item (see
	// dependencies.go).
	graphVersion int64
	pending      map[string][]pendingEdge
}

// itemEntry is a work item in the projection. A model loaded from its
// persisted form leaves each item's comments encoded in raw until they are
// needed: most listings never show them, and they are most of the model.
type itemEntry struct {
	tracker.Item
	raw string // encoded comments not yet in Item.Comments (see decodeComments)
}

// materialize decodes the entry's comments into Item.Comments.
func (e *itemEntry) materialize() {
	if e.raw != "" {
		e.Comments = decodeComments(e.raw)
		e.raw = ""
	}
}

// item returns a copy of the item, with its comments unless noComments.
func (e *itemEntry) item(noComments bool) tracker.Item {
	if noComments {
		it := e.Item
		it.Comments = nil
		return it
	}
	e.materialize()
	return e.Item
}

// NewOverview returns an empty overview that decodes with reg.
func NewOverview(reg *es.Registry) *Overview {
	return &Overview{reg: reg, items: make(map[string]*itemEntry), sorted: true,
		inits: make(map[string]*tracker.InitiativeState), pending: make(map[string][]pendingEdge)}
}

var (
	itemStreamPrefix       = tracker.WorkItemType + "-"
	initiativeStreamPrefix = tracker.InitiativeType + "-"
)

// Apply folds one record of the global log into the projection. Records
// must come in log order; records of other streams are skipped.
func (p *Overview) Apply(rec es.Record) error {
	p.pos, p.lastID = rec.Position, rec.ID
	var fold func(es.Envelope)
	switch {
	case strings.HasPrefix(rec.Stream, itemStreamPrefix):
		id := rec.Stream[len(itemStreamPrefix):]
		e := p.items[id]
		if e == nil {
			e = &itemEntry{Item: tracker.Item{ID: id}}
			p.items[id] = e
			if n := len(p.order); n > 0 && p.sorted && compareIDs(p.order[n-1].ID, id) >= 0 {
				p.sorted = false
			}
			p.order = append(p.order, e)
		}
		e.materialize() // a comment is appended after the others
		fold = e.Apply
		p.settle(id, rec.Version)
	case strings.HasPrefix(rec.Stream, initiativeStreamPrefix):
		id := rec.Stream[len(initiativeStreamPrefix):]
		in := p.inits[id]
		if in == nil {
			in = &tracker.InitiativeState{ID: id}
			p.inits[id] = in
		}
		fold = in.Apply
	case rec.Stream == DependencyStream:
		fold = p.applyGraph
	default:
		return nil
	}
	data, ok := any(nil), false
	if schema, known := p.reg.Schema(rec.Type); known && schema == rec.Schema {
		data, ok = tracker.DecodeFast(rec.Type, rec.Data)
	}
	if !ok {
		var err error
		if data, err = p.reg.Decode(rec); err != nil {
			return err
		}
	}
	fold(es.Envelope{ID: rec.ID, Type: rec.Type, Version: rec.Version, Time: rec.Time, Metadata: rec.Metadata, Data: data})
	return nil
}

// reset empties the projection.
func (p *Overview) reset() {
	p.pos, p.lastID = 0, uuid.UUID{}
	p.items = make(map[string]*itemEntry)
	p.order, p.sorted = nil, true
	p.inits = make(map[string]*tracker.InitiativeState)
	p.graphVersion, p.pending = 0, make(map[string][]pendingEdge)
}

// Position returns the log position of the last record applied.
func (p *Overview) Position() int64 { return p.pos }

// Item returns the state of work item id.
func (p *Overview) Item(id string) (tracker.Item, bool) {
	e, ok := p.items[id]
	if !ok || e.Status == "" {
		return tracker.Item{}, false
	}
	return e.item(false), true
}

// Filter selects work items; empty fields match everything.
type Filter struct {
	Status     tracker.Status
	Assignee   string
	Type       tracker.ItemType
	Initiative string
	// NoComments leaves the items' Comments empty, for listings that do
	// not show them: it saves decoding them.
	NoComments bool
	// NoCards leaves out of the cards that List returns their blockers'
	// states and the items waiting on them (the claim stays), for tables
	// that show neither: it saves a pass over every dependency.
	NoCards bool
}

func (f Filter) match(it *tracker.Item) bool {
	return it.Status != "" &&
		(f.Status == "" || it.Status == f.Status) &&
		(f.Assignee == "" || it.Assignee == f.Assignee) &&
		(f.Type == "" || it.Type == f.Type) &&
		(f.Initiative == "" || it.Initiative == f.Initiative)
}

// Items returns the work items that match f, by ID number.
func (p *Overview) Items(f Filter) []tracker.Item {
	p.sortOrder()
	var out []tracker.Item
	if f == (Filter{NoComments: f.NoComments, NoCards: f.NoCards}) {
		out = make([]tracker.Item, 0, len(p.order))
	}
	for _, e := range p.order {
		if f.match(&e.Item) {
			out = append(out, e.item(f.NoComments))
		}
	}
	return out
}

// sortOrder sorts p.order by ID if it is not sorted.
func (p *Overview) sortOrder() {
	if !p.sorted {
		sortByID(p.order, func(e *itemEntry) string { return e.ID })
		p.sorted = true
	}
}

func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(idNumber(a), idNumber(b)), strings.Compare(a, b))
}

// sortByID sorts s by the IDs of its elements as compareIDs does, reading
// each ID's number once rather than at every comparison.
func sortByID[T any](s []T, id func(T) string) {
	type keyed struct {
		n  int64
		id string
		v  T
	}
	ks := make([]keyed, len(s))
	for i, v := range s {
		ks[i] = keyed{idNumber(id(v)), id(v), v}
	}
	slices.SortFunc(ks, func(a, b keyed) int {
		if a.n != b.n {
			return cmp.Compare(a.n, b.n)
		}
		return strings.Compare(a.id, b.id)
	})
	for i := range ks {
		s[i] = ks[i].v
	}
}

// Ready returns the work items an agent may take next at t: unassigned in
// backlog or ready, or held by a claim expired at t (see
// tracker.Item.Available), with every blocker done; highest priority first,
// oldest first within a priority.
func (p *Overview) Ready(t time.Time) []tracker.Item {
	var sel []*itemEntry
	for _, e := range p.order {
		if p.isReady(&e.Item, t) {
			sel = append(sel, e)
		}
	}
	slices.SortFunc(sel, func(a, b *itemEntry) int {
		return cmp.Or(cmp.Compare(a.Priority.Rank(), b.Priority.Rank()),
			a.CreatedAt.Compare(b.CreatedAt), compareIDs(a.ID, b.ID))
	})
	out := make([]tracker.Item, len(sel))
	for i, e := range sel {
		out[i] = e.item(false)
	}
	return out
}

func (p *Overview) isReady(it *tracker.Item, t time.Time) bool {
	if !it.Available(t) {
		return false
	}
	for _, b := range it.Blockers {
		if bi, ok := p.items[b]; !ok || bi.Status != tracker.Done {
			return false
		}
	}
	return true
}

// Initiatives returns every initiative, by ID number.
func (p *Overview) Initiatives() []tracker.InitiativeState {
	var sel []*tracker.InitiativeState
	for _, in := range p.inits {
		if in.Status != "" {
			sel = append(sel, in)
		}
	}
	sortByID(sel, func(in *tracker.InitiativeState) string { return in.ID })
	out := make([]tracker.InitiativeState, len(sel))
	for i, in := range sel {
		out[i] = *in
	}
	return out
}

// Counts returns how many work items and initiatives the projection holds.
func (p *Overview) Counts() (items, initiatives int) { return len(p.items), len(p.inits) }

// ProgressFunc is told how far a fold has come: records applied, and the log's
// last position when the fold started.
type ProgressFunc func(done, total int64)

// ReadModel folds the whole global log into a new projection. With a
// non-zero asOf it skips records recorded after asOf, giving the state as of
// then (list --as-of). progress, if not nil, is called now and then and at
// the end. For the state now, [Service.Current] reads the persisted model
// instead when the service has one.
func (s *Service) ReadModel(ctx context.Context, asOf time.Time, progress ProgressFunc) (*Overview, error) {
	if s.log == nil {
		return nil, errors.New("the store has no global log")
	}
	p := NewOverview(s.reg)
	var total int64
	if progress != nil {
		var err error
		if total, err = s.log.LastPosition(ctx); err != nil {
			return nil, err
		}
	}
	asOf = es.Timestamp(asOf)
	// Streams that have reached an event after asOf: as a temporal load
	// does, the fold stops there, even if a later version's time is earlier
	// (times that go back along a stream, as an import may bring).
	var past map[string]bool
	var n int64
	for rec, err := range s.log.ReadLog(ctx, 1) {
		if err != nil {
			return nil, fmt.Errorf("read the log: %w", err)
		}
		n++
		if progress != nil && n%4096 == 0 {
			progress(n, total)
		}
		if !asOf.IsZero() && (past[rec.Stream] || rec.Time.After(asOf)) {
			if past == nil {
				past = make(map[string]bool)
			}
			past[rec.Stream] = true
			continue
		}
		if err := p.Apply(rec); err != nil {
			return nil, err
		}
	}
	if progress != nil {
		progress(n, max(total, n))
	}
	return p, nil
}

// List returns the cards of the work items that match f, now or (asOf not
// zero) as of a time.
func (s *Service) List(ctx context.Context, f Filter, asOf time.Time) ([]Card, error) {
	if f.Initiative != "" {
		f.Initiative = InitiativeID(f.Initiative)
	}
	var p *Overview
	var err error
	if asOf.IsZero() {
		p, err = s.Current(ctx)
	} else {
		// The read model is now: the past needs a fold of the log.
		p, err = s.ReadModel(ctx, asOf, nil)
	}
	if err != nil {
		return nil, err
	}
	t := asOf
	if t.IsZero() {
		t = es.Now()
	}
	items := p.Items(f)
	if f.NoCards {
		out := make([]Card, len(items))
		for i, it := range items {
			out[i] = Card{Item: it, Claim: ClaimAt(it, t)}
		}
		return out, nil
	}
	return p.Cards(items, t), nil
}

// Ready returns the cards of up to limit (0: all) work items ready to be
// taken, most urgent first.
func (s *Service) Ready(ctx context.Context, limit int) ([]Card, error) {
	p, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	now := es.Now()
	r := p.Ready(now)
	if limit > 0 && len(r) > limit {
		r = r[:limit]
	}
	return p.Cards(r, now), nil
}

// ClaimReady claims the most urgent ready work item for the actor, moves it
// to in_progress in the same append, and returns it. Each candidate is
// claimed with the version it was loaded at; one that another agent changed
// or claimed meanwhile is skipped for the next, so agents racing for work
// each get a different item. An item whose claim has expired is taken over.
// It returns a *NotFoundError when no item is ready.
func (s *Service) ClaimReady(ctx context.Context, lease time.Duration) (Result[tracker.Item], error) {
	act := s.act(ctx)
	act.Force = false // ready never forces its way
	lease, err := s.leaseOr(lease)
	if err != nil {
		return Result[tracker.Item]{}, err
	}
	p, err := s.Current(ctx)
	if err != nil {
		return Result[tracker.Item]{}, err
	}
	for _, cand := range p.Ready(act.Now) {
		w, err := s.items.Load(ctx, cand.ID)
		if err != nil {
			return Result[tracker.Item]{}, err
		}
		// The item may have moved on since the log was read.
		if it := w.Item(); !it.Available(act.Now) {
			continue
		}
		// A blocker may have been added, or reopened, meanwhile too: Pick
		// refuses an item with an open blocker.
		lookup, err := s.blockers(ctx, w.Blockers())
		if err != nil {
			return Result[tracker.Item]{}, err
		}
		if err := w.Pick(act, lease, lookup); err != nil {
			if errors.Is(err, tracker.ErrClaimed) || errors.Is(err, tracker.ErrInvalidTransition) || errors.Is(err, tracker.ErrBlocked) {
				continue
			}
			return Result[tracker.Item]{}, err
		}
		events := eventData(w.Pending())
		_, err = s.items.Save(ctx, w)
		if errors.Is(err, es.ErrConcurrency) {
			continue
		}
		if err != nil {
			return Result[tracker.Item]{}, err
		}
		return Result[tracker.Item]{State: w.Item(), Events: events}, nil
	}
	return Result[tracker.Item]{}, &NotFoundError{Kind: "ready", ID: "work item"}
}

// Initiatives returns every initiative.
func (s *Service) Initiatives(ctx context.Context) ([]tracker.InitiativeState, error) {
	p, err := s.Current(ctx)
	if err != nil {
		return nil, err
	}
	return p.Initiatives(), nil
}

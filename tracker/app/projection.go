package app

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// Projection is the read model of every work item and initiative, folded
// from the global log one record at a time with [Projection.Apply]. It uses
// the same folds as the aggregates ([tracker.Item.Apply],
// [tracker.InitiativeState.Apply]), so it always agrees with them.
//
// Its state is plain data keyed by ID, and Position says how far into the
// log it has read: persisting both is enough to resume it later. A
// Projection is not safe for concurrent use.
type Projection struct {
	reg   *es.Registry
	pos   int64
	items map[string]*tracker.Item
	inits map[string]*tracker.InitiativeState
}

// NewProjection returns an empty projection that decodes with reg.
func NewProjection(reg *es.Registry) *Projection {
	return &Projection{reg: reg, items: make(map[string]*tracker.Item), inits: make(map[string]*tracker.InitiativeState)}
}

var (
	itemStreamPrefix       = tracker.WorkItemType + "-"
	initiativeStreamPrefix = tracker.InitiativeType + "-"
)

// Apply folds one record of the global log into the projection. Records
// must come in log order; records of other streams are skipped.
func (p *Projection) Apply(rec es.Record) error {
	p.pos = rec.Position
	var fold func(es.Envelope)
	switch {
	case strings.HasPrefix(rec.Stream, itemStreamPrefix):
		id := rec.Stream[len(itemStreamPrefix):]
		it := p.items[id]
		if it == nil {
			it = &tracker.Item{ID: id}
			p.items[id] = it
		}
		fold = it.Apply
	case strings.HasPrefix(rec.Stream, initiativeStreamPrefix):
		id := rec.Stream[len(initiativeStreamPrefix):]
		in := p.inits[id]
		if in == nil {
			in = &tracker.InitiativeState{ID: id}
			p.inits[id] = in
		}
		fold = in.Apply
	default:
		return nil
	}
	data, ok := any(nil), false
	if schema, known := p.reg.Schema(rec.Type); known && schema == rec.Schema {
		data, ok = decodeFast(rec.Type, rec.Data)
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

// Position returns the log position of the last record applied.
func (p *Projection) Position() int64 { return p.pos }

// Item returns the state of work item id.
func (p *Projection) Item(id string) (tracker.Item, bool) {
	it, ok := p.items[id]
	if !ok || it.Status == "" {
		return tracker.Item{}, false
	}
	return *it, true
}

// Filter selects work items; empty fields match everything.
type Filter struct {
	Status     tracker.Status
	Assignee   string
	Type       tracker.ItemType
	Initiative string
}

func (f Filter) match(it *tracker.Item) bool {
	return it.Status != "" &&
		(f.Status == "" || it.Status == f.Status) &&
		(f.Assignee == "" || it.Assignee == f.Assignee) &&
		(f.Type == "" || it.Type == f.Type) &&
		(f.Initiative == "" || it.Initiative == f.Initiative)
}

// Items returns the work items that match f, by ID number.
func (p *Projection) Items(f Filter) []tracker.Item {
	out := make([]tracker.Item, 0, len(p.items))
	for _, it := range p.items {
		if f.match(it) {
			out = append(out, *it)
		}
	}
	slices.SortFunc(out, func(a, b tracker.Item) int { return compareIDs(a.ID, b.ID) })
	return out
}

func compareIDs(a, b string) int {
	return cmp.Or(cmp.Compare(idNumber(a), idNumber(b)), strings.Compare(a, b))
}

// Ready returns the work items an agent may take next: unassigned, in
// backlog or ready, with every blocker done; highest priority first, oldest
// first within a priority.
func (p *Projection) Ready() []tracker.Item {
	var out []tracker.Item
	for _, it := range p.items {
		if p.isReady(it) {
			out = append(out, *it)
		}
	}
	slices.SortFunc(out, func(a, b tracker.Item) int {
		return cmp.Or(cmp.Compare(a.Priority.Rank(), b.Priority.Rank()),
			a.CreatedAt.Compare(b.CreatedAt), compareIDs(a.ID, b.ID))
	})
	return out
}

func (p *Projection) isReady(it *tracker.Item) bool {
	if it.Assignee != "" || (it.Status != tracker.Backlog && it.Status != tracker.Ready) {
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
func (p *Projection) Initiatives() []tracker.InitiativeState {
	out := make([]tracker.InitiativeState, 0, len(p.inits))
	for _, in := range p.inits {
		if in.Status != "" {
			out = append(out, *in)
		}
	}
	slices.SortFunc(out, func(a, b tracker.InitiativeState) int { return compareIDs(a.ID, b.ID) })
	return out
}

// Counts returns how many work items and initiatives the projection holds.
func (p *Projection) Counts() (items, initiatives int) { return len(p.items), len(p.inits) }

// Progress is told how far a fold has come: records applied, and the log's
// last position when the fold started.
type Progress func(done, total int64)

// ReadModel folds the global log into a new projection. With a non-zero
// asOf it skips records recorded after asOf, giving the state as of then.
// progress, if not nil, is called now and then and at the end.
//
// This is the one place the read model is built; it is where a persisted,
// checkpointed projection plugs in.
func (s *Service) ReadModel(ctx context.Context, asOf time.Time, progress Progress) (*Projection, error) {
	if s.log == nil {
		return nil, errors.New("the store has no global log")
	}
	p := NewProjection(s.reg)
	var total int64
	if progress != nil {
		var err error
		if total, err = s.log.LastPosition(ctx); err != nil {
			return nil, err
		}
	}
	asOf = es.Timestamp(asOf)
	var n int64
	for rec, err := range s.log.ReadLog(ctx, 1) {
		if err != nil {
			return nil, fmt.Errorf("read the log: %w", err)
		}
		n++
		if progress != nil && n%4096 == 0 {
			progress(n, total)
		}
		if !asOf.IsZero() && rec.Time.After(asOf) {
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

// List returns the work items that match f, now or (asOf not zero) as of
// a time.
func (s *Service) List(ctx context.Context, f Filter, asOf time.Time) ([]tracker.Item, error) {
	if f.Initiative != "" {
		f.Initiative = InitiativeID(f.Initiative)
	}
	p, err := s.ReadModel(ctx, asOf, nil)
	if err != nil {
		return nil, err
	}
	return p.Items(f), nil
}

// Ready returns up to limit (0: all) work items ready to be taken, most
// urgent first.
func (s *Service) Ready(ctx context.Context, limit int) ([]tracker.Item, error) {
	p, err := s.ReadModel(ctx, time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	r := p.Ready()
	if limit > 0 && len(r) > limit {
		r = r[:limit]
	}
	return r, nil
}

// ClaimReady claims the most urgent ready work item for the actor and
// returns it. Each candidate is claimed with the version it was loaded at;
// one that another agent changed or claimed meanwhile is skipped for the
// next, so agents racing for work each get a different item. It returns a
// *NotFoundError when no item is ready.
func (s *Service) ClaimReady(ctx context.Context) (Result[tracker.Item], error) {
	who := actor(ctx)
	p, err := s.ReadModel(ctx, time.Time{}, nil)
	if err != nil {
		return Result[tracker.Item]{}, err
	}
	for _, cand := range p.Ready() {
		w, err := s.items.Load(ctx, cand.ID)
		if err != nil {
			return Result[tracker.Item]{}, err
		}
		// The item may have moved on since the log was read.
		it := w.Item()
		if it.Assignee != "" || (it.Status != tracker.Backlog && it.Status != tracker.Ready) {
			continue
		}
		if err := w.Claim(who); err != nil {
			if errors.Is(err, tracker.ErrClaimed) || errors.Is(err, tracker.ErrInvalidTransition) {
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
	p, err := s.ReadModel(ctx, time.Time{}, nil)
	if err != nil {
		return nil, err
	}
	return p.Initiatives(), nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// notFound turns an es.ErrNotFound from loading id into a *NotFoundError.
func notFound(err error, kind, id, detail string) error {
	if errors.Is(err, es.ErrNotFound) {
		return &NotFoundError{Kind: kind, ID: id, Detail: detail}
	}
	return err
}

func (s *Service) updateItem(ctx context.Context, id string, expected es.ExpectedVersion, fn func(*tracker.WorkItem) error) (Result[tracker.Item], error) {
	id = ItemID(id)
	who := actor(ctx)
	w, n, err := update(ctx, s.items, id, expected, func(w *tracker.WorkItem) error {
		w.SetActor(who) // the events' actor, for the claim's renewal
		return fn(w)
	})
	if err != nil {
		return Result[tracker.Item]{}, notFound(err, "work item", id, "")
	}
	return Result[tracker.Item]{State: w.Item(), Events: n}, nil
}

func (s *Service) loadItem(ctx context.Context, id string) (*tracker.WorkItem, error) {
	w, err := s.items.Load(ctx, id)
	return w, notFound(err, "work item", id, "")
}

func (s *Service) loadInitiative(ctx context.Context, id string) (*tracker.Initiative, error) {
	in, err := s.inits.Load(ctx, id)
	return in, notFound(err, "initiative", id, "")
}

// Item returns the current state of work item id.
func (s *Service) Item(ctx context.Context, id string) (tracker.Item, error) {
	w, err := s.loadItem(ctx, ItemID(id))
	if err != nil {
		return tracker.Item{}, err
	}
	return w.Item(), nil
}

// ItemAt returns the state of work item id after its first version events.
func (s *Service) ItemAt(ctx context.Context, id string, version int64) (tracker.Item, error) {
	id = ItemID(id)
	if version < 1 {
		return tracker.Item{}, fmt.Errorf("%w: version %d (versions start at 1)", tracker.ErrInvalidInput, version)
	}
	w, err := s.items.LoadAt(ctx, id, version)
	if err != nil {
		return tracker.Item{}, notFound(err, "work item", id, fmt.Sprintf("at version %d", version))
	}
	return w.Item(), nil
}

// ItemAsOf returns the state of work item id as of time t.
func (s *Service) ItemAsOf(ctx context.Context, id string, t time.Time) (tracker.Item, error) {
	id = ItemID(id)
	w, err := s.items.LoadAsOf(ctx, id, t)
	if err != nil {
		return tracker.Item{}, notFound(err, "work item", id, "as of "+t.Local().Format(time.RFC3339))
	}
	return w.Item(), nil
}

// ChangeStatus moves work item id to status to. While another agent's
// claim holds the item it fails with a *tracker.ClaimedError; moving to
// in_progress, ready or done with open blockers fails with a
// *tracker.BlockedError. A [Force]d ctx goes through both.
func (s *Service) ChangeStatus(ctx context.Context, id string, to tracker.Status, reason string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error {
		lookup, err := s.blockers(ctx, w.Blockers())
		if err != nil {
			return err
		}
		return w.ChangeStatus(to, reason, act, lookup)
	})
}

// Reopen moves a done or cancelled work item back to backlog, unassigned.
func (s *Service) Reopen(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Reopen(reason, act) })
}

// Edit changes fields of work item id.
func (s *Service) Edit(ctx context.Context, id string, e tracker.Edit, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Edit(e, act) })
}

// Assign gives work item id to agent ("" unassigns it), who holds it as a
// claim for the service's default lease.
func (s *Service) Assign(ctx context.Context, id, agent string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Assign(agent, s.lease, act) })
}

// Comment adds a comment by the actor to work item id.
func (s *Service) Comment(ctx context.Context, id, text string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	who := actor(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Comment(who, text) })
}

// Unblock removes blocker from work item id's blockers. It writes only the
// item: removing an edge cannot close a cycle (see dependencies.go).
func (s *Service) Unblock(ctx context.Context, id, blocker string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	blocker = ItemID(blocker)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.RemoveBlocker(blocker) })
}

// Entry is one event in a history: the stored record (upcast to the current
// schema), its decoded data and a description of what it changed.
type Entry struct {
	Record  es.Record
	Data    any
	Summary string
}

// History returns every event of work item id, oldest first.
func (s *Service) History(ctx context.Context, id string) ([]Entry, error) {
	id = ItemID(id)
	return s.history(ctx, s.items.Stream(id), "work item", id)
}

// InitiativeHistory returns every event of initiative id, oldest first.
func (s *Service) InitiativeHistory(ctx context.Context, id string) ([]Entry, error) {
	id = InitiativeID(id)
	return s.history(ctx, s.inits.Stream(id), "initiative", id)
}

func (s *Service) history(ctx context.Context, stream, kind, id string) ([]Entry, error) {
	var out []Entry
	for rec, err := range s.reg.Upcasted(s.events.ReadStream(ctx, stream, 1, 0)) {
		if err != nil {
			return nil, err
		}
		data, err := s.reg.Decode(rec)
		if err != nil {
			return nil, err
		}
		out = append(out, Entry{Record: rec, Data: data, Summary: describe(rec, data)})
	}
	if len(out) == 0 {
		return nil, &NotFoundError{Kind: kind, ID: id}
	}
	return out, nil
}

// itemWhen returns work item id now, or (asOf not zero) as of that time.
func (s *Service) itemWhen(ctx context.Context, id string, asOf time.Time) (tracker.Item, error) {
	if asOf.IsZero() {
		return s.Item(ctx, id)
	}
	return s.ItemAsOf(ctx, id, asOf)
}

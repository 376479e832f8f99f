package app

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

func (s *Service) updateInitiative(ctx context.Context, id string, expected es.ExpectedVersion, fn func(*tracker.Initiative) error) (Result[tracker.InitiativeState], error) {
	in, n, err := update(ctx, s.inits, id, expected, fn)
	if err != nil {
		return Result[tracker.InitiativeState]{}, notFound(err, "initiative", id, "")
	}
	return Result[tracker.InitiativeState]{State: in.State(), Events: n}, nil
}

// CreateInitiative makes a new, active initiative.
func (s *Service) CreateInitiative(ctx context.Context, title, description string) (Result[tracker.InitiativeState], error) {
	var res Result[tracker.InitiativeState]
	if err := tracker.NewInitiative().Create(title, description); err != nil {
		return res, err
	}
	for attempt := 0; ; attempt++ {
		id, err := s.allocate(ctx, initiativeCounter, tracker.InitiativeType, InitiativePrefix)
		if err != nil {
			return res, err
		}
		in := s.inits.New(id)
		if err := in.Create(title, description); err != nil {
			return res, err
		}
		events := eventData(in.Pending())
		_, err = s.inits.Save(ctx, in)
		if err == nil {
			return Result[tracker.InitiativeState]{State: in.State(), Events: events}, nil
		}
		if !errors.Is(err, es.ErrConcurrency) || attempt+1 >= maxCreateAttempts {
			return res, err
		}
	}
}

// Initiative returns the current state of initiative id, with the members
// that the items name.
func (s *Service) Initiative(ctx context.Context, id string) (tracker.InitiativeState, error) {
	in, err := s.loadInitiative(ctx, InitiativeID(id))
	if err != nil {
		return tracker.InitiativeState{}, err
	}
	st := in.State()
	return st, s.deriveMembers(ctx, &st, time.Time{})
}

// InitiativeAsOf returns the state of initiative id as of time t, with the
// members that the items named then.
func (s *Service) InitiativeAsOf(ctx context.Context, id string, t time.Time) (tracker.InitiativeState, error) {
	id = InitiativeID(id)
	in, err := s.inits.LoadAsOf(ctx, id, t)
	if err != nil {
		return tracker.InitiativeState{}, notFound(err, "initiative", id, "as of "+t.Local().Format(time.RFC3339))
	}
	st := in.State()
	return st, s.deriveMembers(ctx, &st, t)
}

// Membership is two writes, to two streams: the initiative's ItemAdded or
// ItemRemoved, and the item's InitiativeChanged. No store writes both at
// once, so commands racing, or a command stopped between its writes, can
// leave the two disagreeing for a moment. The item's side is the truth:
// every command that changes a membership ends by running reconcile on the
// initiatives involved, which makes each initiative's side match what the
// item says, and runs again if the item changed meanwhile. Whatever the
// interleaving, the last command to write the item then leaves both sides
// agreeing.

// AddToInitiative makes work item item a member of initiative init, and
// takes it out of the initiative it was in before. expected applies to the
// initiative.
func (s *Service) AddToInitiative(ctx context.Context, init, item string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	init, item = InitiativeID(init), ItemID(item)
	w, err := s.loadItem(ctx, item)
	if err != nil {
		return Result[tracker.InitiativeState]{}, err
	}
	res, err := s.updateInitiative(ctx, init, expected, func(in *tracker.Initiative) error { return in.AddItem(item) })
	if err != nil {
		return res, err
	}
	var prev string
	_, err = s.updateItem(ctx, item, es.Any, func(w *tracker.WorkItem) error {
		prev = w.Initiative()
		return w.SetInitiative(init)
	})
	if err != nil {
		return res, fmt.Errorf("update %s's initiative: %w", item, err)
	}
	if in, changed, err := s.reconcile(ctx, init, item); err != nil {
		return res, err
	} else if changed {
		res.State = in
	}
	for _, old := range []string{prev, w.Initiative()} {
		if old != "" && old != init {
			if _, _, err := s.reconcile(ctx, old, item); err != nil {
				return res, err
			}
		}
	}
	return s.initiativeResult(ctx, res, nil)
}

// RemoveFromInitiative takes work item item out of initiative init.
// expected applies to the initiative. If init no longer holds item but the
// item still names init (a remove cut short between its two writes), it
// finishes the job.
func (s *Service) RemoveFromInitiative(ctx context.Context, init, item string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	init, item = InitiativeID(init), ItemID(item)
	res, err := s.updateInitiative(ctx, init, expected, func(in *tracker.Initiative) error { return in.RemoveItem(item) })
	if errors.Is(err, tracker.ErrNotMember) {
		// A remove cut short between its two writes left the item naming
		// init: running it again finishes it.
		if w, lerr := s.loadItem(ctx, item); lerr != nil || w.Initiative() != init {
			return res, err
		}
		in, lerr := s.loadInitiative(ctx, init)
		if lerr != nil {
			return res, lerr
		}
		res, err = Result[tracker.InitiativeState]{State: in.State()}, nil
	}
	if err != nil {
		return res, err
	}
	_, err = s.updateItem(ctx, item, es.Any, func(w *tracker.WorkItem) error {
		if w.Initiative() != init {
			return nil
		}
		return w.SetInitiative("")
	})
	if err != nil && !errors.Is(err, es.ErrNotFound) {
		return res, fmt.Errorf("update %s's initiative: %w", item, err)
	}
	if in, changed, err := s.reconcile(ctx, init, item); err != nil {
		return res, err
	} else if changed {
		res.State = in
	}
	return s.initiativeResult(ctx, res, nil)
}

// maxReconcile bounds how often reconcile runs again because the item
// changed under it.
const maxReconcile = 50

// reconcile makes initiative init's side of item's membership match the
// item's: init holds item if and only if the item names init. If the item
// changed while it did so, it looks again. An initiative that no longer
// takes members (completed or cancelled meanwhile) cannot take back an item
// that names it: then the item's side gives way. It returns init's state
// and whether it changed anything.
func (s *Service) reconcile(ctx context.Context, init, item string) (tracker.InitiativeState, bool, error) {
	var state tracker.InitiativeState
	changed := false
	for range maxReconcile {
		w, err := s.loadItem(ctx, item)
		if errors.Is(err, es.ErrNotFound) {
			return state, changed, nil
		}
		if err != nil {
			return state, changed, err
		}
		named := w.Initiative() == init
		r, err := s.updateInitiative(ctx, init, es.Any, func(in *tracker.Initiative) error {
			switch {
			case named && !in.Has(item):
				return in.AddItem(item)
			case !named && in.Has(item):
				return in.RemoveItem(item)
			}
			return nil
		})
		if errors.Is(err, tracker.ErrInvalidTransition) {
			_, err = s.updateItem(ctx, item, es.Any, func(w *tracker.WorkItem) error {
				if w.Initiative() != init {
					return nil
				}
				return w.SetInitiative("")
			})
			if err != nil {
				return state, changed, fmt.Errorf("update %s's initiative: %w", item, err)
			}
			continue
		}
		if errors.Is(err, es.ErrNotFound) {
			return state, changed, nil
		}
		if err != nil {
			return state, changed, fmt.Errorf("update %s's members: %w", init, err)
		}
		state, changed = r.State, changed || r.Changed()
		if now, err := s.loadItem(ctx, item); err != nil || now.Version() == w.Version() {
			return state, changed, err
		}
	}
	return state, changed, nil
}

// CompleteInitiative marks initiative id completed. It refuses with a
// *tracker.OpenMembersError while members are open, unless ctx is [Force]d.
func (s *Service) CompleteInitiative(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	force := Forced(es.MetadataFrom(ctx))
	return s.writeInitiative(ctx, InitiativeID(id), expected, func(in *tracker.Initiative) error {
		open, err := s.openMembers(ctx, in)
		if err != nil {
			return err
		}
		return in.Complete(reason, open, force)
	})
}

// CancelInitiative marks initiative id cancelled.
func (s *Service) CancelInitiative(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	return s.writeInitiative(ctx, InitiativeID(id), expected, func(in *tracker.Initiative) error { return in.Cancel(reason) })
}

// Member is one work item of an initiative as the faces show it: its state
// (as of the time asked for), or the error that kept it from loading.
type Member struct {
	// Item is the work item's state; only its ID is set if Err is not nil.
	Item tracker.Item
	// Err says why the item could not be loaded (it did not exist then).
	Err error
}

// Members loads the member work items of in, now or (asOf not zero) as of
// that time. A member that cannot be loaded is kept, with its error: an
// initiative shows every member it lists.
func (s *Service) Members(ctx context.Context, in tracker.InitiativeState, asOf time.Time) []Member {
	out := make([]Member, 0, len(in.Members))
	for _, id := range in.Members {
		it, err := s.itemWhen(ctx, id, asOf)
		if err != nil {
			it = tracker.Item{ID: id}
		}
		out = append(out, Member{Item: it, Err: err})
	}
	return out
}

// MemberCounts counts an initiative's members by where they stand.
type MemberCounts struct {
	Total, Done, Cancelled int
	// Open counts the members neither done nor cancelled, and those that
	// cannot be loaded: what keeps an initiative from completing.
	Open int
}

// CountMembers counts members as [Service.CompleteInitiative] judges them.
func CountMembers(members []Member) MemberCounts {
	c := MemberCounts{Total: len(members)}
	for _, m := range members {
		switch {
		case m.Err != nil:
			c.Open++
		case m.Item.Status == tracker.Done:
			c.Done++
		case m.Item.Status == tracker.Cancelled:
			c.Cancelled++
		default:
			c.Open++
		}
	}
	return c
}

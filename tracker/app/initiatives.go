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

// Initiative returns the current state of initiative id.
func (s *Service) Initiative(ctx context.Context, id string) (tracker.InitiativeState, error) {
	in, err := s.loadInitiative(ctx, InitiativeID(id))
	if err != nil {
		return tracker.InitiativeState{}, err
	}
	return in.State(), nil
}

// InitiativeAsOf returns the state of initiative id as of time t.
func (s *Service) InitiativeAsOf(ctx context.Context, id string, t time.Time) (tracker.InitiativeState, error) {
	id = InitiativeID(id)
	in, err := s.inits.LoadAsOf(ctx, id, t)
	if err != nil {
		return tracker.InitiativeState{}, notFound(err, "initiative", id, "as of "+t.Local().Format(time.RFC3339))
	}
	return in.State(), nil
}

// AddToInitiative makes work item item a member of initiative init, and
// takes it out of the initiative it was in before. expected applies to the
// initiative. If another agent removes the item from init between the
// initiative's write and the item's, the remove wins and the item's side is
// taken back, so that the two agree.
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
	if err := s.setItemInitiative(ctx, item, init, w.Initiative()); err != nil {
		return res, err
	}
	// Another agent may have removed the item between the two writes: its
	// remove saw the item not yet in init and left the item alone. The
	// remove came later, so it wins: take the item's side back.
	in, err := s.loadInitiative(ctx, init)
	if err != nil || in.Has(item) {
		return res, err
	}
	res.State = in.State()
	_, err = s.updateItem(ctx, item, es.Any, func(w *tracker.WorkItem) error {
		if w.Initiative() != init {
			return nil
		}
		if in, err := s.loadInitiative(ctx, init); err != nil || in.Has(item) {
			return err // added again meanwhile
		}
		return w.SetInitiative("")
	})
	if err != nil {
		return res, fmt.Errorf("update %s's initiative: %w", item, err)
	}
	return res, nil
}

// setItemInitiative writes the item's side of a membership change, and
// removes the item from the initiative it names (if not init).
func (s *Service) setItemInitiative(ctx context.Context, item, init, hint string) error {
	var prev string
	_, err := s.updateItem(ctx, item, es.Any, func(w *tracker.WorkItem) error {
		prev = w.Initiative()
		return w.SetInitiative(init)
	})
	if err != nil {
		return fmt.Errorf("update %s's initiative: %w", item, err)
	}
	for _, old := range []string{prev, hint} {
		if old == "" || old == init {
			continue
		}
		// Only if the item does not name old again by now: another add
		// may have moved it back meanwhile.
		if _, _, err := s.dropUnnamed(ctx, old, item); err != nil && !errors.Is(err, es.ErrNotFound) {
			return fmt.Errorf("remove %s from %s: %w", item, old, err)
		}
	}
	return nil
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
	// A create --initiative between its two writes may have added the item
	// to init again after the item was taken out: the remove wins.
	if in, dropped, err := s.dropUnnamed(ctx, init, item); err != nil {
		return res, err
	} else if dropped {
		res.State = in
	}
	return res, nil
}

// dropUnnamed takes item out of initiative init if init holds it but the
// item does not name init: the initiative's side of a membership that a
// remove undid while another command was between its two writes. It
// returns init's state and whether it changed it.
func (s *Service) dropUnnamed(ctx context.Context, init, item string) (tracker.InitiativeState, bool, error) {
	r, err := s.updateInitiative(ctx, init, es.Any, func(in *tracker.Initiative) error {
		if !in.Has(item) {
			return nil
		}
		w, err := s.loadItem(ctx, item)
		if errors.Is(err, es.ErrNotFound) {
			return nil
		}
		if err != nil || w.Initiative() == init {
			return err
		}
		return in.RemoveItem(item)
	})
	if err != nil {
		return r.State, false, fmt.Errorf("check %s's members: %w", init, err)
	}
	return r.State, r.Changed(), nil
}

// CompleteInitiative marks initiative id completed.
func (s *Service) CompleteInitiative(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	return s.updateInitiative(ctx, InitiativeID(id), expected, func(in *tracker.Initiative) error { return in.Complete(reason) })
}

// CancelInitiative marks initiative id cancelled.
func (s *Service) CancelInitiative(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	return s.updateInitiative(ctx, InitiativeID(id), expected, func(in *tracker.Initiative) error { return in.Cancel(reason) })
}

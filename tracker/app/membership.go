package app

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// Membership is recorded on both sides: the initiative's ItemAdded and
// ItemRemoved, and the work item's InitiativeChanged. No store writes two
// streams at once, so a command killed between its writes, or two commands
// racing on one item, can leave the sides disagreeing, and with no
// transaction across streams no order of writes prevents it.
//
// So the item's side is the truth, and every reader derives an
// initiative's members from the items that name it: initiative show and
// list (now and as of a time), the results of initiative writes, and the
// open members that keep an initiative from completing. The initiative's
// own events stay its audit trail; reconcile (initiatives.go) brings them
// in step after each membership command, and [Service.Verify] notes where
// they are not.

// orderMembers returns the members derived from naming, the items that
// name an initiative: those its own events list, in the order they
// joined, then the others by ID number.
func orderMembers(listed, naming []string) []string {
	names := make(map[string]bool, len(naming))
	for _, id := range naming {
		names[id] = true
	}
	out := make([]string, 0, len(naming))
	for _, id := range listed {
		if names[id] {
			out = append(out, id)
			delete(names, id) // listed twice is a member once
		}
	}
	var rest []string
	for _, id := range naming {
		if names[id] && !slices.Contains(out, id) {
			rest = append(rest, id)
		}
	}
	sortByID(rest, func(id string) string { return id })
	return append(out, rest...)
}

// membersOf returns the members of initiative in as p's items say.
func (p *Overview) membersOf(in *tracker.InitiativeState) []string {
	var naming []string
	for _, e := range p.order {
		if e.Status != "" && e.Initiative == in.ID {
			naming = append(naming, e.ID)
		}
	}
	return orderMembers(in.Members, naming)
}

// naming returns, for every initiative that some item names, the items
// that name it.
func (p *Overview) naming() map[string][]string {
	by := make(map[string][]string)
	for _, e := range p.order {
		if e.Status != "" && e.Initiative != "" {
			by[e.Initiative] = append(by[e.Initiative], e.ID)
		}
	}
	return by
}

// deriveMembers sets in's members to those the items name, now or (asOf
// not zero) as of that time.
func (s *Service) deriveMembers(ctx context.Context, in *tracker.InitiativeState, asOf time.Time) error {
	var p *Overview
	var err error
	if asOf.IsZero() {
		p, err = s.Current(ctx)
	} else {
		p, err = s.ReadModel(ctx, asOf, nil)
	}
	if err != nil {
		return fmt.Errorf("read %s's members: %w", in.ID, err)
	}
	in.Members = p.membersOf(in)
	return nil
}

// initiativeResult gives a write's result the members the items name.
func (s *Service) initiativeResult(ctx context.Context, res Result[tracker.InitiativeState], err error) (Result[tracker.InitiativeState], error) {
	if err != nil {
		return res, err
	}
	if err := s.deriveMembers(ctx, &res.State, time.Time{}); err != nil {
		return res, fmt.Errorf("%s is recorded, but %w", res.State.ID, err)
	}
	return res, nil
}

// writeInitiative runs fn on initiative id as updateInitiative does, and
// gives the result the members the items name.
func (s *Service) writeInitiative(ctx context.Context, id string, expected es.ExpectedVersion, fn func(*tracker.Initiative) error) (Result[tracker.InitiativeState], error) {
	res, err := s.updateInitiative(ctx, id, expected, fn)
	return s.initiativeResult(ctx, res, err)
}

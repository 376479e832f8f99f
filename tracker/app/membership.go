package app

import (
	"context"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// Membership is recorded on both sides: the initiative's ItemAdded and
// ItemRemoved, and the work item's InitiativeChanged. No store writes two
// streams at once, so a command killed between its writes, or two commands
// racing on one item, can leave the sides disagreeing, and with no
// transaction across streams no order of writes prevents it.
//
// So the item's side is the truth: an initiative's members are the items
// that name it, by ID number, for every reader. The indexed read model
// (package board) keeps no members on the initiative's side; the use
// cases here (initiative show now and as of
// a time, the results of initiative writes, the open members that keep an
// initiative from completing) derive them the same way. The initiative's
// own events stay its audit trail; reconcile (initiatives.go) brings them
// in step after each membership command, and [Service.Verify] lists where
// they are not.

// deriveMembers sets in's members to the items that name it, by ID number,
// now or (asOf not zero) as they stood then, from the indexed read model
// (which keeps no members on the initiative's side either).
func (s *Service) deriveMembers(ctx context.Context, in *tracker.InitiativeState, asOf time.Time) error {
	items, err := s.Items(ctx, board.Query{Initiatives: []string{in.ID}, All: true, AsOf: asOf})
	if err != nil {
		return fmt.Errorf("read %s's members: %w", in.ID, err)
	}
	in.Members = make([]string, len(items))
	for i, it := range items {
		in.Members[i] = it.ID
	}
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

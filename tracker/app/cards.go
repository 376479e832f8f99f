package app

import (
	"context"
	"time"

	"github.com/jerry-es/jerry/tracker"
)

// Card is a work item as every face shows it at a moment: the item, the
// state of each of its blockers then, the open items that wait on it, and
// its claim then. It is what an agent needs to know why an item is stuck
// and who to ask.
//
// Card embeds the item; its own Blockers and Claim stand over the item's
// (the item's are c.Item.Blockers, the IDs, and c.Item.Claim, the claim as
// recorded).
type Card struct {
	tracker.Item
	// Blockers are the item's blockers, in the order they were added,
	// each with its state at the moment (Status empty: unknown).
	Blockers []tracker.BlockerState
	// Blocks are the open work items that wait on this one.
	Blocks []tracker.BlockerState
	// Claim is the item's claim at the moment, nil if it has none.
	Claim *ClaimState
}

// ClaimState is a claim as it stands at a moment.
type ClaimState struct {
	Holder    string
	Since     time.Time
	ExpiresAt time.Time
	// Expired is set once the claim no longer holds: the agent is gone,
	// and ready offers the item again.
	Expired bool
}

// ClaimAt returns it's claim as it stands at t, nil if it has none: the one
// place a face learns whether a claim has expired.
func ClaimAt(it tracker.Item, t time.Time) *ClaimState {
	c := it.Claim
	if c == nil {
		return nil
	}
	return &ClaimState{Holder: c.Holder, Since: c.Since, ExpiresAt: c.ExpiresAt(), Expired: c.Expired(t)}
}

// Card returns it's card now (when zero) or as of when. Its blockers are
// shown as they were at that moment. The items that wait on it come from
// the read model, and are given for the present only: a past card has
// none.
func (s *Service) Card(ctx context.Context, it tracker.Item, when time.Time) (Card, error) {
	if when.IsZero() {
		// Its blockers' states and the items waiting on it: two indexed
		// queries of the read model.
		cs, err := s.cards(ctx, []tracker.Item{it}, time.Time{})
		if err != nil {
			return Card{}, err
		}
		return cs[0], nil
	}
	c := Card{Item: it, Claim: ClaimAt(it, when), Blockers: make([]tracker.BlockerState, len(it.Blockers))}
	for i, id := range it.Blockers {
		c.Blockers[i] = tracker.BlockerState{ID: id}
		if b, err := s.itemWhen(ctx, id, when); err == nil {
			c.Blockers[i] = tracker.BlockerState{ID: id, Title: b.Title, Status: b.Status, Assignee: b.Assignee}
		}
	}
	return c, nil
}

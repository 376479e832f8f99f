package app

import (
	"context"
	"time"

	"github.com/jerry-es/jerry/es"
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

// Cards returns the cards of items at t, with blockers and dependents as
// the projection holds them: a projection of the present for t now, or one
// folded up to t.
func (p *Overview) Cards(items []tracker.Item, t time.Time) []Card {
	out := make([]Card, len(items))
	at := make(map[string]int, len(items)) // card index by item ID
	for i, it := range items {
		out[i] = Card{Item: it, Claim: ClaimAt(it, t)}
		if len(it.Blockers) > 0 {
			out[i].Blockers = make([]tracker.BlockerState, len(it.Blockers))
			for j, b := range it.Blockers {
				out[i].Blockers[j] = p.state(b)
			}
		}
		at[it.ID] = i
	}
	// One pass over the edges: only the listed items' dependents are kept.
	for _, e := range p.order {
		if len(e.Blockers) == 0 || e.Status.Closed() {
			continue
		}
		for _, b := range e.Blockers {
			if i, ok := at[b]; ok {
				out[i].Blocks = append(out[i].Blocks, p.state(e.ID))
			}
		}
	}
	return out
}

// state returns what a card shows of item id: its ID only if unknown.
func (p *Overview) state(id string) tracker.BlockerState {
	e, ok := p.items[id]
	if !ok {
		return tracker.BlockerState{ID: id}
	}
	return tracker.BlockerState{ID: id, Title: e.Title, Status: e.Status, Assignee: e.Assignee}
}

// Card returns it's card now (when zero) or as of when. Its blockers are
// shown as they were at that moment. The items that wait on it come from
// the read model, and are given for the present only: a past card has
// none.
func (s *Service) Card(ctx context.Context, it tracker.Item, when time.Time) (Card, error) {
	if when.IsZero() {
		p, err := s.Current(ctx)
		if err != nil {
			return Card{}, err
		}
		return p.Cards([]tracker.Item{it}, es.Now())[0], nil
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

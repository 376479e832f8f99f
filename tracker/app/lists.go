package app

import (
	"context"
	"errors"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// The listings below answer from the indexed read model (package board),
// brought up to date with the log first: each costs what it returns, not
// the size of the store.

// ProgressFunc is told how far a long operation has come: units done, and
// the total.
type ProgressFunc func(done, total int64)

// Filter selects work items; empty fields match everything (done and
// cancelled items included). [board.Query] says more.
type Filter struct {
	Status     tracker.Status
	Assignee   string
	Type       tracker.ItemType
	Initiative string
	// NoComments leaves the items' Comments empty, for listings that do
	// not show them.
	NoComments bool
	// NoCards leaves out of the cards that List returns their blockers'
	// states and the items waiting on them (the claim stays), for tables
	// that show neither.
	NoCards bool
}

// query returns the board query f stands for.
func (f Filter) query(asOf time.Time) board.Query {
	q := board.Query{All: true, AsOf: asOf, Comments: !f.NoComments && asOf.IsZero()}
	if f.Status != "" {
		q.Statuses = []tracker.Status{f.Status}
	}
	if f.Assignee != "" {
		q.Assignees = []string{f.Assignee}
	}
	if f.Type != "" {
		q.Types = []tracker.ItemType{f.Type}
	}
	if f.Initiative != "" {
		q.Initiatives = []string{f.Initiative}
	}
	return q
}

// List returns the cards of the work items that match f, by ID number, now
// or (asOf not zero) as of a time.
func (s *Service) List(ctx context.Context, f Filter, asOf time.Time) ([]Card, error) {
	items, err := s.Items(ctx, f.query(asOf))
	if err != nil {
		return nil, err
	}
	if f.NoCards {
		t := asOf
		if t.IsZero() {
			t = es.Now()
		}
		out := make([]Card, len(items))
		for i, it := range items {
			out[i] = Card{Item: it, Claim: ClaimAt(it, t)}
		}
		return out, nil
	}
	return s.cards(ctx, items, asOf)
}

// Ready returns the cards of up to limit (0: all) work items ready to be
// taken now, most urgent first, with their comments (see
// [Service.ReadyCards]).
func (s *Service) Ready(ctx context.Context, limit int) ([]Card, error) {
	return s.ReadyCards(ctx, board.Query{Limit: limit, Comments: true})
}

// Initiatives returns every initiative now, with its members.
func (s *Service) Initiatives(ctx context.Context) ([]tracker.InitiativeState, error) {
	return s.InitiativesAsOf(ctx, time.Time{})
}

// Blocked returns every open work item that cannot move now, in ID order:
// those with open blockers, those whose status is blocked (set by hand,
// with its reason), and those held by a claim that has expired (their
// agent is gone; ready offers them again).
func (s *Service) Blocked(ctx context.Context) ([]Stuck, error) {
	return s.blocked(ctx, false)
}

// BlockedBrief is [Service.Blocked] for a table: each item holds only its
// ID, title, type, status, priority, assignee, times (see
// [board.Query.Brief]), blockers, claim and status reason.
func (s *Service) BlockedBrief(ctx context.Context) ([]Stuck, error) {
	return s.blocked(ctx, true)
}

func (s *Service) blocked(ctx context.Context, brief bool) ([]Stuck, error) {
	now := es.Now()
	type found struct {
		items  []tracker.Item
		states map[string]tracker.BlockerState
	}
	f, err := query(ctx, s, func(b *board.Board) (found, error) {
		items, err := b.Stuck(ctx, now, brief)
		if err != nil {
			return found{}, err
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it.Blockers...)
		}
		states, err := b.States(ctx, ids)
		return found{items, states}, err
	})
	if err != nil {
		return nil, err
	}
	var out []Stuck
	for _, it := range f.items {
		var why Why
		for _, b := range it.Blockers {
			bs, ok := f.states[b]
			if !ok {
				bs = tracker.BlockerState{ID: b}
			}
			if bs.Open() {
				why.Blockers = append(why.Blockers, bs)
			}
		}
		why.Manual = it.Status == tracker.Blocked
		if why.Manual {
			why.Reason = it.StatusReason
		}
		claim := ClaimAt(it, now)
		why.Expired = claim != nil && claim.Expired
		if len(why.Blockers) > 0 || why.Manual || why.Expired {
			out = append(out, Stuck{Item: it, Claim: claim, Why: why})
		}
	}
	return out, nil
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
	// The candidates, most urgent first, a page at a time: most claims
	// take the first.
	var tried int
	for limit := 16; ; limit *= 4 {
		cands, err := query(ctx, s, func(b *board.Board) ([]tracker.Item, error) { return b.Ready(ctx, board.Query{Limit: limit}) })
		if err != nil {
			return Result[tracker.Item]{}, err
		}
		r, ok, err := s.claimFirst(ctx, act, lease, cands[tried:])
		if err != nil || ok {
			return r, err
		}
		if len(cands) < limit {
			return Result[tracker.Item]{}, &NotFoundError{Kind: "ready", ID: "work item"}
		}
		tried = len(cands)
	}
}

// claimFirst claims the first of cands that it can, and says whether it
// did.
func (s *Service) claimFirst(ctx context.Context, act tracker.Act, lease time.Duration, cands []tracker.Item) (Result[tracker.Item], bool, error) {
	for _, cand := range cands {
		w, err := s.items.Load(ctx, cand.ID)
		if err != nil {
			return Result[tracker.Item]{}, false, err
		}
		// The item may have moved on since the log was read.
		if it := w.Item(); !it.Available(act.Now) {
			continue
		}
		// A blocker may have been added, or reopened, meanwhile too: Pick
		// refuses an item with an open blocker.
		lookup, err := s.blockers(ctx, w.Blockers())
		if err != nil {
			return Result[tracker.Item]{}, false, err
		}
		if err := w.Pick(act, lease, lookup); err != nil {
			if errors.Is(err, tracker.ErrClaimed) || errors.Is(err, tracker.ErrInvalidTransition) || errors.Is(err, tracker.ErrBlocked) {
				continue
			}
			return Result[tracker.Item]{}, false, err
		}
		events := eventData(w.Pending())
		_, err = s.items.Save(ctx, w)
		if errors.Is(err, es.ErrConcurrency) {
			continue
		}
		if err != nil {
			return Result[tracker.Item]{}, false, err
		}
		return Result[tracker.Item]{State: w.Item(), Events: events}, true, nil
	}
	return Result[tracker.Item]{}, false, nil
}

package app

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// WithLease sets how long a claim or an assignment holds when the command
// names no lease; the default is tracker.DefaultLease.
func WithLease(d time.Duration) Option { return func(o *options) { o.lease = d } }

// forcedKey is the metadata key that marks an event written with [Force].
const forcedKey = "forced"

// Force returns a context whose writes go through a claim held by another
// agent and past open blockers. Every event written with it records so in
// its metadata (extra key "forced"), and histories show it.
func Force(ctx context.Context) context.Context {
	m := es.MetadataFrom(ctx)
	extra := maps.Clone(m.Extra)
	if extra == nil {
		extra = make(map[string]string, 1)
	}
	extra[forcedKey] = "true"
	m.Extra = extra
	return es.WithMetadata(ctx, m)
}

// Forced reports whether an event was written with [Force].
func Forced(m es.Metadata) bool { return m.Extra[forcedKey] == "true" }

// act is who runs a command with ctx, and when: the claim rules are
// checked at the store's clock.
func (s *Service) act(ctx context.Context) tracker.Act {
	m := es.MetadataFrom(ctx)
	return tracker.Act{Actor: m.Actor, Now: es.Now(), Force: Forced(m)}
}

// blockers loads the current state of each of ids, for the rules that
// need to know whether an item's blockers are done.
func (s *Service) blockers(ctx context.Context, ids []string) (tracker.Blockers, error) {
	states := make(map[string]tracker.BlockerState, len(ids))
	for _, id := range ids {
		w, err := s.items.Load(ctx, id)
		if errors.Is(err, es.ErrNotFound) {
			continue // unknown: open
		}
		if err != nil {
			return nil, err
		}
		it := w.Item()
		states[id] = tracker.BlockerState{ID: id, Title: it.Title, Status: it.Status, Assignee: it.Assignee}
	}
	return func(id string) (tracker.BlockerState, bool) { b, ok := states[id]; return b, ok }, nil
}

// ClaimOptions says how to claim a work item.
type ClaimOptions struct {
	// Lease is how long the claim holds after the holder's last write; 0
	// means the service's default (see [WithLease]).
	Lease time.Duration
	// Start moves the item to in_progress in the same append.
	Start bool
}

// leaseOr returns d, or the service's default lease for 0; a negative
// lease is invalid input.
func (s *Service) leaseOr(d time.Duration) (time.Duration, error) {
	switch {
	case d < 0:
		return 0, fmt.Errorf("%w: negative lease %s", tracker.ErrInvalidInput, d)
	case d == 0:
		return s.lease, nil
	}
	return d, nil
}

// Claim gives work item id to the actor in ctx's metadata for a lease. It
// fails with a *tracker.ClaimedError if another agent's unexpired claim
// holds it, even after a retry; an expired claim is taken over. With
// opts.Start the item also moves to in_progress, in the same append.
func (s *Service) Claim(ctx context.Context, id string, opts ClaimOptions, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	lease, err := s.leaseOr(opts.Lease)
	if err != nil {
		return Result[tracker.Item]{}, err
	}
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error {
		if !opts.Start {
			return w.Claim(act, lease)
		}
		lookup, err := s.blockers(ctx, w.Blockers())
		if err != nil {
			return err
		}
		return w.Pick(act, lease, lookup)
	})
}

// Heartbeat renews the actor's claim on work item id without changing
// anything else; a non-zero lease replaces the claim's lease. It is one
// append of one event.
func (s *Service) Heartbeat(ctx context.Context, id string, lease time.Duration, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Heartbeat(act, lease) })
}

// Release gives up the claim on work item id and puts it back in the
// pool. Releasing another agent's unexpired claim needs [Force].
func (s *Service) Release(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.Item], error) {
	act := s.act(ctx)
	return s.updateItem(ctx, id, expected, func(w *tracker.WorkItem) error { return w.Release(reason, act) })
}

// Why says why a work item cannot move now.
type Why struct {
	// Blockers are its open blockers.
	Blockers []tracker.BlockerState
	// Manual is set when its status is blocked, set by hand, and
	// Reason is the reason given.
	Manual bool
	Reason string
	// Expired is set when it is held by a claim that has expired.
	Expired bool
}

// Stuck is a work item that cannot move now, and why.
type Stuck struct {
	Item tracker.Item
	// Claim is the item's claim as it stands at the moment asked, nil if
	// it has none.
	Claim *ClaimState
	Why   Why
}

// ReopenInitiative makes a completed or cancelled initiative active again.
func (s *Service) ReopenInitiative(ctx context.Context, id, reason string, expected es.ExpectedVersion) (Result[tracker.InitiativeState], error) {
	return s.writeInitiative(ctx, InitiativeID(id), expected, func(in *tracker.Initiative) error { return in.Reopen(reason) })
}

// openMembers returns the members of in (those the items name) that are
// neither done nor cancelled now (a member that cannot be loaded counts as
// open).
func (s *Service) openMembers(ctx context.Context, in *tracker.Initiative) ([]string, error) {
	st := in.State()
	if err := s.deriveMembers(ctx, &st, time.Time{}); err != nil {
		return nil, err
	}
	var open []string
	for _, id := range st.Members {
		w, err := s.items.Load(ctx, id)
		if err != nil && !errors.Is(err, es.ErrNotFound) {
			return nil, fmt.Errorf("load member %s: %w", id, err)
		}
		if err != nil || !w.Status().Closed() {
			open = append(open, id)
		}
	}
	return open, nil
}

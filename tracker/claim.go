package tracker

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// DefaultLease is how long a claim holds without a write by its holder when
// the claim names no lease: the lease of every claim and assignment recorded
// before leases existed (schema 1 of their events).
const DefaultLease = 2 * time.Hour

// Duration is a time.Duration stored as Go's duration text ("2h0m0s"), so
// that stored events stay readable.
type Duration time.Duration

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	*d = Duration(v)
	return nil
}

// Claim is an agent's hold on a work item. It lasts for Lease after the
// holder's last write to the item (Renewed); nothing runs on a timer:
// whether a claim holds at a moment is derived from the events' times, so
// the answer for any past moment never changes.
type Claim struct {
	// Holder is the agent holding the item.
	Holder string `json:"holder"`
	// Since is when the holder claimed or was assigned the item.
	Since time.Time `json:"since"`
	// Renewed is the time of the holder's last write to the item.
	Renewed time.Time `json:"renewed"`
	// Lease is how long the claim holds after Renewed.
	Lease Duration `json:"lease"`
}

// ExpiresAt is the moment the claim stops holding unless renewed.
func (c Claim) ExpiresAt() time.Time { return c.Renewed.Add(time.Duration(c.Lease)) }

// Expired reports whether the claim no longer holds at t: a claim expires at
// exactly its ExpiresAt.
func (c Claim) Expired(t time.Time) bool { return !t.Before(c.ExpiresAt()) }

// Act says who runs a command and when. The claim rules are checked at Now
// for Actor. Force lets a command through a claim held by another agent or
// past open blockers; the application layer records it with the event.
type Act struct {
	Actor string
	Now   time.Time
	Force bool
}

// BlockerState is what a command needs to know of a blocker.
type BlockerState struct {
	ID       string `json:"id"`
	Title    string `json:"title"`
	Status   Status `json:"status"`
	Assignee string `json:"assignee,omitempty"`
}

// Open reports whether the blocker still holds its dependents back: only a
// done blocker lets them move.
func (b BlockerState) Open() bool { return b.Status != Done }

// Blockers tells a command the state of other items: ok is false if the item
// is unknown (an unknown blocker is open).
type Blockers func(id string) (b BlockerState, ok bool)

// ClaimedError means another agent holds an unexpired claim on the item.
// It matches [ErrClaimed].
type ClaimedError struct {
	// ID is the work item's.
	ID string
	// Holder is the agent that holds it.
	Holder string
	// Since is when the holder claimed it.
	Since time.Time
	// ExpiresAt is when the claim stops holding unless renewed.
	ExpiresAt time.Time
}

func (e *ClaimedError) Error() string {
	return fmt.Sprintf("%s: %s is held by %s until %s", ErrClaimed, e.ID, e.Holder, e.ExpiresAt.UTC().Format(time.RFC3339))
}

// Is reports whether target is ErrClaimed.
func (e *ClaimedError) Is(target error) bool { return target == ErrClaimed }

// BlockedError means the item cannot move to a status while blockers are
// open. It matches [ErrBlocked].
type BlockedError struct {
	Item     string
	To       Status
	Blockers []BlockerState
}

func (e *BlockedError) Error() string {
	parts := make([]string, len(e.Blockers))
	for i, b := range e.Blockers {
		s := fmt.Sprintf("%s (%s", b.ID, b.Status)
		if b.Status == "" {
			s = b.ID + " (unknown"
		}
		if b.Assignee != "" {
			s += ", held by " + b.Assignee
		}
		parts[i] = s + ")"
	}
	return fmt.Sprintf("%s: %s cannot move to %s while waiting on %s", ErrBlocked, e.Item, e.To, strings.Join(parts, ", "))
}

// Is reports whether target is ErrBlocked.
func (e *BlockedError) Is(target error) bool { return target == ErrBlocked }

// OpenMembersError means an initiative cannot be completed while members
// are open. It matches [ErrInvalidTransition].
type OpenMembersError struct {
	Initiative string
	Open       []string
}

func (e *OpenMembersError) Error() string {
	return fmt.Sprintf("%s: initiative %s has open members: %s", ErrInvalidTransition, e.Initiative, strings.Join(e.Open, ", "))
}

// Is reports whether target is ErrInvalidTransition.
func (e *OpenMembersError) Is(target error) bool { return target == ErrInvalidTransition }

// withLease upcasts a claim or assignment of schema 1, which had no lease,
// to schema 2: an old claim held for DefaultLease from its time.
func withLease(data json.RawMessage) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, err
	}
	var assignee string
	if raw, ok := m["assignee"]; ok {
		if err := json.Unmarshal(raw, &assignee); err != nil {
			return nil, err
		}
	}
	if _, ok := m["lease"]; !ok && assignee != "" {
		lease, _ := Duration(DefaultLease).MarshalText()
		m["lease"], _ = json.Marshal(string(lease))
	}
	return json.Marshal(m)
}

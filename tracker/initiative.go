package tracker

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
)

// InitiativeState is the state of an initiative: what its events add up to.
type InitiativeState struct {
	ID          string           `json:"id"`
	Title       string           `json:"title"`
	Description string           `json:"description,omitempty"`
	Status      InitiativeStatus `json:"status"`
	// Members are the IDs of its work items, in the order they joined.
	Members   []string  `json:"members,omitempty"`
	Version   int64     `json:"version"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

// Apply folds one event into s. Events that are not an initiative's are
// ignored.
func (s *InitiativeState) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case InitiativeCreated:
		s.Title, s.Description, s.Status = d.Title, d.Description, ActiveInitiative
	case ItemAdded:
		if !slices.Contains(s.Members, d.Item) {
			s.Members = append(s.Members, d.Item)
		}
	case ItemRemoved:
		s.Members = slices.DeleteFunc(s.Members, func(m string) bool { return m == d.Item })
	case InitiativeCompleted:
		s.Status = CompletedInitiative
	case InitiativeCancelled:
		s.Status = CancelledInitiative
	case InitiativeReopened:
		s.Status = ActiveInitiative
	default:
		return
	}
	s.Version = e.Version
	if s.CreatedAt.IsZero() {
		s.CreatedAt = e.Time
	}
	s.UpdatedAt = e.Time
}

// Initiative is the initiative aggregate: a body of work that groups items.
type Initiative struct {
	es.Root
	state InitiativeState
}

var (
	_ es.Aggregate   = (*Initiative)(nil)
	_ es.Snapshotter = (*Initiative)(nil)
)

// NewInitiative returns an empty initiative aggregate, for a repository.
func NewInitiative() *Initiative { return &Initiative{} }

// Apply implements es.Aggregate.
func (in *Initiative) Apply(e es.Envelope) { in.state.Apply(e) }

// State returns a copy of the initiative's current state.
func (in *Initiative) State() InitiativeState {
	s := in.state
	s.ID, s.Version = in.ID(), in.Version()
	s.CreatedAt, s.UpdatedAt = in.CreatedAt(), in.UpdatedAt()
	s.Members = slices.Clone(s.Members)
	return s
}

// Status returns the initiative's status.
func (in *Initiative) Status() InitiativeStatus { return in.state.Status }

// Has reports whether item is a member.
func (in *Initiative) Has(item string) bool { return slices.Contains(in.state.Members, item) }

// MarshalSnapshot implements es.Snapshotter.
func (in *Initiative) MarshalSnapshot() ([]byte, error) { return json.Marshal(in.state) }

// UnmarshalSnapshot implements es.Snapshotter.
func (in *Initiative) UnmarshalSnapshot(state []byte) error {
	return json.Unmarshal(state, &in.state)
}

// Create records the creation of the initiative. The aggregate must be new.
func (in *Initiative) Create(title, description string) error {
	if in.state.Status != "" {
		return fmt.Errorf("%w: %s already exists", ErrInvalidTransition, in.ID())
	}
	title = strings.TrimSpace(title)
	if title == "" {
		return ErrEmptyTitle
	}
	es.Raise(in, InitiativeCreated{Title: title, Description: description})
	return nil
}

// AddItem makes item a member. Only an active initiative takes members;
// adding a member again records nothing.
func (in *Initiative) AddItem(item string) error {
	if in.Has(item) {
		return nil
	}
	if in.state.Status != ActiveInitiative {
		return fmt.Errorf("%w: initiative %s is %s", ErrInvalidTransition, in.ID(), in.state.Status)
	}
	es.Raise(in, ItemAdded{Item: item})
	return nil
}

// RemoveItem removes item from the members; it fails with [ErrNotMember] if
// item is not one.
func (in *Initiative) RemoveItem(item string) error {
	if !in.Has(item) {
		return fmt.Errorf("%w: %s is not in initiative %s", ErrNotMember, item, in.ID())
	}
	es.Raise(in, ItemRemoved{Item: item})
	return nil
}

// Complete marks the initiative completed; completing it again records
// nothing, and a cancelled initiative cannot be completed. It refuses with
// an [*OpenMembersError] while members are open (open lists them, as the
// application layer found them), unless force.
func (in *Initiative) Complete(reason string, open []string, force bool) error {
	switch in.state.Status {
	case CompletedInitiative:
		return nil
	case CancelledInitiative:
		return fmt.Errorf("%w: initiative %s is cancelled", ErrInvalidTransition, in.ID())
	}
	if len(open) > 0 && !force {
		return &OpenMembersError{Initiative: in.ID(), Open: slices.Clone(open)}
	}
	es.Raise(in, InitiativeCompleted{Reason: strings.TrimSpace(reason)})
	return nil
}

// Reopen makes a completed or cancelled initiative active again; reopening
// an active one records nothing.
func (in *Initiative) Reopen(reason string) error {
	if in.state.Status == ActiveInitiative {
		return nil
	}
	es.Raise(in, InitiativeReopened{From: in.state.Status, Reason: strings.TrimSpace(reason)})
	return nil
}

// Cancel marks the initiative cancelled; cancelling it again records
// nothing, and a completed initiative cannot be cancelled.
func (in *Initiative) Cancel(reason string) error {
	switch in.state.Status {
	case CancelledInitiative:
		return nil
	case CompletedInitiative:
		return fmt.Errorf("%w: initiative %s is completed", ErrInvalidTransition, in.ID())
	}
	es.Raise(in, InitiativeCancelled{Reason: strings.TrimSpace(reason)})
	return nil
}

package tracker

import (
	"fmt"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
)

// Aggregate type names: stable, stored with snapshots, and the prefixes of
// stream IDs ("workitem-J-42").
const (
	WorkItemType   = "workitem"
	InitiativeType = "initiative"
)

// Snapshot schema versions of the aggregates' state.
const (
	WorkItemSnapshotSchema   = 2
	InitiativeSnapshotSchema = 1
)

// ItemCreated records a new work item.
type ItemCreated struct {
	Title       string   `json:"title"`
	Description string   `json:"description,omitempty"`
	Type        ItemType `json:"type"`
	Priority    Priority `json:"priority"`
	Initiative  string   `json:"initiative,omitempty"`
}

// StatusChanged records a move from one status to another.
type StatusChanged struct {
	From   Status `json:"from"`
	To     Status `json:"to"`
	Reason string `json:"reason,omitempty"`
}

// Reopened records a done or cancelled item going back to backlog.
type Reopened struct {
	From   Status `json:"from"`
	Reason string `json:"reason,omitempty"`
}

// FieldChange is one field's old and new value in an edit.
type FieldChange struct {
	Field string `json:"field"`
	From  string `json:"from"`
	To    string `json:"to"`
}

// ItemEdited records changes to an item's title, description, type or
// priority.
type ItemEdited struct {
	Changes []FieldChange `json:"changes"`
}

// Assigned records an item given to an agent by someone (Assignee empty:
// unassigned). The assignee holds it as a claim for Lease (schema 2; schema
// 1 had no lease and is upcast to DefaultLease).
type Assigned struct {
	Assignee string   `json:"assignee"`
	Previous string   `json:"previous,omitempty"`
	Lease    Duration `json:"lease,omitempty"`
}

// Claimed records an agent taking an item for itself, for Lease after its
// last write (schema 2; schema 1 had no lease and is upcast to
// DefaultLease). Previous and PreviousSince name the agent whose expired
// (or forced) claim it took over, and since when that agent held it.
type Claimed struct {
	Assignee      string    `json:"assignee"`
	Lease         Duration  `json:"lease,omitempty"`
	Previous      string    `json:"previous,omitempty"`
	PreviousSince time.Time `json:"previous_since,omitzero"`
}

// Released records an item's claim given up: Previous held it.
type Released struct {
	Previous string `json:"previous"`
	Reason   string `json:"reason,omitempty"`
}

// HeartbeatRecorded records the holder of a claim renewing it without
// changing anything else; a non-zero Lease replaces the claim's lease.
type HeartbeatRecorded struct {
	Lease Duration `json:"lease,omitempty"`
}

// Commented records a comment; its time is the event's.
type Commented struct {
	Author string `json:"author"`
	Text   string `json:"text"`
}

// InitiativeChanged records an item joining or leaving an initiative
// (Initiative empty: none).
type InitiativeChanged struct {
	Initiative string `json:"initiative"`
	Previous   string `json:"previous,omitempty"`
}

// BlockerAdded records that the item cannot start until Blocker is done.
type BlockerAdded struct {
	Blocker string `json:"blocker"`
}

// BlockerRemoved records that Blocker no longer holds the item back.
type BlockerRemoved struct {
	Blocker string `json:"blocker"`
}

// Labeled records labels put on a work item: each is normalised (see
// [ParseLabel]) and was not on the item before.
type Labeled struct {
	Labels []string `json:"labels"`
}

// Unlabeled records labels taken off a work item: each was on it.
type Unlabeled struct {
	Labels []string `json:"labels"`
}

// InitiativeCreated records a new initiative.
type InitiativeCreated struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
}

// ItemAdded records a work item joining an initiative.
type ItemAdded struct {
	Item string `json:"item"`
}

// ItemRemoved records a work item leaving an initiative.
type ItemRemoved struct {
	Item string `json:"item"`
}

// InitiativeCompleted records an initiative finished.
type InitiativeCompleted struct {
	Reason string `json:"reason,omitempty"`
}

// InitiativeReopened records a completed or cancelled initiative made
// active again.
type InitiativeReopened struct {
	From   InitiativeStatus `json:"from"`
	Reason string           `json:"reason,omitempty"`
}

// InitiativeCancelled records an initiative abandoned.
type InitiativeCancelled struct {
	Reason string `json:"reason,omitempty"`
}

// IDAllocated is appended to an ID counter stream; the version the store
// gives it is the number of the new ID. Kind is "workitem" or "initiative".
type IDAllocated struct {
	Kind string `json:"kind"`
}

// DependencyReserved is appended to the dependency graph stream before a
// BlockerAdded is written to Item's stream: it says that Item, now at
// ItemVersion, is about to wait on Blocker. The append is conditional on the
// graph stream's version, so two blocks checked against the same graph
// cannot both pass. Once Item's stream is past ItemVersion the reservation
// is settled: the BlockerAdded was written (and shows in Item's state) or
// can never be.
type DependencyReserved struct {
	Item        string `json:"item"`
	Blocker     string `json:"blocker"`
	ItemVersion int64  `json:"item_version"`
}

// Event type names. They are stored: never change one.
const (
	EvItemCreated         = "workitem.created"
	EvStatusChanged       = "workitem.status_changed"
	EvReopened            = "workitem.reopened"
	EvItemEdited          = "workitem.edited"
	EvAssigned            = "workitem.assigned"
	EvClaimed             = "workitem.claimed"
	EvReleased            = "workitem.released"
	EvHeartbeat           = "workitem.heartbeat"
	EvCommented           = "workitem.commented"
	EvInitiativeChanged   = "workitem.initiative_changed"
	EvBlockerAdded        = "workitem.blocker_added"
	EvBlockerRemoved      = "workitem.blocker_removed"
	EvLabeled             = "workitem.labeled"
	EvUnlabeled           = "workitem.unlabeled"
	EvInitiativeCreated   = "initiative.created"
	EvItemAdded           = "initiative.item_added"
	EvItemRemoved         = "initiative.item_removed"
	EvInitiativeCompleted = "initiative.completed"
	EvInitiativeCancelled = "initiative.cancelled"
	EvInitiativeReopened  = "initiative.reopened"
	EvIDAllocated         = "id.allocated"
	EvDependencyReserved  = "dependency.reserved"
)

// Register adds every event type of Jerry's domain, and the snapshot schemas
// of its aggregates, to reg. Call it once per registry.
func Register(reg *es.Registry) {
	es.Register[ItemCreated](reg, EvItemCreated, 1)
	es.Register[StatusChanged](reg, EvStatusChanged, 1)
	es.Register[Reopened](reg, EvReopened, 1)
	es.Register[ItemEdited](reg, EvItemEdited, 1)
	es.Register[Assigned](reg, EvAssigned, 2)
	reg.RegisterUpcaster(EvAssigned, 1, withLease)
	es.Register[Claimed](reg, EvClaimed, 2)
	reg.RegisterUpcaster(EvClaimed, 1, withLease)
	es.Register[Released](reg, EvReleased, 1)
	es.Register[HeartbeatRecorded](reg, EvHeartbeat, 1)
	es.Register[Commented](reg, EvCommented, 1)
	es.Register[InitiativeChanged](reg, EvInitiativeChanged, 1)
	es.Register[BlockerAdded](reg, EvBlockerAdded, 1)
	es.Register[BlockerRemoved](reg, EvBlockerRemoved, 1)
	es.Register[Labeled](reg, EvLabeled, 1)
	es.Register[Unlabeled](reg, EvUnlabeled, 1)
	es.Register[InitiativeCreated](reg, EvInitiativeCreated, 1)
	es.Register[ItemAdded](reg, EvItemAdded, 1)
	es.Register[ItemRemoved](reg, EvItemRemoved, 1)
	es.Register[InitiativeCompleted](reg, EvInitiativeCompleted, 1)
	es.Register[InitiativeCancelled](reg, EvInitiativeCancelled, 1)
	es.Register[InitiativeReopened](reg, EvInitiativeReopened, 1)
	es.Register[IDAllocated](reg, EvIDAllocated, 1)
	es.Register[DependencyReserved](reg, EvDependencyReserved, 1)
	reg.RegisterSnapshot(WorkItemType, WorkItemSnapshotSchema)
	reg.RegisterSnapshot(InitiativeType, InitiativeSnapshotSchema)
}

// Describe says in a few words what an event's data changed, for a history:
// "status backlog -> in_progress (picked up)".
func Describe(data any) string {
	switch d := data.(type) {
	case ItemCreated:
		s := fmt.Sprintf("created %q (%s, %s)", d.Title, d.Type, d.Priority)
		if d.Initiative != "" {
			s += " in " + d.Initiative
		}
		return s
	case StatusChanged:
		return withReason(fmt.Sprintf("status %s -> %s", d.From, d.To), d.Reason)
	case Reopened:
		return withReason(fmt.Sprintf("reopened %s -> %s", d.From, Backlog), d.Reason)
	case ItemEdited:
		parts := make([]string, len(d.Changes))
		for i, c := range d.Changes {
			parts[i] = fmt.Sprintf("%s %s -> %s", c.Field, quoteShort(c.From), quoteShort(c.To))
		}
		return "edited " + strings.Join(parts, ", ")
	case Assigned:
		switch {
		case d.Assignee == "":
			return "unassigned " + d.Previous
		case d.Previous != "":
			return fmt.Sprintf("assigned %s -> %s", d.Previous, d.Assignee)
		}
		return "assigned to " + d.Assignee
	case Claimed:
		s := "claimed by " + d.Assignee
		if d.Previous != "" {
			s += fmt.Sprintf(" (taken over from %s, who held it since %s)", d.Previous, d.PreviousSince.UTC().Format("2006-01-02 15:04:05"))
		}
		return s
	case Released:
		return withReason("released from "+d.Previous, d.Reason)
	case HeartbeatRecorded:
		if d.Lease != 0 {
			return "heartbeat (lease " + time.Duration(d.Lease).String() + ")"
		}
		return "heartbeat"
	case InitiativeReopened:
		return withReason(fmt.Sprintf("reopened %s -> %s", d.From, ActiveInitiative), d.Reason)
	case Commented:
		return "comment: " + quoteShort(d.Text)
	case InitiativeChanged:
		switch {
		case d.Initiative == "":
			return "left initiative " + d.Previous
		case d.Previous != "":
			return fmt.Sprintf("initiative %s -> %s", d.Previous, d.Initiative)
		}
		return "joined initiative " + d.Initiative
	case BlockerAdded:
		return "blocked by " + d.Blocker
	case BlockerRemoved:
		return "no longer blocked by " + d.Blocker
	case Labeled:
		return "labeled " + strings.Join(d.Labels, ", ")
	case Unlabeled:
		return "unlabeled " + strings.Join(d.Labels, ", ")
	case InitiativeCreated:
		return fmt.Sprintf("created %q", d.Title)
	case ItemAdded:
		return "added " + d.Item
	case ItemRemoved:
		return "removed " + d.Item
	case InitiativeCompleted:
		return withReason("completed", d.Reason)
	case InitiativeCancelled:
		return withReason("cancelled", d.Reason)
	case IDAllocated:
		return "allocated a " + d.Kind + " ID"
	case DependencyReserved:
		return fmt.Sprintf("reserved: %s to wait on %s (from its version %d)", d.Item, d.Blocker, d.ItemVersion)
	}
	return fmt.Sprintf("%T", data)
}

func withReason(s, reason string) string {
	if reason == "" {
		return s
	}
	return s + " (" + reason + ")"
}

// quoteShort quotes s, cut to a readable length on one line.
func quoteShort(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:57]) + "..."
	}
	return fmt.Sprintf("%q", s)
}

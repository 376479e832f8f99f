package es

import (
	"time"

	"github.com/google/uuid"
)

// Envelope is one event as an aggregate applies it: the decoded data with the
// facts of its recording.
type Envelope struct {
	// ID identifies the event.
	ID uuid.UUID
	// Type is the event's registered type name; empty for an event raised
	// but not yet saved.
	Type string
	// Version is the event's version in the aggregate's stream.
	Version int64
	// Time is when the event was recorded (UTC, microseconds).
	Time time.Time
	// Metadata is the stored metadata; empty for an event not yet saved.
	Metadata Metadata
	// Data is the event's payload, a value of its registered Go type.
	Data any
}

// Aggregate is an event-sourced entity. Implement it by embedding [Root] and
// writing Apply:
//
//	type WorkItem struct {
//		es.Root
//		status string
//	}
//
//	func (w *WorkItem) Apply(e es.Envelope) {
//		switch d := e.Data.(type) {
//		case StatusChanged:
//			w.status = d.To
//		}
//	}
//
// Commands check their rules, then call [Raise] to record each new event.
type Aggregate interface {
	// Apply changes the aggregate's state by one event. It must be
	// deterministic, depending only on the current state and e, and must
	// not fail: rules are checked by commands before they raise events.
	Apply(e Envelope)

	root() *Root
}

// Root holds what every aggregate has: its ID, its version, its pending
// events and the times of its first and last events. Embed it in aggregate
// types; its zero value is a new aggregate with no ID.
type Root struct {
	id       string
	version  int64 // including pending events
	stored   int64 // the version the store holds
	pending  []Envelope
	created  time.Time
	modified time.Time

	// Snapshot bookkeeping, for strategies.
	snapVersion int64
	snapTime    time.Time
}

func (r *Root) root() *Root { return r }

// ID returns the aggregate's ID.
func (r *Root) ID() string { return r.id }

// SetID names a new aggregate. It panics if the aggregate already has events:
// an aggregate's ID never changes.
func (r *Root) SetID(id string) {
	if r.version != 0 {
		panic("es: SetID on an aggregate that has events")
	}
	r.id = id
}

// Version returns the version of the aggregate's last event, pending events
// included: 0 for a new aggregate with none.
func (r *Root) Version() int64 { return r.version }

// StoredVersion returns the version the store held when the aggregate was
// loaded or last saved: the expected version of its next save.
func (r *Root) StoredVersion() int64 { return r.stored }

// CreatedAt returns the time of the aggregate's first event.
func (r *Root) CreatedAt() time.Time { return r.created }

// UpdatedAt returns the time of the aggregate's last event.
func (r *Root) UpdatedAt() time.Time { return r.modified }

// Pending returns the events raised since the aggregate was loaded or last
// saved, in order. The slice must not be modified.
func (r *Root) Pending() []Envelope { return r.pending }

// Raise records a new event on a: it gives the event the next version, a new
// ID and the current time, applies it, and adds it to the pending events that
// the next save stores. data must be a value of a registered event type.
//
// If the clock reads earlier than the aggregate's last event (a clock
// stepped back, or an earlier event written by an agent whose clock runs
// ahead), the event takes the last event's time instead, so that times never
// decrease along a stream: a temporal load then means the same with or
// without snapshots.
func Raise(a Aggregate, data any) {
	r := a.root()
	t := Now()
	if t.Before(r.modified) {
		t = r.modified
	}
	e := Envelope{ID: NewEventID(), Version: r.version + 1, Time: t, Data: data}
	// Apply runs before the event joins the pending list, so that an Apply
	// that panics leaves no event behind to be saved.
	apply(a, e)
	r.pending = append(r.pending, e)
}

// apply applies e to a and moves the root's version and times along.
func apply(a Aggregate, e Envelope) {
	a.Apply(e)
	r := a.root()
	r.version = e.Version
	if r.created.IsZero() {
		r.created = e.Time
	}
	r.modified = e.Time
}

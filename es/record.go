package es

import (
	"encoding/json"
	"time"

	"github.com/google/uuid"
)

// Record is an event as stored. Records are immutable once stored: adapters
// never change one, and callers must not modify Data or Metadata.Extra.
type Record struct {
	// Stream is the ID of the stream the event belongs to.
	Stream string
	// Version is the event's 1-based position in its stream.
	Version int64
	// Position is the event's 1-based position in the store's global log.
	Position int64
	// Type is the event's stable type name, as registered in a [Registry].
	Type string
	// Schema is the schema version of Data, at least 1.
	Schema int
	// Data is the event's payload, a JSON document.
	Data json.RawMessage
	// Metadata says who caused the event and why.
	Metadata Metadata
	// Time is when the event was recorded, in UTC, truncated to microseconds.
	Time time.Time
	// ID identifies the event; a UUIDv7 unless the writer supplied another.
	ID uuid.UUID
}

// Metadata describes the circumstances of an event.
type Metadata struct {
	// Actor is the person or agent on whose behalf the event was recorded.
	Actor string `json:"actor,omitempty"`
	// CorrelationID ties together the events of one larger operation.
	CorrelationID string `json:"correlation_id,omitempty"`
	// CausationID names the event or command that caused this one.
	CausationID string `json:"causation_id,omitempty"`
	// Extra holds free keys.
	Extra map[string]string `json:"extra,omitempty"`
}

// IsZero reports whether m carries no information.
func (m Metadata) IsZero() bool {
	return m.Actor == "" && m.CorrelationID == "" && m.CausationID == "" && len(m.Extra) == 0
}

// Event is an event to append. Zero fields are filled in by [Prepare]: a new
// UUIDv7 for ID, the current time for Time, and 1 for Schema.
type Event struct {
	// ID identifies the event. Supply it to make a retried append
	// idempotent. IDs must be unique in a store: an adapter may refuse an
	// ID it already holds elsewhere with ErrPartialDuplicate (es/postgres
	// does), or may not look (es/memstore and es/jsonfile do not).
	ID uuid.UUID
	// Type is the event's stable type name. Required.
	Type string
	// Schema is the schema version of Data; 0 means 1.
	Schema int
	// Data is the payload; it must be a valid JSON document.
	Data json.RawMessage
	// Metadata says who caused the event and why.
	Metadata Metadata
	// Time is when the event happened; zero means now. It is stored in UTC,
	// truncated to microseconds.
	Time time.Time
}

// Snapshot is the state of an aggregate after a given version of its stream.
type Snapshot struct {
	// Stream is the ID of the aggregate's stream.
	Stream string
	// Version is the stream version the state includes.
	Version int64
	// Type names the aggregate type that wrote the state.
	Type string
	// Schema is the schema version of State, at least 1.
	Schema int
	// State is the aggregate's state, a JSON document.
	State json.RawMessage
	// Time is the time of the last event the state includes, in UTC,
	// truncated to microseconds.
	Time time.Time
}

// NewEventID returns a new UUIDv7: unique, and ordered by creation time.
func NewEventID() uuid.UUID {
	id, err := uuid.NewV7()
	if err != nil {
		// NewV7 fails only if the system's random source fails, which
		// leaves nothing safe to do.
		panic("es: cannot generate event ID: " + err.Error())
	}
	return id
}

// Now returns the current time as stores record it: UTC, truncated to
// microseconds.
func Now() time.Time { return Timestamp(time.Now()) }

// Timestamp normalises t as stores record it: UTC, truncated to microseconds.
func Timestamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

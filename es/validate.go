package es

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits on what a store accepts. They are the same for every adapter, so
// that an export from one store always imports into another.
const (
	// MaxStreamIDLen is the longest stream ID in bytes.
	MaxStreamIDLen = 256
	// MaxEventTypeLen is the longest event type name in bytes.
	MaxEventTypeLen = 256
	// MaxEventSize is the largest event in bytes: its data, its metadata
	// and its type together.
	MaxEventSize = 1 << 20
	// MaxAppendEvents is the most events one append may carry.
	MaxAppendEvents = 10000
	// MaxAppendSize is the most bytes one append may carry, all its events
	// together, so that one call cannot make a store buffer gigabytes.
	MaxAppendSize = 64 << 20
)

// ValidateStreamID returns an error matching [ErrInvalidStreamID] unless id is a
// usable stream ID: 1 to MaxStreamIDLen bytes of valid UTF-8 with no control
// characters.
func ValidateStreamID(id string) error {
	return validateName(ErrInvalidStreamID, "stream ID", id, MaxStreamIDLen)
}

func validateName(sentinel error, what, s string, limit int) error {
	switch {
	case s == "":
		return invalidf(sentinel, "empty %s", what)
	case len(s) > limit:
		return invalidf(sentinel, "%s is %d bytes, over the limit of %d", what, len(s), limit)
	case !utf8.ValidString(s):
		return invalidf(sentinel, "%s %q is not valid UTF-8", what, s)
	}
	for _, r := range s {
		if unicode.IsControl(r) {
			return invalidf(sentinel, "%s %q contains control character %U", what, s, r)
		}
	}
	return nil
}

// Prepare validates an append and returns the records to store, with Stream,
// Type, Schema, Data, Metadata, Time and ID filled in: a zero ID becomes a new
// UUIDv7, a zero Time becomes now, a zero Schema becomes 1, and every time is
// normalised as [Timestamp] does. Version and Position are left for the store.
// Every adapter calls it first, so that all reject the same input with the same
// errors.
func Prepare(stream string, expected ExpectedVersion, events []Event) ([]Record, error) {
	if err := ValidateStreamID(stream); err != nil {
		return nil, err
	}
	if !expected.Valid() {
		return nil, invalidf(ErrInvalidExpectedVersion, "%s", expected)
	}
	switch {
	case len(events) == 0:
		return nil, ErrNoEvents
	case len(events) > MaxAppendEvents:
		return nil, invalidf(ErrTooManyEvents, "%d events, over the limit of %d", len(events), MaxAppendEvents)
	}
	now := Now()
	recs := make([]Record, len(events))
	total := 0
	for i, e := range events {
		if err := validateName(ErrInvalidEventType, "event type", e.Type, MaxEventTypeLen); err != nil {
			return nil, err
		}
		if e.Schema < 0 {
			return nil, invalidf(ErrInvalidData, "event %d (%s): negative schema version %d", i, e.Type, e.Schema)
		}
		if !json.Valid(e.Data) || !utf8.Valid(e.Data) {
			return nil, invalidf(ErrInvalidData, "event %d (%s): data is not valid JSON in UTF-8", i, e.Type)
		}
		if err := validateMetadata(e.Metadata); err != nil {
			return nil, invalidf(ErrInvalidMetadata, "event %d (%s): %v", i, e.Type, err)
		}
		size := EventSize(e)
		if size > MaxEventSize {
			return nil, invalidf(ErrEventTooLarge, "event %d (%s) is %d bytes, over the limit of %d", i, e.Type, size, MaxEventSize)
		}
		if total += size; total > MaxAppendSize {
			return nil, invalidf(ErrAppendTooLarge, "events 1 to %d are %d bytes, over the limit of %d for one append", i+1, total, MaxAppendSize)
		}
		r := Record{
			Stream:   stream,
			Type:     e.Type,
			Schema:   max(e.Schema, 1),
			Data:     e.Data,
			Metadata: e.Metadata,
			Time:     now,
			ID:       e.ID,
		}
		if !e.Time.IsZero() {
			r.Time = Timestamp(e.Time)
			// Every adapter keeps a time in RFC 3339's four-digit years;
			// checked here so that an import refuses it before writing.
			if y := r.Time.Year(); y < 1 || y > 9999 {
				return nil, invalidf(ErrInvalidInput, "event %d (%s): time %s outside years 1 to 9999", i, e.Type, r.Time)
			}
		}
		if r.ID == ([16]byte{}) {
			r.ID = NewEventID()
		}
		recs[i] = r
	}
	return recs, nil
}

// validateMetadata requires valid UTF-8 with no NUL byte in every metadata
// string, so that every adapter can keep it exactly (PostgreSQL text cannot
// hold NUL).
func validateMetadata(m Metadata) error {
	check := func(what, v string) error {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("metadata %s %q is not valid UTF-8 or holds a NUL byte", what, v)
		}
		return nil
	}
	for _, f := range [...]struct{ what, v string }{{"actor", m.Actor}, {"correlation ID", m.CorrelationID}, {"causation ID", m.CausationID}} {
		if err := check(f.what, f.v); err != nil {
			return err
		}
	}
	for k, v := range m.Extra {
		if err := check("key", k); err != nil {
			return err
		}
		if err := check(k, v); err != nil {
			return err
		}
	}
	return nil
}

// EventSize is what an event counts towards MaxEventSize and
// MaxAppendSize: its data, type and metadata strings.
func EventSize(e Event) int {
	n := len(e.Data) + len(e.Type) + len(e.Metadata.Actor) + len(e.Metadata.CorrelationID) + len(e.Metadata.CausationID)
	for k, v := range e.Metadata.Extra {
		n += len(k) + len(v)
	}
	return n
}

// ValidateSnapshot returns an error matching [ErrInvalidInput] unless s can be
// stored: a valid stream ID, a version of at least 1, a non-empty type, a
// schema of at least 1 and a state that is one valid JSON document.
func ValidateSnapshot(s Snapshot) error {
	if err := ValidateStreamID(s.Stream); err != nil {
		return err
	}
	if s.Version < 1 {
		return invalidf(ErrInvalidVersion, "snapshot version %d", s.Version)
	}
	if err := validateName(ErrInvalidEventType, "aggregate type", s.Type, MaxEventTypeLen); err != nil {
		return err
	}
	if s.Schema < 1 {
		return invalidf(ErrInvalidData, "snapshot schema version %d", s.Schema)
	}
	if !json.Valid(s.State) {
		return invalidf(ErrInvalidData, "snapshot state is not valid JSON")
	}
	return nil
}

// ValidateLoadSnapshot checks the arguments of a LoadSnapshot call: a valid
// stream ID and a maximum version of at least 0 (0 meaning the latest).
func ValidateLoadSnapshot(stream string, maxVersion int64) error {
	if err := ValidateStreamID(stream); err != nil {
		return err
	}
	if maxVersion < 0 {
		return invalidf(ErrInvalidVersion, "snapshot version %d", maxVersion)
	}
	return nil
}

// ValidateRead checks the arguments of a ReadStream call: the stream ID as
// [ValidateStreamID] does and the bounds as [ValidateRange] does.
func ValidateRead(stream string, from, to int64) error {
	if err := ValidateStreamID(stream); err != nil {
		return err
	}
	return ValidateRange(from, to)
}

// ValidatePosition checks the starting position of a ReadLog or Subscribe
// call: positions start at 1.
func ValidatePosition(from int64) error {
	if from < 1 {
		return invalidf(ErrInvalidVersion, "log position %d", from)
	}
	return nil
}

// ValidateRange checks the bounds of a ReadStream call.
func ValidateRange(from, to int64) error {
	if from < 1 || to < 0 {
		return invalidf(ErrInvalidVersion, "range %d..%d", from, to)
	}
	return nil
}

// ConflictWindow says which stored versions an adapter must look at when an
// append's expected version check fails (or, for [Any] and [StreamExists],
// always) to tell a retry from a conflict: versions from to to, inclusive,
// for an append of n events to a stream at version current. ok is false when
// no stored event can match, and the append is a plain conflict (or, for Any
// and StreamExists, a plain append).
func ConflictWindow(expected ExpectedVersion, current int64, n int) (from, to int64, ok bool) {
	if v, exact := expected.Version(); exact {
		// A retry stored its events right after the version it expected.
		from, to = v+1, v+int64(n)
	} else {
		// With no exact version, a retry can only be the stream's tail.
		from, to = current-int64(n)+1, current
	}
	if from < 1 || from > current {
		return 0, 0, false
	}
	return from, min(to, current), true
}

// CheckAppend is the check every adapter runs, under whatever serialises its
// appends to stream, before it stores recs on a stream at version current:
// the expected version check, and the telling of a retry from a conflict
// through [ConflictWindow] and [ResolveConflict]. window returns the stored
// records of versions from to to, inclusive; it is called only when a stored
// event could match.
//
// It returns dup true and the stored records for a retry of an append
// already stored: the adapter stores nothing and returns them. It returns an
// error for a conflict (a [*ConcurrencyError]), a partial overlap
// ([ErrPartialDuplicate]) or a failed window read. Otherwise the append goes
// ahead.
func CheckAppend(stream string, expected ExpectedVersion, current int64, recs []Record, window func(from, to int64) ([]Record, error)) (stored []Record, dup bool, err error) {
	checkErr := expected.Check(stream, current)
	if _, exact := expected.Version(); checkErr == nil && exact {
		return nil, false, nil
	}
	if from, to, ok := ConflictWindow(expected, current, len(recs)); ok {
		stored, err := window(from, to)
		if err != nil {
			return nil, false, err
		}
		dup, err := ResolveConflict(stored, recs)
		if err != nil {
			return nil, false, fmt.Errorf("append to %q: %w", stream, err)
		}
		if dup {
			return stored, true, nil
		}
	}
	return nil, false, checkErr
}

// ResolveConflict decides what an append must do given stored, the records
// the store holds in the [ConflictWindow]. If every event of recs is stored at
// its place in the window with the same ID, the append is a retry of one that
// succeeded: it returns those stored records and dup true. If only some are,
// it returns [ErrPartialDuplicate]. Otherwise dup is false and the caller
// goes on: with a [*ConcurrencyError] if the version check failed, or with
// the append if it passed.
func ResolveConflict(stored, recs []Record) (dup bool, err error) {
	matched := 0
	for i, s := range stored {
		if i < len(recs) && s.ID == recs[i].ID {
			matched++
		}
	}
	switch {
	case matched == len(recs) && len(stored) == len(recs):
		return true, nil
	case matched > 0:
		return false, ErrPartialDuplicate
	}
	// An ID stored elsewhere in the window is an overlap too: the caller
	// is replaying events out of place.
	for _, r := range recs {
		if slices.ContainsFunc(stored, func(s Record) bool { return s.ID == r.ID }) {
			return false, ErrPartialDuplicate
		}
	}
	return false, nil
}

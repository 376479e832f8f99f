package es

import "strconv"

type expectKind uint8

const (
	expectInvalid expectKind = iota // the zero value: rejected by every store
	expectExact
	expectNoStream
	expectStreamExists
	expectAny
)

// ExpectedVersion is the condition an append places on its stream's current
// version. Its zero value is invalid, so that a forgotten or defaulted value is
// rejected rather than taken to mean "any": build one with [Exact], or use
// [NoStream], [StreamExists] or [Any].
type ExpectedVersion struct {
	kind    expectKind
	version int64
}

var (
	// NoStream requires that the stream does not exist yet (version 0).
	NoStream = ExpectedVersion{kind: expectNoStream}
	// StreamExists requires that the stream has at least one event. Its
	// retries are recognised as [Any]'s are.
	StreamExists = ExpectedVersion{kind: expectStreamExists}
	// Any appends whatever the stream's version. It still gives idempotent
	// retries while the retried events are the stream's last (see
	// [ConflictWindow] and [ResolveConflict]); once other events have been
	// appended after them, a retry with Any is no longer recognised: it is
	// stored again, or refused with [ErrPartialDuplicate] by an adapter that
	// keeps event IDs unique (postgres). Retry with [Exact] to be safe
	// whatever was appended in between.
	Any = ExpectedVersion{kind: expectAny}
)

// Exact requires that the stream is at version v. Exact(0) is the same
// condition as [NoStream]. A negative v gives a value that every store rejects
// with [ErrInvalidExpectedVersion].
func Exact(v int64) ExpectedVersion {
	if v < 0 {
		return ExpectedVersion{kind: expectInvalid, version: v}
	}
	return ExpectedVersion{kind: expectExact, version: v}
}

// Valid reports whether e is a usable condition.
func (e ExpectedVersion) Valid() bool { return e.kind != expectInvalid }

// Version returns the version an exact condition requires, and whether e is one.
// [NoStream] counts as exact version 0.
func (e ExpectedVersion) Version() (int64, bool) {
	switch e.kind {
	case expectExact:
		return e.version, true
	case expectNoStream:
		return 0, true
	}
	return 0, false
}

// Check reports whether a stream at version current satisfies e. It returns
// nil, [ErrInvalidExpectedVersion], or a [*ConcurrencyError] for stream.
func (e ExpectedVersion) Check(stream string, current int64) error {
	ok := false
	switch e.kind {
	case expectInvalid:
		return ErrInvalidExpectedVersion
	case expectExact, expectNoStream:
		ok = current == e.version
	case expectStreamExists:
		ok = current > 0
	case expectAny:
		ok = true
	}
	if ok {
		return nil
	}
	return &ConcurrencyError{Stream: stream, Expected: e, Actual: current}
}

// String describes e: a number, "no stream", "stream exists", "any", or
// "invalid".
func (e ExpectedVersion) String() string {
	switch e.kind {
	case expectExact:
		return strconv.FormatInt(e.version, 10)
	case expectNoStream:
		return "no stream"
	case expectStreamExists:
		return "stream exists"
	case expectAny:
		return "any"
	}
	return "invalid"
}

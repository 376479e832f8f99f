package es

import (
	"errors"
	"fmt"
)

// Errors every adapter returns. Branch on them with errors.Is.
var (
	// ErrConcurrency means the stream was not at the expected version; nothing
	// was stored. The error is a *ConcurrencyError.
	ErrConcurrency = errors.New("es: concurrency conflict")

	// ErrNotFound means the stream, aggregate or snapshot does not exist.
	ErrNotFound = errors.New("es: not found")

	// ErrPartialDuplicate means an append repeated some, but not all, of
	// the events already stored at its versions: it is neither a fresh append
	// nor a clean retry. Nothing was stored.
	ErrPartialDuplicate = errors.New("es: append overlaps stored events in part")

	// ErrCorrupt means stored data failed an integrity check. The error is a
	// *CorruptError naming where.
	ErrCorrupt = errors.New("es: corrupt data")

	// ErrClosed means the store was closed.
	ErrClosed = errors.New("es: store closed")

	// ErrInvalidInput is matched by every error about bad input to a store:
	// each of the Err... sentinels below it also matches ErrInvalidInput.
	ErrInvalidInput = errors.New("es: invalid input")

	// ErrInvalidStreamID means a stream ID is empty, too long, not valid
	// UTF-8 or contains a control character.
	ErrInvalidStreamID = invalid("invalid stream ID")
	// ErrInvalidEventType means an event type is empty, too long, not valid
	// UTF-8 or contains a control character.
	ErrInvalidEventType = invalid("invalid event type")
	// ErrInvalidData means event or snapshot data is not one valid JSON
	// document in UTF-8, or a schema version is negative.
	ErrInvalidData = invalid("invalid event data")
	// ErrInvalidMetadata means a metadata string is not valid UTF-8 or
	// holds a NUL byte.
	ErrInvalidMetadata = invalid("invalid event metadata")
	// ErrEventTooLarge means an event is over MaxEventSize.
	ErrEventTooLarge = invalid("event too large")
	// ErrAppendTooLarge means an append's events together are over
	// MaxAppendSize.
	ErrAppendTooLarge = invalid("append too large")
	// ErrNoEvents means an append was given no events.
	ErrNoEvents = invalid("no events to append")
	// ErrTooManyEvents means an append was given more than MaxAppendEvents.
	ErrTooManyEvents = invalid("too many events in one append")
	// ErrInvalidExpectedVersion means an ExpectedVersion was the zero value
	// or negative.
	ErrInvalidExpectedVersion = invalid("invalid expected version")
	// ErrInvalidVersion means a version or position argument is out of range.
	ErrInvalidVersion = invalid("invalid version")
)

// Errors of the event type [Registry]. Branch on them with errors.Is.
var (
	// ErrUnknownType means an event type name, or a Go type, is not
	// registered: it cannot be encoded or decoded.
	ErrUnknownType = errors.New("es: unknown event type")

	// ErrNoUpcaster means stored data is of an older schema version and the
	// chain of upcasters to the current one has a gap.
	ErrNoUpcaster = errors.New("es: no upcaster")

	// ErrFutureSchema means stored data is of a newer schema version than
	// the registry knows: this program is older than the data.
	ErrFutureSchema = errors.New("es: schema newer than the registry's")

	// ErrDuplicate means an event type, a Go type or an upcaster was
	// registered twice. Registration panics with an error matching it:
	// set-up mistakes must not go unnoticed.
	ErrDuplicate = errors.New("es: registered twice")
)

// ErrReadOnly means a store, or the storage under it, cannot be written: it
// was opened read-only, the file system is read-only, or permission is
// denied. Reads still work. Adapters wrap the backend's own error with it.
var ErrReadOnly = errors.New("es: read-only")

// inputError is a sentinel for one kind of bad input; it also matches
// ErrInvalidInput, so callers may branch on either.
type inputError struct{ msg string }

func invalid(msg string) error { return &inputError{msg: "es: " + msg} }

// NewInputError returns a new sentinel for one kind of bad input, with
// message msg; it matches [ErrInvalidInput] as well as itself. Packages
// built on es (a domain's commands) use it so that all bad input, theirs
// and the store's, matches one sentinel.
func NewInputError(msg string) error { return &inputError{msg: msg} }

func (e *inputError) Error() string        { return e.msg }
func (e *inputError) Is(target error) bool { return target == ErrInvalidInput }

// invalidf wraps sentinel with a message saying what exactly was wrong.
func invalidf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", sentinel, fmt.Sprintf(format, args...))
}

// ConcurrencyError reports that an append found its stream at another version
// than expected. It matches ErrConcurrency.
type ConcurrencyError struct {
	Stream   string
	Expected ExpectedVersion
	Actual   int64
}

// Error describes the conflict: stream, expected and actual versions.
func (e *ConcurrencyError) Error() string {
	return fmt.Sprintf("es: concurrency conflict on stream %q: expected version %s, actual %d",
		e.Stream, e.Expected, e.Actual)
}

// Is reports whether target is ErrConcurrency.
func (e *ConcurrencyError) Is(target error) bool { return target == ErrConcurrency }

// CorruptError reports damaged stored data: where it is and what is wrong. It
// matches ErrCorrupt.
type CorruptError struct {
	// Path names the file, table or object that holds the damage.
	Path string
	// Offset is the byte offset (or row position) of the damage in Path.
	Offset int64
	// Err says what is wrong.
	Err error
}

// Error says where the damage is and what is wrong.
func (e *CorruptError) Error() string {
	return fmt.Sprintf("es: corrupt data in %s at offset %d: %v", e.Path, e.Offset, e.Err)
}

// Unwrap returns the underlying cause.
func (e *CorruptError) Unwrap() error { return e.Err }

// Is reports whether target is ErrCorrupt.
func (e *CorruptError) Is(target error) bool { return target == ErrCorrupt }

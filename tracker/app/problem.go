package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// ErrUsage means a face was called wrongly: a missing or unknown argument,
// flag or parameter, or two that cannot go together. Make one with
// [Usage] or [Usagef].
var ErrUsage = errors.New("usage")

// usageError is a mistake in how a face was called.
type usageError struct{ err error }

// Error returns the message of the error it marks.
func (e usageError) Error() string { return e.err.Error() }

// Unwrap returns the error it marks.
func (e usageError) Unwrap() error { return e.err }

// Is reports whether target is ErrUsage.
func (e usageError) Is(target error) bool { return target == ErrUsage }

// Usage marks err as a mistake in how a face was called: it then matches
// [ErrUsage], and its message is err's.
func Usage(err error) error {
	if err == nil {
		return nil
	}
	return usageError{err}
}

// Usagef returns a usage error with a formatted message; see [Usage].
func Usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// Class is the kind of a failure, which each face turns into its own
// signal: the jerry command into an exit code ([Class.ExitCode]), an HTTP
// face into a status.
type Class int

// The classes of failure.
const (
	// Failure is anything not below: damage, a store that cannot be
	// reached, a refused transition, a blocked start.
	Failure Class = iota
	// Invalid is a usage mistake, invalid input, or a refusal by a rule
	// about the input (a dependency cycle).
	Invalid
	// Conflict is a lost race: a version mismatch, or a claim held by
	// another agent.
	Conflict
	// NotFound is a work item, initiative, blocker or member that does
	// not exist.
	NotFound
)

// ExitCode is the jerry command's exit code for the class: 1 failure, 2
// invalid, 3 conflict, 4 not found.
func (c Class) ExitCode() int {
	switch c {
	case Invalid:
		return 2
	case Conflict:
		return 3
	case NotFound:
		return 4
	}
	return 1
}

// Problem is an error as every face presents it: a stable code to branch
// on, a message for people, fields an agent can act on, and its class.
type Problem struct {
	// Code is one of: usage, invalid_input, cycle, conflict, claimed,
	// not_found, invalid_transition, blocked, corrupt, error.
	Code string
	// Message says what went wrong, on one line.
	Message string
	// Fields hold what an agent may act on, by name: expected_version,
	// actual_version and stream for a conflict; holder and id for a claim
	// held by another agent; id for something not found; path and offset
	// for damage. Nil when there are none.
	Fields map[string]any
	// Class is the kind of failure.
	Class Class
}

// MarshalJSON writes the problem as one object: code, message, then the
// fields in name order.
func (p Problem) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteString(`{"code":`)
	if err := encodeJSON(&b, p.Code); err != nil {
		return nil, err
	}
	b.WriteString(`,"message":`)
	if err := encodeJSON(&b, p.Message); err != nil {
		return nil, err
	}
	keys := make([]string, 0, len(p.Fields))
	for k := range p.Fields {
		if k != "code" && k != "message" {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		b.WriteByte(',')
		if err := encodeJSON(&b, k); err != nil {
			return nil, err
		}
		b.WriteByte(':')
		if err := encodeJSON(&b, p.Fields[k]); err != nil {
			return nil, err
		}
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

func encodeJSON(b *bytes.Buffer, v any) error {
	enc := json.NewEncoder(b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	b.Truncate(b.Len() - 1) // the encoder's newline
	return nil
}

// Explain maps an error from the use cases (or a face's own usage error) to
// its presentation. Every face calls it, so an error has one code, message
// and set of fields in all of them.
func Explain(err error) Problem {
	p := classify(err)
	p.Message = message(err)
	return p
}

// classify finds an error's code, class and fields. The order matters
// where sentinels overlap: a cycle is also invalid input.
func classify(err error) Problem {
	var (
		ce  *es.ConcurrencyError
		cl  *tracker.ClaimedError
		bl  *tracker.BlockedError
		om  *tracker.OpenMembersError
		nf  *NotFoundError
		cor *es.CorruptError
	)
	switch {
	case errors.Is(err, ErrUsage):
		return Problem{Code: "usage", Class: Invalid}
	case errors.As(err, &ce):
		f := map[string]any{"stream": ce.Stream, "actual_version": ce.Actual}
		if v, ok := ce.Expected.Version(); ok {
			f["expected_version"] = v
		}
		return Problem{Code: "conflict", Class: Conflict, Fields: f}
	case errors.Is(err, es.ErrConcurrency):
		return Problem{Code: "conflict", Class: Conflict}
	case errors.As(err, &cl):
		return Problem{Code: "claimed", Class: Conflict, Fields: map[string]any{"id": cl.ID, "holder": cl.Holder,
			"since": cl.Since.UTC(), "expires_at": cl.ExpiresAt.UTC()}}
	case errors.Is(err, tracker.ErrClaimed):
		return Problem{Code: "claimed", Class: Conflict}
	case errors.As(err, &nf) && nf.ID != "":
		return Problem{Code: "not_found", Class: NotFound, Fields: map[string]any{"id": nf.ID}}
	case errors.Is(err, es.ErrNotFound), errors.Is(err, tracker.ErrNotMember):
		return Problem{Code: "not_found", Class: NotFound}
	case errors.Is(err, tracker.ErrCycle):
		return Problem{Code: "cycle", Class: Invalid}
	case errors.Is(err, es.ErrInvalidInput):
		return Problem{Code: "invalid_input", Class: Invalid}
	case errors.As(err, &om):
		return Problem{Code: "invalid_transition", Class: Invalid, Fields: map[string]any{"id": om.Initiative, "open_members": om.Open}}
	case errors.Is(err, tracker.ErrInvalidTransition):
		return Problem{Code: "invalid_transition", Class: Invalid}
	case errors.As(err, &bl):
		return Problem{Code: "blocked", Class: Invalid, Fields: map[string]any{"id": bl.Item, "blockers": bl.Blockers}}
	case errors.Is(err, tracker.ErrBlocked):
		return Problem{Code: "blocked", Class: Invalid}
	case errors.As(err, &cor):
		return Problem{Code: "corrupt", Class: Failure, Fields: map[string]any{"path": cor.Path, "offset": cor.Offset}}
	case errors.Is(err, es.ErrCorrupt):
		return Problem{Code: "corrupt", Class: Failure}
	}
	return Problem{Code: "error", Class: Failure}
}

// message renders err for a person, on one line, without the "es: " that
// the toolkit's errors begin with.
func message(err error) string {
	var ce *es.ConcurrencyError
	var msg string
	if errors.As(err, &ce) {
		msg = fmt.Sprintf("conflict: %s is at version %d, not %s", StreamLabel(ce.Stream), ce.Actual, ce.Expected)
	} else {
		msg = strings.TrimPrefix(err.Error(), "es: ")
	}
	return strings.Join(strings.Fields(msg), " ")
}

// Package es is Jerry's event-sourcing toolkit: the stored record, the store
// contracts every adapter implements, the aggregate base, the repository that
// rebuilds aggregates by replay or from snapshots, snapshot strategies, and the
// event type registry with its upcasters.
//
// # Model
//
// A store holds streams. A stream is an ordered, append-only sequence of events
// named by a stream ID; its first event has version 1, and a stream that does not
// exist has version 0. Every event also has a position in the store's global log:
// positions start at 1, increase in commit order, and have no gaps that fill in
// later, so a reader that has seen position P never later finds a new event at or
// below P.
//
// # Guarantees every adapter gives
//
//   - Append is atomic: all events of one call are stored, or none.
//   - Append checks an [ExpectedVersion]; on mismatch it stores nothing and
//     returns a [*ConcurrencyError] that matches [ErrConcurrency].
//   - Append is idempotent on retry: repeating an append whose events (same IDs,
//     at the same versions) are already stored returns the stored records and
//     stores nothing; a retry that overlaps only in part fails with
//     [ErrPartialDuplicate].
//   - Bad input (see [ValidateStreamID] and [Prepare]) is rejected with an error
//     that matches [ErrInvalidInput] and a more specific sentinel, and nothing is
//     stored.
//   - Records are immutable once stored. Timestamps are UTC, truncated to
//     microseconds, so they round-trip exactly through every adapter.
//   - Reads are streamed as [iter.Seq2] of [Record] and error: each record comes
//     with a nil error; a failure ends the sequence with one non-nil error. A
//     caller may break early, and may append to the store while iterating.
//
// The conformance suite in package estest makes these guarantees binding: every
// adapter runs it.
//
// # Errors
//
// Each sentinel is defined once in errors.go. Branch with [errors.Is]; read
// details with [errors.As] on [*ConcurrencyError] and [*CorruptError].
package es

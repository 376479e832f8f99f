package es

import (
	"context"
	"iter"
)

// EventStore stores streams of events. Implementations are safe for
// concurrent use by multiple goroutines.
type EventStore interface {
	// Append appends events to stream if the stream satisfies expected, and
	// returns the stored records with their versions, positions, times and
	// IDs filled in.
	//
	// It is atomic: every event is stored, or none is. It first validates
	// its input as [Prepare] does, returning an error matching
	// [ErrInvalidInput] for bad input. If the stream does not satisfy
	// expected, it stores nothing and returns a [*ConcurrencyError], unless
	// the call is a retry of an append already stored ([ResolveConflict]), in
	// which case it returns the records stored by the earlier call and a nil
	// error.
	Append(ctx context.Context, stream string, expected ExpectedVersion, events []Event) ([]Record, error)

	// ReadStream returns the events of stream with versions from from to to,
	// both inclusive, in version order. A to of 0 means the end of the
	// stream; from must be at least 1. A stream that does not exist yields
	// nothing. The sequence ends with ctx.Err() if ctx is cancelled.
	ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[Record, error]

	// StreamVersion returns the stream's current version: 0 if it does not
	// exist.
	StreamVersion(ctx context.Context, stream string) (int64, error)
}

// LogReader is implemented by stores that keep a global log of every event in
// commit order.
type LogReader interface {
	// ReadLog returns every committed event with position from or above, in
	// position order, each exactly once. It ends at the last event committed
	// when the read reached it; it never yields an event at a position below
	// one it has already yielded, and no event is committed later at a
	// position at or below one it has yielded. from must be at least 1.
	ReadLog(ctx context.Context, from int64) iter.Seq2[Record, error]

	// LastPosition returns the position of the last committed event, 0 if
	// the store is empty.
	LastPosition(ctx context.Context) (int64, error)
}

// Subscriber is implemented by stores that can follow their global log live.
type Subscriber interface {
	// Subscribe yields every event with position from or above, in position
	// order, exactly once: first those already committed, then new ones as
	// they commit. It ends without an error when ctx is cancelled, and with
	// an error if reading fails. A slow consumer only delays its own
	// sequence: the store neither drops events nor buffers them for it
	// without bound.
	Subscribe(ctx context.Context, from int64) iter.Seq2[Record, error]
}

// SnapshotStore stores snapshots of aggregate state. Snapshots are an
// optimisation: losing one costs a longer replay, never correctness.
type SnapshotStore interface {
	// SaveSnapshot stores s, replacing any snapshot of the same stream and
	// version. It validates s as [ValidateSnapshot] does.
	SaveSnapshot(ctx context.Context, s Snapshot) error

	// LoadSnapshot returns the snapshot of stream with the highest version
	// at or below maxVersion; a maxVersion of 0 means the latest. It returns
	// an error matching [ErrNotFound] if there is none.
	LoadSnapshot(ctx context.Context, stream string, maxVersion int64) (Snapshot, error)
}

// Collect drains seq into a slice, stopping at the first error.
func Collect(seq iter.Seq2[Record, error]) ([]Record, error) {
	var out []Record
	for r, err := range seq {
		if err != nil {
			return out, err
		}
		out = append(out, r)
	}
	return out, nil
}

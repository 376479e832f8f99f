package es

import "context"

// MaxCheckpointNameLen is the longest checkpoint name in bytes. It is short
// enough that every adapter can turn any valid name into a file or key name
// (a file adapter escapes each byte into at most three characters, and file
// names are limited to 255 bytes).
const MaxCheckpointNameLen = 80

// ErrInvalidCheckpointName means a checkpoint name is empty, too long, not
// valid UTF-8 or contains a control character. It matches [ErrInvalidInput].
var ErrInvalidCheckpointName = invalid("invalid checkpoint name")

// CheckpointStore records how far each named consumer of the global log (a
// projection, an integration, a follower) has got, so that it resumes where
// it stopped instead of replaying the whole log. A checkpoint is the position
// of the last event the consumer has fully handled; 0 means none.
//
// Checkpoints give at-least-once delivery: a consumer saves its checkpoint
// after handling events, so a crash between the two makes it handle those
// events again. Consumers whose read model lives beside the checkpoint can
// commit both together (see the postgres adapter's transactional form).
//
// One consumer owns a name at a time: two writers of one name race, and the
// last save wins. Implementations are safe for concurrent use by multiple
// goroutines.
type CheckpointStore interface {
	// LoadCheckpoint returns the position saved under name, or 0 if none
	// has been saved. An invalid name is an error matching
	// [ErrInvalidCheckpointName]; damaged stored data is a [*CorruptError].
	LoadCheckpoint(ctx context.Context, name string) (int64, error)

	// SaveCheckpoint records position under name, replacing what was there,
	// even if position is lower (a rebuild saves 0). Once it returns nil, a
	// later LoadCheckpoint returns position, and for durable adapters so
	// does one after a crash or power loss. It validates its input as
	// [ValidateCheckpoint] does. On error the previous value is kept.
	SaveCheckpoint(ctx context.Context, name string, position int64) error
}

// ValidateCheckpoint returns an error matching [ErrInvalidInput] unless name
// and position can be saved: name must be 1 to [MaxCheckpointNameLen] bytes of
// valid UTF-8 with no control characters ([ErrInvalidCheckpointName]), and
// position must not be negative ([ErrInvalidVersion]). Every adapter calls it,
// so that all reject the same input alike.
func ValidateCheckpoint(name string, position int64) error {
	if err := ValidateCheckpointName(name); err != nil {
		return err
	}
	if position < 0 {
		return invalidf(ErrInvalidVersion, "checkpoint position %d", position)
	}
	return nil
}

// ValidateCheckpointName returns an error matching [ErrInvalidCheckpointName]
// unless name is a usable checkpoint name.
func ValidateCheckpointName(name string) error {
	return validateName(ErrInvalidCheckpointName, "checkpoint name", name, MaxCheckpointNameLen)
}

package es

import "context"

// MaxModelNameLen is the longest read model name in bytes: short enough
// that every adapter can turn any valid name into a file or key name.
const MaxModelNameLen = 80

// ErrInvalidModelName means a read model name is empty, too long, not valid
// UTF-8 or contains a control character. It matches [ErrInvalidInput].
var ErrInvalidModelName = invalid("invalid read model name")

// ModelStore keeps read models saved whole: for each name, one blob of
// encoded state and the position in the global log that the state reflects,
// so that a consumer resumes from there instead of folding the whole log.
// The blob's encoding is the caller's; the store does not look inside.
//
// Guarantees, for every adapter:
//   - State and position are saved in one atomic step: a load never sees
//     the state of one save with the position of another, nor a torn state,
//     also after a crash.
//   - A save never replaces a model of a later position: of several
//     processes catching up and saving at once, the model only moves forward.
//     A save at the same position replaces it.
//   - A save that returns nil is durable as the adapter's appends are.
//
// Implementations are safe for concurrent use, also by several processes
// where the adapter supports those.
type ModelStore interface {
	// LoadModel returns the state saved under name and the position it
	// reflects. If none is saved the error matches [ErrNotFound]; an
	// invalid name matches [ErrInvalidModelName]; damaged stored data is a
	// [*CorruptError]. The caller owns the returned slice.
	LoadModel(ctx context.Context, name string) (state []byte, position int64, err error)

	// SaveModel saves state as the model name at position, unless the
	// model saved under name reflects a later position; it reports whether
	// it wrote. It validates its input as [ValidateModel] does. A store that
	// cannot be written (read-only, no permission) returns an error
	// matching [ErrReadOnly]. On error the saved model is unchanged. The
	// store does not keep state: the caller may reuse it.
	SaveModel(ctx context.Context, name string, position int64, state []byte) (saved bool, err error)
}

// ValidateModel returns an error matching [ErrInvalidInput] unless a model
// can be saved under name at position: name must be 1 to [MaxModelNameLen]
// bytes of valid UTF-8 with no control characters ([ErrInvalidModelName]),
// and position must not be negative ([ErrInvalidVersion]). Every adapter
// calls it, so that all reject the same input alike.
func ValidateModel(name string, position int64) error {
	if err := ValidateModelName(name); err != nil {
		return err
	}
	if position < 0 {
		return invalidf(ErrInvalidVersion, "read model position %d", position)
	}
	return nil
}

// ValidateModelName returns an error matching [ErrInvalidModelName] unless
// name is a usable read model name.
func ValidateModelName(name string) error {
	return validateName(ErrInvalidModelName, "read model name", name, MaxModelNameLen)
}

package projection

import (
	"context"
	"errors"
	"fmt"

	"github.com/jerry-es/jerry/es"
)

// Projection folds batches of events into a read model.
type Projection interface {
	// Apply applies batch, a run of consecutive events of the log in
	// position order, to the read model. It may keep the records but not
	// the slice, which the runner reuses. An error stops the runner; the
	// batch is not checkpointed and will be delivered again by the next
	// run. Return an error from [AtRecord] to name the event that failed.
	Apply(ctx context.Context, batch []es.Record) error
}

// Resetter is implemented by projections that can empty their read model.
// The runner calls Reset before applying the first event when it starts
// from checkpoint 0, which includes every rebuild.
type Resetter interface {
	Reset(ctx context.Context) error
}

// Committer is implemented by projections whose read model and checkpoint
// live in one transactional store. The runner then calls Commit instead of
// Apply followed by the checkpoint store's SaveCheckpoint; Commit must apply
// batch and save position as the checkpoint of name atomically, so that each
// event's effect lands exactly once.
type Committer interface {
	Commit(ctx context.Context, name string, batch []es.Record, position int64) error
}

// Func adapts a function to a [Projection].
type Func func(ctx context.Context, batch []es.Record) error

// Apply implements Projection by calling f.
func (f Func) Apply(ctx context.Context, batch []es.Record) error { return f(ctx, batch) }

// Handler handles one event.
type Handler func(ctx context.Context, rec es.Record) error

// Mux is a [Projection] that routes each event to the handler registered for
// its type, or to the catch-all handler if its type has none; events with
// neither are skipped (and still checkpointed). It implements [Resetter]
// with the function given to [Mux.OnReset]. Register handlers before the
// runner starts.
type Mux struct {
	byType map[string]Handler
	all    Handler
	reset  func(ctx context.Context) error
}

// NewMux returns a Mux with no handlers.
func NewMux() *Mux { return &Mux{byType: make(map[string]Handler)} }

// On registers h for events of type typ, replacing any handler registered
// for it, and returns m.
func (m *Mux) On(typ string, h Handler) *Mux {
	m.byType[typ] = h
	return m
}

// OnOther registers h for events whose type has no handler of its own, and
// returns m.
func (m *Mux) OnOther(h Handler) *Mux {
	m.all = h
	return m
}

// OnReset registers fn to empty the read model, and returns m.
func (m *Mux) OnReset(fn func(ctx context.Context) error) *Mux {
	m.reset = fn
	return m
}

// Apply implements Projection. A handler's error comes back from [AtRecord],
// naming the event.
func (m *Mux) Apply(ctx context.Context, batch []es.Record) error {
	for i := range batch {
		h, ok := m.byType[batch[i].Type]
		if !ok {
			h = m.all
		}
		if h == nil {
			continue
		}
		if err := h(ctx, batch[i]); err != nil {
			return AtRecord(batch[i], err)
		}
	}
	return nil
}

// Reset implements Resetter; it does nothing if no reset function was
// registered.
func (m *Mux) Reset(ctx context.Context) error {
	if m.reset == nil {
		return nil
	}
	return m.reset(ctx)
}

// Error reports that a projection failed to handle events. The runner
// returns one for every handler failure; Unwrap gives the handler's error.
type Error struct {
	// Name is the projection's checkpoint name.
	Name string
	// Position is the log position of the event that failed, or of the
	// first event of the batch if the projection did not say which.
	Position int64
	// Last is the position of the last event of the failed batch.
	Last int64
	// Stream and Type describe the failed event, when known.
	Stream, Type string
	// Err is the handler's error.
	Err error
}

// Error describes the failure and the event or batch it happened at.
func (e *Error) Error() string {
	var where string
	switch {
	case e.Type != "":
		where = fmt.Sprintf("event at position %d (%s on stream %q)", e.Position, e.Type, e.Stream)
	case e.Last > e.Position:
		where = fmt.Sprintf("batch at positions %d..%d", e.Position, e.Last)
	default:
		where = fmt.Sprintf("event at position %d", e.Position)
	}
	name := ""
	if e.Name != "" {
		name = fmt.Sprintf(" %q", e.Name)
	}
	return fmt.Sprintf("projection%s: %s: %v", name, where, e.Err)
}

// Unwrap returns the handler's error.
func (e *Error) Unwrap() error { return e.Err }

// AtRecord returns err as an [*Error] naming rec, for projections that apply
// a batch themselves and want the runner to report which event failed. It
// returns nil for a nil err.
func AtRecord(rec es.Record, err error) error {
	if err == nil {
		return nil
	}
	var pe *Error
	if errors.As(err, &pe) {
		return err
	}
	return &Error{Position: rec.Position, Last: rec.Position, Stream: rec.Stream, Type: rec.Type, Err: err}
}

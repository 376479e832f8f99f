package es

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/google/uuid"
)

// Snapshotter is implemented by aggregates whose state a [Repository] can save
// in snapshots. The state's schema version is the one registered with
// [Registry.RegisterSnapshot] for the repository's aggregate type (1 if none).
type Snapshotter interface {
	// MarshalSnapshot returns the aggregate's state as JSON.
	MarshalSnapshot() ([]byte, error)
	// UnmarshalSnapshot restores state written by MarshalSnapshot (after
	// upcasting) into a new aggregate.
	UnmarshalSnapshot(state []byte) error
}

// Repository loads and saves aggregates of one type. It rebuilds an aggregate
// from its latest usable snapshot plus the later events, or by full replay;
// it saves with the loaded version as the expected version, so that of two
// writers who loaded the same version only one succeeds; and it takes
// snapshots as its [Strategy] says.
//
// A Repository is safe for concurrent use; aggregates are not.
type Repository[A Aggregate] struct {
	store    EventStore
	reg      *Registry
	typ      string
	newAgg   func() A
	prefix   string
	snaps    SnapshotStore
	strategy Strategy
	onSnap   func(stream string, err error)
	retries  int
	now      func() time.Time
	turns    bool
	locks    streamLocks
}

// RepositoryOption configures a [Repository].
type RepositoryOption func(*repoOptions)

type repoOptions struct {
	prefix   *string
	snaps    SnapshotStore
	strategy Strategy
	onSnap   func(string, error)
	retries  int
	now      func() time.Time
	turns    bool
}

// WithSnapshots makes the repository load from snapshots in store and take
// new ones when strategy says so. The aggregate must implement [Snapshotter].
func WithSnapshots(store SnapshotStore, strategy Strategy) RepositoryOption {
	return func(o *repoOptions) { o.snaps, o.strategy = store, strategy }
}

// WithStreamPrefix sets what the repository puts before an aggregate's ID to
// name its stream. The default is the aggregate type and a hyphen.
func WithStreamPrefix(prefix string) RepositoryOption {
	return func(o *repoOptions) { o.prefix = &prefix }
}

// WithSnapshotErrors sets a function told of every snapshot that could not be
// read or written. Snapshot failures never fail a load or a save; by default
// they are ignored.
func WithSnapshotErrors(fn func(stream string, err error)) RepositoryOption {
	return func(o *repoOptions) { o.onSnap = fn }
}

// WithRetries sets how many times [Repository.Update] retries after a
// concurrency conflict. The default is 20.
func WithRetries(n int) RepositoryOption {
	return func(o *repoOptions) { o.retries = max(n, 0) }
}

// WithTurns makes [Repository.Update]s of one aggregate through the
// repository take turns, so that goroutines of one process (a server's
// requests) do not race each other: without it, n of them updating one
// aggregate conflict about n times each, and can run out of retries (16
// HTTP clients writing to one item did, within 20). Other processes still
// race, and the version check of every append still decides between them.
// fn must then not update the same aggregate through the repository.
func WithTurns() RepositoryOption {
	return func(o *repoOptions) { o.turns = true }
}

// WithClock sets the clock that time-based snapshot strategies read.
func WithClock(now func() time.Time) RepositoryOption {
	return func(o *repoOptions) { o.now = now }
}

// NewRepository returns a repository for aggregates of type aggType, a stable
// name stored with snapshots. newAgg returns a new, empty aggregate.
func NewRepository[A Aggregate](store EventStore, reg *Registry, aggType string, newAgg func() A, opts ...RepositoryOption) *Repository[A] {
	o := repoOptions{retries: 20, now: time.Now, strategy: Never}
	for _, opt := range opts {
		opt(&o)
	}
	r := &Repository[A]{
		store: store, reg: reg, typ: aggType, newAgg: newAgg, prefix: aggType + "-",
		snaps: o.snaps, strategy: o.strategy, onSnap: o.onSnap, retries: o.retries, now: o.now, turns: o.turns,
	}
	if o.prefix != nil {
		r.prefix = *o.prefix
	}
	if r.onSnap == nil {
		r.onSnap = func(string, error) {}
	}
	return r
}

// Stream returns the stream ID of the aggregate with the given ID.
func (r *Repository[A]) Stream(id string) string { return r.prefix + id }

// New returns a new aggregate with the given ID and no events.
func (r *Repository[A]) New(id string) A {
	a := r.newAgg()
	a.root().id = id
	return a
}

// Load returns the aggregate's current state. It returns an error matching
// [ErrNotFound] if the aggregate has no events.
func (r *Repository[A]) Load(ctx context.Context, id string) (A, error) {
	return r.load(ctx, id, 0, nil)
}

// LoadAt returns the aggregate's state after exactly version events. It
// returns an error matching [ErrNotFound] if the aggregate does not have that
// many.
func (r *Repository[A]) LoadAt(ctx context.Context, id string, version int64) (A, error) {
	if version < 1 {
		var zero A
		return zero, invalidf(ErrInvalidVersion, "version %d", version)
	}
	return r.load(ctx, id, version, nil)
}

// LoadAsOf returns the aggregate's state as of time t: after its events up
// to the first one recorded after t. It returns an error matching
// [ErrNotFound] if the aggregate had no events by then.
func (r *Repository[A]) LoadAsOf(ctx context.Context, id string, t time.Time) (A, error) {
	t = Timestamp(t)
	return r.load(ctx, id, 0, &t)
}

// maxSnapshotProbes bounds how many older snapshots a temporal load tries
// before it falls back to full replay.
const maxSnapshotProbes = 8

// load loads the aggregate after at most maxVersion events (0: no limit) and
// with no event recorded after *asOf (nil: no limit).
func (r *Repository[A]) load(ctx context.Context, id string, maxVersion int64, asOf *time.Time) (A, error) {
	stream := r.Stream(id)
	a := r.New(id)
	from := int64(1)
	if snap, ok := r.loadSnapshot(ctx, stream, maxVersion, asOf); ok {
		restored := r.New(id)
		if err := r.restore(restored, snap); err != nil {
			r.onSnap(stream, err)
		} else {
			a, from = restored, snap.Version+1
		}
	}
	if maxVersion == 0 || from <= maxVersion {
		for rec, err := range r.store.ReadStream(ctx, stream, from, maxVersion) {
			if err != nil {
				var zero A
				return zero, err
			}
			if asOf != nil && rec.Time.After(*asOf) {
				break
			}
			data, err := r.reg.Decode(rec)
			if err != nil {
				var zero A
				return zero, err
			}
			apply(a, Envelope{ID: rec.ID, Type: rec.Type, Version: rec.Version, Time: rec.Time, Metadata: rec.Metadata, Data: data})
		}
	}
	root := a.root()
	if root.version == 0 || (maxVersion > 0 && root.version < maxVersion) {
		var zero A
		switch {
		case maxVersion > 0:
			return zero, fmt.Errorf("%w: %s has no version %d", ErrNotFound, stream, maxVersion)
		case asOf != nil:
			return zero, fmt.Errorf("%w: %s had no events by %s", ErrNotFound, stream, asOf.Format(time.RFC3339Nano))
		}
		return zero, fmt.Errorf("%w: %s", ErrNotFound, stream)
	}
	root.stored = root.version
	return a, nil
}

// loadSnapshot finds the latest usable snapshot for a load: at or before
// maxVersion, taken no later than asOf, of this aggregate type and of a
// schema that is current or can be upcast to it.
func (r *Repository[A]) loadSnapshot(ctx context.Context, stream string, maxVersion int64, asOf *time.Time) (Snapshot, bool) {
	if r.snaps == nil {
		return Snapshot{}, false
	}
	for range maxSnapshotProbes {
		s, err := r.snaps.LoadSnapshot(ctx, stream, maxVersion)
		if err != nil {
			if !errors.Is(err, ErrNotFound) {
				r.onSnap(stream, err)
			}
			return Snapshot{}, false
		}
		if asOf == nil || !s.Time.After(*asOf) {
			if s.Type != r.typ {
				return Snapshot{}, false
			}
			s, ok := r.reg.UpcastSnapshot(s, r.reg.SnapshotSchema(r.typ))
			return s, ok
		}
		if s.Version <= 1 {
			return Snapshot{}, false
		}
		maxVersion = s.Version - 1
	}
	return Snapshot{}, false
}

// snapshotBody is how a repository lays out a snapshot's state: the
// aggregate's own state beside what its Root needs back.
type snapshotBody struct {
	Created time.Time       `json:"created"`
	State   json.RawMessage `json:"state"`
}

func (r *Repository[A]) restore(a A, s Snapshot) error {
	sn, ok := any(a).(Snapshotter)
	if !ok {
		return fmt.Errorf("es: %T does not implement Snapshotter", a)
	}
	var body snapshotBody
	if err := json.Unmarshal(s.State, &body); err != nil {
		return fmt.Errorf("es: snapshot of %s v%d: %w", s.Stream, s.Version, err)
	}
	if err := sn.UnmarshalSnapshot(body.State); err != nil {
		return fmt.Errorf("es: snapshot of %s v%d: %w", s.Stream, s.Version, err)
	}
	root := a.root()
	root.version, root.stored = s.Version, s.Version
	root.created, root.modified = body.Created, s.Time
	root.snapVersion, root.snapTime = s.Version, s.Time
	return nil
}

// Save stores the aggregate's pending events, expecting its stream to be at
// the version it was loaded at (or not to exist, for a new aggregate). It
// returns the stored records. On a conflict it stores nothing, returns an
// error matching [ErrConcurrency] and leaves the aggregate as it was: load it
// again to retry. Metadata carried by ctx ([WithMetadata]) is stored on every
// event.
//
// After a successful save it takes a snapshot if the strategy says so; a
// snapshot that fails is reported to the [WithSnapshotErrors] function and
// never fails the save.
func (r *Repository[A]) Save(ctx context.Context, a A) ([]Record, error) {
	root := a.root()
	if len(root.pending) == 0 {
		return nil, nil
	}
	meta := MetadataFrom(ctx)
	events := make([]Event, len(root.pending))
	for i, e := range root.pending {
		ev, err := r.reg.Encode(e.Data)
		if err != nil {
			return nil, err
		}
		ev.ID, ev.Time, ev.Metadata = e.ID, e.Time, meta
		events[i] = ev
	}
	commitIDs := func() {}
	if d, ok := ctx.Value(derivedIDsKey{}).(*derivedIDs); ok {
		var ids []uuid.UUID
		ids, commitIDs = d.next(len(events))
		for i := range events {
			events[i].ID = ids[i]
		}
	}
	expected := NoStream
	if root.stored > 0 {
		expected = Exact(root.stored)
	}
	stream := r.Stream(root.id)
	recs, err := r.store.Append(ctx, stream, expected, events)
	if err != nil {
		return nil, err
	}
	commitIDs()
	root.stored = recs[len(recs)-1].Version
	root.pending = nil
	r.maybeSnapshot(ctx, a, stream)
	return recs, nil
}

func (r *Repository[A]) maybeSnapshot(ctx context.Context, a A, stream string) {
	if r.snaps == nil {
		return
	}
	root := a.root()
	last := root.snapTime
	if last.IsZero() {
		last = root.created
	}
	st := SnapshotState{Version: root.version, EventsSince: root.version - root.snapVersion, LastSnapshot: last, Now: r.now()}
	if !r.strategy.ShouldSnapshot(st) {
		return
	}
	sn, ok := any(a).(Snapshotter)
	if !ok {
		r.onSnap(stream, fmt.Errorf("es: %T does not implement Snapshotter", a))
		return
	}
	state, err := sn.MarshalSnapshot()
	if err == nil {
		state, err = json.Marshal(snapshotBody{Created: root.created, State: state})
	}
	if err == nil {
		err = r.snaps.SaveSnapshot(ctx, Snapshot{
			Stream: stream, Version: root.version, Type: r.typ,
			Schema: r.reg.SnapshotSchema(r.typ), State: state, Time: root.modified,
		})
	}
	if err != nil {
		r.onSnap(stream, err)
		return
	}
	root.snapVersion, root.snapTime = root.version, root.modified
}

// Update loads the aggregate, runs fn on it and saves the events fn raised.
// If the save meets a concurrency conflict, it loads the aggregate again and
// runs fn again, up to the [WithRetries] limit, with a short random pause
// between tries so that racing writers spread out. fn must therefore depend
// only on the aggregate it is given. An error from fn is returned as it is,
// and nothing is saved. With [WithTurns], updates of one aggregate through
// the repository take turns, and a context that ends while waiting for the
// turn ends the wait.
func (r *Repository[A]) Update(ctx context.Context, id string, fn func(A) error) (A, error) {
	if r.turns {
		unlock, err := r.locks.lock(ctx, id)
		if err != nil {
			var zero A
			return zero, err
		}
		defer unlock()
	}
	for attempt := 0; ; attempt++ {
		a, err := r.Load(ctx, id)
		if err != nil {
			return a, err
		}
		if err := fn(a); err != nil {
			return a, err
		}
		_, err = r.Save(ctx, a)
		if err == nil || !errors.Is(err, ErrConcurrency) || attempt >= r.retries {
			return a, err
		}
		// Back off by a random fraction of a growing window.
		pause := time.Duration(rand.Int64N(int64(time.Millisecond) << min(attempt, 6)))
		select {
		case <-ctx.Done():
			return a, ctx.Err()
		case <-time.After(pause):
		}
	}
}

// Package memstore is an in-memory event store and snapshot store.
//
// A [Store] keeps every event and every snapshot in memory and loses them when
// it is garbage collected. It gives every guarantee of the es contracts
// (atomic, version-checked, idempotent appends; a gap-free global log in
// commit order; live subscriptions), is safe for concurrent use, and is fast:
// it is the fake that higher layers test with.
//
// Appends take a mutex; reads take it only long enough to copy a slice
// header, then yield without it, so a caller may append to the store from
// inside a loop over a read. Stored records are never changed: appends copy
// the caller's data and metadata, and only ever add to the end of a slice
// whose earlier elements stay as they were.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"maps"
	"slices"
	"sync"

	"github.com/jerry-es/jerry/es"
)

var (
	_ es.EventStore    = (*Store)(nil)
	_ es.LogReader     = (*Store)(nil)
	_ es.Subscriber    = (*Store)(nil)
	_ es.SnapshotStore = (*Store)(nil)
)

// Store is an in-memory event store and snapshot store. Create one with
// [New]; it is safe for concurrent use.
type Store struct {
	mu      sync.RWMutex
	log     []*es.Record            // position p is log[p-1]
	streams map[string][]*es.Record // version v is streams[id][v-1]
	snaps   map[string][]es.Snapshot
	wake    es.Signal
}

// New returns an empty store.
func New() *Store {
	return &Store{
		streams: make(map[string][]*es.Record),
		snaps:   make(map[string][]es.Snapshot),
	}
}

// Append implements es.EventStore.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	recs, err := es.Prepare(stream, expected, events)
	if err != nil {
		return nil, err
	}
	// Copy the caller's data before taking the lock: stored records must
	// not change if the caller reuses its buffers.
	own(recs)

	s.mu.Lock()
	stored := s.streams[stream]
	current := int64(len(stored))
	prior, dup, err := es.CheckAppend(stream, expected, current, recs, func(from, to int64) ([]es.Record, error) {
		window := make([]es.Record, 0, to-from+1)
		for _, r := range stored[from-1 : to] {
			window = append(window, *r)
		}
		return window, nil
	})
	if dup || err != nil {
		s.mu.Unlock()
		return prior, err
	}
	// One allocation for the whole batch: the records live in it, and the
	// stream and the log point into it.
	batch := make([]es.Record, len(recs))
	pos := int64(len(s.log))
	for i := range recs {
		r := &batch[i]
		*r = recs[i]
		r.Version = current + int64(i) + 1
		r.Position = pos + int64(i) + 1
		stored = append(stored, r)
		s.log = append(s.log, r)
		recs[i] = *r
	}
	s.streams[stream] = stored
	s.mu.Unlock()
	s.wake.Notify()
	return recs, nil
}

// own makes recs independent of the caller's buffers: data is copied into
// one shared buffer and extra metadata maps are cloned.
func own(recs []es.Record) {
	n := 0
	for _, r := range recs {
		n += len(r.Data)
	}
	buf := make([]byte, 0, n)
	for i := range recs {
		r := &recs[i]
		start := len(buf)
		buf = append(buf, r.Data...)
		r.Data = buf[start:len(buf):len(buf)]
		if r.Metadata.Extra != nil {
			r.Metadata.Extra = maps.Clone(r.Metadata.Extra)
		}
	}
}

// ReadStream implements es.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidateRead(stream, from, to); err != nil {
			yield(es.Record{}, err)
			return
		}
		s.mu.RLock()
		recs := s.streams[stream]
		s.mu.RUnlock()
		end := int64(len(recs))
		if to > 0 && to < end {
			end = to
		}
		for i := from - 1; i < end; i++ {
			if err := ctx.Err(); err != nil {
				yield(es.Record{}, err)
				return
			}
			if !yield(*recs[i], nil) {
				return
			}
		}
	}
}

// StreamVersion implements es.EventStore.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := es.ValidateStreamID(stream); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int64(len(s.streams[stream])), nil
}

// ReadLog implements es.LogReader.
func (s *Store) ReadLog(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidatePosition(from); err != nil {
			yield(es.Record{}, err)
			return
		}
		s.mu.RLock()
		log := s.log
		s.mu.RUnlock()
		for i := from - 1; i < int64(len(log)); i++ {
			if err := ctx.Err(); err != nil {
				yield(es.Record{}, err)
				return
			}
			if !yield(*log[i], nil) {
				return
			}
		}
	}
}

// LastPosition implements es.LogReader.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	return int64(len(s.log)), nil
}

// Subscribe implements es.Subscriber. Every commit wakes the subscribers,
// so they never poll.
func (s *Store) Subscribe(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return es.Follow(ctx, s, from, &s.wake, 0)
}

// SaveSnapshot implements es.SnapshotStore. The store keeps every snapshot
// of a stream, so that loads at an earlier version can start from one.
func (s *Store) SaveSnapshot(ctx context.Context, snap es.Snapshot) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := es.ValidateSnapshot(snap); err != nil {
		return err
	}
	snap.State = slices.Clone(snap.State)
	snap.Time = es.Timestamp(snap.Time)
	s.mu.Lock()
	defer s.mu.Unlock()
	list := s.snaps[snap.Stream]
	i, found := slices.BinarySearchFunc(list, snap.Version, func(x es.Snapshot, v int64) int {
		return cmp.Compare(x.Version, v)
	})
	if found {
		// Replace in a new slice: a reader may hold the old one.
		list = slices.Clone(list)
		list[i] = snap
	} else {
		list = slices.Insert(slices.Clip(list), i, snap)
	}
	s.snaps[snap.Stream] = list
	return nil
}

// LoadSnapshot implements es.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, stream string, maxVersion int64) (es.Snapshot, error) {
	if err := ctx.Err(); err != nil {
		return es.Snapshot{}, err
	}
	if err := es.ValidateLoadSnapshot(stream, maxVersion); err != nil {
		return es.Snapshot{}, err
	}
	s.mu.RLock()
	list := s.snaps[stream]
	s.mu.RUnlock()
	i := len(list)
	if maxVersion > 0 {
		// The first snapshot above maxVersion (maxVersion+1 could overflow).
		i, _ = slices.BinarySearchFunc(list, maxVersion, func(x es.Snapshot, v int64) int {
			if x.Version <= v {
				return -1
			}
			return 1
		})
	}
	if i == 0 {
		return es.Snapshot{}, fmt.Errorf("%w: no snapshot of %q at or below version %d", es.ErrNotFound, stream, maxVersion)
	}
	snap := list[i-1]
	snap.State = slices.Clone(snap.State)
	return snap, nil
}

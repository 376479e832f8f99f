package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
)

// SaveSnapshot implements es.SnapshotStore.
func (s *Store) SaveSnapshot(ctx context.Context, snap es.Snapshot) error {
	if err := es.ValidateSnapshot(snap); err != nil {
		return err
	}
	if err := checkTime(es.Timestamp(snap.Time)); err != nil {
		return fmt.Errorf("%w: snapshot of stream %q: %v", es.ErrInvalidInput, snap.Stream, err)
	}
	if s.closed() {
		return es.ErrClosed
	}
	ctx, done := s.opCtx(ctx)
	defer done()
	_, err := s.pool.Exec(ctx, s.sql.saveSnapshot, snap.Stream, snap.Version, snap.Type,
		int32(snap.Schema), []byte(snap.State), es.Timestamp(snap.Time))
	if err != nil {
		return s.wrap(ctx, "save snapshot", err)
	}
	return nil
}

// LoadSnapshot implements es.SnapshotStore.
func (s *Store) LoadSnapshot(ctx context.Context, stream string, maxVersion int64) (es.Snapshot, error) {
	if err := es.ValidateLoadSnapshot(stream, maxVersion); err != nil {
		return es.Snapshot{}, err
	}
	if s.closed() {
		return es.Snapshot{}, es.ErrClosed
	}
	ctx, done := s.opCtx(ctx)
	defer done()
	if maxVersion == 0 {
		maxVersion = math.MaxInt64
	}
	snap := es.Snapshot{Stream: stream}
	var schema int32
	var state []byte
	err := s.pool.QueryRow(ctx, s.sql.loadSnap, stream, maxVersion).Scan(&snap.Version, &snap.Type, &schema, &state, &snap.Time)
	if errors.Is(err, pgx.ErrNoRows) {
		return es.Snapshot{}, fmt.Errorf("%w: no snapshot of stream %q at or below version %d", es.ErrNotFound, stream, maxVersion)
	}
	if err != nil {
		return es.Snapshot{}, s.wrap(ctx, "load snapshot", err)
	}
	snap.Schema = int(schema)
	snap.State = state
	snap.Time = snap.Time.UTC()
	return snap, nil
}

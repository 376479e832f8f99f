package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jerry-es/jerry/es"
)

// Kinds of expected version, as the append statements take them.
const (
	kindExact  = 1
	kindExists = 2
	kindAny    = 3
)

func expectKind(e es.ExpectedVersion) (kind int32, v int64) {
	if v, ok := e.Version(); ok {
		return kindExact, v
	}
	if e.Check("", 0) == nil {
		return kindAny, 0
	}
	return kindExists, 0
}

// maxRaces bounds how often an append with no exact expected version is
// retried after losing a race for its stream's next version. Every lost race
// means another append to the stream committed, so the bound is only a guard.
const maxRaces = 100

// Append implements es.EventStore. It is one statement in one round trip:
// the version check, the positions and the insert commit together. The
// NOTIFY that wakes other processes' subscriptions follows the commit.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	recs, err := es.Prepare(stream, expected, events)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if err := checkTime(recs[i].Time); err != nil {
			return nil, fmt.Errorf("%w: event %d (%s): %v", es.ErrInvalidInput, i, recs[i].Type, err)
		}
	}
	if s.closed() {
		return nil, es.ErrClosed
	}
	ctx, done := s.opCtx(ctx)
	defer done()
	kind, want := expectKind(expected)
	for race := 0; ; race++ {
		current, first, err := s.appendGrouped(ctx, stream, kind, want, recs)
		var pgErr *pgconn.PgError
		switch {
		case err == nil && first > 0:
			for i := range recs {
				recs[i].Version = current + int64(i) + 1
				recs[i].Position = first + int64(i)
			}
			s.signal.Notify()
			s.hint(recs[len(recs)-1].Position)
			return recs, nil
		case err == nil:
			// The check failed: nothing was written.
			return s.resolve(ctx, stream, expected, recs, current, nil)
		case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_stream_version":
			// Another append took the version first; its commit is visible
			// now, so a fresh look decides.
			if kind == kindExact || race >= maxRaces {
				return s.resolve(ctx, stream, expected, recs, -1, nil)
			}
		case errors.As(err, &pgErr) && pgErr.Code == "40001":
			// Under repeatable read or serializable (a
			// default_transaction_isolation of the database, role or
			// connection string) an append that waited for head while
			// another committed fails with a serialization failure. It
			// stored nothing: run it again.
			if race >= maxRaces {
				return nil, s.wrap(ctx, "append", err)
			}
		case errors.As(err, &pgErr) && pgErr.Code == "23505" && pgErr.ConstraintName == "events_id":
			return s.resolve(ctx, stream, expected, recs, -1, errDuplicateID)
		default:
			return nil, s.wrap(ctx, "append", err)
		}
	}
}

// PostgreSQL's timestamptz holds 4714-11-24 BC to 294276 AD. pgx computes
// the microseconds of a time.Time with no overflow check, so a time far
// outside that range can wrap around into it and be stored as another time:
// such times are refused before they reach the driver.
var (
	minTime = time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC)
	endTime = time.Date(294277, 1, 1, 0, 0, 0, 0, time.UTC)
)

// checkTime returns an error unless PostgreSQL can store t exactly.
func checkTime(t time.Time) error {
	if t.Before(minTime) || !t.Before(endTime) {
		return fmt.Errorf("time %v is outside PostgreSQL's range", t)
	}
	return nil
}

// pgUUID passes an event ID as a parameter in a form pgx encodes in every
// query mode: a bare [16]byte has no text encoding, so the simple protocol
// and QueryExecModeExec (as used behind PgBouncer) could not send it.
func pgUUID(id [16]byte) pgtype.UUID { return pgtype.UUID{Bytes: id, Valid: true} }

// errDuplicateID marks a resolve caused by an event ID that is already stored.
var errDuplicateID = errors.New("event ID already stored")

// tryAppend runs the append statement once, on its own. It returns the
// stream's version as the check saw it and the first position written, 0 if
// the check failed.
func (s *Store) tryAppend(ctx context.Context, stream string, kind int32, want int64, recs []es.Record) (current, first int64, err error) {
	sql, args, err := s.appendArgs(stream, kind, want, recs)
	if err != nil {
		return 0, 0, err
	}
	var base *int64
	if err := s.pool.QueryRow(ctx, sql, args...).Scan(&current, &base); err != nil {
		return 0, 0, err
	}
	if base == nil {
		return current, 0, nil
	}
	return current, *base, nil
}

// appendArgs returns the append statement for recs and its arguments.
func (s *Store) appendArgs(stream string, kind int32, want int64, recs []es.Record) (string, []any, error) {
	if len(recs) == 1 {
		r := &recs[0]
		extra, err := encodeExtra(r.Metadata.Extra)
		if err != nil {
			return "", nil, err
		}
		return s.sql.appendOne, []any{stream, kind, want,
			r.Type, int32(r.Schema), []byte(r.Data), r.Metadata.Actor, r.Metadata.CorrelationID,
			r.Metadata.CausationID, extra, r.Time, pgUUID(r.ID)}, nil
	}
	n := len(recs)
	var (
		types  = make([]string, n)
		schema = make([]int32, n)
		data   = make([][]byte, n)
		actor  = make([]string, n)
		corr   = make([]string, n)
		caus   = make([]string, n)
		extra  = make([][]byte, n)
		times  = make([]time.Time, n)
		ids    = make([]pgtype.UUID, n)
	)
	for i := range recs {
		r := &recs[i]
		types[i], schema[i], data[i] = r.Type, int32(r.Schema), r.Data
		actor[i], corr[i], caus[i] = r.Metadata.Actor, r.Metadata.CorrelationID, r.Metadata.CausationID
		var err error
		if extra[i], err = encodeExtra(r.Metadata.Extra); err != nil {
			return "", nil, err
		}
		times[i], ids[i] = r.Time, pgUUID(r.ID)
	}
	return s.sql.appendMany, []any{stream, kind, want,
		types, schema, data, actor, corr, caus, extra, times, ids}, nil
}

// resolve decides a failed append with es.CheckAppend: a retry of an append already stored returns the stored
// records, anything else is a conflict or an overlap. current is the stream
// version the append saw, or -1 to read it afresh.
func (s *Store) resolve(ctx context.Context, stream string, expected es.ExpectedVersion, recs []es.Record, current int64, cause error) ([]es.Record, error) {
	if current < 0 {
		var err error
		if current, err = s.StreamVersion(ctx, stream); err != nil {
			return nil, err
		}
	}
	stored, dup, checkErr := es.CheckAppend(stream, expected, current, recs, func(from, to int64) ([]es.Record, error) {
		return es.Collect(s.ReadStream(ctx, stream, from, to))
	})
	switch {
	case dup:
		return stored, nil
	case checkErr != nil && !errors.Is(checkErr, es.ErrConcurrency):
		return nil, checkErr
	}
	if cause == errDuplicateID {
		// An event ID of this append is stored, but not as this append's
		// own earlier success: say where.
		for _, r := range recs {
			var where string
			var version int64
			err := s.pool.QueryRow(ctx, s.sql.findEventID, pgUUID(r.ID)).Scan(&where, &version)
			if err == nil {
				return nil, fmt.Errorf("%w: event %s is already stored in stream %q at version %d",
					es.ErrPartialDuplicate, r.ID, where, version)
			}
		}
		return nil, fmt.Errorf("%w: an event ID of the append is already stored", es.ErrPartialDuplicate)
	}
	if checkErr == nil {
		// Only an append with no exact expected version that lost every
		// race gets here.
		return nil, fmt.Errorf("postgres: append to stream %q lost %d races in a row", stream, maxRaces)
	}
	return nil, checkErr
}

func encodeExtra(m map[string]string) ([]byte, error) {
	if len(m) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("postgres: encode metadata: %w", err)
	}
	return b, nil
}

// wrap turns a failure of the database into the store's error: es.ErrClosed
// once the store is closed, the context's error if the failure came from its
// end, else the error with what failed.
func (s *Store) wrap(ctx context.Context, op string, err error) error {
	if s.closed() {
		return es.ErrClosed
	}
	if ctxErr := cancelled(ctx, err); ctxErr != nil {
		return ctxErr
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}

// cancelled returns ctx's error if err came from ctx's end: the context's own
// error, or the server's query_canceled (57014) answering the cancel request
// that pgx sends when ctx ends during a statement. Otherwise it returns nil.
func cancelled(ctx context.Context, err error) error {
	ctxErr := ctx.Err()
	if ctxErr == nil || err == nil {
		return nil
	}
	var pgErr *pgconn.PgError
	if errors.Is(err, ctxErr) || errors.As(err, &pgErr) && pgErr.Code == "57014" {
		return ctxErr
	}
	return nil
}

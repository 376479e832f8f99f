package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"

	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
)

// Reads fetch records in pages and hold no connection while the caller
// handles them, so that a caller may append (or read) from inside the loop
// without starving the pool. Pages start small, so that a short read costs
// little, and grow to maxPage, which bounds the memory a read holds.
const (
	firstPage = 256
	maxPage   = 8192
)

// ReadStream implements es.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidateStreamID(stream); err != nil {
			yield(es.Record{}, err)
			return
		}
		if err := es.ValidateRange(from, to); err != nil {
			yield(es.Record{}, err)
			return
		}
		if to == 0 {
			to = math.MaxInt64
		}
		if from > to {
			return
		}
		s.pages(ctx, "read stream", yield, func(page int) (pgx.Rows, error) {
			return s.pool.Query(ctx, s.sql.readStream, stream, from, to, page)
		}, func(r es.Record) { from = r.Version + 1 })
	}
}

// ReadLog implements es.LogReader. Positions are gap-free and in commit order
// (see the package documentation), so every page simply continues after the
// last position read.
func (s *Store) ReadLog(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if from < 1 {
			yield(es.Record{}, fmt.Errorf("%w: position %d", es.ErrInvalidVersion, from))
			return
		}
		s.pages(ctx, "read log", yield, func(page int) (pgx.Rows, error) {
			return s.pool.Query(ctx, s.sql.readLog, from, page)
		}, func(r es.Record) { from = r.Position + 1 })
	}
}

// pages runs query for successive pages, decoding each whole page and
// releasing its connection before yielding its records; advance records the
// last record yielded so that query continues after it.
func (s *Store) pages(ctx context.Context, op string, yield func(es.Record, error) bool,
	query func(page int) (pgx.Rows, error), advance func(es.Record)) {
	page := firstPage
	var buf []es.Record
	for {
		if s.closed() {
			yield(es.Record{}, es.ErrClosed)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(es.Record{}, err)
			return
		}
		rows, err := query(page)
		if err != nil {
			yield(es.Record{}, s.readErr(ctx, op, err))
			return
		}
		buf, err = scanRecords(rows, buf[:0])
		if err != nil {
			yield(es.Record{}, s.readErr(ctx, op, err))
			return
		}
		for _, r := range buf {
			if err := ctx.Err(); err != nil {
				yield(es.Record{}, err)
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if len(buf) < page {
			return
		}
		advance(buf[len(buf)-1])
		page = min(page*4, maxPage)
	}
}

func (s *Store) readErr(ctx context.Context, op string, err error) error {
	if ctxErr := ctx.Err(); ctxErr != nil && errors.Is(err, ctxErr) {
		return ctxErr
	}
	return s.wrap(op, err)
}

// scanRecords appends the records of rows, in the column order of
// recordColumns, to buf, and closes rows.
func scanRecords(rows pgx.Rows, buf []es.Record) ([]es.Record, error) {
	defer rows.Close()
	var (
		r      es.Record
		schema int32
		data   []byte
		extra  []byte
		id     [16]byte
	)
	dest := []any{&r.Position, &r.Stream, &r.Version, &r.Type, &schema, &data,
		&r.Metadata.Actor, &r.Metadata.CorrelationID, &r.Metadata.CausationID, &extra, &r.Time, &id}
	for rows.Next() {
		r.Metadata.Extra = nil
		data, extra = nil, nil
		if err := rows.Scan(dest...); err != nil {
			return buf, err
		}
		r.Schema = int(schema)
		r.Data = data
		r.ID = id
		r.Time = r.Time.UTC()
		if extra != nil {
			if err := json.Unmarshal(extra, &r.Metadata.Extra); err != nil {
				return buf, &es.CorruptError{Path: "events", Offset: r.Position,
					Err: fmt.Errorf("metadata of stream %q version %d: %w", r.Stream, r.Version, err)}
			}
		}
		buf = append(buf, r)
	}
	return buf, rows.Err()
}

// StreamVersion implements es.EventStore.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := es.ValidateStreamID(stream); err != nil {
		return 0, err
	}
	if s.closed() {
		return 0, es.ErrClosed
	}
	var v int64
	if err := s.pool.QueryRow(ctx, s.sql.streamVersion, stream).Scan(&v); err != nil {
		return 0, s.readErr(ctx, "stream version", err)
	}
	return v, nil
}

// LastPosition implements es.LogReader.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	if s.closed() {
		return 0, es.ErrClosed
	}
	var p int64
	if err := s.pool.QueryRow(ctx, s.sql.lastPosition).Scan(&p); err != nil {
		return 0, s.readErr(ctx, "last position", err)
	}
	return p, nil
}

// Subscribe implements es.Subscriber with [es.Follow]: it reads the log, and
// once caught up waits for a NOTIFY from any process appending to this
// schema, an append by this Store, the safety poll, or the end of ctx. It
// ends with [es.ErrClosed] when the store is closed.
func (s *Store) Subscribe(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return es.Follow(ctx, s, from, &s.signal, s.poll)
}

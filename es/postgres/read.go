package postgres

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"iter"
	"math"
	"time"

	"github.com/google/uuid"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"github.com/jerry-es/jerry/es"
)

// Reads fetch records in pages and hold no connection while the caller
// handles them, so that a caller may append (or read) from inside the loop
// without starving the pool. Pages start small, so that a short read costs
// little, and grow to maxPage; a read holds at most two pages in memory.
const (
	firstPage = 256
	maxPage   = 8192
	// maxPageBytes bounds the pages after the first by size too: the
	// next page holds as many rows as fit, at the size of the rows of the
	// page before. Without it, 8,192 rows of es.MaxEventSize would be 8 GB.
	maxPageBytes = 8 << 20
)

// pageLimit returns the row limit of the page after one of limit rows that
// returned recs.
func pageLimit(limit int, recs []es.Record) int {
	next := min(limit*4, maxPage)
	size := 0
	for i := range recs {
		r := &recs[i]
		size += 64 + len(r.Data) + len(r.Stream) + len(r.Type) + len(r.Metadata.Actor) +
			len(r.Metadata.CorrelationID) + len(r.Metadata.CausationID)
	}
	if size > 0 {
		next = min(next, max(1, int(int64(maxPageBytes)*int64(len(recs))/int64(size))))
	}
	return next
}

// ReadStream implements es.EventStore.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidateRead(stream, from, to); err != nil {
			yield(es.Record{}, err)
			return
		}
		if to == 0 {
			to = math.MaxInt64
		}
		if from > to {
			return
		}
		s.pages(ctx, "read stream", yield, from, func(ctx context.Context, from int64, limit int) (pgx.Rows, error) {
			return s.pool.Query(ctx, s.sql.readStream, stream, from, to, limit)
		}, func(r *es.Record) int64 { return r.Version })
	}
}

// ReadLog implements es.LogReader. Positions are gap-free and in commit order
// (see the package documentation), so every page simply continues after the
// last position read.
func (s *Store) ReadLog(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidatePosition(from); err != nil {
			yield(es.Record{}, err)
			return
		}
		s.pages(ctx, "read log", yield, from, func(ctx context.Context, from int64, limit int) (pgx.Rows, error) {
			return s.pool.Query(ctx, s.sql.readLog, from, limit)
		}, func(r *es.Record) int64 { return r.Position })
	}
}

// pages yields the records of successive pages of a query: query returns
// up to limit rows from cursor from on, and key gives the cursor of a record.
// Each page is fetched and decoded whole, and its connection released, before
// its records are yielded; while they are, the next page is fetched in the
// background, so that the server produces rows while the caller consumes.
func (s *Store) pages(ctx context.Context, op string, yield func(es.Record, error) bool, from int64,
	query func(ctx context.Context, from int64, limit int) (pgx.Rows, error), key func(*es.Record) int64) {
	if err := ctx.Err(); err != nil {
		yield(es.Record{}, err)
		return
	}
	type result struct {
		recs []es.Record
		err  error
	}
	fetch := func(ctx context.Context, from int64, limit int, buf []es.Record) result {
		if s.closed() {
			return result{err: es.ErrClosed}
		}
		rows, err := query(ctx, from, limit)
		if err == nil {
			if cap(buf) < limit {
				buf = make([]es.Record, 0, limit)
			}
			buf, err = scanRecords(rows, buf[:0])
		}
		if err != nil {
			return result{err: s.wrap(ctx, op, err)}
		}
		return result{recs: buf}
	}
	fctx, cancel := s.opCtx(ctx)
	var pending chan result
	defer func() {
		// On an early break, stop the fetch in flight and wait for it.
		cancel()
		if pending != nil {
			<-pending
		}
	}()
	limit := firstPage
	var spare []es.Record
	cur := fetch(fctx, from, limit, nil)
	for {
		if cur.err != nil {
			yield(es.Record{}, cur.err)
			return
		}
		more := len(cur.recs) == limit
		if more {
			next, nextLimit, buf := key(&cur.recs[len(cur.recs)-1])+1, pageLimit(limit, cur.recs), spare
			clear(buf) // let the records already yielded go
			pending = make(chan result, 1)
			go func() { pending <- fetch(fctx, next, nextLimit, buf) }()
			limit = nextLimit
		}
		for i := range cur.recs {
			if err := ctx.Err(); err != nil {
				yield(es.Record{}, err)
				return
			}
			if !yield(cur.recs[i], nil) {
				return
			}
		}
		if !more {
			return
		}
		spare = cur.recs
		cur = <-pending
		pending = nil
	}
}

// scanRecords appends the records of rows, in the column order of
// recordColumns, to buf, and closes rows. It decodes PostgreSQL's binary
// format itself, which costs a fraction of pgx's general Scan; it falls back
// to Scan if the server sent any column other than text in text format.
// Strings that repeat from row to row (the stream, types, actors) are shared
// rather than allocated again for every record.
func scanRecords(rows pgx.Rows, buf []es.Record) ([]es.Record, error) {
	defer rows.Close()
	binary := true
	for _, f := range rows.FieldDescriptions() {
		// Text is the same bytes in either format.
		binary = binary && (f.Format == pgx.BinaryFormatCode || f.DataTypeOID == pgtype.TextOID)
	}
	var in interner
	for rows.Next() {
		buf = append(buf, es.Record{})
		r := &buf[len(buf)-1]
		var err error
		if binary {
			err = decodeRecord(rows.RawValues(), r, &in)
		} else {
			err = scanRecord(rows, r)
		}
		if err != nil {
			return buf[:len(buf)-1], err
		}
	}
	return buf, rows.Err()
}

// pgEpoch is the zero of PostgreSQL's binary timestamps.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()

// decodeRecord decodes one row of recordColumns in binary format.
func decodeRecord(v [][]byte, r *es.Record, in *interner) error {
	if len(v) != 12 {
		return fmt.Errorf("decode record: %d columns", len(v))
	}
	bad := func(col string) error {
		return &es.CorruptError{Path: "events", Offset: r.Position, Err: fmt.Errorf("column %s: bad binary value", col)}
	}
	if len(v[0]) != 8 || len(v[2]) != 8 || len(v[4]) != 4 || len(v[10]) != 8 || len(v[11]) != 16 || v[5] == nil {
		return bad("position, version, schema, data, time or id")
	}
	r.Position = int64(binary.BigEndian.Uint64(v[0]))
	r.Stream = in.intern(v[1])
	r.Version = int64(binary.BigEndian.Uint64(v[2]))
	r.Type = in.intern(v[3])
	r.Schema = int(int32(binary.BigEndian.Uint32(v[4])))
	r.Data = bytes.Clone(v[5])
	r.Metadata.Actor = in.intern(v[6])
	r.Metadata.CorrelationID = string(v[7])
	r.Metadata.CausationID = string(v[8])
	if v[9] != nil {
		if err := json.Unmarshal(v[9], &r.Metadata.Extra); err != nil {
			return &es.CorruptError{Path: "events", Offset: r.Position,
				Err: fmt.Errorf("metadata of stream %q version %d: %w", r.Stream, r.Version, err)}
		}
	}
	us := int64(binary.BigEndian.Uint64(v[10]))
	if us == math.MaxInt64 || us == math.MinInt64 {
		return bad("time")
	}
	r.Time = time.Unix(pgEpoch+us/1e6, (us%1e6)*1e3).UTC()
	r.ID = uuid.UUID(v[11])
	return nil
}

// scanRecord reads one row of recordColumns with pgx's Scan.
func scanRecord(rows pgx.Rows, r *es.Record) error {
	var (
		schema int32
		data   []byte
		extra  []byte
		id     [16]byte
	)
	if err := rows.Scan(&r.Position, &r.Stream, &r.Version, &r.Type, &schema, &data,
		&r.Metadata.Actor, &r.Metadata.CorrelationID, &r.Metadata.CausationID, &extra, &r.Time, &id); err != nil {
		return err
	}
	r.Schema, r.Data, r.ID, r.Time = int(schema), data, id, r.Time.UTC()
	if extra != nil {
		if err := json.Unmarshal(extra, &r.Metadata.Extra); err != nil {
			return &es.CorruptError{Path: "events", Offset: r.Position,
				Err: fmt.Errorf("metadata of stream %q version %d: %w", r.Stream, r.Version, err)}
		}
	}
	return nil
}

// interner shares the strings of one page that repeat.
type interner struct {
	last []string // the most recent strings, searched from newest
}

func (in *interner) intern(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	for i := len(in.last) - 1; i >= 0; i-- {
		if in.last[i] == string(b) {
			return in.last[i]
		}
	}
	s := string(b)
	if len(in.last) == 8 {
		copy(in.last, in.last[1:])
		in.last = in.last[:7]
	}
	in.last = append(in.last, s)
	return s
}

// StreamVersion implements es.EventStore.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := es.ValidateStreamID(stream); err != nil {
		return 0, err
	}
	if s.closed() {
		return 0, es.ErrClosed
	}
	ctx, done := s.opCtx(ctx)
	defer done()
	var v int64
	if err := s.pool.QueryRow(ctx, s.sql.streamVersion, stream).Scan(&v); err != nil {
		return 0, s.wrap(ctx, "stream version", err)
	}
	return v, nil
}

// LastPosition implements es.LogReader.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	if s.closed() {
		return 0, es.ErrClosed
	}
	ctx, done := s.opCtx(ctx)
	defer done()
	var p int64
	if err := s.pool.QueryRow(ctx, s.sql.lastPosition).Scan(&p); err != nil {
		return 0, s.wrap(ctx, "last position", err)
	}
	return p, nil
}

// Subscribe implements es.Subscriber with [es.Follow]: it reads the log, and
// once caught up waits for a NOTIFY from any process appending to this
// schema, an append by this Store, the safety poll, or the end of ctx. It
// ends with [es.ErrClosed] when the store is closed.
//
// The store's LISTEN connection is opened when the first subscription
// starts, and then stays open until Close.
func (s *Store) Subscribe(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	follow := es.Follow(ctx, s, from, &s.signal, s.poll)
	return func(yield func(es.Record, error) bool) {
		s.startListener() // a closed store's ReadLog says so
		follow(yield)
	}
}

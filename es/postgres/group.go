package postgres

import (
	"context"
	"errors"
	"sync/atomic"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/groupcommit"
)

// Group commit. Every append takes head's row lock until it commits, so
// appends commit one at a time (see the package documentation). To keep
// concurrent appenders of one process from each paying a whole commit, the
// store combines the small appends that arrive while another is in flight
// into one transaction: one round trip that first locks head, then runs each
// append's statement in turn, and commits them together. Each statement
// checks its own expected version, so one append's conflict does not touch
// the others; and as head is locked before any of them reads, none reads a
// stale stream version. If the combined transaction fails (a duplicate event
// ID, a lost connection), every append in it is run again on its own, unless,
// when the transaction may have committed, its events are found stored.

// maxGroupEvents is the largest append that joins a group; larger ones already
// amortise their commit.
const maxGroupEvents = 16

// maxGroup bounds the appends in one combined transaction.
const maxGroup = 64

// appendReq is one append waiting for, or taking part in, a group commit.
type appendReq struct {
	ctx            context.Context
	stream         string
	kind           int32
	want           int64
	recs           []es.Record
	current, first int64
	err            error
	alone          bool // the group failed: run on its own
	unknown        bool // ... and may have committed (its reply was lost)
}

// settleYields is how many times a new leader yields the processor, while
// fewer appends are queued than the last batch held, before it takes its
// batch. The leader handed the lead is the append that queued while the
// last batch committed; the appends that batch released are about to queue
// again. Without the yields it committed alone and they made the next
// batch, so N writers alternated between a batch of 1 and one of N-1,
// paying two commits (each holding head through a WAL flush) where one
// would do.
const settleYields = 4

// newGrouper returns the group commit of s's small appends.
func (s *Store) newGrouper() *groupcommit.Group[*appendReq] {
	return groupcommit.New(s.runGroup, groupcommit.Options{MaxBatch: maxGroup, Settle: settleYields})
}

// appendGrouped runs the append statement for recs, in a group with other
// appends if some are in flight. Its results are those of tryAppend. An
// append whose context ends while it is queued leaves the queue; one in a
// group under way waits for the group, which reads its events (the
// caller's data) until they are sent, and ends when every member's context
// has.
func (s *Store) appendGrouped(ctx context.Context, stream string, kind int32, want int64, recs []es.Record) (current, first int64, err error) {
	if len(recs) > maxGroupEvents {
		return s.tryAppend(ctx, stream, kind, want, recs)
	}
	req := &appendReq{ctx: ctx, stream: stream, kind: kind, want: want, recs: recs}
	if err := s.group.Do(ctx, req); err != nil {
		return 0, 0, err
	}
	return s.groupResult(req)
}

func (s *Store) groupResult(req *appendReq) (current, first int64, err error) {
	if req.alone {
		if req.unknown {
			current, first, ok, err := s.storedBy(req.ctx, req.stream, req.recs)
			if err != nil || ok {
				return current, first, err
			}
		}
		return s.tryAppend(req.ctx, req.stream, req.kind, req.want, req.recs)
	}
	return req.current, req.first, req.err
}

// runGroup runs batch: alone through tryAppend if it is one request, else as
// one transaction. It sets every request's result or marks it alone.
func (s *Store) runGroup(batch []*appendReq) {
	statBatches.Add(1)
	statBatched.Add(int64(len(batch)))
	if len(batch) == 1 {
		r := batch[0]
		r.current, r.first, r.err = s.tryAppend(r.ctx, r.stream, r.kind, r.want, r.recs)
		return
	}
	// A member whose context has ended before the group starts leaves it.
	live := batch[:0:0]
	for _, r := range batch {
		if err := r.ctx.Err(); err != nil {
			r.err = err
			continue
		}
		live = append(live, r)
	}
	if len(live) == 0 {
		return
	}
	batch = live
	// The group runs on a context of its own, ended only when every
	// member's context has ended: one caller's cancellation must not fail
	// the others' appends.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var left atomic.Int64
	left.Store(int64(len(batch)))
	for _, r := range batch {
		stop := context.AfterFunc(r.ctx, func() {
			if left.Add(-1) == 0 {
				cancel()
			}
		})
		defer stop()
	}
	statGroups.Add(1)
	statGrouped.Add(int64(len(batch)))
	b := &pgx.Batch{}
	b.Queue(s.sql.lockHead)
	for _, r := range batch {
		sql, args, err := s.appendArgs(r.stream, r.kind, r.want, r.recs)
		if err != nil {
			r.err = err
			continue
		}
		b.Queue(sql, args...)
	}
	err := func() error {
		br := s.pool.SendBatch(ctx, b)
		defer br.Close()
		if _, err := br.Exec(); err != nil {
			return err
		}
		for _, r := range batch {
			if r.err != nil {
				continue
			}
			var base *int64
			if err := br.QueryRow().Scan(&r.current, &base); err != nil {
				return err
			}
			if base != nil {
				r.first = *base
			}
		}
		return br.Close()
	}()
	if err != nil {
		// A server's error other than a fatal one means the transaction
		// rolled back; anything else (a lost connection, a cancelled
		// group) may have come after the commit.
		var pgErr *pgconn.PgError
		unknown := !errors.As(err, &pgErr) || pgErr.Severity == "FATAL" || pgErr.Severity == "PANIC"
		for _, r := range batch {
			if r.err == nil {
				r.alone, r.unknown = true, unknown
			}
		}
	}
}

// storedBy looks for the events of an append whose group may have committed
// without its reply reaching us: if they are all stored, in order, in
// stream, it returns the stream's version before them and their first
// position. Such an append must not run again as if it were a caller's retry:
// an append with no exact expected version would then find other events
// after its own and fail with es.ErrPartialDuplicate.
func (s *Store) storedBy(ctx context.Context, stream string, recs []es.Record) (current, first int64, ok bool, err error) {
	var where string
	var version int64
	err = s.pool.QueryRow(ctx, s.sql.findEventID, pgUUID(recs[0].ID)).Scan(&where, &version)
	if errors.Is(err, pgx.ErrNoRows) || err == nil && where != stream {
		return 0, 0, false, nil
	}
	if err != nil {
		return 0, 0, false, err
	}
	stored, err := es.Collect(s.ReadStream(ctx, stream, version, version+int64(len(recs))-1))
	if err != nil {
		return 0, 0, false, err
	}
	if dup, _ := es.ResolveConflict(stored, recs); !dup {
		return 0, 0, false, nil
	}
	return version - 1, stored[0].Position, true, nil
}

// Counters of combined transactions, for tests and tuning.
var statGroups, statGrouped atomic.Int64

// Counters of every batch the group commit ran (a lone append included),
// and the appends in them.
var statBatches, statBatched atomic.Int64

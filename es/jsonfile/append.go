package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/flock"
)

// request is one Append waiting for a group commit.
type request struct {
	stream   string
	expected es.ExpectedVersion
	recs     []es.Record
	out      []es.Record
	err      error
	done     chan struct{} // closed when out or err is set
}

// Append implements es.EventStore.
//
// Appends from many goroutines are committed in groups: a commit takes
// every append queued so far, writes them with one write and one fdatasync
// under the directory lock, and the next commit takes those queued
// meanwhile, so that concurrent appends share the cost of the sync.
//
// A call whose ctx ends while it waits returns ctx's error at once. If its
// append was still queued, nothing of it is stored; if a commit had already
// taken it, it may be stored or not (the error says so), and retrying it
// with the same events is safe (see es.EventStore). Waiting means waiting
// for a lock or for another goroutine's commit: an append that finds no
// commit under way and both locks free commits in the calling goroutine
// (its own write and sync, not cancellable), which spares it handing its
// append to another goroutine and being woken again.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	recs, err := es.Prepare(stream, expected, events)
	if err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, s.errReadOnly("append")
	}
	req := &request{stream: stream, expected: expected, recs: recs, done: make(chan struct{})}
	lead, err := s.enqueue(req)
	if err != nil {
		return nil, err
	}
	if lead && s.commitInline() {
		return req.out, req.err
	}
	select {
	case <-req.done:
		return req.out, req.err
	case <-ctx.Done():
	}
	return s.abandon(ctx, req)
}

// enqueue queues req. If no commit runs, it reports that the caller now
// leads (s.leading is set): the caller must either commit inline or start
// commitLoop.
func (s *Store) enqueue(req *request) (lead bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return false, es.ErrClosed
	case s.failed != nil:
		return false, s.failed
	}
	s.queue = append(s.queue, req)
	if s.leading {
		return false, nil
	}
	s.leading = true
	return true, nil
}

// commitInline commits one batch, the caller's append first, in the
// calling goroutine, if flockMu and the directory lock can both be taken
// without waiting; then it hands what has queued meanwhile to a commit
// goroutine. Otherwise, or if the store failed, it starts the commit
// goroutine at once and returns false: the caller then waits for its
// append as a queued one does, watching its context. (One wait remains
// inline: if the lock file was replaced since the store opened it,
// lockedRun takes the lock on the new one, as every commit does.)
func (s *Store) commitInline() bool {
	if !s.flockMu.TryLock() {
		go s.commitLoop()
		return false
	}
	if flock.TryLock(s.lockFile, flock.Exclusive) != nil {
		// Held by another process (or failing: the commit goroutine
		// reports it).
		s.flockMu.Unlock()
		go s.commitLoop()
		return false
	}
	batch := s.takeBatch()
	if !s.commitUnder(batch, func(fn func() error) error { return s.lockedRun(flock.Exclusive, fn) }) {
		flock.Unlock(s.lockFile) // the store had failed: nothing ran under the lock
	}
	s.flockMu.Unlock()
	s.release(batch)
	s.mu.Lock()
	if len(s.queue) > 0 {
		go s.commitLoop()
	} else {
		s.leading = false
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	return true
}

// abandon gives up waiting for req, whose caller's ctx has ended.
func (s *Store) abandon(ctx context.Context, req *request) ([]es.Record, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-req.done:
		return req.out, req.err
	default:
	}
	if i := slices.Index(s.queue, req); i >= 0 {
		// Not taken by a commit: it will never be written.
		s.queue = slices.Delete(s.queue, i, i+1)
		return nil, ctx.Err()
	}
	return nil, fmt.Errorf("jsonfile: append to %q abandoned while being committed; it may have been stored (retrying it with the same events is safe): %w",
		req.stream, ctx.Err())
}

// commitLoop commits queued appends in batches until the queue is empty.
// It runs in a goroutine of its own while s.leading is set.
func (s *Store) commitLoop() {
	s.mu.Lock()
	for len(s.queue) > 0 {
		s.mu.Unlock()
		batch := s.takeBatch()
		s.commit(batch)
		s.release(batch)
		s.mu.Lock()
	}
	s.leading = false
	s.idle.Broadcast()
	s.mu.Unlock()
}

// takeBatch takes every append queued so far (at least one is).
func (s *Store) takeBatch() []*request {
	s.mu.Lock()
	defer s.mu.Unlock()
	// The appends of the last batch were just released and are about to
	// queue again: give them a moment (a few yields of the processor, far
	// less than an fsync), so that batches stay as large as the number of
	// writers rather than alternating between halves of it.
	for i := 0; i < 4 && len(s.queue) < s.lastBatch; i++ {
		s.mu.Unlock()
		runtime.Gosched()
		s.mu.Lock()
	}
	s.lastBatch = len(s.queue)
	batch := s.queue
	s.queue = nil
	return batch
}

// release tells the callers of batch that their appends are done.
func (s *Store) release(batch []*request) {
	for _, r := range batch {
		close(r.done)
	}
}

// failWrites makes every later append fail: after a failed write or sync the
// state of the file is unknown (on Linux a failed fsync may even have
// dropped the dirty pages), so the store refuses to build on it until it is
// reopened and has checked the log again.
func (s *Store) failWrites(err error) error {
	err = fmt.Errorf("jsonfile: store %s refuses writes until reopened: %w", s.dir, err)
	s.mu.Lock()
	if s.failed == nil {
		s.failed = err
	}
	s.mu.Unlock()
	return err
}

// commit commits batch, waiting for flockMu and the directory lock as long
// as it takes.
func (s *Store) commit(batch []*request) {
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	s.commitUnder(batch, func(fn func() error) error { return s.withLock(flock.Exclusive, fn) })
}

// commitUnder commits batch, flockMu held, running its work through
// locked, which runs fn under the directory lock and releases it. It
// reports whether it called locked: it does not once the store has failed.
func (s *Store) commitUnder(batch []*request, locked func(fn func() error) error) (ran bool) {
	// Appends queued while an earlier commit failed are refused too: the
	// failure left this process's view of the files untrustworthy.
	s.mu.Lock()
	err := s.failed
	s.mu.Unlock()
	if err == nil {
		ran = true
		err = locked(func() error {
			t0 := time.Now()
			defer func() { s.stats.CommitTime += time.Since(t0) }()
			if err := s.syncLocked(); err != nil {
				return err
			}
			err := s.commitLocked(batch)
			if !errors.Is(err, errDerivedDamaged) {
				return err
			}
			// An index disagreed with the stream table: rebuild the
			// derived files from the log, then decide again.
			if err := s.rebuildDamaged(err); err != nil {
				return err
			}
			return s.commitLocked(batch)
		})
	}
	if err != nil {
		for _, r := range batch {
			if r.err == nil && r.out == nil {
				r.err = err
			}
		}
	}
	return ran
}

// pendingStream is what one commit batch adds to a stream.
type pendingStream struct {
	stream  string
	base    int64 // the stream's version on disk
	ix      *idxFile
	recs    []es.Record // added in this batch: versions base+1...
	entries []byte
}

// batchWrite is one commit's plan: the lines to write at the end of the log
// and the index entries to write after them.
type batchWrite struct {
	streams    map[string]*pendingStream
	order      []*pendingStream
	buf        []byte // the lines
	posEntries []byte
	base, last int64 // the log's size and last position before the batch
	accepted   []*request
	// failed holds, by stream, why its index could not be loaded.
	failed map[string]error
}

// commitLocked writes batch: it checks each append's expected version,
// encodes the accepted ones, writes and syncs them, then updates the derived
// files. The caller holds the directory lock. It returns errDerivedDamaged,
// having written nothing, if a stream's index disagrees with the table.
func (s *Store) commitLocked(batch []*request) error {
	w := &batchWrite{streams: make(map[string]*pendingStream), buf: s.wbuf[:0], posEntries: s.entries[:0], base: s.size, last: s.last}
	defer func() {
		for _, ps := range w.order {
			ps.ix.pinned = false
		}
	}()
	if err := s.loadStreams(w, batch); err != nil {
		return err
	}
	for _, req := range batch {
		req.out, req.err = nil, nil
		if req.err = s.place(w, req); req.err != nil {
			req.out = nil
		}
	}
	s.wbuf, s.entries = w.buf[:0], w.posEntries[:0]
	if len(w.accepted) == 0 {
		return nil
	}
	s.stats.Commits++
	s.stats.Appends += int64(len(w.accepted))
	if err := s.writeLog(w); err != nil {
		// Take back what may have reached the file, so that no other
		// process indexes a batch nobody acknowledged.
		_ = s.log.Truncate(w.base)
		err = s.failWrites(err)
		for _, r := range w.accepted {
			r.out, r.err = nil, err
		}
		return nil
	}
	s.indexBatch(w)
	s.signal.Notify()
	return nil
}

// loadStreams finds the index of every stream of batch, checked against the
// stream table.
func (s *Store) loadStreams(w *batchWrite, batch []*request) error {
	for _, req := range batch {
		if w.streams[req.stream] != nil {
			continue
		}
		if w.failed[req.stream] != nil {
			continue
		}
		ix, err := s.streamIndex(req.stream, true)
		if errors.Is(err, errDerivedDamaged) {
			return err
		}
		if err != nil {
			if w.failed == nil {
				w.failed = make(map[string]error)
			}
			w.failed[req.stream] = err
			continue
		}
		ix.pinned = true
		ps := &pendingStream{stream: req.stream, base: ix.count, ix: ix}
		w.streams[req.stream] = ps
		w.order = append(w.order, ps)
	}
	return nil
}

// place decides req: a conflict, a retry of records already stored, or
// records to write, which it encodes into w.
func (s *Store) place(w *batchWrite, req *request) error {
	ps := w.streams[req.stream]
	if ps == nil {
		return w.failed[req.stream] // loadStreams could not load its index
	}
	cur := ps.base + int64(len(ps.recs))
	stored, dup, err := es.CheckAppend(req.stream, req.expected, cur, req.recs, func(from, to int64) ([]es.Record, error) {
		return s.window(req.stream, ps, from, to)
	})
	if err != nil {
		return err
	}
	if dup {
		// An idempotent retry: its result is the records stored.
		req.out = stored
		if stored[len(stored)-1].Version > ps.base {
			// It matched records of this very batch: it stands or falls
			// with the batch's write.
			w.accepted = append(w.accepted, req)
		}
		return nil
	}
	out, err := s.encode(w, ps, req.recs, cur)
	if err != nil {
		return err
	}
	ps.recs = append(ps.recs, out...)
	w.last += int64(len(out))
	req.out = out
	w.accepted = append(w.accepted, req)
	return nil
}

// encode appends the lines of recs, as versions cur+1... of ps's stream, to
// w, with their index entries. On error w is as it was.
func (s *Store) encode(w *batchWrite, ps *pendingStream, recs []es.Record, cur int64) ([]es.Record, error) {
	mark, markEntries, markPos := len(w.buf), len(ps.entries), len(w.posEntries)
	out := make([]es.Record, len(recs))
	for i, r := range recs {
		r.Version = cur + 1 + int64(i)
		r.Position = w.last + 1 + int64(i)
		start := len(w.buf)
		w.buf = appendRecord(w.buf, &r, i == len(recs)-1)
		if err := s.checkLine(w.buf[start:len(w.buf)-1], &r, i); err != nil {
			w.buf, ps.entries, w.posEntries = w.buf[:mark], ps.entries[:markEntries], w.posEntries[:markPos]
			return nil, err
		}
		var e [entrySize]byte
		putEntry(e[:], w.base+int64(start), len(w.buf)-start)
		ps.entries = append(ps.entries, e[:]...)
		w.posEntries = append(w.posEntries, e[:]...)
		out[i] = r
	}
	return out, nil
}

// checkLine refuses a line the store could not read back.
func (s *Store) checkLine(line []byte, r *es.Record, i int) error {
	if len(line) > maxLineLen {
		return fmt.Errorf("%w: event %d encodes to %d bytes", es.ErrEventTooLarge, i, len(line))
	}
	var back es.Record
	if _, derr := s.dec.decodeLine(line, &back); derr != nil || back.Position != r.Position ||
		back.Version != r.Version || back.ID != r.ID || !back.Time.Equal(r.Time) || back.Stream != r.Stream {
		return fmt.Errorf("%w: event %d does not round-trip through the line format: %v", es.ErrInvalidInput, i, derr)
	}
	return nil
}

// writeLog writes w's lines at the end of the log and syncs them.
func (s *Store) writeLog(w *batchWrite) error {
	if _, err := s.log.WriteAt(w.buf, w.base); err != nil {
		return err
	}
	if s.opts.noSync {
		return nil
	}
	// The one fsync of the commit. Every append of the batch is
	// acknowledged only after it returns.
	t0 := time.Now()
	err := datasync(s.log)
	s.stats.SyncTime += time.Since(t0)
	return err
}

// indexBatch writes the derived files for w, whose lines are durable: the
// stream indexes, the stream table, positions.idx, then the head, without
// fsync. If this process dies before they are written, the next one to take
// the lock finds the log longer than the head says and indexes the rest.
func (s *Store) indexBatch(w *batchWrite) {
	var ierr error
	keep := func(err error) {
		if ierr == nil {
			ierr = err
		}
	}
	for _, ps := range w.order {
		if len(ps.entries) == 0 {
			continue
		}
		keep(s.writeStreamEntries(ps.ix, ps.base+1, ps.entries))
	}
	keep(s.updateTable(w.order))
	keep(s.writePositions(s.last+1, w.posEntries))
	if ierr == nil {
		ierr = s.writeHead(head{size: w.base + int64(len(w.buf)), last: w.last})
	}
	s.size, s.last = w.base+int64(len(w.buf)), w.last
	if ierr == nil && s.size-s.durSize >= checkpointBytes {
		// A failed checkpoint leaves the mark where it was: the next
		// reboot indexes more of the log, nothing worse.
		_ = s.checkpoint()
	}
	if ierr != nil {
		// The appends are durable; only the derived files lag, and the
		// next process to lock repairs them. Refuse further writes here.
		s.failWrites(ierr)
	}
}
func (s *Store) window(stream string, ps *pendingStream, from, to int64) ([]es.Record, error) {
	var out []es.Record
	if from <= ps.base {
		r := newStreamReader(s, stream, ps.ix.f)
		defer r.release()
		for rec, err := range r.read(context.Background(), from, min(to, ps.base)) {
			if err != nil {
				return nil, err
			}
			out = append(out, rec)
		}
	}
	for v := max(from, ps.base+1); v <= to; v++ {
		out = append(out, ps.recs[v-ps.base-1])
	}
	return out, nil
}

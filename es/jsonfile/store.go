package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"github.com/jerry-es/jerry/es"
)

var (
	_ es.EventStore    = (*Store)(nil)
	_ es.LogReader     = (*Store)(nil)
	_ es.Subscriber    = (*Store)(nil)
	_ es.SnapshotStore = (*Store)(nil)
)

// DefaultPollInterval is how often a subscription looks for events appended
// by other processes. Appends in the same process wake subscribers at once;
// another process's append is seen within this interval. A poll costs one
// 99-byte read of the head file, so 100 ms keeps an idle follower at ten
// small reads a second while keeping cross-process latency below what a
// person notices.
const DefaultPollInterval = 100 * time.Millisecond

// Option configures Open.
type Option func(*options)

type options struct {
	noSync bool
	poll   time.Duration
}

// NoSync makes appends return without waiting for the disk: the log is
// written but not fsynced, and snapshots are renamed into place without
// fsync.
//
// What it risks: if the operating system crashes or the machine loses power,
// appends acknowledged in roughly the last 30 seconds (the kernel's
// write-back delay) can be lost, and a snapshot may be lost or cut short (a
// damaged snapshot is reported by LoadSnapshot and Verify, and is only an
// optimisation). What it keeps: appends stay atomic, the log stays readable
// (a torn tail is cut on the next open), and a crash of the process alone,
// kill -9 included, loses nothing, because the written data is already in
// the kernel's page cache. Use it for tests, imports and throwaway stores.
func NoSync() Option { return func(o *options) { o.noSync = true } }

// WithPollInterval sets how often Subscribe looks for other processes'
// appends; see DefaultPollInterval. A zero or negative d keeps the default.
func WithPollInterval(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.poll = d
		}
	}
}

// Recovery describes a repair the store made to its files when it found
// them damaged or left behind by a process that died mid-append.
type Recovery struct {
	// Path is the file repaired.
	Path string
	// Offset is where the damage starts: the log was cut to this size.
	Offset int64
	// Cut is how many bytes were removed from the end of Path; 0 if none.
	Cut int64
	// Reason says what was found.
	Reason string
}

// String describes r on one line.
func (r Recovery) String() string {
	if r.Cut > 0 {
		return fmt.Sprintf("%s: cut %d bytes at offset %d: %s", r.Path, r.Cut, r.Offset, r.Reason)
	}
	return fmt.Sprintf("%s: %s", r.Path, r.Reason)
}

// Store is a directory of JSON-lines files holding events and snapshots. It
// is safe for concurrent use by many goroutines and, on one directory, by
// many processes. See the package documentation for its layout and
// guarantees.
type Store struct {
	dir  string
	opts options
	boot string
	// readOnly is set when the directory can be read but not written:
	// reads work, appends, snapshots and repairs fail (see Open).
	readOnly bool

	lockFile *os.File // flock target
	log      *os.File // the log, read and written with ReadAt/WriteAt
	headFile *os.File
	pos      *os.File // positions.idx

	signal es.Signal

	// flockMu serialises this process's use of the directory lock: flock
	// locks belong to the open file, so two goroutines sharing lockFile
	// would not exclude each other.
	flockMu sync.Mutex
	// Owned by whoever holds flockMu.
	synced  bool  // size and last have been read from the files once
	size    int64 // committed size of the log, as of the last sync
	last    int64 // last committed position, as of the last sync
	idx     map[string]*idxFile
	posSize int64 // size of positions.idx; -1 if unknown
	wbuf    []byte
	entries []byte
	dec     *decoder

	stats Stats // guarded by flockMu

	mu        sync.Mutex
	idle      sync.Cond // signalled when leading turns false
	queue     []*request
	lastBatch int
	leading   bool
	closed    bool
	failed    error
	recovered []Recovery
}

// request is one Append waiting for a group commit.
type request struct {
	stream   string
	expected es.ExpectedVersion
	recs     []es.Record
	out      []es.Record
	err      error
	lead     bool // woken to lead the next commit rather than with a result
	done     chan struct{}
}

// Open opens the store in dir, creating the directory and its files if they
// do not exist. It takes the directory lock briefly to bring the derived
// files up to date: if the process that last wrote died mid-append, the
// unfinished append is cut and reported (see Recovered); if the machine
// rebooted since the indexes were written, they are rebuilt from the log.
// Damage in committed data makes Open fail with an error matching
// es.ErrCorrupt.
//
// A store whose files the process may read but not write (a directory
// shared read-only, a read-only mount) is opened read-only: reads work, and
// Append, SaveSnapshot and Reindex fail with an error matching
// fs.ErrPermission. Such an Open fails, also with fs.ErrPermission, if the
// derived files need rebuilding (the first open after a reboot, or a damaged
// head): a process with write access must open the store first.
func Open(dir string, opts ...Option) (*Store, error) {
	s := &Store{dir: dir, boot: bootID(), idx: make(map[string]*idxFile), posSize: -1, dec: newDecoder()}
	s.opts.poll = DefaultPollInterval
	for _, o := range opts {
		o(&s.opts)
	}
	s.dec.copyData = false
	s.idle.L = &s.mu
	if err := s.openFiles(); err != nil {
		s.closeFiles()
		return nil, err
	}
	how := lockEx
	if s.readOnly {
		how = lockSh
	}
	s.flockMu.Lock()
	err := s.withLock(how, s.syncLocked)
	s.flockMu.Unlock()
	if err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

func (s *Store) path(name string) string { return filepath.Join(s.dir, name) }

func (s *Store) openFiles() error {
	_, statErr := os.Stat(s.dir)
	created := errors.Is(statErr, fs.ErrNotExist)
	err := s.openFilesRW(created)
	if err != nil && !created && (errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS)) {
		// No write access: fall back to reading.
		s.closeFiles()
		s.readOnly = true
		open := func(name string) *os.File {
			if err != nil {
				return nil
			}
			var f *os.File
			f, err = os.Open(s.path(name))
			return f
		}
		err = nil
		s.lockFile = open(lockName)
		s.log = open(logName)
		s.headFile = open(headName)
		s.pos = open(positionsName)
	}
	return err
}

// errReadOnly says why a read-only store refuses a write.
func (s *Store) errReadOnly(what string) error {
	return fmt.Errorf("jsonfile: %s: store %s is open read-only: %w", what, s.dir, fs.ErrPermission)
}

func (s *Store) openFilesRW(created bool) error {
	for _, d := range []string{s.dir, s.path(streamsDir), s.path(snapshotsDir)} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	_, statErr := os.Stat(s.path(logName))
	newLog := errors.Is(statErr, fs.ErrNotExist)
	var err error
	open := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.OpenFile(s.path(name), os.O_RDWR|os.O_CREATE, 0o644)
		return f
	}
	s.lockFile = open(lockName)
	s.log = open(logName)
	s.headFile = open(headName)
	s.pos = open(positionsName)
	if err != nil {
		return err
	}
	if newLog {
		// The log's directory entry must be durable before the first
		// append is acknowledged: fsyncing the file does not persist it.
		if err := syncDir(s.dir); err != nil {
			return err
		}
		if created {
			if err := syncDir(filepath.Dir(filepath.Clean(s.dir))); err != nil {
				return err
			}
		}
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

func (s *Store) closeFiles() {
	for _, f := range []*os.File{s.log, s.headFile, s.pos, s.lockFile} {
		if f != nil {
			f.Close()
		}
	}
	s.log, s.headFile, s.pos, s.lockFile = nil, nil, nil, nil
	s.closeIdx()
}

func (s *Store) closeIdx() {
	for k, ix := range s.idx {
		ix.f.Close()
		delete(s.idx, k)
	}
	s.posSize = -1
}

// Close waits for appends in flight, then closes the store's files. Calls
// after Close fail with es.ErrClosed.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	for s.leading {
		s.idle.Wait()
	}
	s.mu.Unlock()
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	s.closeFiles()
	return nil
}

// Stats counts this Store's work since it was opened.
type Stats struct {
	// Commits is the number of log writes (each with one fsync unless
	// NoSync), and Appends the number of Append calls they carried: their
	// ratio is the effect of group commit.
	Commits, Appends int64
	// CommitTime is the time spent committing (holding the lock), and
	// SyncTime the part of it spent in fsync.
	CommitTime, SyncTime time.Duration
}

// Stats returns counts of this Store's work since it was opened.
func (s *Store) Stats() Stats {
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	return s.stats
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Recovered returns the repairs this Store made since it was opened: torn or
// corrupt tails cut from the log, and derived files rebuilt. An empty result
// means the files were found as the last writer left them.
func (s *Store) Recovered() []Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recovery(nil), s.recovered...)
}

func (s *Store) report(r Recovery) {
	s.mu.Lock()
	s.recovered = append(s.recovered, r)
	s.mu.Unlock()
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// withLock runs fn holding the directory lock in mode how. The caller holds
// flockMu.
func (s *Store) withLock(how int, fn func() error) error {
	if err := flock(s.lockFile, how); err != nil {
		return fmt.Errorf("jsonfile: lock %s: %w", s.dir, err)
	}
	err := fn()
	if uerr := flock(s.lockFile, lockUn); err == nil && uerr != nil {
		err = fmt.Errorf("jsonfile: unlock %s: %w", s.dir, uerr)
	}
	return err
}

// Append implements es.EventStore.
//
// Appends from many goroutines are committed in groups: one goroutine (the
// leader) takes every append queued so far, writes them with one write and
// one fdatasync under the directory lock, and hands leadership to the next
// waiting append, so that concurrent appends share the cost of the sync.
func (s *Store) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	recs, err := es.Prepare(stream, expected, events)
	if err != nil {
		return nil, err
	}
	for i := range recs {
		if y := recs[i].Time.Year(); y < 1 || y > 9999 {
			return nil, fmt.Errorf("%w: event %d: time %s outside years 1 to 9999", es.ErrInvalidInput, i, recs[i].Time)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, s.errReadOnly("append")
	}
	req := &request{stream: stream, expected: expected, recs: recs, done: make(chan struct{})}
	s.mu.Lock()
	switch {
	case s.closed:
		s.mu.Unlock()
		return nil, es.ErrClosed
	case s.failed != nil:
		err := s.failed
		s.mu.Unlock()
		return nil, err
	}
	s.queue = append(s.queue, req)
	if s.leading {
		s.mu.Unlock()
		<-req.done
		if !req.lead {
			return req.out, req.err
		}
		s.mu.Lock()
	}
	// This goroutine leads: commit everything queued, this append included.
	s.leading = true
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
	s.mu.Unlock()

	s.commit(batch)

	// Release the batch first, so that its writers can queue their next
	// appends before the next leader takes its batch.
	for _, r := range batch {
		if r != req {
			close(r.done)
		}
	}
	s.mu.Lock()
	if len(s.queue) > 0 {
		next := s.queue[0]
		next.lead = true
		close(next.done)
	} else {
		s.leading = false
		s.idle.Broadcast()
	}
	s.mu.Unlock()
	return req.out, req.err
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

// pendingStream is what one commit batch adds to a stream.
type pendingStream struct {
	base    int64 // the stream's version on disk
	ix      *idxFile
	recs    []es.Record // added in this batch: versions base+1...
	entries []byte
}

func (s *Store) commit(batch []*request) {
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	failAll := func(err error) {
		for _, r := range batch {
			if r.err == nil && r.out == nil {
				r.err = err
			}
		}
	}
	// Appends queued while an earlier commit failed are refused too: the
	// failure left this process's view of the files untrustworthy.
	s.mu.Lock()
	err := s.failed
	s.mu.Unlock()
	if err != nil {
		failAll(err)
		return
	}
	err = s.withLock(lockEx, func() error {
		t0 := time.Now()
		defer func() { s.stats.CommitTime += time.Since(t0) }()
		if err := s.syncLocked(); err != nil {
			return err
		}
		return s.commitLocked(batch)
	})
	if err != nil {
		failAll(err)
	}
}

func (s *Store) commitLocked(batch []*request) error {
	streams := make(map[string]*pendingStream)
	defer func() {
		for _, ps := range streams {
			ps.ix.pinned = false
		}
	}()
	buf := s.wbuf[:0]
	posEntries := s.entries[:0]
	base, last := s.size, s.last
	var accepted []*request
	for _, req := range batch {
		ps := streams[req.stream]
		if ps == nil {
			ix, err := s.streamIndex(req.stream, true)
			if err != nil {
				req.err = err
				continue
			}
			ix.pinned = true
			ps = &pendingStream{base: ix.count, ix: ix}
			streams[req.stream] = ps
		}
		cur := ps.base + int64(len(ps.recs))
		checkErr := req.expected.Check(req.stream, cur)
		if _, exact := req.expected.Version(); checkErr != nil || !exact {
			if from, to, ok := es.ConflictWindow(req.expected, cur, len(req.recs)); ok {
				stored, err := s.window(req.stream, ps, from, to)
				if err != nil {
					req.err = err
					continue
				}
				dup, err := es.ResolveConflict(stored, req.recs)
				if err != nil {
					req.err = err
					continue
				}
				if dup {
					req.out = stored
					if to > ps.base {
						// It matched records of this very batch: it
						// stands or falls with the batch's write.
						accepted = append(accepted, req)
					}
					continue
				}
			}
		}
		if checkErr != nil {
			req.err = checkErr
			continue
		}
		mark, markEntries := len(buf), len(ps.entries)
		out := make([]es.Record, len(req.recs))
		var err error
		for i, r := range req.recs {
			r.Version = cur + 1 + int64(i)
			r.Position = last + 1 + int64(i)
			start := len(buf)
			buf = appendRecord(buf, &r, i == len(req.recs)-1)
			line := buf[start : len(buf)-1]
			if len(line) > maxLineLen {
				err = fmt.Errorf("%w: event %d encodes to %d bytes", es.ErrEventTooLarge, i, len(line))
				break
			}
			// Never write a line the store could not read back.
			var back es.Record
			if _, derr := s.dec.decodeLine(line, &back); derr != nil || back.Position != r.Position ||
				back.Version != r.Version || back.ID != r.ID || !back.Time.Equal(r.Time) || back.Stream != r.Stream {
				err = fmt.Errorf("%w: event %d does not round-trip through the line format: %v", es.ErrInvalidInput, i, derr)
				break
			}
			var e [entrySize]byte
			putEntry(e[:], base+int64(start), len(buf)-start)
			ps.entries = append(ps.entries, e[:]...)
			posEntries = append(posEntries, e[:]...)
			out[i] = r
		}
		if err != nil {
			buf = buf[:mark]
			ps.entries = ps.entries[:markEntries]
			posEntries = posEntries[:(last-s.last)*entrySize]
			req.err = err
			continue
		}
		ps.recs = append(ps.recs, out...)
		last += int64(len(out))
		req.out = out
		accepted = append(accepted, req)
	}
	s.wbuf, s.entries = buf[:0], posEntries[:0]
	if len(accepted) == 0 {
		return nil
	}
	s.stats.Commits++
	s.stats.Appends += int64(len(accepted))
	fail := func(err error) error {
		// Take back what may have reached the file, so that no other
		// process indexes a batch nobody acknowledged.
		_ = s.log.Truncate(base)
		err = s.failWrites(err)
		for _, r := range accepted {
			r.out, r.err = nil, err
		}
		return nil
	}
	if _, err := s.log.WriteAt(buf, base); err != nil {
		return fail(err)
	}
	if !s.opts.noSync {
		// The one fsync of the commit. Every append of the batch is
		// acknowledged only after it returns.
		t0 := time.Now()
		if err := datasync(s.log); err != nil {
			return fail(err)
		}
		s.stats.SyncTime += time.Since(t0)
	}
	// The log is durable: the appends are committed. The index files and
	// the head are derived from it and written without fsync; if this
	// process dies before they are written, the next one to take the lock
	// finds the log longer than the head says and indexes the rest.
	var ierr error
	for _, ps := range streams {
		if len(ps.entries) == 0 {
			continue
		}
		if err := s.writeStreamEntries(ps.ix, ps.base+1, ps.entries); err != nil && ierr == nil {
			ierr = err
		}
	}
	if err := s.writePositions(s.last+1, posEntries); err != nil && ierr == nil {
		ierr = err
	}
	if ierr == nil {
		ierr = s.writeHead(head{size: base + int64(len(buf)), last: last})
	}
	s.size, s.last = base+int64(len(buf)), last
	if ierr != nil {
		// The appends are durable; only the derived files lag, and the
		// next process to lock repairs them. Refuse further writes here.
		s.failWrites(ierr)
	}
	s.signal.Notify()
	return nil
}

// window returns the stored records of stream with versions from to to,
// reading those on disk and taking those added earlier in this batch from ps.
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

func (s *Store) writeHead(h head) error {
	h.boot = s.boot
	_, err := s.headFile.WriteAt(h.encode(), 0)
	return err
}

// idxFile is a stream's index file as the committing process knows it.
type idxFile struct {
	f      *os.File
	size   int64
	count  int64 // the stream's version
	known  bool  // size and count are current; see syncLocked
	pinned bool  // held by the commit in progress: not to be evicted
}

// streamIndex returns the index file of stream, kept open in a small cache,
// with its size and count current. With create false, a stream with no file
// gives an empty idxFile with no file.
func (s *Store) streamIndex(stream string, create bool) (*idxFile, error) {
	ix := s.idx[stream]
	if ix != nil && ix.known {
		return ix, nil
	}
	if ix == nil {
		flag := os.O_RDWR
		if create {
			flag |= os.O_CREATE
		}
		f, err := os.OpenFile(s.idxPath(stream), flag, 0o644)
		if errors.Is(err, fs.ErrNotExist) && !create {
			return &idxFile{known: true}, nil
		}
		if err != nil {
			return nil, err
		}
		if len(s.idx) >= 256 {
			s.evictIdx()
		}
		ix = &idxFile{f: f}
		s.idx[stream] = ix
	}
	fi, err := ix.f.Stat()
	if err != nil {
		return nil, err
	}
	ix.size = fi.Size()
	// The lock is held: no writer races this read, so a last entry that
	// fails its checksum is damage. Appending after it would give the
	// stream a gap: refuse.
	var ok bool
	ix.count, ok, err = indexCount(ix.f, ix.size)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, &es.CorruptError{Path: s.idxPath(stream), Offset: (ix.count - 1) * entrySize,
			Err: errors.New("last index entry fails its checksum (Reindex rebuilds the index from the log)")}
	}
	ix.known = true
	return ix, nil
}

// evictIdx closes the cached index files that no commit in progress holds.
// A commit keeps its streams' idxFiles until it has written their entries:
// closing one under it would fail the write.
func (s *Store) evictIdx() {
	for k, ix := range s.idx {
		if !ix.pinned {
			ix.f.Close()
			delete(s.idx, k)
		}
	}
}

// forgetCounts marks every cached stream count stale: another process may
// have appended.
func (s *Store) forgetCounts() {
	for _, ix := range s.idx {
		ix.known = false
	}
	s.posSize = -1
}

// writeStreamEntries writes the entries of versions from on.
func (s *Store) writeStreamEntries(ix *idxFile, from int64, entries []byte) error {
	if err := writeEntries(ix.f, &ix.size, (from-1)*entrySize, entries, idxChunk); err != nil {
		ix.known = false
		return err
	}
	ix.count = max(ix.count, from-1+int64(len(entries)/entrySize))
	return nil
}

// writePositions writes the entries of positions from on.
func (s *Store) writePositions(from int64, entries []byte) error {
	if s.posSize < 0 {
		fi, err := s.pos.Stat()
		if err != nil {
			return err
		}
		s.posSize = fi.Size()
	}
	if err := writeEntries(s.pos, &s.posSize, (from-1)*entrySize, entries, posChunk); err != nil {
		s.posSize = -1
		return err
	}
	return nil
}

func (s *Store) idxPath(stream string) string {
	return filepath.Join(s.dir, streamsDir, fileName(stream)+idxSuffix)
}

package jsonfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/atomicfile"
	"github.com/jerry-es/jerry/internal/flock"
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
// small read of the head file, so 100 ms keeps an idle follower at ten
// small reads a second while keeping cross-process latency below what a
// person notices.
const DefaultPollInterval = 100 * time.Millisecond

// DefaultLockNotice is how long a writer waits for the directory lock before
// it says which process holds it (see OnLockWait).
const DefaultLockNotice = 3 * time.Second

// Option configures Open.
type Option func(*options)

type options struct {
	noSync     bool
	poll       time.Duration
	lockAfter  time.Duration
	lockNotice func(LockWait)
	boot       string
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
// (after a crash of the machine, appends a NoSync writer lost are cut and
// reported on the next open), and a crash of the process alone, kill -9
// included, loses nothing, because the written data is already in the
// kernel's page cache. Use it for tests, imports and throwaway stores.
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

// LockWait describes a wait for the directory lock that has lasted long.
type LockWait struct {
	// Dir is the store's directory.
	Dir string
	// PID is the process that holds the lock, as the lock file records
	// it; 0 if unknown (a reader's shared lock records none).
	PID int
	// Since is when the holder took the lock; zero if unknown.
	Since time.Time
	// Waited is how long this process has waited so far.
	Waited time.Duration
}

// String describes w for a person.
func (w LockWait) String() string {
	h := flock.Holder{PID: w.PID, Since: w.Since}
	return fmt.Sprintf("jsonfile: waited %s for the lock of %s, held by %s", w.Waited.Round(time.Millisecond), w.Dir, h)
}

// OnLockWait makes a process that has waited longer than after for the
// directory lock (and then every after again) call fn, from another
// goroutine, with the holder's process ID as the lock file records it. The
// default is DefaultLockNotice and a line on standard error; a nil fn says
// nothing. Only writers and repairs wait for the lock: reads never take it.
func OnLockWait(after time.Duration, fn func(LockWait)) Option {
	return func(o *options) {
		o.lockAfter, o.lockNotice = after, fn
	}
}

// WithBootID makes the store take id as the identity of the running boot
// instead of the kernel's. The derived files are trusted only within the
// boot that wrote them, so a new id makes the store behave as after a
// reboot; tests use it to simulate one.
func WithBootID(id string) Option { return func(o *options) { o.boot = id } }

// Recovery describes a repair the store made to its files when it found
// them damaged or left behind by a process that died mid-append. Every
// repair is also recorded durably in the store (see Verify's Report).
type Recovery struct {
	// Time is when the repair was made.
	Time time.Time `json:"time"`
	// Path is the file repaired.
	Path string `json:"path"`
	// Offset is where the damage starts: the log was cut to this size.
	Offset int64 `json:"offset"`
	// Cut is how many bytes were removed from the end of Path; 0 if none.
	Cut int64 `json:"cut"`
	// Lost says that acknowledged data was lost: only Repair makes such a
	// repair, at a person's request.
	Lost bool `json:"lost,omitempty"`
	// Reason says what was found.
	Reason string `json:"reason"`
}

// String describes r on one line.
func (r Recovery) String() string {
	s := r.Path + ": "
	if r.Cut > 0 {
		s += fmt.Sprintf("cut %d bytes at offset %d: ", r.Cut, r.Offset)
	}
	if r.Lost {
		s += "acknowledged data lost: "
	}
	return s + r.Reason
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
	// lockHeld is lockFile's own identity, read once per opened lock file
	// (an open file's inode never changes), for lockFileCurrent. Owned by
	// whoever holds flockMu.
	lockHeld   os.FileInfo
	lockHeldOf *os.File
	log        *os.File // the log, read and written with ReadAt/WriteAt
	headFile   *os.File
	pos        *os.File // positions.idx

	signal es.Signal

	// flockMu serialises this process's use of the directory lock: flock
	// locks belong to the open file, so two goroutines sharing lockFile
	// would not exclude each other.
	flockMu sync.Mutex
	// Owned by whoever holds flockMu.
	synced  bool  // size and last have been read from the files once
	size    int64 // committed size of the log, as of the last sync
	last    int64 // last committed position, as of the last sync
	durSize int64 // the head's durable mark: derived files synced up to here
	durLast int64
	idx     map[string]*idxFile
	tab     *table // the stream table; nil until opened under the lock
	posSize int64  // size of positions.idx; -1 if unknown
	wbuf    []byte
	entries []byte
	dec     *decoder

	stats Stats // guarded by flockMu

	mu        sync.Mutex
	idle      sync.Cond // signalled when leading turns false
	queue     []*request
	lastBatch int
	leading   bool // a commit goroutine runs
	closed    bool
	failed    error
	recovered []Recovery
}

// Open opens the store in dir, creating the directory and its files if they
// do not exist.
//
// If no other process holds the directory lock, Open takes it briefly to
// bring the derived files up to date: an append that a process killed
// mid-write left unfinished (never acknowledged) is cut, and reported by
// Recovered; after a reboot the log past the last checkpoint is indexed
// again; derived files found damaged are rebuilt from the log. If a writer holds the lock, Open does not wait
// for it: the files are as that writer keeps them, and reads take no lock.
// It waits only when the derived files must be rebuilt.
//
// Open fails with an error matching es.ErrCorrupt, naming the file and
// offset, when acknowledged data is damaged or missing: a log shorter than
// the head says was committed, or damage followed by valid records. It
// cuts nothing then; it fails the same way every time until a person runs
// Repair (which records what it did) or restores the files.
//
// A store whose files the process may read but not write (a directory
// shared read-only, a read-only mount) is opened read-only: reads work, and
// Append, SaveSnapshot and Reindex fail with an error matching
// fs.ErrPermission. Such an Open fails, also with fs.ErrPermission, if the
// derived files need rebuilding (the first open after a reboot, or a damaged
// or missing head): a process with write access must open the store first.
func Open(dir string, opts ...Option) (*Store, error) {
	s := newStore(dir, opts)
	if err := s.openFiles(); err != nil {
		s.closeFiles()
		return nil, err
	}
	s.flockMu.Lock()
	err := s.openSync()
	s.flockMu.Unlock()
	if err != nil {
		s.closeFiles()
		return nil, err
	}
	return s, nil
}

func newStore(dir string, opts []Option) *Store {
	s := &Store{dir: dir, idx: make(map[string]*idxFile), posSize: -1, dec: newDecoder()}
	s.opts.poll = DefaultPollInterval
	s.opts.lockAfter = DefaultLockNotice
	s.opts.lockNotice = func(w LockWait) { fmt.Fprintln(os.Stderr, w.String()) }
	for _, o := range opts {
		o(&s.opts)
	}
	s.boot = s.opts.boot
	if s.boot == "" {
		s.boot = bootID()
	}
	s.dec.copyData = false
	s.idle.L = &s.mu
	return s
}

// openSync brings the derived files up to date under the lock if it is free;
// if a writer holds it, it trusts a head of this boot without waiting.
func (s *Store) openSync() error {
	mode := flock.Exclusive
	if s.readOnly {
		mode = flock.Shared
	}
	err := flock.TryLock(s.lockFile, mode)
	if errors.Is(err, flock.ErrWouldBlock) {
		if h, herr := readHeadFile(s.headFile); herr == nil && h.boot == s.boot {
			if fi, ferr := s.log.Stat(); ferr == nil && fi.Size() >= h.size {
				// A writer holds the lock and keeps the files; reads
				// need no more than a current head.
				return nil
			}
		}
		return s.withLock(mode, s.syncLocked)
	}
	if err != nil {
		return fmt.Errorf("jsonfile: lock %s: %w", s.dir, err)
	}
	return s.lockedRun(mode, s.syncLocked)
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
		return s.openFilesRO()
	}
	return err
}

func (s *Store) openFilesRO() error {
	var err error
	open := func(name string) *os.File {
		if err != nil {
			return nil
		}
		var f *os.File
		f, err = os.Open(s.path(name))
		if errors.Is(err, fs.ErrNotExist) && name != logName {
			err = fmt.Errorf("jsonfile: store %s is read-only and its %s file is missing: open it once as a user who may write it, or run Repair: %w",
				s.dir, name, err)
		}
		return f
	}
	s.lockFile = open(lockName)
	s.log = open(logName)
	s.headFile = open(headName)
	s.pos = open(positionsName)
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
		if err := atomicfile.SyncDir(s.dir); err != nil {
			return err
		}
		if created {
			if err := atomicfile.SyncDir(filepath.Dir(filepath.Clean(s.dir))); err != nil {
				return err
			}
		}
	}
	return nil
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
	s.tab.close()
	s.tab = nil
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
	// Replayed is the number of log records recovery read to bring the
	// derived files up to date, and Checkpoints the number of times the
	// derived files were made durable.
	Replayed, Checkpoints int64
}

// Stats returns counts of this Store's work since it was opened.
func (s *Store) Stats() Stats {
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	return s.stats
}

// Dir returns the store's directory.
func (s *Store) Dir() string { return s.dir }

// Recovered returns the repairs this Store made since it was opened: torn
// tails of appends that were never acknowledged, cut from the log, and
// derived files rebuilt because they were damaged. An empty result means the
// files were found as the last writer left them. Each repair is also
// recorded durably in the store, where Verify reports it.
func (s *Store) Recovered() []Recovery {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Recovery(nil), s.recovered...)
}

// report records a repair: in memory for Recovered, and durably in the
// store's repair record. The caller holds the directory lock.
func (s *Store) report(r Recovery) {
	r.Time = es.Now()
	s.mu.Lock()
	s.recovered = append(s.recovered, r)
	s.mu.Unlock()
	if !s.readOnly {
		// A record that cannot be written leaves the repair reported to
		// the caller only; the repair itself stands.
		_ = appendRepair(s.path(repairsName), r, s.opts.noSync)
	}
}

func (s *Store) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// withLock runs fn holding the directory lock in mode m, waiting for it as
// long as it takes (saying who holds it; see OnLockWait). The caller holds
// flockMu.
func (s *Store) withLock(m flock.Mode, fn func() error) error {
	var notice flock.Notice
	if s.opts.lockNotice != nil {
		notice = func(h flock.Holder, waited time.Duration) {
			s.opts.lockNotice(LockWait{Dir: s.dir, PID: h.PID, Since: h.Since, Waited: waited})
		}
	}
	if err := flock.Lock(s.lockFile, m, s.opts.lockAfter, notice); err != nil {
		return fmt.Errorf("jsonfile: lock %s: %w", s.dir, err)
	}
	return s.lockedRun(m, fn)
}

// lockedRun runs fn, the lock being held on s.lockFile, and releases it. If
// the lock file was removed or replaced meanwhile, processes that open the
// store from now on lock the new file, so it takes the lock on that one
// first.
func (s *Store) lockedRun(m flock.Mode, fn func() error) error {
	for {
		same, err := s.lockFileCurrent()
		if err != nil || same {
			if err == nil {
				if m == flock.Exclusive && !s.readOnly {
					// Only for a waiter's notice: no sync.
					_ = flock.RecordHolder(s.lockFile)
				}
				err = fn()
			}
			if uerr := flock.Unlock(s.lockFile); err == nil && uerr != nil {
				err = fmt.Errorf("jsonfile: unlock %s: %w", s.dir, uerr)
			}
			return err
		}
		flock.Unlock(s.lockFile)
		s.lockFile.Close()
		flag := os.O_RDWR | os.O_CREATE
		if s.readOnly {
			flag = os.O_RDONLY
		}
		if s.lockFile, err = os.OpenFile(s.path(lockName), flag, 0o644); err != nil {
			return fmt.Errorf("jsonfile: lock %s: %w", s.dir, err)
		}
		if err := flock.Lock(s.lockFile, m, s.opts.lockAfter, nil); err != nil {
			return fmt.Errorf("jsonfile: lock %s: %w", s.dir, err)
		}
	}
}

// lockFileCurrent reports whether s.lockFile is the file at the lock's path.
func (s *Store) lockFileCurrent() (bool, error) {
	if s.lockHeldOf != s.lockFile {
		held, err := s.lockFile.Stat()
		if err != nil {
			return false, err
		}
		s.lockHeld, s.lockHeldOf = held, s.lockFile
	}
	held := s.lockHeld
	at, err := os.Stat(s.path(lockName))
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return os.SameFile(held, at), nil
}

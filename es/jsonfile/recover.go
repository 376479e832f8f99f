package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/flock"
)

// syncLocked brings this process's view and the derived files up to date
// with the log. The caller holds flockMu and the directory lock exclusively
// (shared if the store is read-only).
//
// Every writer writes the log, syncs it, then the indexes, the stream table,
// positions.idx and last the head, all under the lock, and acknowledges its
// appends only after that. So at lock time:
//   - a head of this boot whose size equals the log's means all is in order
//     (the common case: one small read and one fstat; the first time in a
//     process, the last line, positions.idx and the stream table are also
//     checked against each other);
//   - a log longer than a head of this boot means a writer died after
//     writing the log: its appends were never acknowledged; complete ones
//     are indexed, an unfinished one is cut (repair);
//   - a log shorter than the head means acknowledged data is missing: an
//     error, and nothing is cut (except appends a NoSync writer lost in a
//     crash of the machine, which its option allowed);
//   - a head from another boot, or missing or damaged, means the derived
//     files, written without fsync, cannot be trusted: they are rebuilt from
//     the log; a damaged tail is cut only beyond what the head says was
//     committed (with no head, nothing is).
func (s *Store) syncLocked() error {
	fi, err := s.log.Stat()
	if err != nil {
		return err
	}
	logSize := fi.Size()
	if s.synced && logSize == s.size {
		// Nobody wrote since this process last held the lock: the log
		// only grows, and is cut only back to a committed size, which
		// is never below what this process knows. Saves reading the head.
		return nil
	}
	h, herr := readHeadFile(s.headFile)
	s.durSize, s.durLast = h.durSize, h.durLast
	if herr != nil || h.size != s.size || logSize != s.size {
		// Another process wrote since this one last held the lock: the
		// stream versions it remembers may be stale.
		s.forgetCounts()
	}
	if s.readOnly {
		if err := s.syncReadOnly(h, herr, logSize); err != nil {
			return err
		}
	} else if h, err = s.syncHead(h, herr, logSize); err != nil {
		return err
	}
	if h.size != s.size {
		s.forgetCounts() // repaired or rebuilt just now
	}
	s.size, s.last = h.size, h.last
	s.synced = true
	return nil
}

func (s *Store) syncReadOnly(h head, herr error, logSize int64) error {
	switch {
	case errors.Is(herr, errNoHead) && logSize == 0:
		return nil
	case herr == nil && h.boot == s.boot && h.size <= logSize:
		// The indexes are current up to the head. A log longer than the
		// head holds appends of a writer that died before indexing them,
		// which it therefore never acknowledged: read up to the head, and
		// leave the repair to the next writer.
		return nil
	}
	reason := "the head is damaged or missing"
	if herr == nil {
		reason = "the indexes were written before the last reboot or do not match the log"
	}
	return fmt.Errorf("jsonfile: store %s needs its indexes rebuilt (%s), which needs write access: open it once as a user who may write it: %w",
		s.dir, reason, fs.ErrPermission)
}

// syncHead decides, from the head and the log's size, what the derived files
// need, and returns the head that holds afterwards.
func (s *Store) syncHead(h head, herr error, logSize int64) (head, error) {
	switch {
	case errors.Is(herr, errNoHead) && logSize == 0:
		return s.initFiles()
	case herr != nil:
		// Nothing says what was acknowledged: all of the log may have
		// been, so a damaged tail is not cut.
		return s.rebuildReporting(Recovery{Path: s.path(headName), Reason: "head damaged or missing (" + herr.Error() + "): derived files rebuilt from the log"},
			logSize, rebuildOpts{ackEnd: logSize})
	case h.size > logSize && h.noSync && h.boot != s.boot:
		return s.rebuildReporting(Recovery{Path: s.path(logName), Offset: logSize, Reason: fmt.Sprintf(
			"log is %d bytes, shorter than the %d bytes a NoSync writer committed before the machine restarted (appends its option let it lose): derived files rebuilt", logSize, h.size)},
			logSize, rebuildOpts{lost: true})
	case h.size > logSize:
		return head{}, &es.CorruptError{Path: s.path(logName), Offset: logSize, Err: fmt.Errorf(
			"the log holds %d bytes, but %d bytes up to position %d were committed: acknowledged events are missing; nothing was cut (Repair rebuilds the store from what the log holds)", logSize, h.size, h.last)}
	case h.boot != s.boot && h.boot != rebuildingBoot && h.durSize > 0 && h.durSize <= logSize:
		return s.coldStart(h, logSize)
	case h.boot != s.boot:
		if h.boot == rebuildingBoot {
			return s.rebuildReporting(Recovery{Path: s.path(headName), Reason: "a rebuild of the derived files was cut short: rebuilt again"},
				logSize, rebuildOpts{ackEnd: h.size})
		}
		return s.rebuild(logSize, rebuildOpts{ackEnd: h.size})
	case h.size < logSize:
		nh, err := s.repair(h, logSize, h.size)
		if errors.Is(err, errDerivedDamaged) {
			return s.rebuildReporting(Recovery{Path: pathOf(err, s.path(tableName)), Reason: err.Error() + ": derived files rebuilt from the log"},
				logSize, rebuildOpts{ackEnd: h.size})
		}
		return nh, err
	case !s.synced:
		if err := s.checkDerived(h); err != nil {
			if !errors.Is(err, errDerivedDamaged) {
				return head{}, err
			}
			return s.rebuildReporting(Recovery{Path: pathOf(err, s.path(headName)), Reason: err.Error() + ": derived files rebuilt from the log"},
				logSize, rebuildOpts{ackEnd: logSize})
		}
	}
	return h, nil
}

// coldStart brings the derived files up to date after a reboot: those up to
// the head's durable mark were synced at a checkpoint, so only the log past
// it is indexed again, as a dead writer's tail is. The head's own size, not
// synced, is still a lower bound on what was acknowledged: a damaged tail
// before it is an error. If the derived files turn out damaged, they are
// rebuilt from the whole log.
func (s *Store) coldStart(h head, logSize int64) (head, error) {
	nh, err := s.repair(head{size: h.durSize, last: h.durLast}, logSize, h.size)
	if errors.Is(err, errDerivedDamaged) {
		return s.rebuildReporting(Recovery{Path: pathOf(err, s.path(tableName)), Reason: err.Error() + ": derived files rebuilt from the log"},
			logSize, rebuildOpts{ackEnd: h.size})
	}
	return nh, err
}

// checkpointBytes is how much log a writer appends between checkpoints,
// which make the derived files durable so that the first open after a
// reboot indexes only what follows (about 3,500 events of 300 bytes).
var checkpointBytes int64 = 1 << 20

// checkpoint makes every derived file durable up to the committed size and
// records that in the head, synced. One syncfs(2) covers the index files
// every writer wrote (all under the lock, so all before this). The caller
// holds the lock. Where the system cannot, nothing is recorded and the
// first open after a reboot rebuilds from the whole log.
func (s *Store) checkpoint() error {
	if s.opts.noSync || s.readOnly {
		return nil
	}
	if err := syncFS(s.log); err != nil {
		return err
	}
	s.durSize, s.durLast = s.size, s.last
	if err := s.writeHead(head{size: s.size, last: s.last}); err != nil {
		return err
	}
	s.stats.Checkpoints++
	return s.headFile.Sync()
}

// pathOf returns the file an error names, or def.
func pathOf(err error, def string) string {
	var ce *es.CorruptError
	if errors.As(err, &ce) && ce.Path != "" {
		return ce.Path
	}
	return def
}

// initFiles writes the derived files of a new, empty store. The head is
// synced, once: from now on a missing or empty head is damage, never the
// state a crash leaves.
func (s *Store) initFiles() (head, error) {
	if err := writeTableFile(s.path(tableName), nil, minSlots); err != nil {
		return head{}, err
	}
	h := head{}
	if err := s.writeHead(h); err != nil {
		return head{}, err
	}
	if !s.opts.noSync {
		if err := s.headFile.Sync(); err != nil {
			return head{}, err
		}
	}
	return h, nil
}

// checkDerived checks, once per process, that the derived files agree with
// the log's end: the stream table is whole, and positions.idx's entry for
// the head's last position points to the log's last line, which holds that
// position. It costs three small reads. A disagreement matches
// errDerivedDamaged; the rebuild that follows finds out whether the log or
// a derived file is at fault.
func (s *Store) checkDerived(h head) error {
	if _, err := s.table(); err != nil {
		return err
	}
	if h.last == 0 {
		return nil
	}
	eoff := (h.last - 1) * entrySize
	off, n, ok, err := readEntry(s.pos, eoff)
	if err != nil {
		return err
	}
	if !ok || off+int64(n) != h.size {
		return s.damaged(s.path(positionsName), eoff, fmt.Sprintf("entry of the last position %d does not point to the log's last line", h.last))
	}
	line := make([]byte, n)
	if _, err := s.log.ReadAt(line, off); err != nil && err != io.EOF {
		return err
	}
	var r es.Record
	if _, err := s.dec.decodeLine(line[:n-1], &r); err != nil || line[n-1] != '\n' || r.Position != h.last {
		return s.damaged(s.path(logName), off, fmt.Sprintf("the log's last line does not hold position %d", h.last))
	}
	return nil
}

// rebuildDamaged rebuilds the derived files after err, a disagreement found
// while committing, and reports it.
func (s *Store) rebuildDamaged(err error) error {
	fi, serr := s.log.Stat()
	if serr != nil {
		return serr
	}
	h, rerr := s.rebuildReporting(Recovery{Path: pathOf(err, s.path(tableName)), Reason: err.Error() + ": derived files rebuilt from the log"},
		fi.Size(), rebuildOpts{ackEnd: s.size})
	if rerr != nil {
		return rerr
	}
	s.forgetCounts()
	s.size, s.last = h.size, h.last
	return nil
}

// replayed is one record found by replay, with where its line is.
type replayed struct {
	stream  string
	version int64
	off     int64
	n       int
}

// replay reads the log from offset from, where position last+1 is expected,
// to logSize, and calls add for every record of every complete append, in
// order. first reports whether version v is acceptable for the first record
// of a stream seen in this replay.
//
// It returns the offset where the last complete append ends. Past it lies a
// tail to cut: lines of an append whose last record never made it, then
// possibly a torn or damaged line. A tail is cut only if no line with a valid
// checksum follows the first damaged line; otherwise the damage is in the
// middle of committed data, and replay returns a *es.CorruptError naming the
// file and offset.
func (s *Store) replay(from, last, logSize int64, first func(stream string, v int64) bool, add func(replayed) error) (end, lastPos int64, err error) {
	sc := newScanner(s.log, from, logSize, nil)
	dec := newDecoder()
	dec.copyData = false
	seen := make(map[string]int64)
	var group []replayed
	end, lastPos = from, last
	corrupt := func(off int64, e error) error {
		return &es.CorruptError{Path: s.path(logName), Offset: off, Err: e}
	}
	for {
		line, off, serr := sc.next()
		if serr == io.EOF {
			return end, lastPos, nil
		}
		var r es.Record
		var isLast bool
		derr := serr
		if derr == nil {
			isLast, derr = dec.decodeLine(line, &r)
		}
		if derr != nil {
			if serr != nil && serr != errTorn && serr != errTooLong {
				return 0, 0, serr
			}
			// Damage. It is a tail to cut only if nothing valid follows.
			if serr == errTooLong {
				sc.discard()
			}
			if voff, ok := s.validLineAfter(sc); ok {
				return 0, 0, corrupt(off, fmt.Errorf("%v; valid records follow at offset %d", derr, voff))
			}
			return end, lastPos, nil
		}
		want := lastPos + int64(len(group)) + 1
		if r.Position != want {
			return 0, 0, corrupt(off, fmt.Errorf("position %d where %d was expected", r.Position, want))
		}
		if len(group) > 0 {
			g := group[len(group)-1]
			if r.Stream != g.stream || r.Version != g.version+1 {
				return 0, 0, corrupt(off, fmt.Errorf("record of stream %q version %d inside an unfinished append to stream %q", r.Stream, r.Version, g.stream))
			}
		} else {
			prev, ok := seen[r.Stream]
			if ok && r.Version != prev+1 || !ok && !first(r.Stream, r.Version) {
				return 0, 0, corrupt(off, fmt.Errorf("stream %q version %d does not follow the stream's previous version", r.Stream, r.Version))
			}
		}
		s.stats.Replayed++
		group = append(group, replayed{stream: r.Stream, version: r.Version, off: off, n: len(line) + 1})
		if !isLast {
			continue
		}
		for _, g := range group {
			if err := add(g); err != nil {
				return 0, 0, err
			}
		}
		seen[r.Stream] = r.Version
		lastPos += int64(len(group))
		end = off + int64(len(line)) + 1
		group = group[:0]
	}
}

// validLineAfter scans the rest of the log and reports the offset of the
// first line with a valid checksum, if any.
func (s *Store) validLineAfter(sc *scanner) (int64, bool) {
	for {
		line, off, err := sc.next()
		switch err {
		case nil:
			if _, cerr := checkCRC(line); cerr == nil {
				return off, true
			}
		case errTooLong:
			sc.discard()
		default:
			return 0, false
		}
	}
}

// cut truncates the log to end and makes that durable.
func (s *Store) cut(end, logSize int64, lost bool, reason string) error {
	if err := s.log.Truncate(end); err != nil {
		return err
	}
	if err := datasync(s.log); err != nil {
		return err
	}
	s.report(Recovery{Path: s.path(logName), Offset: end, Cut: logSize - end, Lost: lost, Reason: reason})
	return nil
}

// rawCount returns the number of entries in stream's index file as it is,
// unchecked: a writer that died may have indexed part of its appends.
func (s *Store) rawCount(stream string) (int64, error) {
	f, err := os.Open(s.idxPath(stream))
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	n, _, err := indexCount(f, fi.Size())
	return n, err
}

// tailStream is what repair indexes for one stream.
type tailStream struct {
	from    int64
	entries []byte
}

// repair indexes the log past h.size, left by a writer that died before it
// finished (and before it acknowledged anything there), and cuts an
// unfinished append at its end.
func (s *Store) repair(h head, logSize, ackEnd int64) (head, error) {
	var posEntries []byte
	streams := make(map[string]*tailStream)
	first := func(stream string, v int64) bool {
		n, err := s.rawCount(stream)
		// The dead writer may have indexed some of these records already.
		return err == nil && v >= 1 && v <= n+1
	}
	end, last, err := s.replay(h.size, h.last, logSize, first, func(r replayed) error {
		var e [entrySize]byte
		putEntry(e[:], r.off, r.n)
		posEntries = append(posEntries, e[:]...)
		p := streams[r.stream]
		if p == nil {
			p = &tailStream{from: r.version}
			streams[r.stream] = p
		}
		p.entries = append(p.entries, e[:]...)
		return nil
	})
	if err != nil {
		return head{}, err
	}
	if end < logSize && end < ackEnd {
		return head{}, &es.CorruptError{Path: s.path(logName), Offset: end, Err: fmt.Errorf(
			"damaged or unfinished record within the %d bytes known to be committed; nothing was cut (Repair cuts the log here, losing what follows)", ackEnd)}
	}
	if err := s.settleTail(h, end, last, logSize, ackEnd); err != nil {
		return head{}, err
	}
	if err := s.indexTail(streams); err != nil {
		return head{}, err
	}
	if err := s.writePositions(h.last+1, posEntries); err != nil {
		return head{}, err
	}
	h = head{size: end, last: last}
	return h, s.writeHead(h)
}

// settleTail cuts what lies past end, or syncs a tail a dead writer left.
func (s *Store) settleTail(h head, end, last, logSize, ackEnd int64) error {
	if end < logSize {
		if err := s.cut(end, logSize, false, "unfinished append left by a process that died while writing (never acknowledged)"); err != nil {
			return err
		}
	} else if !s.opts.noSync {
		// A writer that died may not have synced: sync before anyone
		// builds on its appends.
		if err := datasync(s.log); err != nil {
			return err
		}
	}
	switch {
	case end > h.size && ackEnd == h.size:
		s.report(Recovery{Path: s.path(logName), Offset: h.size,
			Reason: fmt.Sprintf("indexed positions %d to %d, written by a process that died before indexing them", h.last+1, last)})
	case end > ackEnd:
		// After a reboot: what lies past the head's size was written by
		// a process that died before indexing it.
		s.report(Recovery{Path: s.path(logName), Offset: ackEnd,
			Reason: fmt.Sprintf("indexed the records from offset %d to position %d, written by a process that died before indexing them", ackEnd, last)})
	}
	return nil
}

// indexTail writes the entries and table slots of the streams repair found.
func (s *Store) indexTail(streams map[string]*tailStream) error {
	tab, err := s.table()
	if err != nil {
		return err
	}
	if tab.full(len(streams)) {
		if err := s.growTable(len(streams)); err != nil {
			return err
		}
		tab = s.tab
	}
	for stream, p := range streams {
		ix := s.idx[stream]
		if ix == nil {
			if ix, err = s.openIdx(stream, true); err != nil {
				return err
			}
		}
		fi, err := ix.f.Stat()
		if err != nil {
			return err
		}
		ix.size, ix.known = fi.Size(), false
		if err := s.writeStreamEntries(ix, p.from, p.entries); err != nil {
			return err
		}
		if err := tab.set(keyOf(stream), p.from-1+int64(len(p.entries)/entrySize)); err != nil {
			return err
		}
	}
	return nil
}

// rebuildReporting rebuilds and, if that succeeds, reports r.
func (s *Store) rebuildReporting(r Recovery, logSize int64, o rebuildOpts) (head, error) {
	h, err := s.rebuild(logSize, o)
	if err == nil {
		s.report(r)
	}
	return h, err
}

// rebuildOpts says what a rebuild may cut.
type rebuildOpts struct {
	// ackEnd is how much of the log is known to have been committed: a
	// damaged tail that starts before it is an error, not a tail to cut.
	ackEnd int64
	// force cuts such a tail all the same, reporting acknowledged data
	// lost (Repair, at a person's request).
	force bool
	// lost says committed data is known to be lost already: snapshots of
	// versions the log no longer holds are removed.
	lost bool
}

// rebuild recreates every derived file from the log. Files are rewritten in
// place (the table is replaced whole), so that other processes' open handles
// stay valid.
func (s *Store) rebuild(logSize int64, o rebuildOpts) (head, error) {
	s.closeIdx()
	s.durSize, s.durLast = 0, 0
	if err := s.markRebuilding(); err != nil {
		return head{}, err
	}
	streams, end, last, err := s.reindexLog(logSize)
	if err != nil {
		return head{}, err
	}
	if end < logSize {
		if end < o.ackEnd && !o.force {
			return head{}, &es.CorruptError{Path: s.path(logName), Offset: end, Err: fmt.Errorf(
				"damaged or unfinished record within the %d bytes known to be committed; nothing was cut (Repair cuts the log here, losing what follows)", o.ackEnd)}
		}
		lostAck := end < o.ackEnd
		reason := "torn or damaged tail of an append that was never acknowledged"
		if lostAck {
			reason = "damaged tail within acknowledged data, cut by Repair"
		}
		if err := s.cut(end, logSize, lostAck, reason); err != nil {
			return head{}, err
		}
		o.lost = true
	}
	versions, err := s.writeStreamIndexes(streams)
	if err != nil {
		return head{}, err
	}
	if o.lost {
		if err := s.dropSnapshotsBeyond(versions); err != nil {
			return head{}, err
		}
	}
	h := head{size: end, last: last}
	if err := s.writeHead(h); err != nil {
		return head{}, err
	}
	// Make the rebuilt files durable, so that the next reboot need not
	// rebuild them again.
	s.size, s.last = end, last
	if err := s.checkpoint(); err != nil {
		return head{}, err
	}
	return h, nil
}

// markRebuilding marks the head as written by no boot until the rebuild
// ends: the derived files are half rewritten meanwhile, and if this process
// dies midway the next one to take the lock rebuilds them again. Readers
// keep the head's size and position, which stay true of the log.
func (s *Store) markRebuilding() error {
	h, err := readHeadFile(s.headFile)
	if err != nil {
		return nil
	}
	h.boot = rebuildingBoot
	_, err = s.headFile.WriteAt(h.encode(), 0)
	return err
}

// reindexLog replays the whole log, rewriting positions.idx, and returns
// every stream's index entries.
func (s *Store) reindexLog(logSize int64) (map[string][]byte, int64, int64, error) {
	if err := s.pos.Truncate(0); err != nil {
		return nil, 0, 0, err
	}
	var posBuf []byte
	var posOff int64
	flush := func() error {
		if _, err := s.pos.WriteAt(posBuf, posOff); err != nil {
			return err
		}
		posOff += int64(len(posBuf))
		posBuf = posBuf[:0]
		return nil
	}
	streams := make(map[string][]byte)
	end, last, err := s.replay(0, 0, logSize, func(_ string, v int64) bool { return v == 1 }, func(r replayed) error {
		var e [entrySize]byte
		putEntry(e[:], r.off, r.n)
		posBuf = append(posBuf, e[:]...)
		streams[r.stream] = append(streams[r.stream], e[:]...)
		if len(posBuf) >= 1<<20 {
			return flush()
		}
		return nil
	})
	if err == nil {
		err = flush()
	}
	return streams, end, last, err
}

// writeStreamIndexes writes every stream's index file and the stream table,
// empties the index files of streams with no records, and returns the
// streams' versions by file name.
func (s *Store) writeStreamIndexes(streams map[string][]byte) (map[string]int64, error) {
	names := make(map[string]bool, len(streams))
	versions := make(map[string]int64, len(streams))
	keys := make(map[tableKey]int64, len(streams))
	for stream, entries := range streams {
		names[fileName(stream)+idxSuffix] = true
		n := int64(len(entries) / entrySize)
		versions[fileName(stream)] = n
		keys[keyOf(stream)] = n
		if err := os.WriteFile(s.idxPath(stream), entries, 0o644); err != nil {
			return nil, err
		}
	}
	if err := writeTableFile(s.path(tableName), keys, slotsFor(int64(len(keys)))); err != nil {
		return nil, err
	}
	des, err := os.ReadDir(s.path(streamsDir))
	if err != nil {
		return nil, err
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), idxSuffix) && !names[de.Name()] {
			if err := os.Truncate(filepath.Join(s.dir, streamsDir, de.Name()), 0); err != nil {
				return nil, err
			}
		}
	}
	return versions, nil
}

// rebuildingBoot stands for the boot ID in a head while a rebuild is under
// way; no boot has it.
const rebuildingBoot = "rebuilding"

// dropSnapshotsBeyond removes snapshots of versions their stream does not
// have, given stream versions by file name.
func (s *Store) dropSnapshotsBeyond(versions map[string]int64) error {
	des, err := os.ReadDir(s.path(snapshotsDir))
	if err != nil {
		return err
	}
	for _, de := range des {
		dir := filepath.Join(s.dir, snapshotsDir, de.Name())
		vs, err := snapVersions(dir)
		if err != nil {
			return err
		}
		for _, v := range vs {
			if v > versions[de.Name()] {
				path := filepath.Join(dir, snapName(v))
				if err := os.Remove(path); err != nil {
					return err
				}
				s.report(Recovery{Path: path, Reason: "snapshot removed: its events were lost from the log"})
			}
		}
	}
	return nil
}

// Reindex rebuilds every derived file (the positions index, the stream
// indexes, the stream table and the head) from the log. Open and Append do
// this by themselves when they find the derived files damaged or written
// before a reboot; Verify reports damage they have not met yet. Reindex cuts
// nothing that was committed: damaged committed data makes it fail with an
// error matching es.ErrCorrupt (see Repair). It holds the directory lock, so
// appends wait for it, but reads take no lock: reads running meanwhile, in
// this process or another, may fail with an error matching es.ErrCorrupt
// until it returns. If it is cut short, the next process to take the lock
// rebuilds the files again.
func (s *Store) Reindex() error {
	if s.isClosed() {
		return es.ErrClosed
	}
	if s.readOnly {
		return s.errReadOnly("reindex")
	}
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	return s.withLock(flock.Exclusive, func() error {
		if err := s.syncLocked(); err != nil {
			return err
		}
		fi, err := s.log.Stat()
		if err != nil {
			return err
		}
		h, err := s.rebuild(fi.Size(), rebuildOpts{ackEnd: s.size})
		if err != nil {
			return err
		}
		s.forgetCounts()
		s.size, s.last = h.size, h.last
		return nil
	})
}

// Repair rebuilds the store in dir from what its log holds, for a person to
// run when Open or Verify reports damage (jerry's `verify --repair`). It
// takes the directory lock, then:
//   - if the log is shorter than the head says was committed, or ends in a
//     damaged or unfinished record, it cuts the log after its last whole
//     append and removes snapshots of versions the log no longer holds;
//     the events lost are gone for good, and the repair says so (Lost);
//   - it rebuilds every derived file (positions.idx, the stream indexes, the
//     stream table, the head) from the log.
//
// Damage followed by valid records (in the middle of the log) is not
// repaired: cutting there would drop records that are whole. Repair then
// fails with an error matching es.ErrCorrupt naming the file and offset,
// and changes nothing but the derived files.
//
// It returns the repairs made, each also recorded durably in the store
// (Verify lists them). A store with nothing to repair gets its derived
// files rebuilt and an empty list.
func Repair(ctx context.Context, dir string, opts ...Option) ([]Recovery, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if _, err := os.Stat(filepath.Join(dir, logName)); err != nil {
		return nil, fmt.Errorf("jsonfile: repair %s: %w", dir, err)
	}
	s := newStore(dir, opts)
	if err := s.openFilesRW(false); err != nil {
		s.closeFiles()
		return nil, fmt.Errorf("jsonfile: repair %s: %w", dir, err)
	}
	defer s.closeFiles()
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	err := s.withLock(flock.Exclusive, func() error {
		fi, err := s.log.Stat()
		if err != nil {
			return err
		}
		logSize := fi.Size()
		o := rebuildOpts{ackEnd: logSize, force: true}
		h, herr := readHeadFile(s.headFile)
		switch {
		case herr == nil && h.size > logSize:
			s.report(Recovery{Path: s.path(logName), Offset: logSize, Lost: true, Reason: fmt.Sprintf(
				"the log holds %d bytes, but %d bytes up to position %d were committed: the events past its end are lost", logSize, h.size, h.last)})
			o.lost = true
		case herr == nil && h.boot == s.boot:
			// Past a head of this boot lie only appends never
			// acknowledged.
			o.ackEnd = h.size
		}
		nh, err := s.rebuild(logSize, o)
		if err == nil && herr == nil && h.last > nh.last {
			s.report(Recovery{Path: s.path(logName), Offset: nh.size, Lost: true, Reason: fmt.Sprintf(
				"positions %d to %d are lost; they, and the versions of the streams they held, will be given to new events", nh.last+1, h.last)})
		}
		return err
	})
	return s.Recovered(), err
}

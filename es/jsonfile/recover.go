package jsonfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/jerry-es/jerry/es"
)

// syncLocked brings this process's view and the derived files up to date
// with the log. The caller holds flockMu and the directory lock exclusively.
//
// Every writer writes the log, syncs it, then the indexes, then the head,
// all under the lock. So at lock time:
//   - a head of this boot whose size equals the log's means all is in order
//     (the common case: one small read and one fstat);
//   - a log longer than the head means a writer died after writing the log:
//     the tail is checked, a torn or unfinished append is cut, and complete
//     appends are indexed (repair);
//   - a head from another boot, or missing, damaged or longer than the log,
//     means the unsynced derived files cannot be trusted: they are rebuilt
//     from the log (rebuild).
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
	if herr != nil || h.size != s.size || logSize != s.size {
		// Another process wrote since this one last held the lock: the
		// stream versions it remembers may be stale.
		s.forgetCounts()
	}
	switch {
	case errors.Is(herr, errNoHead) && logSize == 0:
		h = head{}
		if s.readOnly {
			break
		}
		if err := s.writeHead(h); err != nil {
			return err
		}
	case s.readOnly && herr == nil && h.boot == s.boot && h.size <= logSize:
		// The indexes are current up to the head. A log longer than the
		// head holds appends of a writer that died before indexing them,
		// which it therefore never acknowledged: read up to the head, and
		// leave the repair to the next writer.
	case s.readOnly:
		reason := "the head is damaged or missing"
		if herr == nil {
			reason = "the indexes were written before the last reboot or do not match the log"
		}
		return fmt.Errorf("jsonfile: store %s needs its indexes rebuilt (%s), which needs write access: open it once as a user who may write it: %w",
			s.dir, reason, fs.ErrPermission)
	case herr != nil:
		if !errors.Is(herr, errNoHead) {
			s.report(Recovery{Path: s.path(headName), Reason: "head damaged (" + herr.Error() + "): indexes rebuilt from the log"})
		}
		h, err = s.rebuild(logSize, false)
	case h.boot != s.boot:
		if h.boot == rebuildingBoot {
			s.report(Recovery{Path: s.path(headName), Reason: "a rebuild of the indexes was cut short: indexes rebuilt from the log"})
		}
		h, err = s.rebuild(logSize, false)
	case h.size > logSize:
		s.report(Recovery{Path: s.path(logName), Offset: logSize,
			Reason: fmt.Sprintf("log is %d bytes, shorter than the %d bytes indexed: indexes rebuilt from the log", logSize, h.size)})
		h, err = s.rebuild(logSize, true)
	case h.size < logSize:
		h, err = s.repair(h, logSize)
	}
	if err != nil {
		return err
	}
	if h.size != s.size {
		s.forgetCounts() // repaired or rebuilt just now
	}
	s.size, s.last = h.size, h.last
	s.synced = true
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
func (s *Store) cut(end, logSize int64, reason string) error {
	if err := s.log.Truncate(end); err != nil {
		return err
	}
	if err := datasync(s.log); err != nil {
		return err
	}
	s.report(Recovery{Path: s.path(logName), Offset: end, Cut: logSize - end, Reason: reason})
	return nil
}

// repair indexes the log past h.size, left by a writer that died before it
// finished, and cuts an unfinished append at its end.
func (s *Store) repair(h head, logSize int64) (head, error) {
	var posEntries []byte
	type pending struct {
		from    int64
		entries []byte
	}
	streams := make(map[string]*pending)
	first := func(stream string, v int64) bool {
		ix, err := s.streamIndex(stream, false)
		// The dead writer may have indexed some of these records already.
		return err == nil && v >= 1 && v <= ix.count+1
	}
	end, last, err := s.replay(h.size, h.last, logSize, first, func(r replayed) error {
		var e [entrySize]byte
		putEntry(e[:], r.off, r.n)
		posEntries = append(posEntries, e[:]...)
		p := streams[r.stream]
		if p == nil {
			p = &pending{from: r.version}
			streams[r.stream] = p
		}
		p.entries = append(p.entries, e[:]...)
		return nil
	})
	if err != nil {
		return head{}, err
	}
	if end < logSize {
		if err := s.cut(end, logSize, "unfinished append left by a process that died while writing"); err != nil {
			return head{}, err
		}
	} else if !s.opts.noSync {
		// A writer that died may not have synced: sync before anyone
		// builds on its appends.
		if err := datasync(s.log); err != nil {
			return head{}, err
		}
	}
	if end > h.size {
		s.report(Recovery{Path: s.path(logName), Offset: h.size,
			Reason: fmt.Sprintf("indexed positions %d to %d, written by a process that died before indexing them", h.last+1, last)})
	}
	for stream, p := range streams {
		ix, err := s.streamIndex(stream, true)
		if err != nil {
			return head{}, err
		}
		if err := s.writeStreamEntries(ix, p.from, p.entries); err != nil {
			return head{}, err
		}
	}
	if err := s.writePositions(h.last+1, posEntries); err != nil {
		return head{}, err
	}
	h = head{size: end, last: last}
	return h, s.writeHead(h)
}

// rebuild recreates every derived file from the log. Files are rewritten in
// place, never replaced, so that other processes' open handles stay valid.
//
// lost says that committed data is known to be lost (the log is shorter
// than the head said); a tail cut here implies it too. Then snapshots of
// versions the log no longer holds are removed: they hold state of events
// that are gone, and new events will take their versions.
func (s *Store) rebuild(logSize int64, lost bool) (head, error) {
	s.closeIdx()
	// Until this rebuild ends the derived files are half rewritten: mark
	// the head as written by no boot, so that if this process dies midway
	// the next one to take the lock rebuilds them again. Readers keep the
	// head's size and position, which stay true of the log.
	if h, err := readHeadFile(s.headFile); err == nil {
		h.boot = rebuildingBoot
		if _, err := s.headFile.WriteAt(h.encode(), 0); err != nil {
			return head{}, err
		}
	}
	if err := s.pos.Truncate(0); err != nil {
		return head{}, err
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
	if err != nil {
		return head{}, err
	}
	if end < logSize {
		if err := s.cut(end, logSize, "torn or damaged tail"); err != nil {
			return head{}, err
		}
		lost = true
	}
	names := make(map[string]bool, len(streams))
	versions := make(map[string]int64, len(streams))
	for stream, entries := range streams {
		names[fileName(stream)+idxSuffix] = true
		versions[fileName(stream)] = int64(len(entries) / entrySize)
		if err := os.WriteFile(s.idxPath(stream), entries, 0o644); err != nil {
			return head{}, err
		}
	}
	// Index files of streams with no records left: empty them.
	des, err := os.ReadDir(s.path(streamsDir))
	if err != nil {
		return head{}, err
	}
	for _, de := range des {
		if strings.HasSuffix(de.Name(), idxSuffix) && !names[de.Name()] {
			if err := os.Truncate(filepath.Join(s.dir, streamsDir, de.Name()), 0); err != nil {
				return head{}, err
			}
		}
	}
	if lost {
		if err := s.dropSnapshotsBeyond(versions); err != nil {
			return head{}, err
		}
	}
	h := head{size: end, last: last}
	return h, s.writeHead(h)
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
// indexes and the head) from the log. Open does this by itself when the
// derived files cannot be trusted; call Reindex when Verify reports damage in
// them. It holds the directory lock, so appends wait for it, but reads take
// no lock: reads running meanwhile, in this process or another, may fail
// with an error matching es.ErrCorrupt or see streams as empty until it
// returns. If it is cut short, the next process to take the lock rebuilds
// the files again.
func (s *Store) Reindex() error {
	if s.isClosed() {
		return es.ErrClosed
	}
	if s.readOnly {
		return s.errReadOnly("reindex")
	}
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	return s.withLock(lockEx, func() error {
		fi, err := s.log.Stat()
		if err != nil {
			return err
		}
		h, err := s.rebuild(fi.Size(), false)
		if err != nil {
			return err
		}
		s.size, s.last = h.size, h.last
		return nil
	})
}

package jsonfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jerry-es/jerry/es"
)

// errDerivedDamaged marks a derived file found to disagree with another or
// with the log while the lock is held: the derived files are rebuilt from
// the log before the commit goes on.
var errDerivedDamaged = errors.New("derived files disagree")

// writeHead writes h as this process's head, carrying the durable mark
// forward.
func (s *Store) writeHead(h head) error {
	h.boot = s.boot
	h.noSync = s.opts.noSync
	h.durSize, h.durLast = min(s.durSize, h.size), min(s.durLast, h.last)
	_, err := s.headFile.WriteAt(h.encode(), 0)
	return err
}

// idxFile is a stream's index file as the committing process knows it.
type idxFile struct {
	f      *os.File
	stream string
	size   int64
	count  int64 // the stream's version
	known  bool  // size and count are current and checked; see syncLocked
	pinned bool  // held by the commit in progress: not to be evicted
}

// streamIndex returns the index file of stream, kept open in a small cache,
// with its size and count current and checked against the stream table and
// the log. With create false, a stream with no file gives an idxFile with no
// file. The caller holds the lock. A disagreement gives an error matching
// errDerivedDamaged.
func (s *Store) streamIndex(stream string, create bool) (*idxFile, error) {
	ix := s.idx[stream]
	if ix != nil && ix.known {
		return ix, nil
	}
	if ix == nil {
		var err error
		if ix, err = s.openIdx(stream, create); err != nil || ix.f == nil {
			return ix, err
		}
	}
	fi, err := ix.f.Stat()
	if err != nil {
		return nil, err
	}
	ix.size = fi.Size()
	// The lock is held: no writer races this read, so a last entry that
	// fails its checksum is damage.
	var ok bool
	ix.count, ok, err = indexCount(ix.f, ix.size)
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, s.damaged(s.idxPath(stream), (ix.count-1)*entrySize, "last index entry fails its checksum")
	}
	if err := s.checkIndex(ix); err != nil {
		return nil, err
	}
	ix.known = true
	return ix, nil
}

func (s *Store) openIdx(stream string, create bool) (*idxFile, error) {
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE
	}
	f, err := os.OpenFile(s.idxPath(stream), flag, 0o644)
	if errors.Is(err, fs.ErrNotExist) && !create {
		ix := &idxFile{stream: stream}
		if err := s.checkIndex(ix); err != nil {
			return nil, err
		}
		ix.known = true
		return ix, nil
	}
	if err != nil {
		return nil, err
	}
	if len(s.idx) >= 256 {
		s.evictIdx()
	}
	ix := &idxFile{f: f, stream: stream}
	s.idx[stream] = ix
	return ix, nil
}

// damaged returns an error matching errDerivedDamaged that names the file.
func (s *Store) damaged(path string, off int64, what string) error {
	return &es.CorruptError{Path: path, Offset: off, Err: fmt.Errorf("%w: %s", errDerivedDamaged, what)}
}

// checkIndex checks ix's count against the stream table, and its last
// entry against the log: it must point to the stream's record of that
// version. An index file missing, emptied, cut short or copied from another
// stream fails one of the two.
func (s *Store) checkIndex(ix *idxFile) error {
	tab, err := s.table()
	if err != nil {
		return err
	}
	v, _, _, err := tab.find(keyOf(ix.stream))
	if err != nil {
		return s.damaged(tab.path, 0, err.Error())
	}
	if v != ix.count {
		return s.damaged(s.idxPath(ix.stream), ix.count*entrySize,
			fmt.Sprintf("index of stream %q holds %d entries; the stream table says %d", ix.stream, ix.count, v))
	}
	if ix.count == 0 {
		return nil
	}
	if ok, err := s.entryPointsTo(ix.f, ix.stream, ix.count, s.size, s.dec); ok || err != nil {
		return err
	}
	return s.damaged(s.idxPath(ix.stream), (ix.count-1)*entrySize,
		fmt.Sprintf("last entry of the index of stream %q does not point to its version %d", ix.stream, ix.count))
}

// table returns the stream table, opened under the lock and checked.
func (s *Store) table() (*table, error) {
	if s.tab != nil {
		return s.tab, nil
	}
	t, err := readTable(s.path(tableName), !s.readOnly)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, errTable) {
			return nil, s.damaged(s.path(tableName), 0, err.Error())
		}
		return nil, err
	}
	s.tab = t
	return t, nil
}

// updateTable records the new versions of the batch's streams, growing the
// table first if it would become more than half full.
func (s *Store) updateTable(order []*pendingStream) error {
	tab, err := s.table()
	if err != nil {
		return err
	}
	added := 0
	for _, ps := range order {
		if ps.base == 0 && len(ps.recs) > 0 {
			added++
		}
	}
	if tab.full(added) {
		if err := s.growTable(added); err != nil {
			return err
		}
		tab = s.tab
	}
	for _, ps := range order {
		if len(ps.recs) > 0 {
			if err := tab.set(keyOf(ps.stream), ps.base+int64(len(ps.recs))); err != nil {
				return err
			}
		}
	}
	return nil
}

// growTable rewrites the table with room for added more streams.
func (s *Store) growTable(added int) error {
	vs, err := s.tab.entries()
	if err != nil {
		return err
	}
	if err := writeTableFile(s.tab.path, vs, slotsFor(int64(len(vs)+added))); err != nil {
		return err
	}
	s.tab.close()
	s.tab = nil
	_, err = s.table()
	return err
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
// have appended, or grown the stream table.
func (s *Store) forgetCounts() {
	for _, ix := range s.idx {
		ix.known = false
	}
	s.posSize = -1
	s.tab.close()
	s.tab = nil
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

// readEntry reads the index entry at off of f.
// entryPointsTo reports whether the entry of version n in f, stream's index,
// points to that stream's record n in the log within its first limit bytes:
// the check readers and writers make before they trust an index. err is an
// I/O error; a short or foreign line is ok false. d decodes, nil for a
// throwaway decoder.
func (s *Store) entryPointsTo(f *os.File, stream string, n, limit int64, d *decoder) (bool, error) {
	off, ln, ok, err := readEntry(f, (n-1)*entrySize)
	if err != nil || !ok || ln < 1 || off+int64(ln) > limit {
		return false, err
	}
	line := make([]byte, ln)
	if got, err := s.log.ReadAt(line, off); got < ln {
		if err == io.EOF {
			err = nil
		}
		return false, err
	}
	if d == nil {
		d = &decoder{}
	}
	var r es.Record
	_, err = d.decodeLine(line[:ln-1], &r)
	return err == nil && line[ln-1] == '\n' && r.Stream == stream && r.Version == n, nil
}

func readEntry(f *os.File, off int64) (int64, int, bool, error) {
	var e [entrySize]byte
	if _, err := f.ReadAt(e[:], off); err != nil {
		if err == io.EOF {
			return 0, 0, false, nil
		}
		return 0, 0, false, err
	}
	o, n, ok := getEntry(e[:])
	return o, n, ok, nil
}

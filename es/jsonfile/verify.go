package jsonfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/flock"
)

// maxProblems bounds the problems a Report lists; Problems counts them all.
const maxProblems = 100

// Report is the result of Verify.
type Report struct {
	// Events is the number of records in the log, and LastPosition the
	// highest position found.
	Events, LastPosition int64
	// Streams is the number of streams with at least one record.
	Streams int
	// Snapshots is the number of snapshot files checked.
	Snapshots int
	// LogSize is the size of the log in bytes.
	LogSize int64
	// Problems lists the damage found, each a *es.CorruptError naming the
	// file and offset; at most 100 are listed, NumProblems counts all.
	Problems    []error
	NumProblems int
	// Repairs lists every repair recorded in the store since it was
	// created: torn tails cut, derived files rebuilt, and data Repair cut
	// at a person's request (Lost). They are history, not problems.
	Repairs []Recovery
}

// OK reports whether Verify found no damage.
func (r *Report) OK() bool { return r.NumProblems == 0 }

// String summarises the report, one problem a line.
func (r *Report) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d events, %d streams, %d snapshots, last position %d, log %d bytes: ",
		r.Events, r.Streams, r.Snapshots, r.LastPosition, r.LogSize)
	if r.OK() {
		b.WriteString("ok")
	} else {
		fmt.Fprintf(&b, "%d problems", r.NumProblems)
	}
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	if r.NumProblems > len(r.Problems) {
		fmt.Fprintf(&b, "\n  ... and %d more", r.NumProblems-len(r.Problems))
	}
	if len(r.Repairs) > 0 {
		fmt.Fprintf(&b, "\n%d repairs recorded:", len(r.Repairs))
		for _, rp := range r.Repairs {
			fmt.Fprintf(&b, "\n  %s %s", rp.Time.UTC().Format(time.RFC3339), rp)
		}
	}
	return b.String()
}

func (r *Report) add(path string, off int64, err error) {
	r.NumProblems++
	if len(r.Problems) < maxProblems {
		r.Problems = append(r.Problems, &es.CorruptError{Path: path, Offset: off, Err: err})
	}
}

// checkZeros checks that f holds only zero bytes from from to to.
func (s *Store) checkZeros(f *os.File, from, to int64) error {
	buf := make([]byte, 64<<10)
	for off := from; off < to; {
		n, err := f.ReadAt(buf[:min(int64(len(buf)), to-off)], off)
		for i, c := range buf[:n] {
			if c != 0 {
				return fmt.Errorf("entry past the last position at offset %d", off+int64(i))
			}
		}
		if err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		off += int64(n)
	}
	return nil
}

// streamCheck accumulates what the log says about one stream.
type streamCheck struct {
	stream  string
	version int64
	hash    uint64 // FNV-1a over the index entries the stream should have
}

const fnvOffset, fnvPrime = 14695981039346656037, 1099511628211

func fnv(h uint64, b []byte) uint64 {
	for _, c := range b {
		h = (h ^ uint64(c)) * fnvPrime
	}
	return h
}

// Verify checks the whole store, holding the directory lock so that no
// process writes meanwhile (having first indexed a tail that a writer left
// unindexed when it died, as Open does): every line's checksum and layout, positions
// 1..N without gap in log order, versions 1..n without gap in every stream,
// appends complete, event data valid JSON, the positions index and every
// stream index against the log, the head, and every snapshot (checksum,
// file name, and version not beyond its stream). It reads everything once,
// sequentially, in bounded memory (plus a few dozen bytes per stream).
//
// The report lists every problem found. The error is nil if the store is
// sound; otherwise it is the first problem (matching es.ErrCorrupt), or the
// I/O or context error that stopped the check.
func (s *Store) Verify(ctx context.Context) (*Report, error) {
	if s.isClosed() {
		return nil, es.ErrClosed
	}
	s.flockMu.Lock()
	defer s.flockMu.Unlock()
	var rep *Report
	mode := flock.Exclusive
	if s.readOnly {
		mode = flock.Shared
	}
	err := s.withLock(mode, func() error {
		// Open trusts a current head without waiting when a writer holds
		// the lock; if that writer then died before indexing its last
		// append, what it left is a tail to index, as on an open that
		// finds the lock free, not damage to report.
		if !s.readOnly {
			var ce *es.CorruptError
			if err := s.syncLocked(); err != nil && !errors.As(err, &ce) {
				return err
			}
		}
		var err error
		rep, err = s.verifyLocked(ctx)
		return err
	})
	if err != nil {
		return rep, err
	}
	if !rep.OK() {
		return rep, rep.Problems[0]
	}
	return rep, nil
}

// verifier holds the state of one Verify: what the log says, checked
// step by step against every other file.
type verifier struct {
	s       *Store
	ctx     context.Context
	rep     *Report
	streams map[string]*streamCheck // by file name
}

// verifyLocked checks the store in named steps; the caller holds the lock.
func (s *Store) verifyLocked(ctx context.Context) (*Report, error) {
	v := &verifier{s: s, ctx: ctx, rep: &Report{}, streams: make(map[string]*streamCheck)}
	steps := []func() error{v.checkLog, v.checkHead, v.checkStreamIndexes, v.checkTable, v.checkSnapshots, v.readRepairs}
	for _, step := range steps {
		if err := step(); err != nil {
			return v.rep, err
		}
	}
	v.rep.Streams = len(v.streams)
	return v.rep, nil
}

// logCheck is the state of the pass over the log.
type logCheck struct {
	want    int64        // the next position expected
	open    *streamCheck // stream of an unfinished append
	openOff int64
	pos     *posReader
}

// posReader reads positions.idx in blocks as the log is read in order.
type posReader struct {
	f     *os.File
	buf   []byte
	start int64 // position of buf[0]; -1 if none
	n     int
}

func (p *posReader) entry(pos int64) ([]byte, error) {
	if p.start < 0 || pos < p.start || pos >= p.start+int64(p.n) {
		n, err := p.f.ReadAt(p.buf, (pos-1)*entrySize)
		if err != nil && err != io.EOF {
			return nil, err
		}
		p.start, p.n = pos, n/entrySize
		if p.n == 0 {
			return nil, nil
		}
	}
	i := (pos - p.start) * entrySize
	return p.buf[i : i+entrySize], nil
}

// checkLog reads the log once: every line's checksum and layout, positions
// without gap, versions without gap in every stream, appends complete, data
// valid JSON, and positions.idx's entry for every line.
func (v *verifier) checkLog() error {
	s, rep := v.s, v.rep
	fi, err := s.log.Stat()
	if err != nil {
		return err
	}
	rep.LogSize = fi.Size()
	logPath := s.path(logName)
	sc := newScanner(s.log, 0, rep.LogSize, nil)
	dec := newDecoder()
	dec.copyData = false
	lc := &logCheck{want: 1, pos: &posReader{f: s.pos, buf: make([]byte, entrySize*4096), start: -1}}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := v.ctx.Err(); err != nil {
				return err
			}
		}
		line, off, err := sc.next()
		if err == io.EOF {
			break
		}
		if err == errTooLong {
			rep.add(logPath, off, err)
			sc.discard()
			continue
		}
		if err == errTorn {
			rep.add(logPath, off, errors.New("last line has no newline (torn write)"))
			break
		}
		if err != nil {
			return err
		}
		var r es.Record
		last, err := dec.decodeLine(line, &r)
		if err != nil {
			rep.add(logPath, off, err)
			continue
		}
		if err := v.checkRecord(lc, &r, last, off, len(line)+1); err != nil {
			return err
		}
	}
	if lc.open != nil {
		rep.add(logPath, lc.openOff, fmt.Errorf("append to stream %q has no last record", lc.open.stream))
	}
	return v.checkPositionsEnd()
}

// checkRecord checks one decoded record of the log against those before it
// and against positions.idx.
func (v *verifier) checkRecord(lc *logCheck, r *es.Record, last bool, off int64, n int) error {
	rep, logPath := v.rep, v.s.path(logName)
	rep.Events++
	if !json.Valid(r.Data) {
		rep.add(logPath, off, fmt.Errorf("position %d: data is not valid JSON", r.Position))
	}
	if r.Position != lc.want {
		rep.add(logPath, off, fmt.Errorf("position %d where %d was expected", r.Position, lc.want))
	}
	lc.want = r.Position + 1
	rep.LastPosition = max(rep.LastPosition, r.Position)
	name := fileName(r.Stream)
	st := v.streams[name]
	if st == nil {
		st = &streamCheck{stream: r.Stream, hash: fnvOffset}
		v.streams[name] = st
	} else if st.stream != r.Stream {
		rep.add(logPath, off, fmt.Errorf("streams %q and %q map to one file name", st.stream, r.Stream))
	}
	if lc.open != nil && lc.open != st {
		rep.add(logPath, off, fmt.Errorf("record of stream %q inside an unfinished append to stream %q", r.Stream, lc.open.stream))
	}
	if r.Version != st.version+1 {
		rep.add(logPath, off, fmt.Errorf("stream %q version %d follows version %d", r.Stream, r.Version, st.version))
	}
	st.version = r.Version
	var e [entrySize]byte
	putEntry(e[:], off, n)
	st.hash = fnv(st.hash, e[:])
	pe, err := lc.pos.entry(r.Position)
	if err != nil {
		return err
	}
	if pe == nil || !bytes.Equal(pe, e[:]) {
		rep.add(v.s.path(positionsName), (r.Position-1)*entrySize, fmt.Errorf("entry for position %d does not point to its line at offset %d", r.Position, off))
	}
	if last {
		lc.open = nil
	} else if lc.open == nil {
		lc.open, lc.openOff = st, off
	}
	return nil
}

// checkPositionsEnd checks that positions.idx holds nothing past the last
// position.
func (v *verifier) checkPositionsEnd() error {
	s, rep := v.s, v.rep
	posPath := s.path(positionsName)
	fi, err := s.pos.Stat()
	if err != nil {
		return err
	}
	if fi.Size() < rep.LastPosition*entrySize {
		rep.add(posPath, fi.Size(), fmt.Errorf("%d bytes for %d positions", fi.Size(), rep.LastPosition))
	} else if err := s.checkZeros(s.pos, rep.LastPosition*entrySize, fi.Size()); err != nil {
		rep.add(posPath, rep.LastPosition*entrySize, err)
	}
	return nil
}

// checkHead checks the head against the log.
func (v *verifier) checkHead() error {
	s, rep := v.s, v.rep
	if h, err := readHeadFile(s.headFile); err != nil {
		rep.add(s.path(headName), 0, err)
	} else if h.size != rep.LogSize || h.last != rep.LastPosition {
		rep.add(s.path(headName), 0, fmt.Errorf("head says %d bytes and position %d; the log has %d bytes and position %d", h.size, h.last, rep.LogSize, rep.LastPosition))
	}
	return nil
}

// checkStreamIndexes checks every stream's index file against the log.
func (v *verifier) checkStreamIndexes() error {
	s := v.s
	des, err := os.ReadDir(s.path(streamsDir))
	if err != nil {
		return err
	}
	seen := make(map[string]bool)
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), idxSuffix)
		if !ok {
			continue
		}
		path := filepath.Join(s.dir, streamsDir, de.Name())
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		seen[name] = true
		v.checkStreamIndex(path, b, v.streams[name])
	}
	for name, st := range v.streams {
		if !seen[name] {
			v.rep.add(s.idxPath(st.stream), 0, fmt.Errorf("no index for stream %q of %d records", st.stream, st.version))
		}
	}
	return nil
}

// checkStreamIndex checks one index file, b, against st (nil for a stream
// with no records).
func (v *verifier) checkStreamIndex(path string, b []byte, st *streamCheck) {
	rep := v.rep
	if st == nil {
		if i := bytes.IndexFunc(b, func(r rune) bool { return r != 0 }); i >= 0 {
			rep.add(path, int64(i), errors.New("index entries for a stream with no records"))
		}
		return
	}
	end := st.version * entrySize
	if int64(len(b)) < end {
		rep.add(path, int64(len(b)), fmt.Errorf("index holds %d bytes; stream %q has %d records", len(b), st.stream, st.version))
		return
	}
	for i := end; i < int64(len(b)); i++ {
		if b[i] != 0 {
			rep.add(path, i, fmt.Errorf("entry past the stream's %d records", st.version))
			break
		}
	}
	b = b[:end]
	if fnv(fnvOffset, b) == st.hash {
		return
	}
	for i := 0; i+entrySize <= len(b); i += entrySize {
		if _, _, ok := getEntry(b[i:]); !ok {
			rep.add(path, int64(i), errors.New("index entry checksum mismatch"))
			break
		}
	}
	rep.add(path, 0, fmt.Errorf("index of stream %q does not match the log", st.stream))
}

// checkTable checks the stream table: whole, and holding exactly every
// stream's version.
func (v *verifier) checkTable() error {
	path := v.s.path(tableName)
	t, err := readTable(path, false)
	if err != nil {
		v.rep.add(path, 0, err)
		return nil
	}
	defer t.close()
	got, err := t.entries()
	if err != nil {
		v.rep.add(path, 0, err)
		return nil
	}
	// The header's count of used slots is not compared: a writer killed
	// between a new stream's slot and the header leaves it one short,
	// which only makes the table grow a little later.
	for _, st := range v.streams {
		k := keyOf(st.stream)
		if got[k] != st.version {
			v.rep.add(path, 0, fmt.Errorf("stream %q: table says version %d; the log has %d", st.stream, got[k], st.version))
		}
		delete(got, k)
	}
	if len(got) > 0 {
		v.rep.add(path, 0, fmt.Errorf("%d entries for streams the log does not hold", len(got)))
	}
	return nil
}

// checkSnapshots checks every snapshot file: checksum, file name, and a
// version its stream has.
func (v *verifier) checkSnapshots() error {
	s, rep := v.s, v.rep
	sdes, err := os.ReadDir(s.path(snapshotsDir))
	if err != nil {
		return err
	}
	for _, sde := range sdes {
		dir := filepath.Join(s.dir, snapshotsDir, sde.Name())
		versions, err := snapVersions(dir)
		if err != nil {
			return err
		}
		for _, ver := range versions {
			path := filepath.Join(dir, snapName(ver))
			rep.Snapshots++
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			sn, err := decodeSnapshot(b)
			switch {
			case err != nil:
				rep.add(path, 0, err)
			case fileName(sn.Stream) != sde.Name() || sn.Version != ver:
				rep.add(path, 0, fmt.Errorf("file holds stream %q version %d", sn.Stream, sn.Version))
			case !json.Valid(sn.State):
				rep.add(path, 0, errors.New("state is not valid JSON"))
			default:
				if st := v.streams[sde.Name()]; st == nil || st.version < sn.Version {
					rep.add(path, 0, fmt.Errorf("snapshot of version %d is beyond its stream", sn.Version))
				}
			}
		}
	}
	return nil
}

// readRepairs lists the repairs recorded in the store.
func (v *verifier) readRepairs() error {
	rs, err := readRepairs(v.s.path(repairsName))
	v.rep.Repairs = rs
	var ce *es.CorruptError
	if errors.As(err, &ce) {
		v.rep.add(ce.Path, ce.Offset, ce.Err)
		return nil
	}
	return err
}

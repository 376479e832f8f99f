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

	"github.com/jerry-es/jerry/es"
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
		return b.String()
	}
	fmt.Fprintf(&b, "%d problems", r.NumProblems)
	for _, p := range r.Problems {
		b.WriteString("\n  ")
		b.WriteString(p.Error())
	}
	if r.NumProblems > len(r.Problems) {
		fmt.Fprintf(&b, "\n  ... and %d more", r.NumProblems-len(r.Problems))
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

// Verify checks the whole store, holding the directory lock shared so that
// no process writes meanwhile: every line's checksum and layout, positions
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
	err := s.withLock(lockSh, func() error {
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

func (s *Store) verifyLocked(ctx context.Context) (*Report, error) {
	rep := &Report{}
	fi, err := s.log.Stat()
	if err != nil {
		return rep, err
	}
	rep.LogSize = fi.Size()
	logPath, posPath := s.path(logName), s.path(positionsName)

	// The log, and positions.idx beside it.
	streams := make(map[string]*streamCheck) // by file name
	posFi, err := s.pos.Stat()
	if err != nil {
		return rep, err
	}
	sc := newScanner(s.log, 0, rep.LogSize, nil)
	dec := newDecoder()
	dec.copyData = false
	var (
		want     int64        = 1
		open     *streamCheck // stream of an unfinished append
		openOff  int64
		posBuf         = make([]byte, entrySize*4096)
		posStart int64 = -1 // position of posBuf[0]
		posN     int
	)
	posEntry := func(p int64) ([]byte, error) {
		if posStart < 0 || p < posStart || p >= posStart+int64(posN) {
			n, err := s.pos.ReadAt(posBuf, (p-1)*entrySize)
			if err != nil && err != io.EOF {
				return nil, err
			}
			posStart, posN = p, n/entrySize
			if posN == 0 {
				return nil, nil
			}
		}
		i := (p - posStart) * entrySize
		return posBuf[i : i+entrySize], nil
	}
	for n := 0; ; n++ {
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return rep, err
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
			return rep, err
		}
		var r es.Record
		last, err := dec.decodeLine(line, &r)
		if err != nil {
			rep.add(logPath, off, err)
			continue
		}
		rep.Events++
		if !json.Valid(r.Data) {
			rep.add(logPath, off, fmt.Errorf("position %d: data is not valid JSON", r.Position))
		}
		if r.Position != want {
			rep.add(logPath, off, fmt.Errorf("position %d where %d was expected", r.Position, want))
		}
		want = r.Position + 1
		rep.LastPosition = max(rep.LastPosition, r.Position)
		name := fileName(r.Stream)
		st := streams[name]
		if st == nil {
			st = &streamCheck{stream: r.Stream, hash: fnvOffset}
			streams[name] = st
		} else if st.stream != r.Stream {
			rep.add(logPath, off, fmt.Errorf("streams %q and %q map to one file name", st.stream, r.Stream))
		}
		if open != nil && open != st {
			rep.add(logPath, off, fmt.Errorf("record of stream %q inside an unfinished append to stream %q", r.Stream, open.stream))
		}
		if r.Version != st.version+1 {
			rep.add(logPath, off, fmt.Errorf("stream %q version %d follows version %d", r.Stream, r.Version, st.version))
		}
		st.version = r.Version
		var e [entrySize]byte
		putEntry(e[:], off, len(line)+1)
		st.hash = fnv(st.hash, e[:])
		pe, err := posEntry(r.Position)
		if err != nil {
			return rep, err
		}
		if pe == nil || !bytes.Equal(pe, e[:]) {
			rep.add(posPath, (r.Position-1)*entrySize, fmt.Errorf("entry for position %d does not point to its line at offset %d", r.Position, off))
		}
		if last {
			open = nil
		} else if open == nil {
			open, openOff = st, off
		}
	}
	if open != nil {
		rep.add(logPath, openOff, fmt.Errorf("append to stream %q has no last record", open.stream))
	}
	if posFi.Size() < rep.LastPosition*entrySize {
		rep.add(posPath, posFi.Size(), fmt.Errorf("%d bytes for %d positions", posFi.Size(), rep.LastPosition))
	} else if err := s.checkZeros(s.pos, rep.LastPosition*entrySize, posFi.Size()); err != nil {
		rep.add(posPath, rep.LastPosition*entrySize, err)
	}
	rep.Streams = len(streams)

	// The head.
	if h, err := readHeadFile(s.headFile); err != nil {
		rep.add(s.path(headName), 0, err)
	} else if h.size != rep.LogSize || h.last != rep.LastPosition {
		rep.add(s.path(headName), 0, fmt.Errorf("head says %d bytes and position %d; the log has %d bytes and position %d", h.size, h.last, rep.LogSize, rep.LastPosition))
	}

	// The stream indexes.
	des, err := os.ReadDir(s.path(streamsDir))
	if err != nil {
		return rep, err
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
			return rep, err
		}
		st := streams[name]
		if st == nil {
			for i, c := range b {
				if c != 0 {
					rep.add(path, int64(i), errors.New("index entries for a stream with no records"))
					break
				}
			}
			continue
		}
		seen[name] = true
		end := st.version * entrySize
		if int64(len(b)) < end {
			rep.add(path, int64(len(b)), fmt.Errorf("index holds %d bytes; stream %q has %d records", len(b), st.stream, st.version))
			continue
		}
		for i := end; i < int64(len(b)); i++ {
			if b[i] != 0 {
				rep.add(path, i, fmt.Errorf("entry past the stream's %d records", st.version))
				break
			}
		}
		b = b[:end]
		if fnv(fnvOffset, b) != st.hash {
			for i := 0; i+entrySize <= len(b); i += entrySize {
				if _, _, ok := getEntry(b[i:]); !ok {
					rep.add(path, int64(i), errors.New("index entry checksum mismatch"))
					break
				}
			}
			rep.add(path, 0, fmt.Errorf("index of stream %q does not match the log", st.stream))
		}
	}
	for name, st := range streams {
		if !seen[name] {
			rep.add(s.idxPath(st.stream), 0, fmt.Errorf("no index for stream %q of %d records", st.stream, st.version))
		}
	}

	// The snapshots.
	sdes, err := os.ReadDir(s.path(snapshotsDir))
	if err != nil {
		return rep, err
	}
	for _, sde := range sdes {
		dir := filepath.Join(s.dir, snapshotsDir, sde.Name())
		versions, err := snapVersions(dir)
		if err != nil {
			return rep, err
		}
		for _, v := range versions {
			path := filepath.Join(dir, snapName(v))
			rep.Snapshots++
			b, err := os.ReadFile(path)
			if err != nil {
				return rep, err
			}
			sn, err := decodeSnapshot(b)
			switch {
			case err != nil:
				rep.add(path, 0, err)
			case fileName(sn.Stream) != sde.Name() || sn.Version != v:
				rep.add(path, 0, fmt.Errorf("file holds stream %q version %d", sn.Stream, sn.Version))
			case !json.Valid(sn.State):
				rep.add(path, 0, errors.New("state is not valid JSON"))
			default:
				if st := streams[sde.Name()]; st == nil || st.version < sn.Version {
					rep.add(path, 0, fmt.Errorf("snapshot of version %d is beyond its stream", sn.Version))
				}
			}
		}
	}
	return rep, nil
}

package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
	"os"
	"sync"
	"time"

	"github.com/jerry-es/jerry/es"
)

// Reads take no lock. The log is append-only and only ever cut beyond the
// committed size, so bytes below a committed size never change; readers
// learn that size from the head file, which writers update last.

var bufPool = sync.Pool{New: func() any { b := make([]byte, scanBuf); return &b }}

// currentHead reads the head file. A read that races a writer's update of
// the 143-byte line can see it half written; the checksum catches that, and
// the read is tried again.
func (s *Store) currentHead() (head, error) {
	var err error
	for i := range 50 {
		var h head
		if h, err = readHeadFile(s.headFile); err == nil {
			return h, nil
		}
		if errors.Is(err, errNoHead) {
			return head{}, nil
		}
		if i > 3 {
			time.Sleep(time.Millisecond)
		}
	}
	return head{}, &es.CorruptError{Path: s.path(headName), Err: err}
}

// LastPosition implements es.LogReader.
func (s *Store) LastPosition(ctx context.Context) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.isClosed() {
		return 0, es.ErrClosed
	}
	h, err := s.currentHead()
	return h.last, err
}

// StreamVersion implements es.EventStore. It costs one stat of the stream's
// index file.
func (s *Store) StreamVersion(ctx context.Context, stream string) (int64, error) {
	if err := es.ValidateStreamID(stream); err != nil {
		return 0, err
	}
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if s.isClosed() {
		return 0, es.ErrClosed
	}
	f, n, err := s.openChecked(stream)
	if f != nil {
		f.Close()
	}
	return n, err
}

// openChecked opens stream's index file (nil if there is none) and returns
// its version, checked for a reader that holds no lock: writers write the
// index before the stream table, and this reads the table first, so the
// index must hold at least the table's version, and its last entry must
// point to the stream's record of that version. An index missing, emptied,
// cut short or copied from another stream fails one of these, and the
// reader gets an error naming it rather than a wrong answer. A
// disagreement is looked at again a few times, the file opened anew: a
// rebuild may be rewriting the files.
func (s *Store) openChecked(stream string) (*os.File, int64, error) {
	path := s.idxPath(stream)
	for i := 0; ; i++ {
		tv, err := lookupTable(s.path(tableName), stream)
		var f *os.File
		var n int64
		if err == nil {
			f, err = os.Open(path)
			if errors.Is(err, fs.ErrNotExist) {
				f, err = nil, nil
			}
		}
		if err == nil && f != nil {
			n, err = readCount(f)
		}
		if err == nil && n < tv {
			err = &es.CorruptError{Path: path, Offset: n * entrySize,
				Err: fmt.Errorf("index of stream %q holds %d entries; the stream table says %d (a writer rebuilds it; Reindex or Repair do now)", stream, n, tv)}
		}
		if err == nil && n > 0 {
			err = s.checkLastEntry(stream, f, n)
		}
		if err == nil {
			return f, n, nil
		}
		if f != nil {
			f.Close()
		}
		if i == 3 {
			return nil, 0, err
		}
		time.Sleep(time.Duration(i+1) * time.Millisecond)
	}
}

// checkLastEntry checks that the entry of version n of stream's index f
// points to that record.
func (s *Store) checkLastEntry(stream string, f *os.File, n int64) error {
	path := s.idxPath(stream)
	if ok, err := s.entryPointsTo(f, stream, n, math.MaxInt64, nil); ok || err != nil {
		return err
	}
	return &es.CorruptError{Path: path, Offset: (n - 1) * entrySize,
		Err: fmt.Errorf("entry of version %d of stream %q does not point to that record", n, stream)}
}

// readCount returns the number of entries of an index file without the lock.
// A writer may be copying an entry as it is read; a last entry that fails
// its checksum is read again a few times before the count is returned as it
// is (a read of that entry then reports the damage).
func readCount(f *os.File) (int64, error) {
	for i := 0; ; i++ {
		fi, err := f.Stat()
		if err != nil {
			return 0, err
		}
		n, ok, err := indexCount(f, fi.Size())
		if err != nil || ok || i == 20 {
			return n, err
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// ReadStream implements es.EventStore. It reads the stream's index file and
// only the log lines it points to, coalescing neighbouring lines into one
// read; other streams' records are never decoded.
func (s *Store) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidateRead(stream, from, to); err != nil {
			yield(es.Record{}, err)
			return
		}
		if s.isClosed() {
			yield(es.Record{}, es.ErrClosed)
			return
		}
		f, count, err := s.openChecked(stream)
		if f != nil {
			defer f.Close()
		}
		if err != nil {
			yield(es.Record{}, err)
			return
		}
		if to == 0 || to > count {
			to = count
		}
		if from > to {
			return
		}
		r := newStreamReader(s, stream, f)
		defer r.release()
		for rec, err := range r.read(ctx, from, to) {
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

// streamReader reads a stream through its index file.
type streamReader struct {
	s      *Store
	stream string
	idx    *os.File
	dec    *decoder
	ents   []byte
	buf    *[]byte
	// window: buf[:wn] holds the log from offset woff.
	woff int64
	wn   int
}

func newStreamReader(s *Store, stream string, idx *os.File) *streamReader {
	return &streamReader{s: s, stream: stream, idx: idx, dec: newDecoder(), buf: bufPool.Get().(*[]byte)}
}

func (r *streamReader) release() {
	if r.buf != nil {
		bufPool.Put(r.buf)
		r.buf = nil
	}
}

const entriesPerRead = 4096

func (r *streamReader) read(ctx context.Context, from, to int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		count, err := readCount(r.idx)
		if err != nil {
			yield(es.Record{}, err)
			return
		}
		if to == 0 || to > count {
			to = count
		}
		idxPath := r.s.idxPath(r.stream)
		for v := from; v <= to; {
			n := min(to-v+1, entriesPerRead)
			if cap(r.ents) < int(n)*entrySize {
				r.ents = make([]byte, entriesPerRead*entrySize)
			}
			ents := r.ents[:n*entrySize]
			if got, err := r.idx.ReadAt(ents, (v-1)*entrySize); got < len(ents) {
				if err == nil || err == io.EOF {
					err = &es.CorruptError{Path: idxPath, Offset: (v - 1) * entrySize, Err: errors.New("index file shrank while being read")}
				}
				yield(es.Record{}, err)
				return
			}
			for i := range int(n) {
				if err := ctx.Err(); err != nil {
					yield(es.Record{}, err)
					return
				}
				eoff := (v - 1) * entrySize
				line, err := r.line(ents, i, idxPath, eoff)
				if err != nil {
					yield(es.Record{}, err)
					return
				}
				var rec es.Record
				if _, err := r.dec.decodeLine(line, &rec); err != nil {
					yield(es.Record{}, &es.CorruptError{Path: r.s.path(logName), Offset: r.lineOff(ents, i), Err: err})
					return
				}
				if rec.Stream != r.stream || rec.Version != v {
					yield(es.Record{}, &es.CorruptError{Path: idxPath, Offset: eoff,
						Err: fmt.Errorf("entry for version %d points to stream %q version %d", v, rec.Stream, rec.Version)})
					return
				}
				if !yield(rec, nil) {
					return
				}
				v++
			}
		}
	}
}

func (r *streamReader) lineOff(ents []byte, i int) int64 {
	off, _, _ := getEntry(ents[i*entrySize:])
	return off
}

// maxGap is the most bytes of other streams' lines that one read of a
// stream's lines spans between two of them: beyond it, two reads are
// cheaper than copying what lies between.
const maxGap = 4096

// line returns the log line of entry i of ents, without its newline. On a
// miss it reads, in one call, the span of the log that covers this entry's
// line and as many of the following entries' lines as fit in the buffer,
// as long as no more than maxGap bytes separate one from the next.
func (r *streamReader) line(ents []byte, i int, idxPath string, eoff int64) ([]byte, error) {
	off, n, ok := getEntry(ents[i*entrySize:])
	if !ok {
		return nil, &es.CorruptError{Path: idxPath, Offset: eoff, Err: errors.New("index entry checksum mismatch")}
	}
	if off < r.woff || off+int64(n) > r.woff+int64(r.wn) {
		buf := *r.buf
		span := int64(n)
		for j := i + 1; j*entrySize < len(ents); j++ {
			o, m, ok := getEntry(ents[j*entrySize:])
			if !ok || o < off+span || o-(off+span) > maxGap || o+int64(m)-off > int64(len(buf)) {
				break
			}
			span = o + int64(m) - off
		}
		if span > int64(len(buf)) {
			buf = make([]byte, span)
			*r.buf = buf
		}
		got, err := r.s.log.ReadAt(buf[:span], off)
		if got < n {
			if err == nil || err == io.EOF {
				err = &es.CorruptError{Path: r.s.path(logName), Offset: off, Err: fmt.Errorf("the log ends before the line that %s (offset %d) points to", idxPath, eoff)}
			}
			return nil, err
		}
		r.woff, r.wn = off, got
	}
	line := (*r.buf)[off-r.woff : off-r.woff+int64(n)]
	if line[n-1] != '\n' {
		return nil, &es.CorruptError{Path: r.s.path(logName), Offset: off, Err: errors.New("line does not end where its index entry says")}
	}
	return line[:n-1], nil
}

// ReadLog implements es.LogReader. It finds the first position through
// positions.idx, then reads the log sequentially with one reused buffer, so
// memory stays bounded however long the log.
func (s *Store) ReadLog(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return func(yield func(es.Record, error) bool) {
		if err := es.ValidatePosition(from); err != nil {
			yield(es.Record{}, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(es.Record{}, err)
			return
		}
		if s.isClosed() {
			yield(es.Record{}, es.ErrClosed)
			return
		}
		h, err := s.currentHead()
		if err != nil {
			yield(es.Record{}, err)
			return
		}
		if from > h.last {
			return
		}
		var e [entrySize]byte
		eoff := (from - 1) * entrySize
		if _, err := s.pos.ReadAt(e[:], eoff); err != nil {
			if err == io.EOF {
				err = &es.CorruptError{Path: s.path(positionsName), Offset: eoff, Err: fmt.Errorf("no entry for position %d", from)}
			}
			yield(es.Record{}, err)
			return
		}
		off, _, ok := getEntry(e[:])
		if !ok {
			yield(es.Record{}, &es.CorruptError{Path: s.path(positionsName), Offset: eoff, Err: errors.New("index entry checksum mismatch")})
			return
		}
		buf := bufPool.Get().(*[]byte)
		sc := newScanner(s.log, off, h.size, *buf)
		defer func() {
			*buf = sc.buf
			bufPool.Put(buf)
		}()
		dec := newDecoder()
		want := from
		for want <= h.last {
			if err := ctx.Err(); err != nil {
				yield(es.Record{}, err)
				return
			}
			line, loff, err := sc.next()
			if err != nil {
				if err == io.EOF || err == errTorn || err == errTooLong {
					err = &es.CorruptError{Path: s.path(logName), Offset: loff, Err: fmt.Errorf("log ends before position %d: %v", want, err)}
				}
				yield(es.Record{}, err)
				return
			}
			var rec es.Record
			if _, err := dec.decodeLine(line, &rec); err != nil {
				yield(es.Record{}, &es.CorruptError{Path: s.path(logName), Offset: loff, Err: err})
				return
			}
			if rec.Position != want {
				yield(es.Record{}, &es.CorruptError{Path: s.path(logName), Offset: loff, Err: fmt.Errorf("position %d where %d was expected", rec.Position, want)})
				return
			}
			if !yield(rec, nil) {
				return
			}
			want++
		}
	}
}

// Subscribe implements es.Subscriber with es.Follow: appends in this process
// wake subscribers at once; appends by other processes are found by polling
// the head file every poll interval (see WithPollInterval).
func (s *Store) Subscribe(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return es.Follow(ctx, s, from, &s.signal, s.opts.poll)
}

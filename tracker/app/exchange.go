package app

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
	"slices"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
)

// Line is one event in an export: every field of a stored record, data and
// metadata as stored (not upcast), so that an import reproduces the store.
type Line struct {
	Position int64           `json:"position"`
	Stream   string          `json:"stream"`
	Version  int64           `json:"version"`
	Type     string          `json:"type"`
	Schema   int             `json:"schema"`
	Time     time.Time       `json:"time"`
	ID       uuid.UUID       `json:"id"`
	Data     json.RawMessage `json:"data"`
	Metadata es.Metadata     `json:"metadata"`
}

func lineOf(r es.Record) Line {
	return Line{Position: r.Position, Stream: r.Stream, Version: r.Version, Type: r.Type, Schema: r.Schema,
		Time: r.Time, ID: r.ID, Data: r.Data, Metadata: r.Metadata}
}

// Log returns the global log from position from, upcast to current schemas.
func (s *Service) Log(ctx context.Context, from int64) iter.Seq2[es.Record, error] {
	return s.reg.Upcasted(s.log.ReadLog(ctx, from))
}

// Export writes every event in the store to w as JSON lines, in log order,
// and returns how many it wrote.
func (s *Service) Export(ctx context.Context, w io.Writer) (int64, error) {
	bw := bufio.NewWriterSize(w, 1<<16)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	var n int64
	for rec, err := range s.log.ReadLog(ctx, 1) {
		if err != nil {
			return n, err
		}
		if err := enc.Encode(lineOf(rec)); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}

// ErrNotEmpty means an import found events already in the target store.
var ErrNotEmpty = errors.New("the target store is not empty")

// ImportError reports invalid input to an import: the line and what is
// wrong with it. It matches es.ErrInvalidInput.
type ImportError struct {
	// Line is the 1-based line of the input.
	Line int
	// Err says what is wrong with it.
	Err error
}

// Error implements error.
func (e *ImportError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }

// Unwrap returns what is wrong.
func (e *ImportError) Unwrap() error { return e.Err }

// Is reports whether target is es.ErrInvalidInput.
func (e *ImportError) Is(target error) bool { return target == es.ErrInvalidInput }

// Import reads an export from r and appends every event to the store, which
// must be empty, keeping stream IDs, versions, event IDs, times, metadata and
// order. It reads the input twice: first to check all of it (positions 1,
// 2, 3, ...; versions from 1 without gaps in every stream; unique event IDs;
// valid stream IDs, JSON and times; known event types, and data that
// decodes), then again to append. Invalid input, or a store that holds
// anything but the first events of this export, writes nothing. A store
// that holds the first events of this export (an import cut short) gets
// the rest: a retry completes the import. Memory stays bounded whatever the input: one line at a time (a
// line longer than any event is refused unread), a version per stream and
// 20 bytes per event for the ID check. It returns how many events it
// imported.
//
// No store writes many appends as one, so an import stopped midway (a
// kill, a full disk) leaves the first events of the export in the store,
// until a retry adds the rest; an adapter that can build a store aside and
// put it in place at the end (jsonfile.Build) makes an import all or
// nothing.
func (s *Service) Import(ctx context.Context, r io.ReadSeeker) (int64, error) {
	total, err := s.scanExport(r)
	if err != nil {
		return 0, err
	}
	last, err := s.log.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	if last != 0 {
		if err := s.checkPrefix(ctx, r, last, total); err != nil {
			return 0, err
		}
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return 0, fmt.Errorf("read the input again: %w", err)
	}
	var n int64
	var b batcher
	flush := func() error {
		if len(b.lines) == 0 {
			return nil
		}
		events := make([]es.Event, len(b.lines))
		for i, l := range b.lines {
			events[i] = es.Event{ID: l.ID, Type: l.Type, Schema: l.Schema, Data: l.Data, Metadata: l.Metadata, Time: l.Time}
		}
		first := b.lines[0]
		recs, err := s.events.Append(ctx, first.Stream, es.Exact(first.Version-1), events)
		if err != nil {
			return fmt.Errorf("import line %d: %w", first.Position, err)
		}
		if recs[0].Position != first.Position {
			return fmt.Errorf("import line %d: stored at position %d, not %d: was the store written to during the import?", first.Position, recs[0].Position, first.Position)
		}
		n += int64(len(recs))
		b.reset()
		return nil
	}
	_, err = scanLines(r, func(l Line, _ int) error {
		if l.Position <= last {
			return nil // there from an import cut short (checkPrefix)
		}
		if !b.fits(l) {
			if err := flush(); err != nil {
				return err
			}
		}
		b.add(l)
		return nil
	})
	if err == nil {
		err = flush()
	}
	return n, err
}

// checkPrefix lets an import go on in a store that holds last events if
// they are the first last events of the export (total events) in r, event
// for event: what an import cut short leaves in a store that cannot build
// one aside. Anything else is ErrNotEmpty.
func (s *Service) checkPrefix(ctx context.Context, r io.ReadSeeker, last, total int64) error {
	if last >= total {
		return fmt.Errorf("%w: it holds %d events", ErrNotEmpty, last)
	}
	if _, err := r.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("read the input again: %w", err)
	}
	next, stop := iter.Pull2(s.log.ReadLog(ctx, 1))
	defer stop()
	errDone := errors.New("done")
	_, err := scanLines(r, func(l Line, _ int) error {
		if l.Position > last {
			return errDone
		}
		rec, err, ok := next()
		if ok && err != nil {
			return err
		}
		if !ok || rec.Position != l.Position || rec.ID != l.ID || rec.Stream != l.Stream || rec.Version != l.Version {
			return fmt.Errorf("%w: it holds %d events, and they are not the first of this export (position %d differs)", ErrNotEmpty, last, l.Position)
		}
		return nil
	})
	if errors.Is(err, errDone) {
		return nil
	}
	return err
}

// batcher gathers lines for one append: consecutive events of one stream,
// as many as one append may carry (es.MaxAppendEvents, es.MaxAppendSize).
type batcher struct {
	lines []Line
	size  int
}

// fits reports whether l may join the lines gathered.
func (b *batcher) fits(l Line) bool {
	return len(b.lines) == 0 || (l.Stream == b.lines[0].Stream && len(b.lines) < es.MaxAppendEvents &&
		b.size+appendSize(l) <= es.MaxAppendSize)
}

func (b *batcher) add(l Line) { b.lines, b.size = append(b.lines, l), b.size+appendSize(l) }

func (b *batcher) reset() { clear(b.lines); b.lines, b.size = b.lines[:0], 0 }

// CheckExport reads a whole export from r and checks it as [Service.Import]
// does, without a store, so that a caller can refuse invalid input before
// it opens (and so creates) one. It returns how many events the export
// holds; invalid input is an *ImportError.
func CheckExport(r io.Reader) (int64, error) {
	return New(nil, nil, nil).scanExport(r)
}

// appendSize is what an event counts towards es.MaxAppendSize.
func appendSize(l Line) int {
	return es.EventSize(es.Event{Type: l.Type, Data: l.Data, Metadata: l.Metadata})
}

// maxLine bounds an export's line: no event of a valid export is longer.
const maxLine = 4 * es.MaxEventSize

// scanLines decodes each line of an export in turn and calls fn with it
// and its 1-based number, holding one line at a time. It returns how many
// lines it read.
func scanLines(r io.Reader, fn func(l Line, no int) error) (int64, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	no := 1
	for ; sc.Scan(); no++ {
		raw := sc.Bytes()
		if len(raw) == 0 {
			return 0, &ImportError{no, errors.New("empty line")}
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return 0, &ImportError{no, fmt.Errorf("not an exported event: %w", err)}
		}
		if err := fn(l, no); err != nil {
			return 0, err
		}
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		// The scanner gives up once its buffer is full, without reading
		// the rest of the line: memory stays bounded.
		return 0, &ImportError{no, fmt.Errorf("longer than %d bytes: not an exported event", maxLine)}
	} else if err != nil {
		return 0, fmt.Errorf("read the input: %w", err)
	}
	return int64(no - 1), nil
}

// eventID is an event ID and the line it was on, for the duplicate check.
type eventID struct {
	id   uuid.UUID
	line int32
}

// scanExport reads and checks a whole export, and returns how many events
// it holds.
func (s *Service) scanExport(r io.Reader) (int64, error) {
	versions := make(map[string]int64)
	var ids []eventID
	n, err := scanLines(r, func(l Line, no int) error {
		if err := s.checkLine(l, no, versions); err != nil {
			return &ImportError{no, err}
		}
		ids = append(ids, eventID{l.ID, int32(no)})
		return nil
	})
	if err != nil {
		return 0, err
	}
	// Sorted, equal IDs stand side by side; the earliest line that repeats
	// an ID is reported.
	slices.SortFunc(ids, func(a, b eventID) int {
		return cmp.Or(bytes.Compare(a.id[:], b.id[:]), cmp.Compare(a.line, b.line))
	})
	first := -1 // the index in ids of that line
	for i := 1; i < len(ids); i++ {
		if ids[i].id == ids[i-1].id && (first < 0 || ids[i].line < ids[first].line) {
			first = i
		}
	}
	if first >= 0 {
		d := ids[first]
		return 0, &ImportError{int(d.line), fmt.Errorf("event ID %s already on line %d", d.id, ids[first-1].line)}
	}
	return n, nil
}

func (s *Service) checkLine(l Line, no int, versions map[string]int64) error {
	if l.Position != int64(no) {
		return fmt.Errorf("position %d, want %d: an export lists positions 1, 2, 3, ... in order", l.Position, no)
	}
	if err := es.ValidateStreamID(l.Stream); err != nil {
		return err
	}
	if want := versions[l.Stream] + 1; l.Version != want {
		return fmt.Errorf("stream %s: version %d, want %d", l.Stream, l.Version, want)
	}
	versions[l.Stream] = l.Version
	if l.ID == uuid.Nil {
		return errors.New("missing event ID")
	}
	if l.Time.IsZero() {
		return errors.New("missing time")
	}
	if l.Schema < 1 {
		return fmt.Errorf("schema %d, want at least 1", l.Schema)
	}
	// Prepare checks the type, data and size as every store will.
	rec, err := es.Prepare(l.Stream, es.Any, []es.Event{{ID: l.ID, Type: l.Type, Schema: l.Schema, Data: l.Data, Metadata: l.Metadata, Time: l.Time}})
	if err != nil {
		return err
	}
	// An event of a type this version does not know would make every fold
	// of the log (list, ready, rebuild) fail after the import: refuse it.
	if _, known := s.reg.Schema(l.Type); !known {
		return fmt.Errorf("event type %q is not one this version of jerry knows", l.Type) // an *ImportError: invalid input
	}
	if _, err := s.reg.Decode(rec[0]); err != nil {
		return err
	}
	return nil
}

// LastPosition returns the position of the last event in the log, 0 if
// there is none.
func (s *Service) LastPosition(ctx context.Context) (int64, error) { return s.log.LastPosition(ctx) }

package app

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"iter"
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
// order. It reads and checks the whole input first: positions 1, 2, 3, ...;
// versions from 1 without gaps in every stream; unique event IDs; valid
// stream IDs and JSON; known event types, and data that decodes.
// Invalid input or a non-empty store writes nothing. It returns how many
// events it imported.
func (s *Service) Import(ctx context.Context, r io.Reader) (int64, error) {
	lines, err := s.readExport(r)
	if err != nil {
		return 0, err
	}
	last, err := s.log.LastPosition(ctx)
	if err != nil {
		return 0, err
	}
	if last != 0 {
		return 0, fmt.Errorf("%w: it holds %d events", ErrNotEmpty, last)
	}
	var n int64
	for i := 0; i < len(lines); {
		j := batchEnd(lines, i)
		batch := make([]es.Event, 0, j-i)
		for _, l := range lines[i:j] {
			batch = append(batch, es.Event{ID: l.ID, Type: l.Type, Schema: l.Schema, Data: l.Data, Metadata: l.Metadata, Time: l.Time})
		}
		recs, err := s.events.Append(ctx, lines[i].Stream, es.Exact(lines[i].Version-1), batch)
		if err != nil {
			return n, fmt.Errorf("import line %d: %w", i+1, err)
		}
		if recs[0].Position != lines[i].Position {
			return n, fmt.Errorf("import line %d: stored at position %d, not %d: was the store written to during the import?", i+1, recs[0].Position, lines[i].Position)
		}
		n += int64(len(recs))
		i = j
	}
	return n, nil
}

// CheckExport reads a whole export from r and checks it as [Service.Import]
// does, without a store, so that a caller can refuse invalid input before
// it opens (and so creates) one. It returns how many events the export
// holds; invalid input is an *ImportError.
func CheckExport(r io.Reader) (int64, error) {
	lines, err := New(nil, nil, nil).readExport(r)
	return int64(len(lines)), err
}

// batchEnd returns the end of the batch of lines that starts at i:
// consecutive events of one stream go in one append, as many as one append
// may carry (es.MaxAppendEvents, es.MaxAppendSize).
func batchEnd(lines []Line, i int) int {
	j, size := i+1, appendSize(lines[i])
	for j < len(lines) && lines[j].Stream == lines[i].Stream && j-i < es.MaxAppendEvents &&
		size+appendSize(lines[j]) <= es.MaxAppendSize {
		size += appendSize(lines[j])
		j++
	}
	return j
}

// appendSize is what an event counts towards es.MaxAppendSize.
func appendSize(l Line) int {
	return es.EventSize(es.Event{Type: l.Type, Data: l.Data, Metadata: l.Metadata})
}

// readExport reads and validates a whole export.
func (s *Service) readExport(r io.Reader) ([]Line, error) {
	sc := bufio.NewScanner(r)
	const maxLine = 4 * es.MaxEventSize
	sc.Buffer(make([]byte, 0, 1<<16), maxLine)
	var lines []Line
	versions := make(map[string]int64)
	ids := make(map[uuid.UUID]int)
	no := 1
	for ; sc.Scan(); no++ {
		raw := sc.Bytes()
		if len(raw) == 0 {
			return nil, &ImportError{no, errors.New("empty line")}
		}
		var l Line
		dec := json.NewDecoder(bytes.NewReader(raw))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&l); err != nil {
			return nil, &ImportError{no, fmt.Errorf("not an exported event: %w", err)}
		}
		if err := s.checkLine(l, no, versions, ids); err != nil {
			return nil, &ImportError{no, err}
		}
		lines = append(lines, l)
	}
	if err := sc.Err(); errors.Is(err, bufio.ErrTooLong) {
		// No event of a valid export is this long: invalid input.
		return nil, &ImportError{no, fmt.Errorf("longer than %d bytes: not an exported event", maxLine)}
	} else if err != nil {
		return nil, fmt.Errorf("read the input: %w", err)
	}
	return lines, nil
}

func (s *Service) checkLine(l Line, no int, versions map[string]int64, ids map[uuid.UUID]int) error {
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
	if prev, dup := ids[l.ID]; dup {
		return fmt.Errorf("event ID %s already on line %d", l.ID, prev)
	}
	ids[l.ID] = no
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

package jsonfile

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/atomicfile"
)

var _ es.CheckpointStore = (*Checkpoints)(nil)

// checkpointExt ends every checkpoint file name.
const checkpointExt = ".checkpoint"

// Checkpoints is a checkpoint store that keeps one small JSON file per
// checkpoint name in a directory, for example:
//
//	{"name":"list","position":42,"saved_at":"2026-11-27T08:00:00.123456Z","crc32c":1234567890}
//
// Saves are atomic and durable: the new content goes to a temporary file that
// is synced, then renamed over the old one, then the directory is synced, so
// after a crash the file holds either the old or the new checkpoint, never a
// mix, and a save that returned survives power loss. The checksum covers the
// name and position, so a damaged file is reported as a [*es.CorruptError]
// rather than read as a wrong position. File names are an injective, safe
// encoding of checkpoint names: bytes other than a-z, 0-9, '-' and '_' are
// written as %XX, so no name can escape the directory or collide with
// another on a case-insensitive file system.
//
// Checkpoints of a store ([Store.Checkpoints]) are tied to it: each file
// also holds the ID of the log's event at its position, and a checkpoint
// whose event is not this store's (a file copied from another store, or
// left from a store emptied and refilled) loads as 0, so that the
// projection starts over rather than skip events it never saw.
//
// Several processes may share the directory; each checkpoint name should have
// one writer at a time (the last save wins). Local file systems only: rename
// and fsync are not atomic or durable on every network file system.
type Checkpoints struct {
	dir string
	log es.LogReader // the store's log, or nil: no tie to a store
}

// NewCheckpoints returns a checkpoint store over dir, creating it if needed.
func NewCheckpoints(dir string) (*Checkpoints, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("jsonfile: checkpoints: %w", err)
	}
	return &Checkpoints{dir: dir}, nil
}

// Checkpoints returns the checkpoint store in DIR/checkpoints, tied to this
// store (see [Checkpoints]).
func (s *Store) Checkpoints() (*Checkpoints, error) {
	c, err := NewCheckpoints(filepath.Join(s.dir, CheckpointsDir))
	if err != nil {
		return nil, err
	}
	c.log = s
	return c, nil
}

// CheckpointsDir is the subdirectory of a store's directory that
// [Store.Checkpoints] keeps checkpoints in.
const CheckpointsDir = "checkpoints"

// ModelsDir is the subdirectory of a store's directory where read models
// built from its log are kept (the tracker's board.db). Everything in it
// is derived from the log and safe to delete; an import that replaces the
// store does not carry it over.
const ModelsDir = "readmodels"

// checkpointFile is the on-disk form of a checkpoint. Event is the ID of
// the event at Position in the log of the store it belongs to, if it
// belongs to one.
type checkpointFile struct {
	Name     string    `json:"name"`
	Position int64     `json:"position"`
	Event    string    `json:"event,omitempty"`
	SavedAt  time.Time `json:"saved_at"`
	CRC      uint32    `json:"crc32c"`
}

func checkpointSum(name string, position int64, event string) uint32 {
	b := make([]byte, 0, len(name)+len(event)+22)
	b = append(b, name...)
	b = append(b, 0)
	b = strconv.AppendInt(b, position, 10)
	if event != "" {
		b = append(b, 0)
		b = append(b, event...)
	}
	return crc32c(b)
}

// eventAt returns the ID of the event at position in c's log, or "" if
// the log does not reach it.
func (c *Checkpoints) eventAt(ctx context.Context, position int64) (string, error) {
	for rec, err := range c.log.ReadLog(ctx, position) {
		if err != nil {
			return "", err
		}
		if rec.Position == position {
			return rec.ID.String(), nil
		}
		break
	}
	return "", nil
}

// checkpointFileName encodes name injectively into a safe file name.
func checkpointFileName(name string) string {
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(name) + len(checkpointExt))
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-', c == '_':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		}
	}
	b.WriteString(checkpointExt)
	return b.String()
}

// LoadCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) LoadCheckpoint(ctx context.Context, name string) (int64, error) {
	if err := ctx.Err(); err != nil {
		return 0, err
	}
	if err := es.ValidateCheckpointName(name); err != nil {
		return 0, err
	}
	path := filepath.Join(c.dir, checkpointFileName(name))
	raw, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("jsonfile: load checkpoint %q: %w", name, err)
	}
	var f checkpointFile
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return 0, &es.CorruptError{Path: path, Err: fmt.Errorf("checkpoint: %w", err)}
	}
	switch {
	case f.Name != name:
		return 0, &es.CorruptError{Path: path, Err: fmt.Errorf("checkpoint file holds name %q, not %q", f.Name, name)}
	case f.Position < 0:
		return 0, &es.CorruptError{Path: path, Err: fmt.Errorf("negative checkpoint position %d", f.Position)}
	case f.CRC != checkpointSum(f.Name, f.Position, f.Event):
		return 0, &es.CorruptError{Path: path, Err: errors.New("checkpoint checksum mismatch")}
	}
	if c.log != nil && f.Position > 0 {
		at, err := c.eventAt(ctx, f.Position)
		if err != nil {
			return 0, fmt.Errorf("jsonfile: load checkpoint %q: %w", name, err)
		}
		if f.Event == "" || at != f.Event {
			return 0, nil // not this store's: start over
		}
	}
	return f.Position, nil
}

// SaveCheckpoint implements es.CheckpointStore.
func (c *Checkpoints) SaveCheckpoint(ctx context.Context, name string, position int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := es.ValidateCheckpoint(name, position); err != nil {
		return err
	}
	var event string
	if c.log != nil && position > 0 {
		var err error
		if event, err = c.eventAt(ctx, position); err != nil {
			return fmt.Errorf("jsonfile: save checkpoint %q: %w", name, err)
		}
		if event == "" {
			return fmt.Errorf("jsonfile: save checkpoint %q: position %d is past the end of the log", name, position)
		}
	}
	data, err := json.Marshal(checkpointFile{
		Name:     name,
		Position: position,
		Event:    event,
		SavedAt:  es.Now(),
		CRC:      checkpointSum(name, position, event),
	})
	if err != nil {
		return fmt.Errorf("jsonfile: save checkpoint %q: %w", name, err)
	}
	data = append(data, '\n')
	if err := atomicfile.WriteFile(filepath.Join(c.dir, checkpointFileName(name)), data, atomicfile.TempPrefix(".checkpoint-tmp-")); err != nil {
		return fmt.Errorf("jsonfile: save checkpoint %q: %w", name, err)
	}
	return nil
}

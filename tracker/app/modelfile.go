package app

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jerry-es/jerry/es"
)

// ModelStore keeps a persisted read model: the encoded state of a
// [Projection] together with the log position it reflects, so that commands
// resume it from there instead of folding the whole log.
//
// Implementations save state and position in one atomic step (they can never
// disagree), and never replace a saved model with one of a lower position:
// when several processes catch up and save at once, the model only moves
// forward. They are safe for concurrent use, also by several processes.
type ModelStore interface {
	// LoadModel returns the saved model, or nil and no error if none has
	// been saved. Damaged stored data is an error matching es.ErrCorrupt.
	// The caller owns the slice: the model decoded from it points into it,
	// so the store must not reuse it.
	LoadModel(ctx context.Context) ([]byte, error)

	// SaveModel replaces the saved model with data, which reflects the log
	// up to position, unless the saved one reflects a later position. It
	// reports whether it wrote. On error the saved model is unchanged.
	SaveModel(ctx context.Context, position int64, data []byte) (saved bool, err error)
}

var _ ModelStore = (*ModelFile)(nil)

// modelFileHeader is the position a model file reflects and a CRC-32C of
// it, before the model itself: a writer reads it to decide whether its
// model is newer, without decoding the model.
const modelFileHeader = 8 + 4

// ModelFile is a [ModelStore] in one file. A save writes a temporary file,
// fsyncs it, renames it over the model and fsyncs the directory, so after a
// crash the file holds the old or the new model, whole. Saves take an
// exclusive flock(2) on PATH.lock, and compare positions under it, so that
// two processes saving at once never put an older model back (on systems
// without flock, the last rename wins). Readers take no lock: rename is
// atomic, so they see one whole file or the other.
type ModelFile struct {
	path string
}

// NewModelFile returns a model store in the file at path. The directory is
// created on the first save.
func NewModelFile(path string) *ModelFile { return &ModelFile{path: path} }

// Path returns the model file's path.
func (f *ModelFile) Path() string { return f.path }

// LoadModel implements ModelStore.
func (f *ModelFile) LoadModel(ctx context.Context) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	b, err := os.ReadFile(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read model: %w", err)
	}
	if _, ok := filePosition(b); !ok {
		return nil, f.corrupt(errors.New("bad header"))
	}
	return b[modelFileHeader:], nil
}

func (f *ModelFile) corrupt(err error) error {
	return fmt.Errorf("read model: %w", &es.CorruptError{Path: f.path, Err: err})
}

// filePosition returns the position in a model file's header.
func filePosition(b []byte) (int64, bool) {
	if len(b) < modelFileHeader {
		return 0, false
	}
	if crc32.Checksum(b[:8], modelCRC) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, false
	}
	pos := int64(binary.LittleEndian.Uint64(b))
	return pos, pos >= 0
}

// SaveModel implements ModelStore.
func (f *ModelFile) SaveModel(ctx context.Context, position int64, data []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if position < 0 {
		return false, fmt.Errorf("%w: read model position %d", es.ErrInvalidVersion, position)
	}
	dir := filepath.Dir(f.path)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("save read model: %w", err)
	}
	unlock, err := lockFile(f.path + ".lock")
	if err != nil {
		return false, fmt.Errorf("save read model: %w", err)
	}
	defer unlock()
	if cur, ok := f.savedPosition(); ok && cur > position {
		// Another process saved a newer model meanwhile: keep it.
		return false, nil
	}
	if err := f.write(dir, position, data); err != nil {
		return false, fmt.Errorf("save read model: %w", err)
	}
	return true, nil
}

// savedPosition reads the position of the saved model; ok is false if there
// is none or its header is damaged (then any model may replace it).
func (f *ModelFile) savedPosition() (int64, bool) {
	fh, err := os.Open(f.path)
	if err != nil {
		return 0, false
	}
	defer fh.Close()
	var b [modelFileHeader]byte
	if _, err := io.ReadFull(fh, b[:]); err != nil {
		return 0, false
	}
	return filePosition(b[:])
}

func (f *ModelFile) write(dir string, position int64, data []byte) (err error) {
	tmp := f.path + ".tmp" // one writer at a time: the lock is held
	fh, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			fh.Close()
			os.Remove(tmp)
		}
	}()
	var h [modelFileHeader]byte
	binary.LittleEndian.PutUint64(h[:], uint64(position))
	binary.LittleEndian.PutUint32(h[8:], crc32.Checksum(h[:8], modelCRC))
	if _, err = fh.Write(h[:]); err != nil {
		return err
	}
	if _, err = fh.Write(data); err != nil {
		return err
	}
	// The data must be on disk before the rename makes it the model: else
	// a crash could leave the new name on old, empty blocks.
	if err = fh.Sync(); err != nil {
		return err
	}
	if err = fh.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, f.path); err != nil {
		return err
	}
	// And the rename itself must reach the disk, or a crash could bring
	// the old model back after a newer one was reported saved.
	return syncDir(dir)
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, errors.ErrUnsupported) {
		return err
	}
	return nil
}

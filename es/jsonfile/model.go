package jsonfile

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/atomicfile"
	"github.com/jerry-es/jerry/internal/flock"
)

var _ es.ModelStore = (*Models)(nil)

// ModelsDir is the subdirectory of a store's directory that [Store.Models]
// keeps read models in. The store itself never looks into it.
const ModelsDir = "readmodels"

// modelExt ends every model file's name.
const modelExt = ".model"

// modelHeader is the position a model file reflects and a CRC-32C of it,
// before the state: a saver reads it to decide whether its model is newer
// without reading the state.
const modelHeader = 8 + 4

// Models is a read model store of one file per model in a directory,
// DIR/NAME.model: the position (8 bytes, little-endian) and a CRC-32C of
// it, then the state as given. A save writes a temporary file, fsyncs it,
// renames it over the model and fsyncs the directory, so after a crash the
// file holds the old or the new model, whole. Saves take an exclusive
// flock(2) on DIR/NAME.model.lock and compare positions under it, so two
// processes saving at once never put an older model back (on systems
// without flock the last rename wins). Loads take no lock: rename is atomic.
// The state itself carries no checksum of ours: the caller's encoding
// should check itself. Local file systems only, as for the store.
type Models struct {
	dir string
}

// NewModels returns a read model store in directory dir, created on the
// first save.
func NewModels(dir string) *Models { return &Models{dir: dir} }

// Models returns the read model store in the store's directory,
// DIR/readmodels ([ModelsDir]).
func (s *Store) Models() *Models { return NewModels(filepath.Join(s.Dir(), ModelsDir)) }

// Path returns the file that holds the model name.
func (m *Models) Path(name string) string { return filepath.Join(m.dir, modelFileName(name)) }

// modelFileName encodes name injectively into a safe file name: bytes in
// [a-z0-9-] stand for themselves, every other byte ('_' included) becomes
// '_' and two hex digits, so "jerry" is jerry.model and "a/b" a_2fb.model.
func modelFileName(name string) string {
	const hex = "0123456789abcdef"
	var b strings.Builder
	for i := range len(name) {
		switch c := name[i]; {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '-':
			b.WriteByte(c)
		default:
			b.Write([]byte{'_', hex[c>>4], hex[c&15]})
		}
	}
	return b.String() + modelExt
}

// LoadModel implements es.ModelStore.
func (m *Models) LoadModel(ctx context.Context, name string) ([]byte, int64, error) {
	if err := ctx.Err(); err != nil {
		return nil, 0, err
	}
	if err := es.ValidateModelName(name); err != nil {
		return nil, 0, err
	}
	path := m.Path(name)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, fmt.Errorf("%w: read model %q", es.ErrNotFound, name)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("jsonfile: read model: %w", err)
	}
	pos, ok := modelPosition(b)
	if !ok {
		return nil, 0, &es.CorruptError{Path: path, Err: errors.New("bad read model header")}
	}
	return b[modelHeader:], pos, nil
}

// modelPosition returns the position in a model file's header.
func modelPosition(b []byte) (int64, bool) {
	if len(b) < modelHeader {
		return 0, false
	}
	if crc32c(b[:8]) != binary.LittleEndian.Uint32(b[8:]) {
		return 0, false
	}
	pos := int64(binary.LittleEndian.Uint64(b))
	return pos, pos >= 0
}

// SaveModel implements es.ModelStore.
func (m *Models) SaveModel(ctx context.Context, name string, position int64, state []byte) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	if err := es.ValidateModel(name, position); err != nil {
		return false, err
	}
	saved, err := m.save(m.Path(name), position, state)
	if err != nil {
		if errors.Is(err, fs.ErrPermission) || errors.Is(err, syscall.EROFS) {
			err = fmt.Errorf("%w: %w", es.ErrReadOnly, err)
		}
		return false, fmt.Errorf("jsonfile: save read model: %w", err)
	}
	return saved, nil
}

func (m *Models) save(path string, position int64, state []byte) (bool, error) {
	if err := os.MkdirAll(m.dir, 0o755); err != nil {
		return false, err
	}
	unlock, err := lockModelFile(path + ".lock")
	if err != nil {
		return false, err
	}
	defer unlock()
	if cur, ok := savedModelPosition(path); ok && cur > position {
		// Another process saved a newer model meanwhile: keep it.
		return false, nil
	}
	if err := writeModelFile(path, position, state); err != nil {
		return false, err
	}
	return true, nil
}

// savedModelPosition reads the position of the model saved at path; ok is
// false if there is none or its header is damaged (then any model may
// replace it).
func savedModelPosition(path string) (int64, bool) {
	f, err := os.Open(path)
	if err != nil {
		return 0, false
	}
	defer f.Close()
	var b [modelHeader]byte
	if _, err := io.ReadFull(f, b[:]); err != nil {
		return 0, false
	}
	return modelPosition(b[:])
}

// writeModelFile replaces the file at path, atomically and durably, with
// the header for position and state (see internal/atomicfile for why each
// sync is there).
func writeModelFile(path string, position int64, state []byte) error {
	b := make([]byte, modelHeader+len(state))
	binary.LittleEndian.PutUint64(b, uint64(position))
	binary.LittleEndian.PutUint32(b[8:], crc32c(b[:8]))
	copy(b[modelHeader:], state)
	return atomicfile.WriteFile(path, b)
}

// lockModelFile takes an exclusive lock on the file at path, creating it.
// The kernel drops the lock if the process dies; where flock(2) is missing,
// concurrent saves race and the last rename wins.
func lockModelFile(path string) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	if err := flock.Lock(f, flock.Exclusive, 0, nil); err != nil {
		f.Close()
		if errors.Is(err, flock.ErrUnsupported) {
			return func() {}, nil
		}
		return nil, err
	}
	return func() { f.Close() }, nil // closing releases the lock
}

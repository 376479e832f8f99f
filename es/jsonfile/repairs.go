package jsonfile

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/atomicfile"
)

// repairsName is the store's record of the repairs made to it: one JSON
// object a line, a Recovery, appended and fsynced as each repair is made,
// never rewritten. It is what lets Verify say, long after, that a tail was
// cut or a derived file rebuilt.
const repairsName = "repairs.jsonl"

// appendRepair adds r to the record at path, durably unless noSync.
func appendRepair(path string, r Recovery, noSync bool) error {
	line, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, statErr := os.Stat(path)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		return err
	}
	if _, err := f.Write(append(line, '\n')); err != nil {
		f.Close()
		return err
	}
	if !noSync {
		if err := f.Sync(); err != nil {
			f.Close()
			return err
		}
		if errors.Is(statErr, fs.ErrNotExist) {
			if err := atomicfile.SyncDir(filepath.Dir(path)); err != nil {
				f.Close()
				return err
			}
		}
	}
	return f.Close()
}

// readRepairs returns the repairs recorded at path, and an error naming the
// file and offset of the first line that cannot be read.
func readRepairs(path string) ([]Recovery, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []Recovery
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	var off int64
	for sc.Scan() {
		var r Recovery
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil || r.Path == "" {
			return out, &es.CorruptError{Path: path, Offset: off, Err: fmt.Errorf("unreadable repair record: %v", err)}
		}
		out = append(out, r)
		off += int64(len(sc.Bytes())) + 1
	}
	if err := sc.Err(); err != nil {
		return out, &es.CorruptError{Path: path, Offset: off, Err: err}
	}
	return out, nil
}

package jsonfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/atomicfile"
)

// Snapshots live in snapshots/<stream file name>/<version, 20 digits>.json,
// one file per snapshot, each a single line of JSON with a checksum in the
// log's style:
//
//	{"stream":"item-1","version":50,"type":"WorkItem","schema":1,
//	 "time":"2026-11-20T10:00:00.000000Z","state":{…},"crc":"1a2b3c4d"}

const snapSuffix = ".json"

func appendSnapshot(b []byte, sn *es.Snapshot) []byte {
	b = append(b, `{"stream":`...)
	b = appendString(b, sn.Stream)
	b = append(b, `,"version":`...)
	b = appendInt(b, sn.Version)
	b = append(b, `,"type":`...)
	b = appendString(b, sn.Type)
	b = append(b, `,"schema":`...)
	b = appendInt(b, int64(sn.Schema))
	b = append(b, `,"time":"`...)
	b = appendTime(b, sn.Time)
	b = append(b, `","state":`...)
	b = appendData(b, sn.State)
	return appendCRC(b, 0)
}

func decodeSnapshot(line []byte) (es.Snapshot, error) {
	var sn es.Snapshot
	line = bytes.TrimSuffix(line, []byte("\n"))
	body, err := checkCRC(line)
	if err != nil {
		return sn, err
	}
	p := parser{b: body}
	var ok bool
	if !p.lit(`{"stream":`) {
		return sn, errLine
	}
	if sn.Stream, ok = p.str(nil); !ok {
		return sn, errors.New("bad stream")
	}
	if !p.lit(`,"version":`) {
		return sn, errLine
	}
	if sn.Version, ok = p.int(); !ok || sn.Version < 1 {
		return sn, errors.New("bad version")
	}
	if !p.lit(`,"type":`) {
		return sn, errLine
	}
	if sn.Type, ok = p.str(nil); !ok {
		return sn, errors.New("bad type")
	}
	if !p.lit(`,"schema":`) {
		return sn, errLine
	}
	schema, ok := p.int()
	if !ok || schema < 1 || schema > 1<<31-1 {
		return sn, errors.New("bad schema")
	}
	sn.Schema = int(schema)
	if !p.lit(`,"time":"`) || len(body)-p.i < len(timeLayout)+1 {
		return sn, errLine
	}
	if sn.Time, ok = parseTime(body[p.i : p.i+len(timeLayout)]); !ok {
		return sn, errors.New("bad time")
	}
	p.i += len(timeLayout)
	if !p.lit(`","state":`) || p.i >= len(body) {
		return sn, errLine
	}
	sn.State = bytes.Clone(body[p.i:])
	return sn, nil
}

func (s *Store) snapDir(stream string) string {
	return filepath.Join(s.dir, snapshotsDir, fileName(stream))
}

func snapName(v int64) string { return fmt.Sprintf("%020d%s", v, snapSuffix) }

// SaveSnapshot implements es.SnapshotStore. The file is written to a
// temporary name, fsynced, renamed into place and the directory fsynced, so
// that a crash leaves the old snapshot or the new one, never a mix. With
// NoSync the fsyncs are skipped.
func (s *Store) SaveSnapshot(ctx context.Context, sn es.Snapshot) error {
	if err := es.ValidateSnapshot(sn); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosed() {
		return es.ErrClosed
	}
	if s.readOnly {
		return s.errReadOnly("save snapshot")
	}
	sn.Time = es.Timestamp(sn.Time)
	if y := sn.Time.Year(); y < 1 || y > 9999 {
		return fmt.Errorf("%w: snapshot time %s outside years 1 to 9999", es.ErrInvalidInput, sn.Time)
	}
	line := appendSnapshot(nil, &sn)
	dir := s.snapDir(sn.Stream)
	_, statErr := os.Stat(dir)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if errors.Is(statErr, fs.ErrNotExist) && !s.opts.noSync {
		// The new directory's entry must be durable too.
		if err := atomicfile.SyncDir(filepath.Dir(dir)); err != nil {
			return err
		}
	}
	var opts []atomicfile.Option
	if s.opts.noSync {
		opts = append(opts, atomicfile.NoSync())
	}
	// Temporary names start with '.', which snapVersions skips.
	return atomicfile.WriteFile(filepath.Join(dir, snapName(sn.Version)), line, opts...)
}

// LoadSnapshot implements es.SnapshotStore. A damaged snapshot file gives an
// error matching es.ErrCorrupt naming the file.
func (s *Store) LoadSnapshot(ctx context.Context, stream string, maxVersion int64) (es.Snapshot, error) {
	if err := es.ValidateLoadSnapshot(stream, maxVersion); err != nil {
		return es.Snapshot{}, err
	}
	if err := ctx.Err(); err != nil {
		return es.Snapshot{}, err
	}
	if s.isClosed() {
		return es.Snapshot{}, es.ErrClosed
	}
	dir := s.snapDir(stream)
	versions, err := snapVersions(dir)
	if err != nil {
		return es.Snapshot{}, err
	}
	best := int64(0)
	for _, v := range versions {
		if (maxVersion == 0 || v <= maxVersion) && v > best {
			best = v
		}
	}
	if best == 0 {
		return es.Snapshot{}, fmt.Errorf("%w: no snapshot of stream %q at or before version %d", es.ErrNotFound, stream, maxVersion)
	}
	return s.readSnapshot(filepath.Join(dir, snapName(best)), stream, best)
}

func (s *Store) readSnapshot(path, stream string, v int64) (es.Snapshot, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return es.Snapshot{}, err
	}
	sn, err := decodeSnapshot(b)
	if err == nil && (sn.Stream != stream || sn.Version != v) {
		err = fmt.Errorf("file holds stream %q version %d", sn.Stream, sn.Version)
	}
	if err != nil {
		return es.Snapshot{}, &es.CorruptError{Path: path, Err: err}
	}
	return sn, nil
}

// snapVersions lists the versions of the snapshots in dir.
func snapVersions(dir string) ([]int64, error) {
	des, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, de := range des {
		name, ok := strings.CutSuffix(de.Name(), snapSuffix)
		if !ok || strings.HasPrefix(name, ".") {
			continue
		}
		if v, err := strconv.ParseInt(name, 10, 64); err == nil && v > 0 {
			out = append(out, v)
		}
	}
	return out, nil
}

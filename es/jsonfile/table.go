package jsonfile

import (
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"github.com/jerry-es/jerry/es"
)

// The stream table, streams.tab, holds every stream's version a second time,
// beside its index file, so that damage to either is seen: an index file
// that is missing, emptied, cut short or copied from another stream
// disagrees with the table, and a writer that trusted it would write
// versions that exist. It is an open-addressing hash table of fixed-size
// slots:
//
//	header, 64 bytes: "jsonfile-streams" (16), slots (8), used (8; written
//	                  after a new stream's slot, so it may fall short of the
//	                  slots in use by the streams a killed writer added),
//	                  CRC-32C of the 32 bytes before it (4), zeros
//	slot,   32 bytes: key (16: the first 16 bytes of the SHA-256 of the
//	                  stream ID), version (8), CRC-32C of the 24 bytes
//	                  before it (4), zeros (4)
//
// all little-endian. An all-zero slot is empty. A stream's slot is found by
// linear probing from its key's first 8 bytes modulo the slot count (a power
// of two); the table is grown (rewritten twice as large under a new name and
// renamed into place) before more than half its slots are used. Like the
// indexes it is derived, written after the log's fsync without one, and
// rebuilt from the log when it cannot be trusted.
const (
	tableName    = "streams.tab"
	tableMagic   = "jsonfile-streams"
	tableHdr     = 64
	slotSize     = 32
	minSlots     = 1024
	probeWindow  = 8 // slots read at once while probing
	maxTableSize = 1 << 40
)

type tableKey [16]byte

func keyOf(stream string) tableKey {
	sum := sha256.Sum256([]byte(stream))
	return tableKey(sum[:16])
}

// errTable marks a stream table that cannot be used: missing header, bad
// checksum, wrong size.
var errTable = errors.New("stream table damaged")

// table is an open stream table.
type table struct {
	f     *os.File
	path  string
	slots int64
	used  int64
}

func encodeTableHeader(slots, used int64) []byte {
	b := make([]byte, tableHdr)
	copy(b, tableMagic)
	binary.LittleEndian.PutUint64(b[16:], uint64(slots))
	binary.LittleEndian.PutUint64(b[24:], uint64(used))
	binary.LittleEndian.PutUint32(b[32:], crc32c(b[:32]))
	return b
}

func putSlot(b []byte, k tableKey, version int64) {
	copy(b[:16], k[:])
	binary.LittleEndian.PutUint64(b[16:], uint64(version))
	binary.LittleEndian.PutUint32(b[24:], crc32c(b[:24]))
	clear(b[28:32])
}

// readTable opens the table at path for reading (or, with rw, writing) and
// checks its header against its size.
func readTable(path string, rw bool) (*table, error) {
	flag := os.O_RDONLY
	if rw {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag, 0)
	if err != nil {
		return nil, err
	}
	t := &table{f: f, path: path}
	if err := t.readHeader(); err != nil {
		f.Close()
		return nil, err
	}
	return t, nil
}

func (t *table) readHeader() error {
	var b [tableHdr]byte
	if _, err := t.f.ReadAt(b[:], 0); err != nil {
		if err == io.EOF {
			return &es.CorruptError{Path: t.path, Err: fmt.Errorf("%w: no header", errTable)}
		}
		return err
	}
	slots := int64(binary.LittleEndian.Uint64(b[16:]))
	used := int64(binary.LittleEndian.Uint64(b[24:]))
	if string(b[:16]) != tableMagic || binary.LittleEndian.Uint32(b[32:]) != crc32c(b[:32]) ||
		slots < minSlots || slots&(slots-1) != 0 || slots*slotSize > maxTableSize || used < 0 || used > slots/2 {
		return &es.CorruptError{Path: t.path, Err: fmt.Errorf("%w: bad header", errTable)}
	}
	fi, err := t.f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != tableHdr+slots*slotSize {
		return &es.CorruptError{Path: t.path, Offset: fi.Size(), Err: fmt.Errorf("%w: %d bytes for %d slots", errTable, fi.Size(), slots)}
	}
	t.slots, t.used = slots, used
	return nil
}

func (t *table) close() {
	if t != nil && t.f != nil {
		t.f.Close()
	}
}

// find probes for k. It returns the version stored for it (0 if none), the
// slot where k is or would go, and whether k is there.
func (t *table) find(k tableKey) (version, slot int64, found bool, err error) {
	var buf [probeWindow * slotSize]byte
	start := int64(binary.LittleEndian.Uint64(k[:8])) & (t.slots - 1)
	for probed := int64(0); probed < t.slots; {
		i := (start + probed) & (t.slots - 1)
		n := min(probeWindow, t.slots-i)
		if _, err := t.f.ReadAt(buf[:n*slotSize], tableHdr+i*slotSize); err != nil {
			if err == io.EOF {
				err = &es.CorruptError{Path: t.path, Err: fmt.Errorf("%w: shorter than its header says", errTable)}
			}
			return 0, 0, false, err
		}
		for j := int64(0); j < n; j++ {
			s := buf[j*slotSize : (j+1)*slotSize]
			if isZeroSlot(s) {
				return 0, i + j, false, nil
			}
			if binary.LittleEndian.Uint32(s[24:]) != crc32c(s[:24]) || !isZero(s[28:32]) {
				return 0, 0, false, &es.CorruptError{Path: t.path, Offset: tableHdr + (i+j)*slotSize, Err: fmt.Errorf("%w: slot checksum mismatch", errTable)}
			}
			if tableKey(s[:16]) == k {
				v := int64(binary.LittleEndian.Uint64(s[16:]))
				if v < 1 {
					return 0, 0, false, &es.CorruptError{Path: t.path, Offset: tableHdr + (i+j)*slotSize, Err: fmt.Errorf("%w: version %d", errTable, v)}
				}
				return v, i + j, true, nil
			}
		}
		probed += n
	}
	return 0, 0, false, &es.CorruptError{Path: t.path, Err: fmt.Errorf("%w: no empty slot", errTable)}
}

func isZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

func isZeroSlot(b []byte) bool { return isZero(b[:slotSize]) }

// set records version for k. It reports whether the table must grow before
// another stream is added.
func (t *table) set(k tableKey, version int64) error {
	_, slot, found, err := t.find(k)
	if err != nil {
		return err
	}
	var b [slotSize]byte
	putSlot(b[:], k, version)
	if _, err := t.f.WriteAt(b[:], tableHdr+slot*slotSize); err != nil {
		return err
	}
	if found {
		return nil
	}
	t.used++
	_, err = t.f.WriteAt(encodeTableHeader(t.slots, t.used), 0)
	return err
}

// full reports whether adding n streams would fill more than half the slots.
func (t *table) full(n int) bool { return 2*(t.used+int64(n)) > t.slots }

// slotsFor returns the slot count for a table of n streams with room to grow.
func slotsFor(n int64) int64 {
	slots := int64(minSlots)
	for 4*n > slots {
		slots *= 2
	}
	return slots
}

// buildTable returns the image of a table holding versions.
func buildTable(versions map[tableKey]int64, slots int64) []byte {
	b := make([]byte, tableHdr+slots*slotSize)
	copy(b, encodeTableHeader(slots, int64(len(versions))))
	for k, v := range versions {
		i := int64(binary.LittleEndian.Uint64(k[:8])) & (slots - 1)
		for !isZeroSlot(b[tableHdr+i*slotSize:]) {
			i = (i + 1) & (slots - 1)
		}
		putSlot(b[tableHdr+i*slotSize:], k, v)
	}
	return b
}

// entries returns every stream's version in t.
func (t *table) entries() (map[tableKey]int64, error) {
	b := make([]byte, t.slots*slotSize)
	if _, err := t.f.ReadAt(b, tableHdr); err != nil {
		return nil, err
	}
	out := make(map[tableKey]int64, t.used)
	for i := int64(0); i < t.slots; i++ {
		s := b[i*slotSize : (i+1)*slotSize]
		if isZeroSlot(s) {
			continue
		}
		if binary.LittleEndian.Uint32(s[24:]) != crc32c(s[:24]) {
			return nil, &es.CorruptError{Path: t.path, Offset: tableHdr + i*slotSize, Err: fmt.Errorf("%w: slot checksum mismatch", errTable)}
		}
		out[tableKey(s[:16])] = int64(binary.LittleEndian.Uint64(s[16:]))
	}
	return out, nil
}

// writeTableFile replaces the table at path with one holding versions, by
// writing it under a temporary name and renaming it into place, so that a
// reader opens either the old table or the new one. No fsync: it is derived.
func writeTableFile(path string, versions map[tableKey]int64, slots int64) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, buildTable(versions, slots), 0o644); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}

// lookupTable returns the version the table at path records for stream,
// for a reader that holds no lock. A missing table is an error unless the
// store is empty.
func lookupTable(path, stream string) (int64, error) {
	t, err := readTable(path, false)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, &es.CorruptError{Path: path, Err: fmt.Errorf("%w: missing", errTable)}
	}
	if err != nil {
		return 0, err
	}
	defer t.close()
	v, _, _, err := t.find(keyOf(stream))
	return v, err
}

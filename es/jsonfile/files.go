package jsonfile

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
)

// File names inside a store directory.
const (
	lockName      = "LOCK"
	logName       = "events.jsonl"
	headName      = "head"
	positionsName = "positions.idx"
	streamsDir    = "streams"
	snapshotsDir  = "snapshots"
	idxSuffix     = ".idx"
)

// An index entry locates one line of the log: its offset (8 bytes), its
// length with the newline (4 bytes), and a CRC-32C of those 12 bytes, all
// little-endian. The entry of version v of a stream sits at (v-1)*16 in the
// stream's index file, and that of position p at (p-1)*16 in positions.idx,
// so rewriting an entry is idempotent and a file's size gives its count.
const entrySize = 16

func putEntry(b []byte, off int64, n int) {
	binary.LittleEndian.PutUint64(b[0:8], uint64(off))
	binary.LittleEndian.PutUint32(b[8:12], uint32(n))
	binary.LittleEndian.PutUint32(b[12:16], crc32c(b[:12]))
}

func getEntry(b []byte) (off int64, n int, ok bool) {
	if binary.LittleEndian.Uint32(b[12:16]) != crc32c(b[:12]) {
		return 0, 0, false
	}
	off = int64(binary.LittleEndian.Uint64(b[0:8]))
	n = int(binary.LittleEndian.Uint32(b[8:12]))
	if off < 0 || n < 2 || n > maxLineLen+1 {
		return 0, 0, false
	}
	return off, n, true
}

// head says how far the derived files are up to date: the log's committed
// size and last position, the size and position up to which the derived
// files are known durable (synced at a checkpoint), whether the writer
// synced its appends, and the boot that wrote it. It is one text line of
// fixed length with a checksum:
//
//	jsonfile 3 00000000000000004242 00000000000000000017 00000000000000004000 00000000000000000016 s <boot id> 1a2b3c4d
//
// where s is "s" for a writer that fsyncs its appends and "n" for a NoSync
// one. Version 2 heads (no durable mark) and version 1 heads (no flag
// either) are still read, with a zero mark and "s".
type head struct {
	size    int64
	last    int64
	durSize int64 // derived files durable up to this size of the log
	durLast int64 // ... and this position
	noSync  bool
	boot    string
}

const (
	headMagic = "jsonfile 3 "
	headLen   = len(headMagic) + 4*21 + 2 + 36 + 1 + 8 + 1
	headLenV2 = headLen - 42
	headLenV1 = headLenV2 - 2
)

func (h head) encode() []byte {
	b := make([]byte, 0, headLen)
	b = append(b, headMagic...)
	flag := 's'
	if h.noSync {
		flag = 'n'
	}
	b = fmt.Appendf(b, "%020d %020d %020d %020d %c %-36.36s ", h.size, h.last, h.durSize, h.durLast, flag, h.boot)
	b = appendHex32(b, crc32c(b))
	return append(b, '\n')
}

func parseHead(b []byte) (head, error) {
	n := len(b)
	var version int
	switch {
	case n == headLen && bytes.HasPrefix(b, []byte(headMagic)):
		version = 3
	case n == headLenV2 && bytes.HasPrefix(b, []byte("jsonfile 2 ")):
		version = 2
	case n == headLenV1 && bytes.HasPrefix(b, []byte("jsonfile 1 ")):
		version = 1
	}
	if version == 0 || b[n-1] != '\n' {
		return head{}, errors.New("malformed head")
	}
	want, ok := parseHex32(b[n-9 : n-1])
	if !ok || want != crc32c(b[:n-9]) {
		return head{}, errors.New("head checksum mismatch")
	}
	f := bytes.Fields(b[len(headMagic) : n-10])
	nums := map[int]int{1: 2, 2: 2, 3: 4}[version]
	if len(f) < nums || len(f) > nums+2 {
		return head{}, errors.New("malformed head")
	}
	var v [4]int64
	for i := range nums {
		x, err := strconv.ParseInt(string(f[i]), 10, 64)
		if err != nil || x < 0 {
			return head{}, errors.New("malformed head number")
		}
		v[i] = x
	}
	h := head{size: v[0], last: v[1], durSize: v[2], durLast: v[3]}
	if h.durSize > h.size || h.durLast > h.last {
		return head{}, errors.New("head's durable mark is past its end")
	}
	f = f[nums:]
	if version >= 2 {
		if len(f) == 0 || len(f[0]) != 1 || f[0][0] != 's' && f[0][0] != 'n' {
			return head{}, errors.New("malformed head flag")
		}
		h.noSync = f[0][0] == 'n'
		f = f[1:]
	}
	switch len(f) {
	case 0:
	case 1:
		h.boot = string(f[0])
	default:
		return head{}, errors.New("malformed head")
	}
	return h, nil
}

func readHeadFile(f *os.File) (head, error) {
	var buf [headLen + 1]byte
	n, err := f.ReadAt(buf[:], 0)
	if err != nil && err != io.EOF {
		return head{}, err
	}
	if n == 0 {
		return head{}, errNoHead
	}
	return parseHead(buf[:n])
}

var errNoHead = errors.New("no head")

// scanner reads the log's lines in order with one reused buffer, so that
// reading a log of any size takes bounded memory.
type scanner struct {
	f    *os.File
	off  int64 // file offset of buf[0]
	end  int64 // where to stop reading
	buf  []byte
	r, w int // buf[r:w] is read but not yet returned
	eof  bool
}

const scanBuf = 256 << 10

func newScanner(f *os.File, from, end int64, buf []byte) *scanner {
	if cap(buf) < scanBuf {
		buf = make([]byte, scanBuf)
	}
	return &scanner{f: f, off: from, end: end, buf: buf[:cap(buf)]}
}

// errTorn marks a last line with no newline before the end.
var errTorn = errors.New("incomplete last line")

// next returns the next line without its newline and its offset. At the end
// it returns io.EOF, or errTorn with the offset of a trailing partial line.
func (sc *scanner) next() (line []byte, off int64, err error) {
	for {
		if i := bytes.IndexByte(sc.buf[sc.r:sc.w], '\n'); i >= 0 {
			line = sc.buf[sc.r : sc.r+i]
			off = sc.off + int64(sc.r)
			sc.r += i + 1
			return line, off, nil
		}
		if sc.eof {
			if sc.r < sc.w {
				off = sc.off + int64(sc.r)
				sc.r = sc.w
				return nil, off, errTorn
			}
			return nil, sc.off + int64(sc.w), io.EOF
		}
		// Keep the partial line and fill the rest of the buffer.
		if sc.r > 0 {
			copy(sc.buf, sc.buf[sc.r:sc.w])
			sc.off += int64(sc.r)
			sc.w -= sc.r
			sc.r = 0
		}
		if sc.w == len(sc.buf) {
			if len(sc.buf) > maxLineLen {
				// A line this long was never written: report it as
				// damage at its start rather than grow without end.
				return nil, sc.off, errTooLong
			}
			nb := make([]byte, 2*len(sc.buf))
			copy(nb, sc.buf[:sc.w])
			sc.buf = nb
		}
		want := int64(len(sc.buf) - sc.w)
		if rem := sc.end - (sc.off + int64(sc.w)); rem < want {
			want = rem
		}
		if want <= 0 {
			sc.eof = true
			continue
		}
		n, err := sc.f.ReadAt(sc.buf[sc.w:sc.w+int(want)], sc.off+int64(sc.w))
		sc.w += n
		if err == io.EOF || (err == nil && n == 0) {
			sc.eof = true
		} else if err != nil {
			return nil, 0, err
		}
	}
}

// errTooLong marks a line longer than any the store writes.
var errTooLong = errors.New("line too long")

// discard drops the buffered bytes, so that after errTooLong the scan goes
// on from the next newline.
func (sc *scanner) discard() {
	sc.off += int64(sc.w)
	sc.r, sc.w = 0, 0
}

// Index files grow in chunks, zero-filled past their last entry: growing a
// file changes its size, which the filesystem must journal with the next
// fsync of the log, and one size change per chunk instead of one per commit
// keeps that fsync as cheap as a plain one. Entries are a prefix of the file,
// so the first all-zero entry marks the end (a real entry is never all zero:
// its length is at least 2). A stream index's end lies within its last
// idxChunk bytes, except while a writer that has grown the file for a large
// append writes its entries; positions.idx's end is given by the head.
const (
	idxChunk = 4096
	posChunk = 64 << 10
)

func isZeroEntry(b []byte) bool {
	for _, c := range b[:entrySize] {
		if c != 0 {
			return false
		}
	}
	return true
}

// indexCount returns the number of entries in an index file of the given
// size, and whether the last of them has a valid checksum (a reader racing a
// writer may see an entry half copied, and should look again).
func indexCount(f *os.File, size int64) (n int64, lastOK bool, err error) {
	if size < entrySize {
		return 0, true, nil
	}
	var buf [idxChunk + entrySize]byte
	end := size
	for {
		start := max(0, end-idxChunk) &^ (entrySize - 1)
		got, err := f.ReadAt(buf[:end-start], start)
		if err != nil && err != io.EOF {
			return 0, false, err
		}
		got -= got % entrySize
		i := 0
		for ; i < got; i += entrySize {
			if isZeroEntry(buf[i:]) {
				break
			}
		}
		if i == 0 && start > 0 {
			// The end lies before this chunk: a writer has grown the
			// file for a large append and not yet written its entries.
			end = start
			continue
		}
		n = (start + int64(i)) / entrySize
		if i == 0 {
			return n, true, nil
		}
		_, _, lastOK = getEntry(buf[i-entrySize:])
		return n, lastOK, nil
	}
}

// writeEntries writes entries at byte offset at of f, whose size is *size,
// first growing the file to a whole number of chunks past the write.
func writeEntries(f *os.File, size *int64, at int64, entries []byte, chunk int64) error {
	if end := at + int64(len(entries)); end > *size {
		grown := (end + chunk - 1) / chunk * chunk
		if err := f.Truncate(grown); err != nil {
			return err
		}
		*size = grown
	}
	_, err := f.WriteAt(entries, at)
	return err
}

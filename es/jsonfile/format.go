package jsonfile

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"slices"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
)

// The line format (docs/file-format.md in the repository describes every
// file of a store byte by byte). Every record is one line of JSON with its keys in this
// fixed order (metadata and last are left out when empty):
//
//	{"position":7,"stream":"item-1","version":3,"type":"Renamed","schema":1,
//	 "time":"2026-11-20T10:00:00.000000Z","id":"0193…","last":true,
//	 "metadata":{"actor":"ann"},"data":{…},"crc":"1c2d3e4f"}
//
// crc is the CRC-32C (Castagnoli) of every byte of the line before ,"crc":
// in lower-case hex. The fixed order lets the decoder parse without a
// general JSON decoder and lets it find data's end without scanning data: it
// ends where the fixed-length crc suffix begins.

// castagnoli is the CRC-32C table, made on first use: making it builds
// hash/crc32's SSE4.2 tables (about 0.2 ms), which a package-level variable
// would cost every jerry command at start, whatever store it opens.
var castagnoli = sync.OnceValue(func() *crc32.Table { return crc32.MakeTable(crc32.Castagnoli) })

// crc32c is the CRC-32C (Castagnoli) checksum of b.
func crc32c(b []byte) uint32 { return crc32.Checksum(b, castagnoli()) }

const (
	crcPrefix = `,"crc":"`
	// suffixLen is the length of `,"crc":"xxxxxxxx"}` (without the newline).
	suffixLen = len(crcPrefix) + 8 + 2
	// maxLineLen bounds a line: an event of es.MaxEventSize whose metadata
	// strings all need six-byte escapes still fits.
	maxLineLen = 8 << 20
	timeLayout = "2006-01-02T15:04:05.000000Z"
)

var errLine = errors.New("malformed line")

// appendRecord appends r as one line, newline included. last marks the final
// record of one Append call: recovery keeps a call's records only if its last
// one is intact, which makes appends atomic across crashes.
func appendRecord(b []byte, r *es.Record, last bool) []byte {
	start := len(b)
	b = append(b, `{"position":`...)
	b = appendInt(b, r.Position)
	b = append(b, `,"stream":`...)
	b = appendString(b, r.Stream)
	b = append(b, `,"version":`...)
	b = appendInt(b, r.Version)
	b = append(b, `,"type":`...)
	b = appendString(b, r.Type)
	b = append(b, `,"schema":`...)
	b = appendInt(b, int64(r.Schema))
	b = append(b, `,"time":"`...)
	b = appendTime(b, r.Time)
	b = append(b, `","id":"`...)
	b = appendUUID(b, r.ID)
	b = append(b, '"')
	if last {
		b = append(b, `,"last":true`...)
	}
	if !r.Metadata.IsZero() {
		b = append(b, `,"metadata":`...)
		b = appendMetadata(b, &r.Metadata)
	}
	b = append(b, `,"data":`...)
	b = appendData(b, r.Data)
	return appendCRC(b, start)
}

// appendCRC closes the line that starts at b[start:].
func appendCRC(b []byte, start int) []byte {
	sum := crc32c(b[start:])
	b = append(b, crcPrefix...)
	b = appendHex32(b, sum)
	return append(b, '"', '}', '\n')
}

// appendTime appends t in the fixed layout 2006-01-02T15:04:05.000000Z
// (years 1 to 9999; the store rejects others).
func appendTime(b []byte, t time.Time) []byte {
	t = t.UTC()
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	us := t.Nanosecond() / 1000
	n := len(b)
	b = append(b, "0000-00-00T00:00:00.000000Z"...)
	put := func(at, width, v int) {
		for i := at + width - 1; i >= at; i-- {
			b[n+i] = byte('0' + v%10)
			v /= 10
		}
	}
	put(0, 4, y)
	put(5, 2, int(mo))
	put(8, 2, d)
	put(11, 2, h)
	put(14, 2, mi)
	put(17, 2, s)
	put(20, 6, us)
	return b
}

func appendInt(b []byte, v int64) []byte {
	if v >= 0 && v < 10 {
		return append(b, byte('0'+v))
	}
	var tmp [20]byte
	i := len(tmp)
	neg := v < 0
	u := uint64(v)
	if neg {
		u = uint64(-v)
	}
	for u > 0 {
		i--
		tmp[i] = byte('0' + u%10)
		u /= 10
	}
	if neg {
		b = append(b, '-')
	}
	return append(b, tmp[i:]...)
}

const hexdigits = "0123456789abcdef"

func appendHex32(b []byte, v uint32) []byte {
	for shift := 28; shift >= 0; shift -= 4 {
		b = append(b, hexdigits[(v>>uint(shift))&15])
	}
	return b
}

func appendUUID(b []byte, id uuid.UUID) []byte {
	for i, c := range id {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hexdigits[c>>4], hexdigits[c&15])
	}
	return b
}

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c < utf8.RuneSelf {
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexdigits[c>>4], hexdigits[c&15])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendMetadata(b []byte, m *es.Metadata) []byte {
	b = append(b, '{')
	first := true
	field := func(name, v string) {
		if v == "" {
			return
		}
		if !first {
			b = append(b, ',')
		}
		first = false
		b = append(b, '"')
		b = append(b, name...)
		b = append(b, '"', ':')
		b = appendString(b, v)
	}
	field("actor", m.Actor)
	field("correlation_id", m.CorrelationID)
	field("causation_id", m.CausationID)
	if len(m.Extra) > 0 {
		if !first {
			b = append(b, ',')
		}
		b = append(b, `"extra":{`...)
		keys := make([]string, 0, len(m.Extra))
		for k := range m.Extra {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for i, k := range keys {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendString(b, m.Extra[k])
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

// appendData appends a JSON document. A document is valid JSON already (the
// store validated it), so it is copied as it is unless it holds a line
// break, which can only be insignificant whitespace and would split the
// line: then it is compacted.
func appendData(b []byte, d []byte) []byte {
	if bytes.IndexByte(d, '\n') < 0 && bytes.IndexByte(d, '\r') < 0 {
		return append(b, d...)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, d); err != nil {
		// Unreachable for validated data; keep the line intact regardless.
		return appendString(b, string(d))
	}
	return append(b, buf.Bytes()...)
}

// checkCRC verifies line (without its newline) and returns the part the
// checksum covers.
func checkCRC(line []byte) ([]byte, error) {
	n := len(line)
	if n < suffixLen+2 || line[0] != '{' {
		return nil, errLine
	}
	suf := line[n-suffixLen:]
	if string(suf[:len(crcPrefix)]) != crcPrefix || suf[suffixLen-2] != '"' || suf[suffixLen-1] != '}' {
		return nil, errors.New("missing checksum")
	}
	want, ok := parseHex32(suf[len(crcPrefix) : len(crcPrefix)+8])
	if !ok {
		return nil, errors.New("bad checksum digits")
	}
	body := line[:n-suffixLen]
	if got := crc32c(body); got != want {
		return nil, fmt.Errorf("checksum mismatch: stored %08x, computed %08x", want, got)
	}
	return body, nil
}

// parseHex32 reads the 8 lower-case hex digits appendHex32 writes. It takes
// nothing else, upper case included, so that every bit flipped in a stored
// checksum is seen: a parser that folded case would read 'A' (a flipped bit
// of 'a') as the same digit.
func parseHex32(b []byte) (uint32, bool) {
	if len(b) != 8 {
		return 0, false
	}
	var v uint32
	for _, c := range b {
		d, ok := unhex(c)
		if !ok {
			return 0, false
		}
		v = v<<4 | uint32(d)
	}
	return v, true
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}

// decoder parses lines. It interns repeated strings (stream IDs, types,
// actors), which saves most of the allocations of a read.
type decoder struct {
	intern map[string]string
	// copyData makes Data a fresh copy; otherwise it aliases the line.
	copyData bool
}

func newDecoder() *decoder { return &decoder{intern: make(map[string]string), copyData: true} }

func (d *decoder) str(b []byte) string {
	if d == nil || d.intern == nil {
		return string(b)
	}
	if s, ok := d.intern[string(b)]; ok {
		return s
	}
	if len(d.intern) >= 4096 {
		clear(d.intern)
	}
	s := string(b)
	d.intern[s] = s
	return s
}

// parser walks a line whose layout is fixed.
type parser struct {
	b []byte
	i int
}

func (p *parser) lit(s string) bool {
	if len(p.b)-p.i < len(s) || string(p.b[p.i:p.i+len(s)]) != s {
		return false
	}
	p.i += len(s)
	return true
}

func (p *parser) int() (int64, bool) {
	start := p.i
	var v int64
	for p.i < len(p.b) && p.b[p.i] >= '0' && p.b[p.i] <= '9' {
		d := int64(p.b[p.i] - '0')
		if v > (math.MaxInt64-d)/10 {
			return 0, false
		}
		v = v*10 + d
		p.i++
	}
	return v, p.i > start
}

// str parses a JSON string. raw is the bytes between the quotes when they
// hold no escape; otherwise s is the decoded string.
func (p *parser) str(d *decoder) (string, bool) {
	if p.i >= len(p.b) || p.b[p.i] != '"' {
		return "", false
	}
	start := p.i + 1
	ascii := true
	for j := start; j < len(p.b); j++ {
		switch c := p.b[j]; {
		case c == '"':
			// The writer never produces invalid UTF-8: reject it rather
			// than return a string that would not round-trip.
			if !ascii && !utf8.Valid(p.b[start:j]) {
				return "", false
			}
			p.i = j + 1
			return d.str(p.b[start:j]), true
		case c >= utf8.RuneSelf:
			ascii = false
		case c == '\\':
			return p.slowStr()
		case c < 0x20:
			return "", false
		}
	}
	return "", false
}

func (p *parser) slowStr() (string, bool) {
	// Find the closing quote, skipping escapes, then let encoding/json
	// handle the escapes' rules (surrogate pairs and all).
	start := p.i
	for j := start + 1; j < len(p.b); j++ {
		switch p.b[j] {
		case '\\':
			j++
		case '"':
			var s string
			if !utf8.Valid(p.b[start : j+1]) {
				return "", false
			}
			if err := json.Unmarshal(p.b[start:j+1], &s); err != nil {
				return "", false
			}
			p.i = j + 1
			return s, true
		}
	}
	return "", false
}

// decodeLine parses one line (without its newline) into r, checking its
// checksum first. It reports whether the record is the last of its append.
func (d *decoder) decodeLine(line []byte, r *es.Record) (last bool, err error) {
	body, err := checkCRC(line)
	if err != nil {
		return false, err
	}
	return d.decodeBody(body, r)
}

func (d *decoder) decodeBody(body []byte, r *es.Record) (last bool, err error) {
	p := parser{b: body}
	var ok bool
	if !p.lit(`{"position":`) {
		return false, errLine
	}
	if r.Position, ok = p.int(); !ok || r.Position < 1 {
		return false, errors.New("bad position")
	}
	if !p.lit(`,"stream":`) {
		return false, errLine
	}
	if r.Stream, ok = p.str(d); !ok || r.Stream == "" {
		return false, errors.New("bad stream")
	}
	if !p.lit(`,"version":`) {
		return false, errLine
	}
	if r.Version, ok = p.int(); !ok || r.Version < 1 {
		return false, errors.New("bad version")
	}
	if !p.lit(`,"type":`) {
		return false, errLine
	}
	if r.Type, ok = p.str(d); !ok || r.Type == "" {
		return false, errors.New("bad type")
	}
	if !p.lit(`,"schema":`) {
		return false, errLine
	}
	schema, ok := p.int()
	if !ok || schema < 1 || schema > 1<<31-1 {
		return false, errors.New("bad schema")
	}
	r.Schema = int(schema)
	if !p.lit(`,"time":"`) || len(body)-p.i < len(timeLayout)+1 {
		return false, errLine
	}
	if r.Time, ok = parseTime(body[p.i : p.i+len(timeLayout)]); !ok {
		return false, errors.New("bad time")
	}
	p.i += len(timeLayout)
	if !p.lit(`","id":"`) || len(body)-p.i < 37 {
		return false, errLine
	}
	if r.ID, ok = parseUUID(body[p.i : p.i+36]); !ok {
		return false, errors.New("bad id")
	}
	p.i += 36
	if !p.lit(`"`) {
		return false, errLine
	}
	last = p.lit(`,"last":true`)
	r.Metadata = es.Metadata{}
	if p.lit(`,"metadata":`) {
		if !p.metadata(d, &r.Metadata) {
			return false, errors.New("bad metadata")
		}
	}
	if !p.lit(`,"data":`) || p.i >= len(body) {
		return false, errLine
	}
	data := body[p.i:]
	if d.copyData {
		data = bytes.Clone(data)
	}
	r.Data = data
	return last, nil
}

func (p *parser) metadata(d *decoder, m *es.Metadata) bool {
	if !p.lit("{") {
		return false
	}
	if p.lit("}") {
		return true
	}
	for {
		key, ok := p.str(nil)
		if !ok || !p.lit(":") {
			return false
		}
		switch key {
		case "actor":
			m.Actor, ok = p.str(d)
		case "correlation_id":
			m.CorrelationID, ok = p.str(nil)
		case "causation_id":
			m.CausationID, ok = p.str(nil)
		case "extra":
			ok = p.extra(m)
		default:
			return false
		}
		if !ok {
			return false
		}
		if p.lit("}") {
			return true
		}
		if !p.lit(",") {
			return false
		}
	}
}

func (p *parser) extra(m *es.Metadata) bool {
	if !p.lit("{") {
		return false
	}
	m.Extra = make(map[string]string)
	if p.lit("}") {
		return true
	}
	for {
		k, ok := p.str(nil)
		if !ok || !p.lit(":") {
			return false
		}
		v, ok := p.str(nil)
		if !ok {
			return false
		}
		m.Extra[k] = v
		if p.lit("}") {
			return true
		}
		if !p.lit(",") {
			return false
		}
	}
}

func digits(b []byte) (int, bool) {
	v := 0
	for _, c := range b {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}

// parseTime parses the fixed layout 2006-01-02T15:04:05.000000Z.
func parseTime(b []byte) (time.Time, bool) {
	if len(b) != len(timeLayout) || b[4] != '-' || b[7] != '-' || b[10] != 'T' ||
		b[13] != ':' || b[16] != ':' || b[19] != '.' || b[26] != 'Z' {
		return time.Time{}, false
	}
	y, ok1 := digits(b[0:4])
	mo, ok2 := digits(b[5:7])
	dd, ok3 := digits(b[8:10])
	h, ok4 := digits(b[11:13])
	mi, ok5 := digits(b[14:16])
	s, ok6 := digits(b[17:19])
	us, ok7 := digits(b[20:26])
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) ||
		mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || s > 59 {
		return time.Time{}, false
	}
	return time.Date(y, time.Month(mo), dd, h, mi, s, us*1000, time.UTC), true
}

func parseUUID(b []byte) (uuid.UUID, bool) {
	var id uuid.UUID
	if len(b) != 36 || b[8] != '-' || b[13] != '-' || b[18] != '-' || b[23] != '-' {
		return id, false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := unhex(b[i])
		lo, ok2 := unhex(b[i+1])
		if !ok1 || !ok2 {
			return id, false
		}
		id[j] = hi<<4 | lo
		j++
		i += 2
	}
	return id, true
}

package app

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"slices"
	"time"
	"unsafe"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
)

// The persisted read model is a compact binary encoding of an Overview,
// because it is read by every list and ready: for 10,000 items (about 4 MB
// with their comments) it decodes in about 2 ms, where encoding/gob or JSON
// take tens. Layout, little-endian:
//
//	magic    "JRYPROJ\x00"        8 bytes
//	version  modelVersion         uint32
//	position of the last record   int64
//	ID of the last record         16 bytes (checked against the log on load)
//	length of the body            uint64
//	body                          items, initiatives, then the dependency
//	                              graph's version and unsettled
//	                              reservations; see encodeBody
//	crc32c of all of the above    uint32
//
// A model of another version, or one that fails any check, is an error
// matching errModel: the caller ignores it and rebuilds from the events.

const (
	modelMagic      = "JRYPROJ\x00"
	modelVersion    = 3 // 2: the dependency graph section; 3: status reasons and claims
	modelHeaderSize = 8 + 4 + 8 + 16 + 8
)

var (
	modelCRC = crc32.MakeTable(crc32.Castagnoli)

	// errModel means an encoded read model is damaged or of another
	// version.
	errModel = errors.New("unusable read model")
)

func modelErrorf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{errModel}, args...)...)
}

// encodeModel returns p's state and position in the persisted form.
func encodeModel(p *Overview) []byte {
	// Growing the buffer by appends would copy it several times over.
	b := make([]byte, modelHeaderSize, modelHeaderSize+bodySizeBound(p)+4)
	copy(b, modelMagic)
	binary.LittleEndian.PutUint32(b[8:], modelVersion)
	binary.LittleEndian.PutUint64(b[12:], uint64(p.pos))
	copy(b[20:36], p.lastID[:])
	b = encodeBody(b, p)
	binary.LittleEndian.PutUint64(b[36:], uint64(len(b)-modelHeaderSize))
	return binary.LittleEndian.AppendUint32(b, crc32.Checksum(b, modelCRC))
}

// bodySizeBound returns at least the size encodeBody writes for p:
// binary.MaxVarintLen64 for every number and string length.
func bodySizeBound(p *Overview) int {
	const n = binary.MaxVarintLen64
	size := 3 * n
	for _, it := range p.order {
		size += len(it.ID) + len(it.Title) + len(it.Description) + len(it.Type) + len(it.Status) +
			len(it.Priority) + len(it.Assignee) + len(it.Initiative) + len(it.StatusReason) + len(it.raw) + 18*n
		for _, c := range it.Comments {
			size += len(c.Author) + len(c.Text) + 3*n
		}
		for _, bl := range it.Blockers {
			size += len(bl) + n
		}
	}
	for key, in := range p.inits {
		size += len(key) + len(in.ID) + len(in.Title) + len(in.Description) + len(in.Status) + 9*n
		for _, m := range in.Members {
			size += len(m) + n
		}
	}
	size += 2 * n
	for id, rs := range p.pending {
		size += n
		for _, r := range rs {
			size += len(id) + len(r.blocker) + 2*n
		}
	}
	return size
}

func appendString(b []byte, s string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

// appendTime writes t as microseconds since 1970 (the store's precision),
// plus one so that 0 stands for the zero time.
func appendTime(b []byte, t time.Time) []byte {
	if t.IsZero() {
		return binary.AppendVarint(b, 0)
	}
	us := t.UnixMicro()
	if us >= 0 {
		us++
	}
	return binary.AppendVarint(b, us)
}

func appendStrings(b []byte, ss []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(ss)))
	for _, s := range ss {
		b = appendString(b, s)
	}
	return b
}

// encodeBody writes every item, in ID order, then every initiative.
func encodeBody(b []byte, p *Overview) []byte {
	p.sortOrder()
	b = binary.AppendUvarint(b, uint64(len(p.items)))
	var strs int
	for _, it := range p.items {
		strs += len(it.Blockers)
	}
	for _, in := range p.inits {
		strs += len(in.Members)
	}
	// The total first, so that the decoder allocates the lists at once.
	b = binary.AppendUvarint(b, uint64(strs))
	for _, it := range p.order {
		b = appendString(b, it.ID)
		b = appendString(b, it.Title)
		b = appendString(b, it.Description)
		b = appendString(b, string(it.Type))
		b = appendString(b, string(it.Status))
		b = appendString(b, string(it.Priority))
		b = appendString(b, it.Assignee)
		b = appendString(b, it.Initiative)
		if it.raw != "" {
			b = append(b, it.raw...) // still as it was loaded
		} else {
			b = binary.AppendUvarint(b, uint64(len(it.Comments)))
			for _, c := range it.Comments {
				b = appendString(b, c.Author)
				b = appendTime(b, c.Time)
				b = appendString(b, c.Text)
			}
		}
		b = appendStrings(b, it.Blockers)
		b = binary.AppendVarint(b, it.Version)
		b = appendTime(b, it.CreatedAt)
		b = appendTime(b, it.UpdatedAt)
		b = appendString(b, it.StatusReason)
		if c := it.Claim; c != nil {
			b = binary.AppendUvarint(b, 1)
			b = appendTime(b, c.Since)
			b = appendTime(b, c.Renewed)
			b = binary.AppendVarint(b, int64(c.Lease))
		} else {
			b = binary.AppendUvarint(b, 0)
		}
	}
	b = binary.AppendUvarint(b, uint64(len(p.inits)))
	for key, in := range p.inits {
		b = appendString(b, key)
		b = appendString(b, in.ID)
		b = appendString(b, in.Title)
		b = appendString(b, in.Description)
		b = appendString(b, string(in.Status))
		b = appendStrings(b, in.Members)
		b = binary.AppendVarint(b, in.Version)
		b = appendTime(b, in.CreatedAt)
		b = appendTime(b, in.UpdatedAt)
	}
	b = binary.AppendVarint(b, p.graphVersion)
	var nPending int
	for _, rs := range p.pending {
		nPending += len(rs)
	}
	b = binary.AppendUvarint(b, uint64(nPending))
	// In ID order, so that the same state always encodes the same.
	for _, id := range slices.Sorted(maps.Keys(p.pending)) {
		for _, r := range p.pending[id] {
			b = appendString(b, id)
			b = appendString(b, r.blocker)
			b = binary.AppendVarint(b, r.itemVersion)
		}
	}
	return b
}

// decodeModel reads a model written by encodeModel into a new projection
// that decodes events with reg. It takes b over: the projection's strings
// point into it, so the caller must never modify it afterwards.
func decodeModel(b []byte, reg *es.Registry) (*Overview, error) {
	if len(b) < modelHeaderSize+4 || string(b[:8]) != modelMagic {
		return nil, modelErrorf("not a read model file")
	}
	if v := binary.LittleEndian.Uint32(b[8:]); v != modelVersion {
		return nil, modelErrorf("format version %d, this jerry writes %d", v, modelVersion)
	}
	n := binary.LittleEndian.Uint64(b[36:])
	if n != uint64(len(b)-modelHeaderSize-4) {
		return nil, modelErrorf("body of %d bytes, file holds %d", n, len(b)-modelHeaderSize-4)
	}
	end := len(b) - 4
	if crc32.Checksum(b[:end], modelCRC) != binary.LittleEndian.Uint32(b[end:]) {
		return nil, modelErrorf("checksum mismatch")
	}
	p := NewOverview(reg)
	p.pos = int64(binary.LittleEndian.Uint64(b[12:]))
	if p.pos < 0 {
		return nil, modelErrorf("position %d", p.pos)
	}
	p.lastID = uuid.UUID(b[20:36])
	// Every string of the model is a substring of the body, which costs
	// no allocation or copy. b is never written after this (the caller
	// hands it over), which is what makes unsafe.String sound here.
	body := b[modelHeaderSize:end]
	d := decoder{}
	if len(body) > 0 {
		d.s = unsafe.String(&body[0], len(body))
	}
	if err := d.body(p); err != nil {
		return nil, err
	}
	return p, nil
}

// decoder reads the body. Its first error sticks; reads after it return
// zero values.
type decoder struct {
	s   string
	i   int
	err error
}

func (d *decoder) fail(what string) {
	if d.err == nil {
		d.err = modelErrorf("bad %s at body offset %d", what, d.i)
	}
}

func (d *decoder) uvarint() uint64 {
	if d.i < len(d.s) && d.s[d.i] < 0x80 {
		d.i++
		return uint64(d.s[d.i-1])
	}
	if d.err != nil {
		return 0
	}
	var x uint64
	var shift uint
	for d.i < len(d.s) {
		c := d.s[d.i]
		d.i++
		if c < 0x80 {
			if shift == 63 && c > 1 {
				break
			}
			return x | uint64(c)<<shift
		}
		x |= uint64(c&0x7f) << shift
		if shift += 7; shift > 63 {
			break
		}
	}
	d.fail("number")
	return 0
}

func (d *decoder) varint() int64 {
	ux := d.uvarint()
	x := int64(ux >> 1)
	if ux&1 != 0 {
		x = ^x
	}
	return x
}

// count reads a number of things each taking at least min bytes, so that a
// damaged count cannot make the decoder allocate more than the body holds.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i)/uint64(min) {
		d.fail("count")
		return 0
	}
	return int(n)
}

func (d *decoder) str() string {
	// Most strings are shorter than 128 bytes: a one-byte length.
	if i := d.i; i < len(d.s) {
		if n := int(d.s[i]); n < 0x80 && i+1+n <= len(d.s) {
			d.i = i + 1 + n
			return d.s[i+1 : i+1+n]
		}
	}
	return d.longStr()
}

func (d *decoder) longStr() string {
	n := d.uvarint()
	if n > uint64(len(d.s)-d.i) {
		d.fail("string length")
		return ""
	}
	s := d.s[d.i : d.i+int(n)]
	d.i += int(n)
	return s
}

func (d *decoder) time() time.Time {
	us := d.varint()
	switch {
	case us == 0:
		return time.Time{}
	case us > 0:
		us--
	}
	return time.UnixMicro(us).UTC()
}

// decodeComments decodes comments that body checked and left encoded.
func decodeComments(raw string) []tracker.Comment {
	d := decoder{s: raw}
	n := d.count(3)
	out := make([]tracker.Comment, n)
	for i := range out {
		c := &out[i]
		c.Author = d.str()
		c.Time = d.time()
		c.Text = d.str()
	}
	if d.err != nil {
		panic("jerry: read model comments damaged after they were checked: " + d.err.Error())
	}
	return out
}

func (d *decoder) strings(pool *[]string) []string {
	n := d.count(1)
	if n == 0 || d.err != nil {
		return nil
	}
	if n > len(*pool) {
		d.fail("list")
		return nil
	}
	out := (*pool)[:n:n] // capped: an append copies rather than overwrite the next list
	*pool = (*pool)[n:]
	for i := range out {
		out[i] = d.str()
	}
	return out
}

func (d *decoder) body(p *Overview) error {
	nItems := d.count(13)
	strs := make([]string, d.count(1))
	items := make([]itemEntry, nItems)
	p.items = make(map[string]*itemEntry, nItems)
	p.order = make([]*itemEntry, nItems)
	for i := range items {
		it := &items[i]
		it.ID, it.Title, it.Description = d.str(), d.str(), d.str()
		it.Type, it.Status, it.Priority = tracker.ItemType(d.str()), tracker.Status(d.str()), tracker.Priority(d.str())
		it.Assignee, it.Initiative = d.str(), d.str()
		// Comments stay encoded until asked for: check their bounds only.
		start := d.i
		if n := d.count(3); n > 0 {
			for range n {
				d.str()
				d.varint()
				d.str()
			}
			it.raw = d.s[start:d.i]
		}
		it.Blockers = d.strings(&strs)
		it.Version = d.varint()
		it.CreatedAt, it.UpdatedAt = d.time(), d.time()
		it.StatusReason = d.str()
		if d.uvarint() == 1 {
			// The holder of a claim is the item's assignee.
			it.Claim = &tracker.Claim{Holder: it.Assignee, Since: d.time(), Renewed: d.time(), Lease: tracker.Duration(d.varint())}
		}
		if d.err != nil {
			return d.err
		}
		p.items[it.ID] = it
		p.order[i] = it
	}
	// Written in ID order; checked rather than trusted, as it is cheap.
	for i := 1; i < len(p.order) && p.sorted; i++ {
		p.sorted = compareIDs(p.order[i-1].ID, p.order[i].ID) < 0
	}
	nInits := d.count(9)
	inits := make([]tracker.InitiativeState, nInits)
	p.inits = make(map[string]*tracker.InitiativeState, nInits)
	for i := range inits {
		in := &inits[i]
		key := d.str()
		in.ID, in.Title, in.Description = d.str(), d.str(), d.str()
		in.Status = tracker.InitiativeStatus(d.str())
		in.Members = d.strings(&strs)
		in.Version = d.varint()
		in.CreatedAt, in.UpdatedAt = d.time(), d.time()
		if d.err != nil {
			return d.err
		}
		p.inits[key] = in
	}
	p.graphVersion = d.varint()
	if p.graphVersion < 0 {
		d.fail("dependency graph version")
	}
	for range d.count(3) {
		id, blocker, v := d.str(), d.str(), d.varint()
		if d.err != nil {
			return d.err
		}
		p.pending[id] = append(p.pending[id], pendingEdge{blocker: blocker, itemVersion: v})
	}
	if d.err == nil && (d.i != len(d.s) || len(p.items) != nItems || len(p.inits) != nInits) {
		d.fail("end of model")
	}
	return d.err
}

package tracker

import (
	"unicode/utf8"
)

// The read model folds every event in the log, so decoding is most of its
// cost: encoding/json spends about 1.5 µs on each small event, over half of
// a fold of 100,000 events. Almost all of Jerry's events are flat objects of
// plain strings, so DecodeFast reads those without reflection and leaves
// anything else (escapes, other shapes, unknown keys, another schema) to the
// registry. FuzzDecodeFast checks that whatever it accepts, encoding/json
// decodes to the same value.

// maxFlatFields bounds the fields of a flat event.
const maxFlatFields = 8

type flatField struct{ key, val []byte }

// parseFlat parses the whole of b as {"k":"v",...} with plain string values:
// no escapes, no control characters, valid UTF-8. ok is false for anything
// else.
func parseFlat(b []byte, out *[maxFlatFields]flatField) (n int, ok bool) {
	n, i, ok := parseFlatAt(b, skipSpace(b, 0), out)
	return n, ok && skipSpace(b, i) == len(b)
}

// parseFlatAt parses a flat object at b[i] and returns the index after it.
func parseFlatAt(b []byte, i int, out *[maxFlatFields]flatField) (n, next int, ok bool) {
	if i >= len(b) || b[i] != '{' {
		return 0, 0, false
	}
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return 0, i + 1, true
	}
	for {
		var k, v []byte
		if k, i, ok = plainString(b, i); !ok {
			return 0, 0, false
		}
		i = skipSpace(b, i)
		if i >= len(b) || b[i] != ':' {
			return 0, 0, false
		}
		if v, i, ok = plainString(b, skipSpace(b, i+1)); !ok {
			return 0, 0, false
		}
		if n == maxFlatFields {
			return 0, 0, false
		}
		out[n] = flatField{k, v}
		n++
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, 0, false
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return n, i + 1, true
		default:
			return 0, 0, false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}

// plainString reads a JSON string at b[i] that needs no unescaping.
func plainString(b []byte, i int) (s []byte, next int, ok bool) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, false
	}
	start := i + 1
	ascii := true
	for j := start; j < len(b); j++ {
		switch c := b[j]; {
		case c == '"':
			s = b[start:j]
			if !ascii && !utf8.Valid(s) {
				return nil, 0, false
			}
			return s, j + 1, true
		case c == '\\' || c < 0x20:
			return nil, 0, false
		case c >= 0x80:
			ascii = false
		}
	}
	return nil, 0, false
}

// flat looks up the fields of a parsed event, and notes keys it was not asked
// about so that an event with unexpected keys falls back to encoding/json.
type flat struct {
	f    [maxFlatFields]flatField
	n    int
	used int // bit i: field i was asked for
}

func (f *flat) get(key string) string {
	var v []byte
	for i := range f.n {
		if string(f.f[i].key) == key {
			v = f.f[i].val // the last of duplicate keys wins, as in encoding/json
			f.used |= 1 << i
		}
	}
	return string(v)
}

func (f *flat) allUsed() bool { return f.used == 1<<f.n-1 }

// DecodeFast decodes the data of a current-schema event of type typ, or
// returns false to leave it to the registry.
func DecodeFast(typ string, data []byte) (any, bool) {
	if typ == EvItemEdited {
		return decodeEdited(data)
	}
	var f flat
	var ok bool
	if f.n, ok = parseFlat(data, &f.f); !ok {
		return nil, false
	}
	var v any
	switch typ {
	case EvCommented:
		v = Commented{Author: f.get("author"), Text: f.get("text")}
	case EvStatusChanged:
		v = StatusChanged{From: Status(f.get("from")), To: Status(f.get("to")), Reason: f.get("reason")}
	case EvItemCreated:
		v = ItemCreated{Title: f.get("title"), Description: f.get("description"), Type: ItemType(f.get("type")),
			Priority: Priority(f.get("priority")), Initiative: f.get("initiative")}
	case EvReleased:
		v = Released{Previous: f.get("previous"), Reason: f.get("reason")}
	case EvReopened:
		v = Reopened{From: Status(f.get("from")), Reason: f.get("reason")}
	case EvBlockerAdded:
		v = BlockerAdded{Blocker: f.get("blocker")}
	case EvBlockerRemoved:
		v = BlockerRemoved{Blocker: f.get("blocker")}
	case EvInitiativeChanged:
		v = InitiativeChanged{Initiative: f.get("initiative"), Previous: f.get("previous")}
	case EvInitiativeCreated:
		v = InitiativeCreated{Title: f.get("title"), Description: f.get("description")}
	case EvItemAdded:
		v = ItemAdded{Item: f.get("item")}
	case EvItemRemoved:
		v = ItemRemoved{Item: f.get("item")}
	case EvInitiativeCompleted:
		v = InitiativeCompleted{Reason: f.get("reason")}
	case EvInitiativeCancelled:
		v = InitiativeCancelled{Reason: f.get("reason")}
	default:
		return nil, false
	}
	if !f.allUsed() {
		return nil, false
	}
	return v, true
}

// decodeEdited reads {"changes":[{"field":..,"from":..,"to":..},...]}.
func decodeEdited(b []byte) (any, bool) {
	const head = `{"changes":[`
	if len(b) < len(head) || string(b[:len(head)]) != head {
		return nil, false
	}
	var e ItemEdited
	i := len(head)
	if i < len(b) && b[i] == ']' {
		// encoding/json leaves an empty array as an empty, non-nil slice.
		e.Changes = []FieldChange{}
	}
	for i < len(b) && b[i] != ']' {
		var f flat
		var ok bool
		if f.n, i, ok = parseFlatAt(b, i, &f.f); !ok {
			return nil, false
		}
		c := FieldChange{Field: f.get("field"), From: f.get("from"), To: f.get("to")}
		if !f.allUsed() {
			return nil, false
		}
		e.Changes = append(e.Changes, c)
		if i < len(b) && b[i] == ',' {
			i++
			if i >= len(b) || b[i] != '{' {
				return nil, false
			}
		}
	}
	if string(b[i:]) != "]}" {
		return nil, false
	}
	return e, true
}

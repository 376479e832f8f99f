package es

import (
	"encoding/json"
	"fmt"
	"iter"
	"reflect"
	"sync"
)

// UpcastFunc transforms a JSON document from one schema version to the next.
// It must be pure: the same input always gives the same output.
type UpcastFunc func(data json.RawMessage) (json.RawMessage, error)

// Registry maps stable event type names to Go types and their current schema
// versions, and holds the upcasters that bring older stored data to the
// current schema. Names are chosen explicitly and never derived from Go type
// names, so renaming a Go type never orphans stored events.
//
// Register everything before first use; after that a Registry is safe for
// concurrent use.
type Registry struct {
	mu        sync.RWMutex
	byName    map[string]eventType
	byGo      map[reflect.Type]string
	upcasters map[upcastKey]UpcastFunc
	snapshots map[string]int // aggregate type -> current snapshot schema
}

type eventType struct {
	goType reflect.Type
	schema int
}

type upcastKey struct {
	kind string // "event" or "snapshot"
	name string
	from int
}

// NewRegistry returns an empty registry.
func NewRegistry() *Registry {
	return &Registry{
		byName:    make(map[string]eventType),
		byGo:      make(map[reflect.Type]string),
		upcasters: make(map[upcastKey]UpcastFunc),
		snapshots: make(map[string]int),
	}
}

// Register records that events named name carry data of Go type E (a struct,
// not a pointer) at schema version schema. It panics if name or E is already
// registered (with an error matching [ErrDuplicate]), or schema is below 1:
// registration is program set-up, and a mistake there must not go unnoticed.
func Register[E any](r *Registry, name string, schema int) {
	t := reflect.TypeFor[E]()
	if err := validateName(ErrInvalidEventType, "event type", name, MaxEventTypeLen); err != nil {
		panic(err)
	}
	if schema < 1 {
		panic(fmt.Sprintf("es: schema version %d for %s is below 1", schema, name))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.byName[name]; dup {
		panic(fmt.Errorf("%w: event type %s", ErrDuplicate, name))
	}
	if prev, dup := r.byGo[t]; dup {
		panic(fmt.Errorf("%w: Go type %v as both %s and %s", ErrDuplicate, t, prev, name))
	}
	r.byName[name] = eventType{goType: t, schema: schema}
	r.byGo[t] = name
}

// RegisterUpcaster adds fn to transform data of event type name from schema
// version from to from+1. It panics if one is already registered there, with
// an error matching [ErrDuplicate].
func (r *Registry) RegisterUpcaster(name string, from int, fn UpcastFunc) {
	r.addUpcaster(upcastKey{"event", name, from}, fn)
}

// RegisterSnapshot records that aggregate type aggType writes snapshot state
// at schema version schema.
func (r *Registry) RegisterSnapshot(aggType string, schema int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.snapshots[aggType] = schema
}

// RegisterSnapshotUpcaster adds fn to transform snapshot state of aggregate
// type aggType from schema version from to from+1. Without a chain of them up
// to the current schema, an old snapshot is ignored and the aggregate is
// rebuilt by full replay.
func (r *Registry) RegisterSnapshotUpcaster(aggType string, from int, fn UpcastFunc) {
	r.addUpcaster(upcastKey{"snapshot", aggType, from}, fn)
}

func (r *Registry) addUpcaster(k upcastKey, fn UpcastFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, dup := r.upcasters[k]; dup {
		panic(fmt.Errorf("%w: %s upcaster for %s from schema %d", ErrDuplicate, k.kind, k.name, k.from))
	}
	r.upcasters[k] = fn
}

// Schema returns the current schema version of event type name.
func (r *Registry) Schema(name string) (int, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	t, ok := r.byName[name]
	return t.schema, ok
}

// Encode returns the event to append for data, whose Go type must be
// registered.
func (r *Registry) Encode(data any) (Event, error) {
	t := reflect.TypeOf(data)
	r.mu.RLock()
	name, ok := r.byGo[t]
	et := r.byName[name]
	r.mu.RUnlock()
	if !ok {
		return Event{}, fmt.Errorf("%w: Go type %v", ErrUnknownType, t)
	}
	raw, err := json.Marshal(data)
	if err != nil {
		return Event{}, fmt.Errorf("es: encode %s: %w", name, err)
	}
	return Event{Type: name, Schema: et.schema, Data: raw}, nil
}

// Upcast returns rec with its data brought to the current schema version of
// its type. A record of an unregistered type, or already current, is
// returned as it is. A record from a schema newer than the registry knows, or
// with a missing step in its upcaster chain, is an error: reading it as the
// current shape would be silently wrong.
func (r *Registry) Upcast(rec Record) (Record, error) {
	r.mu.RLock()
	et, ok := r.byName[rec.Type]
	r.mu.RUnlock()
	if !ok {
		return rec, nil
	}
	return r.upcastTo(rec, et.schema)
}

// upcastTo brings rec's data to schema, the current one of its type.
func (r *Registry) upcastTo(rec Record, schema int) (Record, error) {
	if rec.Schema == schema {
		return rec, nil
	}
	data, err := r.upcast("event", rec.Type, rec.Schema, schema, rec.Data)
	if err != nil {
		return rec, fmt.Errorf("es: upcast %s event %s v%d at %s: %w", rec.Type, rec.Stream, rec.Version, rec.ID, err)
	}
	rec.Data, rec.Schema = data, schema
	return rec, nil
}

// SnapshotSchema returns the snapshot schema registered for aggregate type
// aggType with RegisterSnapshot, or 1 if none is.
func (r *Registry) SnapshotSchema(aggType string) int {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if v, ok := r.snapshots[aggType]; ok {
		return v
	}
	return 1
}

// UpcastSnapshot returns s with its state brought to the current snapshot
// schema of its aggregate type, and false if that cannot be done: the schema
// is unknown, newer, or the chain has a gap. Such a snapshot must be ignored.
func (r *Registry) UpcastSnapshot(s Snapshot, current int) (Snapshot, bool) {
	if s.Schema == current {
		return s, true
	}
	state, err := r.upcast("snapshot", s.Type, s.Schema, current, s.State)
	if err != nil {
		return s, false
	}
	s.State, s.Schema = state, current
	return s, true
}

func (r *Registry) upcast(kind, name string, from, to int, data json.RawMessage) (json.RawMessage, error) {
	if from > to {
		return nil, fmt.Errorf("%w: schema %d is newer than the current %d", ErrFutureSchema, from, to)
	}
	for v := from; v < to; v++ {
		r.mu.RLock()
		fn, ok := r.upcasters[upcastKey{kind, name, v}]
		r.mu.RUnlock()
		if !ok {
			return nil, fmt.Errorf("%w from schema %d", ErrNoUpcaster, v)
		}
		var err error
		if data, err = fn(data); err != nil {
			return nil, fmt.Errorf("from schema %d: %w", v, err)
		}
	}
	return data, nil
}

// Decode upcasts rec and returns its data as a value of the registered Go
// type (not a pointer).
func (r *Registry) Decode(rec Record) (any, error) {
	// One look-up serves both the upcast and the decode: this runs once
	// per event on every replay.
	r.mu.RLock()
	et, ok := r.byName[rec.Type]
	r.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("%w %q", ErrUnknownType, rec.Type)
	}
	rec, err := r.upcastTo(rec, et.schema)
	if err != nil {
		return nil, err
	}
	p := reflect.New(et.goType)
	if err := json.Unmarshal(rec.Data, p.Interface()); err != nil {
		return nil, fmt.Errorf("es: decode %s event %s v%d: %w", rec.Type, rec.Stream, rec.Version, err)
	}
	return p.Elem().Interface(), nil
}

// Upcasted wraps seq so that every record comes out upcast to its current
// schema: use it on the global log and on subscriptions.
func (r *Registry) Upcasted(seq iter.Seq2[Record, error]) iter.Seq2[Record, error] {
	return func(yield func(Record, error) bool) {
		for rec, err := range seq {
			if err == nil {
				rec, err = r.Upcast(rec)
			}
			if !yield(rec, err) || err != nil {
				return
			}
		}
	}
}

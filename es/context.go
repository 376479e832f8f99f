package es

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"sync"

	"github.com/google/uuid"
)

type metadataKey struct{}

// WithMetadata returns a context that carries m; a [Repository] stores it on
// every event it saves with that context. It describes the request (who acts,
// what it correlates with), which is why it travels in the context rather than
// in each command's arguments.
func WithMetadata(ctx context.Context, m Metadata) context.Context {
	return context.WithValue(ctx, metadataKey{}, m)
}

// MetadataFrom returns the metadata carried by ctx, if any.
func MetadataFrom(ctx context.Context) Metadata {
	m, _ := ctx.Value(metadataKey{}).(Metadata)
	return m
}

type derivedIDsKey struct{}

// derivedIDs hands out the event IDs of one request, derived from its key:
// the n-th event the request stores (counting only events that were stored)
// gets the same ID every time the request runs.
type derivedIDs struct {
	key    []byte
	mu     sync.Mutex
	stored int
}

// WithDerivedIDs returns a context in which a [Repository] gives the events
// it saves IDs derived from key instead of new random ones: the first event
// stored under the context gets DerivedID(key, 0), the next DerivedID(key,
// 1), and so on; a save that fails (a conflict, before a retry) uses up no
// number. A request that is run again with the same key therefore gives
// its events the same IDs, so that whoever runs it again can find out, by
// looking for DerivedID(key, 0), whether the first run stored anything; and
// a store that keeps event IDs unique (es/postgres) refuses a second copy.
// key should be unique to the request (a hash of who sent it and its
// idempotency key).
func WithDerivedIDs(ctx context.Context, key []byte) context.Context {
	return context.WithValue(ctx, derivedIDsKey{}, &derivedIDs{key: append([]byte(nil), key...)})
}

// DerivedID returns the n-th event ID derived from key (see
// [WithDerivedIDs]): a version 8 UUID made of the SHA-256 of key and n.
func DerivedID(key []byte, n int) uuid.UUID {
	h := sha256.New()
	h.Write(key)
	var b [8]byte
	binary.BigEndian.PutUint64(b[:], uint64(n))
	h.Write(b[:])
	var id uuid.UUID
	copy(id[:], h.Sum(nil))
	id[6] = (id[6] & 0x0f) | 0x80 // version 8: custom
	id[8] = (id[8] & 0x3f) | 0x80 // variant RFC 9562
	return id
}

// next returns the IDs of count events about to be saved; commit says they
// were stored.
func (d *derivedIDs) next(count int) (ids []uuid.UUID, commit func()) {
	d.mu.Lock()
	base := d.stored
	d.mu.Unlock()
	ids = make([]uuid.UUID, count)
	for i := range ids {
		ids[i] = DerivedID(d.key, base+i)
	}
	return ids, func() {
		d.mu.Lock()
		d.stored = base + count
		d.mu.Unlock()
	}
}

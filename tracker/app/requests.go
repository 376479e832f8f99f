package app

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jerry-es/jerry/es"
)

// Idempotent requests: a face (the HTTP API's Idempotency-Key) runs a write
// between Service.BeginRequest and Service.FinishRequest, which run it at
// most once per key and give every repeat the first reply.
//
// Each key has a bookkeeping stream, RequestStreamPrefix and a hash of the
// actor and the key. The first request appends RequestStarted to it with
// es.NoStream: of requests racing with one key exactly one gets to run, and
// the others wait for its reply. The write runs with es.WithDerivedIDs, so
// its events carry IDs derived from the key. Then RequestFinished stores the
// reply. If the process dies between the write and the reply, a repeat
// finds RequestStarted alone; once it is older than requestStale (the
// runner is surely gone), the repeat looks in the log after RequestStarted
// for the first derived ID: found, the write happened and its reply is lost
// (an *InterruptedError); not found, nothing was written and the repeat
// takes the key over and runs the write. So a write runs at most once,
// across restarts too, on every store.

// RequestStreamPrefix begins the stream of each idempotency key.
const RequestStreamPrefix = "jerry-requests-"

// Event type names of the request streams.
const (
	EvRequestStarted  = "request.started"
	EvRequestFinished = "request.finished"
)

// RequestStarted records that a request with an idempotency key began.
type RequestStarted struct {
	// Fingerprint identifies the request (for HTTP: method, path, query
	// and a hash of the body), so that a key reused for another request
	// is refused.
	Fingerprint string `json:"fingerprint"`
}

// RequestFinished records a request's reply, which every repeat gets.
type RequestFinished struct {
	Fingerprint string          `json:"fingerprint"`
	Code        int             `json:"code"`
	Body        json.RawMessage `json:"body"`
}

// Reply is what a face answered: a code of its own (an HTTP status) and a
// JSON body.
type Reply struct {
	Code int
	Body json.RawMessage
}

// requestStale is how old an unfinished request must be before a repeat
// takes it for dead; requestWait how long a repeat waits for a request
// still running before it gives up with a conflict.
const (
	requestStale = 30 * time.Second
	requestWait  = 10 * time.Second
)

// ErrKeyReused means an idempotency key sent again with another request.
var ErrKeyReused = fmt.Errorf("%w: idempotency key already used for a different request", es.ErrInvalidInput)

// InProgressError means a request with the same idempotency key is still
// running. It matches es.ErrConcurrency: retry later.
type InProgressError struct{ Since time.Time }

// Error implements error.
func (e *InProgressError) Error() string {
	return "a request with this idempotency key is still running (since " + e.Since.UTC().Format(time.RFC3339) + "); retry later"
}

// Is reports whether target is es.ErrConcurrency.
func (e *InProgressError) Is(target error) bool { return target == es.ErrConcurrency }

// InterruptedError means a request with the same idempotency key was
// written, at Position in the log, but its runner stopped before it stored
// the reply. It matches es.ErrConcurrency: look at the state now.
type InterruptedError struct{ Position int64 }

// Error implements error.
func (e *InterruptedError) Error() string {
	return fmt.Sprintf("the request with this idempotency key was written (log position %d) but its reply was lost; read the state now", e.Position)
}

// Is reports whether target is es.ErrConcurrency.
func (e *InterruptedError) Is(target error) bool { return target == es.ErrConcurrency }

// RequestKey returns the key under which Once keeps a request of actor with
// idempotency key key: the SHA-256 of both. Event IDs of its writes derive
// from it (es.DerivedID).
func RequestKey(actor, key string) []byte {
	sum := sha256.Sum256([]byte(actor + "\x00" + key))
	return sum[:]
}

// RequestTicket is a request that BeginRequest let run: give it to
// FinishRequest with the reply.
type RequestTicket struct {
	stream      string
	version     int64
	fingerprint string
}

// BeginRequest starts a request of the actor of ctx with idempotency key
// key, once the face has parsed it and is about to write. If the key has a
// reply already (the same request sent again), it returns that reply and
// the request must not run. Otherwise it returns a ticket and a context in
// which the events the request writes get IDs derived from the key: run the
// request with it, then store its reply with FinishRequest. A key sent with
// another fingerprint fails with ErrKeyReused; one sent while the first
// request still runs waits for it, up to a few seconds (then an
// *InProgressError).
func (s *Service) BeginRequest(ctx context.Context, key, fingerprint string) (context.Context, *RequestTicket, *Reply, error) {
	rk := RequestKey(actor(ctx), key)
	stream := RequestStreamPrefix + hex.EncodeToString(rk)
	deadline := time.Now().Add(s.requestWait)
	for {
		st, err := s.readRequest(ctx, stream)
		if err != nil {
			return ctx, nil, nil, err
		}
		if st.version > 0 && st.fingerprint != fingerprint {
			return ctx, nil, nil, ErrKeyReused
		}
		if st.finished != nil {
			return ctx, nil, st.finished, nil
		}
		expected := es.NoStream
		if st.version > 0 {
			if time.Since(st.started) < s.requestStale {
				if time.Now().After(deadline) {
					return ctx, nil, nil, &InProgressError{Since: st.started}
				}
				select {
				case <-ctx.Done():
					return ctx, nil, nil, ctx.Err()
				case <-time.After(25 * time.Millisecond):
				}
				continue
			}
			// The runner is gone. Did it write?
			if pos, err := s.findEvent(ctx, st.position, es.DerivedID(rk, 0)); err != nil {
				return ctx, nil, nil, err
			} else if pos > 0 {
				return ctx, nil, nil, &InterruptedError{Position: pos}
			}
			expected = es.Exact(st.version) // take the key over
		}
		recs, err := s.appendBookkeeping(ctx, stream, expected, RequestStarted{Fingerprint: fingerprint})
		if errors.Is(err, es.ErrConcurrency) {
			continue // another call got there first: wait for its reply
		}
		if err != nil {
			return ctx, nil, nil, err
		}
		t := &RequestTicket{stream: stream, version: recs[0].Version, fingerprint: fingerprint}
		return es.WithDerivedIDs(ctx, rk), t, nil, nil
	}
}

// FinishRequest stores the reply of a request that BeginRequest let run,
// for its repeats. If it fails, the reply is still the request's answer: a
// repeat finds the write by its derived ID (an *InterruptedError).
func (s *Service) FinishRequest(ctx context.Context, t *RequestTicket, r Reply) error {
	_, err := s.appendBookkeeping(ctx, t.stream, es.Exact(t.version),
		RequestFinished{Fingerprint: t.fingerprint, Code: r.Code, Body: r.Body})
	return err
}

// requestState is what a request stream says.
type requestState struct {
	version     int64
	fingerprint string
	started     time.Time
	position    int64
	finished    *Reply
}

func (s *Service) readRequest(ctx context.Context, stream string) (requestState, error) {
	var st requestState
	for rec, err := range s.events.ReadStream(ctx, stream, 1, 0) {
		if err != nil {
			return st, err
		}
		data, err := s.reg.Decode(rec)
		if err != nil {
			return st, err
		}
		st.version = rec.Version
		switch d := data.(type) {
		case RequestStarted:
			st.fingerprint, st.started, st.position, st.finished = d.Fingerprint, rec.Time, rec.Position, nil
		case RequestFinished:
			st.finished = &Reply{Code: d.Code, Body: d.Body}
		}
	}
	return st, nil
}

// findEvent returns the position of the event with ID id at or after from,
// or 0.
func (s *Service) findEvent(ctx context.Context, from int64, id [16]byte) (int64, error) {
	for rec, err := range s.log.ReadLog(ctx, max(from, 1)) {
		if err != nil {
			return 0, err
		}
		if rec.ID == id {
			return rec.Position, nil
		}
	}
	return 0, nil
}

// Package estest is the conformance suite and the shared benchmarks for
// adapters of the es contracts.
//
// Every adapter runs the same suite from its own tests:
//
//	func TestConformance(t *testing.T) {
//		estest.TestEventStore(t, estest.Config{
//			New: func(t testing.TB) es.EventStore { return memstore.New() },
//		})
//		estest.TestSnapshotStore(t, estest.SnapshotConfig{
//			New: func(t testing.TB) es.SnapshotStore { return memstore.New() },
//		})
//	}
//
// The suite makes the guarantees of package es binding: expected versions,
// atomic and idempotent appends, racing writers, the global log's order and
// gap-freedom, subscriptions, reads, cancelled contexts, the round-trip of
// every record field, and the rejection of bad input. An adapter that lacks an
// optional capability (the global log, subscriptions, durability across a
// reopen) declares it in its [Config] rather than editing the suite; the
// subtests that need it are then skipped, saying why.
//
// The suite asserts outcomes only, never timings: speed is measured by
// [BenchmarkEventStore]. Waits that could hang on a broken adapter (a
// deadlock, a subscription that never delivers) fail after [Config.Timeout].
package estest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"math"
	"reflect"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

// Config describes an event store adapter to [TestEventStore] and
// [BenchmarkEventStore].
type Config struct {
	// New returns a new, empty store. The suite calls it once per subtest
	// (and per benchmark); it should register with t.Cleanup whatever
	// closes the store and removes its storage. Required.
	New func(t testing.TB) es.EventStore

	// Reopen, if set, closes store and opens the same storage again,
	// returning the new store. It enables the subtests that check that
	// everything stored, and the idempotence of retries, survive a reopen.
	// Leave it nil for stores that keep nothing across a reopen.
	Reopen func(t testing.TB, store es.EventStore) es.EventStore

	// NoLog declares that the store does not implement es.LogReader. The
	// suite fails a store that does not implement it unless NoLog is set,
	// so that a capability cannot go missing unnoticed.
	NoLog bool

	// NoSubscribe declares that the store does not implement
	// es.Subscriber, as NoLog does for es.LogReader.
	NoSubscribe bool

	// Snapshots, if set, returns the snapshot store that the repository
	// benchmarks use beside store. By default they use store itself if it
	// implements es.SnapshotStore, and skip the snapshot cases if not.
	Snapshots func(t testing.TB, store es.EventStore) es.SnapshotStore

	// Scale multiplies the iteration counts of the concurrency and
	// subscription subtests; 0 means 1. Stores that sync every append to
	// disk may lower it (e.g. 0.2) to keep the suite quick; counts never
	// drop below a few iterations per goroutine.
	Scale float64

	// Timeout bounds each wait that would hang on a broken store, such as
	// an append made from inside a read loop or a subscription waiting for
	// events; 0 means one minute. It is a guard against deadlocks, not a
	// speed requirement.
	Timeout time.Duration
}

func (c Config) n(base int) int {
	s := c.Scale
	if s <= 0 {
		s = 1
	}
	return max(int(math.Round(float64(base)*s)), 3)
}

func (c Config) timeout() time.Duration {
	if c.Timeout > 0 {
		return c.Timeout
	}
	return time.Minute
}

// TestEventStore runs the conformance suite for es.EventStore, and for
// es.LogReader and es.Subscriber unless cfg declares the store lacks them.
func TestEventStore(t *testing.T, cfg Config) {
	if cfg.New == nil {
		t.Fatal("estest: Config.New is required")
	}
	s := &suite{cfg: cfg}
	t.Run("ExpectedVersion", s.testExpectedVersion)
	t.Run("Append", s.testAppend)
	t.Run("Concurrency", s.testConcurrency)
	t.Run("Read", s.testRead)
	t.Run("CancelledContext", s.testCancelled)
	t.Run("RoundTrip", s.testRoundTrip)
	t.Run("BadInput", s.testBadInput)
	t.Run("Log", s.testLog)
	t.Run("Subscribe", s.testSubscribe)
	t.Run("Reopen", s.testReopen)
}

type suite struct {
	cfg Config
}

// store returns a new store for one subtest.
func (s *suite) store(t *testing.T) es.EventStore {
	t.Helper()
	st := s.cfg.New(t)
	if st == nil {
		t.Fatal("estest: Config.New returned nil")
	}
	return st
}

// logOf returns st as a LogReader, skipping t if the store declares it has
// none and failing it if the store lacks one it did not declare.
func (s *suite) logOf(t *testing.T, st es.EventStore) es.LogReader {
	t.Helper()
	if s.cfg.NoLog {
		t.Skip("store declares no global log (Config.NoLog)")
	}
	lr, ok := st.(es.LogReader)
	if !ok {
		t.Fatalf("%T does not implement es.LogReader; set Config.NoLog if it is not meant to", st)
	}
	return lr
}

// maybeLog returns st as a LogReader, or nil if the store declares it has
// none.
func (s *suite) maybeLog(t *testing.T, st es.EventStore) es.LogReader {
	t.Helper()
	if s.cfg.NoLog {
		return nil
	}
	return s.logOf(t, st)
}

func (s *suite) subOf(t *testing.T, st es.EventStore) es.Subscriber {
	t.Helper()
	if s.cfg.NoSubscribe {
		t.Skip("store declares no subscriptions (Config.NoSubscribe)")
	}
	sub, ok := st.(es.Subscriber)
	if !ok {
		t.Fatalf("%T does not implement es.Subscriber; set Config.NoSubscribe if it is not meant to", st)
	}
	return sub
}

// event returns a small valid event with a fresh ID.
func event(typ string, n int) es.Event {
	return es.Event{
		ID:   es.NewEventID(),
		Type: typ,
		Data: json.RawMessage(fmt.Sprintf(`{"n":%d,"note":"event %d"}`, n, n)),
	}
}

// events returns n small events of type typ numbered from first.
func events(typ string, first, n int) []es.Event {
	out := make([]es.Event, n)
	for i := range out {
		out[i] = event(typ, first+i)
	}
	return out
}

func mustAppend(t testing.TB, st es.EventStore, stream string, exp es.ExpectedVersion, evs ...es.Event) []es.Record {
	t.Helper()
	recs, err := st.Append(t.Context(), stream, exp, evs)
	if err != nil {
		t.Fatalf("Append(%q, %s, %d events): %v", stream, exp, len(evs), err)
	}
	if len(recs) != len(evs) {
		t.Fatalf("Append(%q, %s, %d events) returned %d records", stream, exp, len(evs), len(recs))
	}
	return recs
}

func collect(t testing.TB, seq iter.Seq2[es.Record, error]) []es.Record {
	t.Helper()
	recs, err := es.Collect(seq)
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	return recs
}

func readStream(t testing.TB, st es.EventStore, stream string, from, to int64) []es.Record {
	t.Helper()
	return collect(t, st.ReadStream(t.Context(), stream, from, to))
}

func streamVersion(t testing.TB, st es.EventStore, stream string) int64 {
	t.Helper()
	v, err := st.StreamVersion(t.Context(), stream)
	if err != nil {
		t.Fatalf("StreamVersion(%q): %v", stream, err)
	}
	return v
}

func lastPosition(t testing.TB, lr es.LogReader) int64 {
	t.Helper()
	p, err := lr.LastPosition(t.Context())
	if err != nil {
		t.Fatalf("LastPosition: %v", err)
	}
	return p
}

// checkRecords fails t unless got and want hold the same records.
func checkRecords(t testing.TB, what string, got, want []es.Record) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: got %d records, want %d", what, len(got), len(want))
	}
	for i := range got {
		if d := diffRecord(got[i], want[i]); d != "" {
			t.Fatalf("%s: record %d: %s", what, i, d)
		}
	}
}

// diffRecord describes how got differs from want, or returns "". Data is
// compared as JSON values, since an adapter may store it in a normalised
// form (PostgreSQL's jsonb does); everything else must be exact.
func diffRecord(got, want es.Record) string {
	switch {
	case got.Stream != want.Stream:
		return fmt.Sprintf("stream %q, want %q", got.Stream, want.Stream)
	case got.Version != want.Version:
		return fmt.Sprintf("version %d, want %d", got.Version, want.Version)
	case got.Position != want.Position:
		return fmt.Sprintf("position %d, want %d", got.Position, want.Position)
	case got.Type != want.Type:
		return fmt.Sprintf("type %q, want %q", got.Type, want.Type)
	case got.Schema != want.Schema:
		return fmt.Sprintf("schema %d, want %d", got.Schema, want.Schema)
	case got.ID != want.ID:
		return fmt.Sprintf("ID %s, want %s", got.ID, want.ID)
	case !got.Time.Equal(want.Time):
		return fmt.Sprintf("time %s, want %s", got.Time.Format(time.RFC3339Nano), want.Time.Format(time.RFC3339Nano))
	case got.Time.Location() != time.UTC:
		return fmt.Sprintf("time %s is not in UTC", got.Time)
	case !sameJSON(got.Data, want.Data):
		return fmt.Sprintf("data %s, want %s", got.Data, want.Data)
	case !sameMetadata(got.Metadata, want.Metadata):
		return fmt.Sprintf("metadata %+v, want %+v", got.Metadata, want.Metadata)
	}
	return ""
}

func sameMetadata(a, b es.Metadata) bool {
	if a.Actor != b.Actor || a.CorrelationID != b.CorrelationID || a.CausationID != b.CausationID || len(a.Extra) != len(b.Extra) {
		return false
	}
	for k, v := range a.Extra {
		if w, ok := b.Extra[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func sameJSON(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	va, erra := decodeJSON(a)
	vb, errb := decodeJSON(b)
	return erra == nil && errb == nil && reflect.DeepEqual(va, vb)
}

func decodeJSON(b []byte) (any, error) {
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var v any
	err := d.Decode(&v)
	return v, err
}

// within runs f in a goroutine and fails t if it has not returned after the
// configured timeout: the guard against a store that deadlocks.
func within(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		t.Fatalf("%s did not finish within %s: deadlock?", what, d)
	}
}

// checkConflict fails t unless err is a concurrency conflict on stream with
// the given expected and actual versions.
func checkConflict(t testing.TB, err error, stream string, exp es.ExpectedVersion, actual int64) {
	t.Helper()
	if !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("error %v does not match es.ErrConcurrency", err)
	}
	var ce *es.ConcurrencyError
	if !errors.As(err, &ce) {
		t.Fatalf("error %v is not a *es.ConcurrencyError", err)
	}
	if ce.Stream != stream || ce.Expected != exp || ce.Actual != actual {
		t.Fatalf("conflict = {stream %q, expected %s, actual %d}, want {%q, %s, %d}",
			ce.Stream, ce.Expected, ce.Actual, stream, exp, actual)
	}
}

// checkErr fails t unless err matches every one of want.
func checkErr(t testing.TB, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want one matching %v", want)
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Fatalf("error %q does not match %q", err, w)
		}
	}
}

// firstErr returns the first error seq yields, and how many records came
// before it.
func firstErr(seq iter.Seq2[es.Record, error]) (int, error) {
	n := 0
	for _, err := range seq {
		if err != nil {
			return n, err
		}
		n++
	}
	return n, nil
}

func canceled(ctx context.Context) context.Context {
	ctx, cancel := context.WithCancel(ctx)
	cancel()
	return ctx
}

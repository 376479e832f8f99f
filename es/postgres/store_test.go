package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

func ev(typ, data string) es.Event { return es.Event{Type: typ, Data: json.RawMessage(data)} }

func TestAppendRead(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)

	got, err := s.Append(ctx, "a", es.NoStream, []es.Event{ev("x", `{"n":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Version != 1 || got[0].Position != 1 {
		t.Fatalf("first append: version %d position %d", got[0].Version, got[0].Position)
	}
	id := es.NewEventID()
	when := time.Date(2026, 11, 20, 10, 0, 0, 123456789, time.FixedZone("x", 3600))
	many := []es.Event{
		{ID: id, Type: "y", Schema: 3, Data: json.RawMessage(`{ "spaced" : [1, 2] }`), Time: when,
			Metadata: es.Metadata{Actor: "ann", CorrelationID: "c", CausationID: "k", Extra: map[string]string{"a": "b"}}},
		{ID: es.NewEventID(), Type: "z", Data: json.RawMessage(`"s"`)},
	}
	got, err = s.Append(ctx, "a", es.Exact(1), many)
	if err != nil {
		t.Fatal(err)
	}
	if got[0].Version != 2 || got[1].Version != 3 || got[0].Position != 2 || got[1].Position != 3 {
		t.Fatalf("second append: %+v", got)
	}
	recs, err := es.Collect(s.ReadStream(ctx, "a", 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("read %d records", len(recs))
	}
	r := recs[1]
	if r.ID != id || r.Schema != 3 || string(r.Data) != `{ "spaced" : [1, 2] }` || !r.Time.Equal(es.Timestamp(when)) ||
		r.Time.Location() != time.UTC || r.Metadata.Actor != "ann" || r.Metadata.CorrelationID != "c" ||
		r.Metadata.CausationID != "k" || r.Metadata.Extra["a"] != "b" || r.Stream != "a" || r.Type != "y" {
		t.Fatalf("round trip: %+v", r)
	}
	if r.Time != es.Timestamp(when) {
		t.Fatalf("time %v, want %v", r.Time, es.Timestamp(when))
	}

	// Conflicts and idempotent retries.
	_, err = s.Append(ctx, "a", es.Exact(1), []es.Event{ev("x", `1`)})
	var ce *es.ConcurrencyError
	if !errors.As(err, &ce) || ce.Actual != 3 || !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("stale append: %v", err)
	}
	again, err := s.Append(ctx, "a", es.Exact(1), many)
	if err != nil || len(again) != 2 || again[0].ID != id || again[0].Version != 2 {
		t.Fatalf("retry: %v %+v", err, again)
	}
	again, err = s.Append(ctx, "a", es.Any, many)
	if err != nil || len(again) != 2 || again[0].ID != id || again[0].Position != 2 {
		t.Fatalf("retry with Any: %v %+v", err, again)
	}
	_, err = s.Append(ctx, "b", es.Any, many[:1])
	if !errors.Is(err, es.ErrPartialDuplicate) {
		t.Fatalf("ID stored elsewhere: %v", err)
	}
	_, err = s.Append(ctx, "b", es.StreamExists, []es.Event{ev("x", `1`)})
	if !errors.As(err, &ce) || ce.Actual != 0 {
		t.Fatalf("stream exists on missing stream: %v", err)
	}
	if v, err := s.StreamVersion(ctx, "a"); v != 3 || err != nil {
		t.Fatalf("version %d %v", v, err)
	}
	if p, err := s.LastPosition(ctx); p != 3 || err != nil {
		t.Fatalf("last position %d %v", p, err)
	}
	log, err := es.Collect(s.ReadLog(ctx, 2))
	if err != nil || len(log) != 2 || log[0].Position != 2 {
		t.Fatalf("log: %v %+v", err, log)
	}
	if _, err := s.Append(ctx, "a", es.Exact(3), []es.Event{ev("x", `nope`)}); !errors.Is(err, es.ErrInvalidData) {
		t.Fatalf("bad data: %v", err)
	}
	for _, m := range []es.Metadata{{Actor: "a\x00"}, {CausationID: "\xff"}, {Extra: map[string]string{"k": "\xfe"}}} {
		e := ev("x", `1`)
		e.Metadata = m
		if _, err := s.Append(ctx, "a", es.Exact(3), []es.Event{e}); !errors.Is(err, es.ErrInvalidMetadata) {
			t.Fatalf("metadata %+v: %v", m, err)
		}
	}
	if v, _ := s.StreamVersion(ctx, "a"); v != 3 {
		t.Fatalf("bad input stored something: version %d", v)
	}
}

func TestPagedReads(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	const n = 3000
	evs := make([]es.Event, n)
	for i := range evs {
		evs[i] = ev("x", fmt.Sprintf(`{"i":%d}`, i))
	}
	if _, err := s.Append(ctx, "long", es.NoStream, evs); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "other", es.NoStream, evs[:5]); err != nil {
		t.Fatal(err)
	}
	i := int64(0)
	for r, err := range s.ReadStream(ctx, "long", 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		i++
		if r.Version != i || string(r.Data) != fmt.Sprintf(`{"i":%d}`, i-1) {
			t.Fatalf("record %d: %+v", i, r)
		}
		if i == 1000 {
			// Appending from inside the loop must not deadlock.
			if _, err := s.Append(ctx, "side", es.Any, evs[:1]); err != nil {
				t.Fatal(err)
			}
		}
	}
	if i != n {
		t.Fatalf("read %d of %d", i, n)
	}
	recs, err := es.Collect(s.ReadStream(ctx, "long", 10, 20))
	if err != nil || len(recs) != 11 || recs[0].Version != 10 {
		t.Fatalf("range: %v %d", err, len(recs))
	}
	pos := int64(0)
	for r, err := range s.ReadLog(ctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		if r.Position != pos+1 {
			t.Fatalf("position %d after %d", r.Position, pos)
		}
		pos = r.Position
	}
	if pos != n+6 {
		t.Fatalf("log ends at %d", pos)
	}
}

func TestSnapshots(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if _, err := s.LoadSnapshot(ctx, "a", 0); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("missing: %v", err)
	}
	for _, v := range []int64{5, 10, 15} {
		err := s.SaveSnapshot(ctx, es.Snapshot{Stream: "a", Version: v, Type: "t", Schema: 1,
			State: json.RawMessage(fmt.Sprintf(`{"v":%d}`, v)), Time: time.Unix(v, 999).UTC()})
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range []struct{ max, want int64 }{{0, 15}, {15, 15}, {14, 10}, {5, 5}} {
		snap, err := s.LoadSnapshot(ctx, "a", c.max)
		if err != nil || snap.Version != c.want || string(snap.State) != fmt.Sprintf(`{"v":%d}`, c.want) ||
			snap.Time != time.Unix(c.want, 0).UTC() {
			t.Fatalf("at %d: %v %+v", c.max, err, snap)
		}
	}
	if _, err := s.LoadSnapshot(ctx, "a", 4); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("below first: %v", err)
	}
}

func TestReopenAndSchemaVersion(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	for range 2 {
		s, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(schema))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Append(ctx, "a", es.Any, []es.Event{ev("x", `1`)}); err != nil {
			t.Fatal(err)
		}
		var versions int
		if err := s.Pool().QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %q.schema_version`, schema)).Scan(&versions); err != nil || versions != 1 {
			t.Fatalf("schema_version rows %d %v", versions, err)
		}
		s.Close()
		if _, err := s.StreamVersion(ctx, "a"); !errors.Is(err, es.ErrClosed) {
			t.Fatalf("after close: %v", err)
		}
	}
	_ = uuid.Nil
}

func TestSchemaFromSearchPath(t *testing.T) {
	ctx := context.Background()
	schema := newSchema(t)
	dsn := testDSN(t)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	s, err := postgres.Open(ctx, dsn+sep+"search_path="+strings.ToUpper(schema)+",public")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if s.Schema() != schema {
		t.Fatalf("schema %q, want %q", s.Schema(), schema)
	}
	if _, err := s.Append(ctx, "a", es.NoStream, []es.Event{ev("x", `1`)}); err != nil {
		t.Fatal(err)
	}
}

// TestCorruptMetadata damages a stored row behind the store's back: reads
// report it as es.ErrCorrupt naming the row, rather than panicking or
// skipping it.
func TestCorruptMetadata(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	e := ev("x", `1`)
	e.Metadata.Extra = map[string]string{"k": "v"}
	if _, err := s.Append(ctx, "a", es.NoStream, []es.Event{e, e2()}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, fmt.Sprintf(`UPDATE %q.events SET extra = '\x7b7b' WHERE position = 1`, s.Schema())); err != nil {
		t.Fatal(err)
	}
	for name, seq := range map[string]func() ([]es.Record, error){
		"stream": func() ([]es.Record, error) { return es.Collect(s.ReadStream(ctx, "a", 1, 0)) },
		"log":    func() ([]es.Record, error) { return es.Collect(s.ReadLog(ctx, 1)) },
	} {
		_, err := seq()
		var ce *es.CorruptError
		if !errors.Is(err, es.ErrCorrupt) || !errors.As(err, &ce) || ce.Offset != 1 {
			t.Fatalf("%s read of a damaged row: %v", name, err)
		}
	}
}

func e2() es.Event { return ev("y", `2`) }

// TestOrdinaryOwner opens a store as a role that owns its schema and has no
// other privilege: no superuser, no CREATE on the database. (It needs a test
// user that may create roles, and skips otherwise.)
func TestOrdinaryOwner(t *testing.T) {
	ctx := context.Background()
	admin, err := pgx.Connect(ctx, testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	schema := newSchema(t)
	role := schema + "_owner"
	if _, err := admin.Exec(ctx, "CREATE ROLE "+pgx.Identifier{role}.Sanitize()+" LOGIN"); err != nil {
		t.Skipf("cannot create a role to test with: %v", err)
	}
	t.Cleanup(func() {
		admin, err := pgx.Connect(ctx, testDSN(t))
		if err != nil {
			return
		}
		defer admin.Close(ctx)
		admin.Exec(ctx, "DROP SCHEMA IF EXISTS "+pgx.Identifier{schema}.Sanitize()+" CASCADE")
		admin.Exec(ctx, "DROP ROLE "+pgx.Identifier{role}.Sanitize())
	})
	if _, err := admin.Exec(ctx, fmt.Sprintf("CREATE SCHEMA %s AUTHORIZATION %s",
		pgx.Identifier{schema}.Sanitize(), pgx.Identifier{role}.Sanitize())); err != nil {
		t.Fatal(err)
	}
	cfg, err := pgx.ParseConfig(testDSN(t))
	if err != nil {
		t.Fatal(err)
	}
	dsn := fmt.Sprintf("postgres://%s@%s:%d/%s?sslmode=disable", role, cfg.Host, cfg.Port, cfg.Database)
	if cfg.Password != "" {
		t.Skip("the test server needs a password; the owner role has none")
	}
	s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
	if err != nil {
		t.Fatalf("open as the schema's owner: %v", err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, "a", es.NoStream, []es.Event{ev("x", `1`)}); err != nil {
		t.Fatal(err)
	}
	if err := s.SaveSnapshot(ctx, es.Snapshot{Stream: "a", Version: 1, Type: "t", Schema: 1, State: json.RawMessage(`{}`)}); err != nil {
		t.Fatal(err)
	}
	log, err := es.Collect(s.ReadLog(ctx, 1))
	if err != nil || len(log) != 1 {
		t.Fatalf("log: %v %d", err, len(log))
	}
}

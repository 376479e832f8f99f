package postgres_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// TestPageLimit: pages grow fourfold up to 8,192 rows of small events, but
// hold about 8 MB at most of large ones (8,192 rows of 1 MB events would be
// 8 GB in memory, twice over with the page fetched ahead).
func TestPageLimit(t *testing.T) {
	page := func(n, size int) []es.Record {
		recs := make([]es.Record, n)
		for i := range recs {
			recs[i].Data = make(json.RawMessage, size)
		}
		return recs
	}
	for _, c := range []struct {
		limit, rows, size int
		want              int
	}{
		{256, 256, 100, 1024},
		{4096, 4096, 100, 8192},
		{8192, 8192, 100, 8192},
		{256, 256, 1 << 20, 7},
		{256, 256, 64 << 10, 127},
	} {
		if got := postgres.PageLimit(c.limit, page(c.rows, c.size)); got != c.want {
			t.Errorf("after %d rows of %d bytes: limit %d, want %d", c.rows, c.size, got, c.want)
		}
	}
}

// TestPagesOfLargeEvents reads a stream whose pages shrink to fit large
// events: every event comes back once, in order.
func TestPagesOfLargeEvents(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	data := json.RawMessage(`"` + strings.Repeat("a", 40<<10) + `"`)
	const n = 256 + 300 // a first page, then pages of about 200
	evs := make([]es.Event, n)
	for i := range evs {
		evs[i] = es.Event{Type: "x", Data: data}
	}
	if _, err := s.Append(ctx, "big", es.NoStream, evs); err != nil {
		t.Fatal(err)
	}
	i := int64(0)
	for r, err := range s.ReadStream(ctx, "big", 1, 0) {
		if err != nil {
			t.Fatal(err)
		}
		if i++; r.Version != i {
			t.Fatalf("record %d has version %d", i, r.Version)
		}
	}
	if i != n {
		t.Fatalf("read %d of %d", i, n)
	}
}

package es_test

import (
	"errors"
	"testing"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
)

func TestCheckAppend(t *testing.T) {
	ids := []uuid.UUID{uuid.New(), uuid.New(), uuid.New(), uuid.New()}
	// The stream holds versions 1..3 with ids[0..2].
	stored := make([]es.Record, 3)
	for i := range stored {
		stored[i] = es.Record{Stream: "s", Version: int64(i + 1), ID: ids[i]}
	}
	window := func(calls *int) func(from, to int64) ([]es.Record, error) {
		return func(from, to int64) ([]es.Record, error) {
			*calls++
			return stored[from-1 : to], nil
		}
	}
	recs := func(idx ...int) []es.Record {
		out := make([]es.Record, len(idx))
		for i, j := range idx {
			out[i] = es.Record{ID: ids[j]}
		}
		return out
	}
	tests := []struct {
		name     string
		expected es.ExpectedVersion
		recs     []es.Record
		dup      bool
		err      error
		reads    int
	}{
		{"exact match goes ahead without reading", es.Exact(3), recs(3), false, nil, 0},
		{"retry of the last append", es.Exact(2), recs(2), true, nil, 1},
		{"retry of two", es.Exact(1), recs(1, 2), true, nil, 1},
		{"conflict", es.Exact(2), recs(3), false, es.ErrConcurrency, 1},
		{"partial overlap", es.Exact(1), recs(1, 3), false, es.ErrPartialDuplicate, 1},
		{"no stream on an existing stream", es.NoStream, recs(3), false, es.ErrConcurrency, 1},
		{"retry of the first append", es.NoStream, recs(0), true, nil, 1},
		{"any, fresh", es.Any, recs(3), false, nil, 1},
		{"any, retry of the tail", es.Any, recs(2), true, nil, 1},
		{"beyond the stream", es.Exact(7), recs(3), false, es.ErrConcurrency, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			got, dup, err := es.CheckAppend("s", tt.expected, 3, tt.recs, window(&calls))
			if dup != tt.dup || !errors.Is(err, tt.err) || (tt.err == nil && err != nil) {
				t.Fatalf("dup %v, err %v; want %v, %v", dup, err, tt.dup, tt.err)
			}
			if dup && (len(got) != len(tt.recs) || got[0].ID != tt.recs[0].ID) {
				t.Fatalf("stored records %+v", got)
			}
			if calls != tt.reads {
				t.Fatalf("window read %d times, want %d", calls, tt.reads)
			}
		})
	}
}

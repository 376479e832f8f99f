package postgres_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

// TestExtremeTimes appends events with times at and beyond the ends of
// PostgreSQL's timestamptz range: each is stored exactly or rejected with
// es.ErrInvalidInput, never stored as some other time.
func TestExtremeTimes(t *testing.T) {
	s := newStore(t)
	ctx := context.Background()
	times := []time.Time{
		time.Date(-4713, 11, 24, 0, 0, 0, 0, time.UTC),
		time.Date(1, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(1999, 12, 31, 23, 59, 59, 1000, time.UTC),
		time.Date(294276, 12, 31, 23, 59, 59, 999999000, time.UTC),
		time.Date(294277, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-4714, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1000000000, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(-1000000000, 1, 1, 0, 0, 0, 0, time.UTC),
	}
	for i, tm := range times {
		recs, err := s.Append(ctx, "t", es.Any, []es.Event{{Type: "x", Data: json.RawMessage(`1`), Time: tm}})
		if err != nil {
			if !errors.Is(err, es.ErrInvalidInput) {
				t.Errorf("%d: append at %v: %v, want nil or ErrInvalidInput", i, tm, err)
			}
			continue
		}
		got, err := es.Collect(s.ReadStream(ctx, "t", recs[0].Version, recs[0].Version))
		if err != nil || len(got) != 1 {
			t.Fatalf("read back: %v %v", got, err)
		}
		if !got[0].Time.Equal(tm) {
			t.Errorf("%d: time %v stored as %v", i, tm, got[0].Time)
		}
	}
	for i, tm := range times {
		snap := es.Snapshot{Stream: "t", Version: int64(i + 1), Type: "x", Schema: 1, State: json.RawMessage(`{}`), Time: tm}
		if err := s.SaveSnapshot(ctx, snap); err != nil {
			if !errors.Is(err, es.ErrInvalidInput) {
				t.Errorf("%d: snapshot at %v: %v, want nil or ErrInvalidInput", i, tm, err)
			}
			continue
		}
		got, err := s.LoadSnapshot(ctx, "t", snap.Version)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Time.Equal(tm) {
			t.Errorf("%d: snapshot time %v stored as %v", i, tm, got.Time)
		}
	}
}

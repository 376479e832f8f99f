package memstore_test

import (
	"context"
	"math"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

// TestLoadSnapshotMaxVersionAtLimit asks for the latest snapshot at or below
// math.MaxInt64, which is every snapshot. The search for maxVersion+1
// overflowed to math.MinInt64 and found none.
func TestLoadSnapshotMaxVersionAtLimit(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	for _, v := range []int64{3, 7} {
		if err := s.SaveSnapshot(ctx, es.Snapshot{Stream: "x", Version: v, Type: "T", Schema: 1, State: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
	}
	for _, max := range []int64{0, 7, 100, math.MaxInt64} {
		sn, err := s.LoadSnapshot(ctx, "x", max)
		if err != nil || sn.Version != 7 {
			t.Errorf("LoadSnapshot(max %d) = version %d, %v; want 7", max, sn.Version, err)
		}
	}
}

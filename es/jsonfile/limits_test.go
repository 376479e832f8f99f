package jsonfile_test

import (
	"context"
	"math"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// TestSnapshotVersionAtLimit saves snapshots at the largest versions
// es.ValidateSnapshot accepts. The line decoder read at most 18 digits, so
// a snapshot at version 10^18 or above was written but then reported as
// corrupt by every LoadSnapshot and by Verify.
func TestSnapshotVersionAtLimit(t *testing.T) {
	ctx := context.Background()
	s := open(t, "", jsonfile.NoSync())
	for _, v := range []int64{1e18, math.MaxInt64} {
		if err := s.SaveSnapshot(ctx, es.Snapshot{Stream: "x", Version: v, Type: "T", Schema: 1, State: []byte(`{}`)}); err != nil {
			t.Fatal(err)
		}
		sn, err := s.LoadSnapshot(ctx, "x", 0)
		if err != nil || sn.Version != v {
			t.Fatalf("after saving version %d: LoadSnapshot = version %d, %v", v, sn.Version, err)
		}
	}
}

package projection_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection"
)

// TestCheckpointBeyondLog runs a projection whose checkpoint is beyond the
// store's last position: the store was replaced, restored from an older
// copy, or lost its tail. Positions in one store only grow, so the events
// that will take positions up to the checkpoint are ones the projection has
// never seen; the runner used to accept the checkpoint and skip them for
// ever, silently. It must refuse instead.
func TestCheckpointBeyondLog(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	for i := range 5 {
		if _, err := store.Append(ctx, fmt.Sprintf("s-%d", i), es.NoStream, []es.Event{{Type: "E", Data: []byte(`{}`)}}); err != nil {
			t.Fatal(err)
		}
	}
	cps := memstore.NewCheckpoints()
	if err := cps.SaveCheckpoint(ctx, "p", 10); err != nil {
		t.Fatal(err)
	}
	applied := 0
	r, err := projection.New("p", store, projection.Func(func(_ context.Context, b []es.Record) error {
		applied += len(b)
		return nil
	}), projection.Options{Checkpoints: cps})
	if err != nil {
		t.Fatal(err)
	}
	if pos, err := r.CatchUp(ctx); err == nil {
		t.Fatalf("CatchUp with checkpoint 10 over a log of 5 events: position %d, no error", pos)
	}
	if err := r.Run(ctx); err == nil {
		t.Fatal("Run with checkpoint 10 over a log of 5 events: no error")
	}
	if pos, err := r.Rebuild(ctx); err != nil || pos != 5 || applied != 5 {
		t.Fatalf("Rebuild: position %d, %d applied, %v; want 5, 5, nil", pos, applied, err)
	}
}

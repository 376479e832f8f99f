package postgres_test

import (
	"context"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es/postgres"
)

// TestStoreAndCheckpointsOpenTogether opens a Store and Checkpoints on the
// same new schema at once, as two processes starting together do: both must
// succeed.
func TestStoreAndCheckpointsOpenTogether(t *testing.T) {
	pool := newPool(t)
	ctx := context.Background()
	for range 10 {
		schema := newSchema(t)
		var wg sync.WaitGroup
		var serr, cerr error
		wg.Add(2)
		go func() {
			defer wg.Done()
			var s *postgres.Store
			s, serr = postgres.New(ctx, pool, postgres.WithSchema(schema))
			if serr == nil {
				s.Close()
			}
		}()
		go func() {
			defer wg.Done()
			_, cerr = postgres.NewCheckpoints(ctx, pool, schema)
		}()
		wg.Wait()
		if serr != nil || cerr != nil {
			t.Fatalf("store: %v; checkpoints: %v", serr, cerr)
		}
	}
}

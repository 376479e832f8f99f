package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// TestSerializableDefault opens several Stores on one new schema at once,
// and appends through all of them at once, on connections whose
// default_transaction_isolation is serializable (as a database or role
// setting would make it): every open and append succeeds, and the log is
// gap-free.
func TestSerializableDefault(t *testing.T) {
	schema := newSchema(t)
	ctx := context.Background()
	dsn := testDSN(t) + "&default_transaction_isolation=serializable"
	const stores, appends = 4, 20
	var wg sync.WaitGroup
	errs := make(chan error, stores)
	open := make([]*postgres.Store, stores)
	for i := range open {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := postgres.Open(ctx, dsn, postgres.WithSchema(schema))
			if err != nil {
				errs <- fmt.Errorf("open: %w", err)
				return
			}
			t.Cleanup(func() { s.Close() })
			open[i] = s
		}()
	}
	wg.Wait()
	for i, s := range open {
		if s == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range appends {
				if _, err := s.Append(ctx, fmt.Sprint("s", i, j%3), es.Any, []es.Event{ev("x", `1`)}); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	failed := false
	for err := range errs {
		t.Error(err)
		failed = true
	}
	if failed {
		return
	}
	recs, err := es.Collect(open[0].ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != stores*appends {
		t.Fatalf("log holds %d events, want %d", len(recs), stores*appends)
	}
	for i, r := range recs {
		if r.Position != int64(i+1) {
			t.Fatalf("event %d at position %d", i, r.Position)
		}
	}
}

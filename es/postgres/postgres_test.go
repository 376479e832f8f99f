package postgres_test

import (
	"context"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/postgres"
)

// conformance configures the suite: every subtest gets a store in a schema of
// its own, dropped when it ends; Reopen opens the same schema again.
func conformance() estest.Config {
	return estest.Config{
		New: func(t testing.TB) es.EventStore {
			return newStore(t, postgres.WithPollInterval(200*time.Millisecond))
		},
		Reopen: func(t testing.TB, st es.EventStore) es.EventStore {
			return reopen(t, st.(*postgres.Store))
		},
	}
}

func TestConformance(t *testing.T) {
	estest.TestEventStore(t, conformance())
}

func TestSnapshotConformance(t *testing.T) {
	estest.TestSnapshotStore(t, estest.SnapshotConfig{
		New: func(t testing.TB) es.SnapshotStore { return newStore(t) },
		Reopen: func(t testing.TB, st es.SnapshotStore) es.SnapshotStore {
			return reopen(t, st.(*postgres.Store))
		},
	})
}

// BenchmarkSuite runs the shared benchmarks of es/estest on PostgreSQL.
func BenchmarkSuite(b *testing.B) {
	estest.BenchmarkEventStore(b, conformance())
}

// reopen closes old and opens its schema again.
func reopen(t testing.TB, old *postgres.Store) *postgres.Store {
	old.Close()
	s, err := postgres.Open(context.Background(), testDSN(t), postgres.WithSchema(old.Schema()))
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func FuzzStreamID(f *testing.F) {
	estest.FuzzStreamID(f, conformance())
}

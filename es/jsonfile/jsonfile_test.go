package jsonfile_test

import (
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/estest"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// open opens a store in a new temporary directory, closed when t ends.
func open(t testing.TB, dir string, opts ...jsonfile.Option) *jsonfile.Store {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	s, err := jsonfile.Open(dir, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestConformance(t *testing.T) {
	estest.TestEventStore(t, estest.Config{
		New: func(t testing.TB) es.EventStore { return open(t, "") },
		Reopen: func(t testing.TB, st es.EventStore) es.EventStore {
			s := st.(*jsonfile.Store)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, s.Dir())
		},
		// Every append here syncs to disk; a fifth of the suite's default
		// concurrency counts still races plenty of writers.
		Scale: 0.2,
	})
}

func TestSnapshotConformance(t *testing.T) {
	estest.TestSnapshotStore(t, estest.SnapshotConfig{
		New: func(t testing.TB) es.SnapshotStore { return open(t, "") },
		Reopen: func(t testing.TB, st es.SnapshotStore) es.SnapshotStore {
			s := st.(*jsonfile.Store)
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			return open(t, s.Dir())
		},
	})
}

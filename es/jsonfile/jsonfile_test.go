package jsonfile_test

import (
	"context"
	"errors"
	"testing"
	"time"

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

// TestSubscribeSeesOtherProcess opens the directory twice (two Stores share
// nothing but the files, as two processes would) and checks that a
// subscription on one receives, through polling, what the other appends.
func TestSubscribeSeesOtherProcess(t *testing.T) {
	dir := t.TempDir()
	a := open(t, dir, jsonfile.WithPollInterval(5*time.Millisecond))
	b := open(t, dir)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	got := make(chan es.Record)
	go func() {
		for r, err := range a.Subscribe(ctx, 1) {
			if err != nil {
				return
			}
			got <- r
		}
	}()
	for i := range 3 {
		recs, err := b.Append(ctx, "other", es.Exact(int64(i)), []es.Event{{Type: "T", Data: []byte(`{}`)}})
		if err != nil {
			t.Fatal(err)
		}
		select {
		case r := <-got:
			if r.ID != recs[0].ID || r.Position != int64(i+1) {
				t.Fatalf("got %+v, want %+v", r, recs[0])
			}
		case <-ctx.Done():
			t.Fatal("subscription did not see the other store's append")
		}
	}
}

// TestTwoStoresOneDirectory appends alternately through two Stores on one
// directory: each must see the other's appends in its version checks.
func TestTwoStoresOneDirectory(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	stores := []*jsonfile.Store{open(t, dir), open(t, dir)}
	for i := range 20 {
		s := stores[i%2]
		if _, err := s.Append(ctx, "shared", es.Exact(int64(i)), []es.Event{{Type: "T", Data: []byte(`{}`)}}); err != nil {
			t.Fatalf("append %d: %v", i, err)
		}
		// A stale expectation fails in the other store too.
		if _, err := stores[(i+1)%2].Append(ctx, "shared", es.Exact(int64(i)), []es.Event{{Type: "T", Data: []byte(`{}`)}}); !errors.Is(err, es.ErrConcurrency) {
			t.Fatalf("stale append %d: %v", i, err)
		}
	}
	if rep, err := stores[0].Verify(ctx); err != nil {
		t.Fatalf("%v\n%s", err, rep)
	}
}

// FuzzStreamID checks that stream IDs map to files injectively and safely.
// Stores here skip fsync: durability is not what is fuzzed.
func FuzzStreamID(f *testing.F) {
	estest.FuzzStreamID(f, estest.Config{
		New: func(t testing.TB) es.EventStore { return open(t, "", jsonfile.NoSync()) },
	})
}

// BenchmarkStore runs the shared benchmarks of package estest, durably.
func BenchmarkStore(b *testing.B) {
	estest.BenchmarkEventStore(b, estest.Config{
		New: func(t testing.TB) es.EventStore { return open(t, "") },
	})
}

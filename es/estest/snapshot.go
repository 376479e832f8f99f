package estest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

// SnapshotConfig describes a snapshot store adapter to [TestSnapshotStore].
type SnapshotConfig struct {
	// New returns a new, empty snapshot store, as [Config.New] does.
	// Required.
	New func(t testing.TB) es.SnapshotStore

	// Reopen, if set, closes store and opens the same storage again, as
	// [Config.Reopen] does.
	Reopen func(t testing.TB, store es.SnapshotStore) es.SnapshotStore
}

// TestSnapshotStore runs the conformance suite for es.SnapshotStore.
func TestSnapshotStore(t *testing.T, cfg SnapshotConfig) {
	if cfg.New == nil {
		t.Fatal("estest: SnapshotConfig.New is required")
	}
	newStore := func(t *testing.T) es.SnapshotStore {
		st := cfg.New(t)
		if st == nil {
			t.Fatal("estest: SnapshotConfig.New returned nil")
		}
		return st
	}

	t.Run("NotFound", func(t *testing.T) {
		st := newStore(t)
		save(t, st, snapshot("other", 5, "s"))
		for _, max := range []int64{0, 1, 100} {
			_, err := st.LoadSnapshot(t.Context(), "missing", max)
			checkErr(t, err, es.ErrNotFound)
		}
	})

	t.Run("LatestAndAtOrBefore", func(t *testing.T) {
		st := newStore(t)
		v10, v20, v30 := snapshot("s", 10, "ten"), snapshot("s", 20, "twenty"), snapshot("s", 30, "thirty")
		// Saved out of order: the store orders by version, not by arrival.
		for _, s := range []es.Snapshot{v20, v30, v10} {
			save(t, st, s)
		}
		cases := []struct {
			max  int64
			want *es.Snapshot
		}{
			{0, &v30}, {100, &v30}, {30, &v30}, {29, &v20}, {20, &v20}, {19, &v10}, {10, &v10}, {9, nil}, {1, nil},
		}
		for _, c := range cases {
			got, err := st.LoadSnapshot(t.Context(), "s", c.max)
			if c.want == nil {
				if !errors.Is(err, es.ErrNotFound) {
					t.Fatalf("LoadSnapshot(s, %d) = v%d, %v; want es.ErrNotFound", c.max, got.Version, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("LoadSnapshot(s, %d): %v", c.max, err)
			}
			checkSnapshot(t, fmt.Sprintf("LoadSnapshot(s, %d)", c.max), got, *c.want)
		}
	})

	t.Run("RoundTrip", func(t *testing.T) {
		st := newStore(t)
		zone := time.FixedZone("west", -7*3600)
		in := es.Snapshot{
			Stream:  "Ä/β 1",
			Version: 123,
			Type:    "WorkItem ü",
			Schema:  4,
			State:   json.RawMessage(`{"title":"naïve \"q\" 💡","n":[1,2.5,null],"nested":{"ok":true}}`),
			Time:    time.Date(2026, 11, 20, 10, 0, 0, 987654321, zone),
		}
		save(t, st, in)
		got, err := st.LoadSnapshot(t.Context(), in.Stream, 0)
		if err != nil {
			t.Fatal(err)
		}
		want := in
		want.Time = es.Timestamp(in.Time)
		checkSnapshot(t, "LoadSnapshot", got, want)
	})

	t.Run("OverwriteSameVersion", func(t *testing.T) {
		st := newStore(t)
		save(t, st, snapshot("s", 10, "first"))
		save(t, st, snapshot("s", 20, "later"))
		second := snapshot("s", 10, "second")
		save(t, st, second)
		got, err := st.LoadSnapshot(t.Context(), "s", 15)
		if err != nil {
			t.Fatal(err)
		}
		checkSnapshot(t, "overwritten snapshot", got, second)
		latest, err := st.LoadSnapshot(t.Context(), "s", 0)
		if err != nil || latest.Version != 20 {
			t.Fatalf("latest after overwrite = v%d, %v; want v20", latest.Version, err)
		}
	})

	t.Run("StreamsIndependent", func(t *testing.T) {
		st := newStore(t)
		ids := []string{"a/b", "a_b", "A/B", "..", "a%2Fb", "Ä/β 1"}
		for i, id := range ids {
			save(t, st, snapshot(id, int64(i+1), id))
		}
		for i, id := range ids {
			got, err := st.LoadSnapshot(t.Context(), id, 0)
			if err != nil {
				t.Fatalf("LoadSnapshot(%q): %v", id, err)
			}
			checkSnapshot(t, fmt.Sprintf("LoadSnapshot(%q)", id), got, snapshot(id, int64(i+1), id))
		}
	})

	t.Run("CopiesInput", func(t *testing.T) {
		st := newStore(t)
		in := snapshot("s", 1, "kept")
		want := in
		want.State = append(json.RawMessage(nil), in.State...)
		save(t, st, in)
		for i := range in.State {
			in.State[i] = ' '
		}
		got, err := st.LoadSnapshot(t.Context(), "s", 0)
		if err != nil {
			t.Fatal(err)
		}
		checkSnapshot(t, "snapshot after the caller changed its buffer", got, want)
	})

	t.Run("BadInput", func(t *testing.T) {
		mod := func(f func(*es.Snapshot)) es.Snapshot {
			s := snapshot("s", 5, "x")
			f(&s)
			return s
		}
		cases := []struct {
			name string
			snap es.Snapshot
			want error
		}{
			{"EmptyStreamID", mod(func(s *es.Snapshot) { s.Stream = "" }), es.ErrInvalidStreamID},
			{"StreamIDControl", mod(func(s *es.Snapshot) { s.Stream = "s\n" }), es.ErrInvalidStreamID},
			{"StreamIDInvalidUTF8", mod(func(s *es.Snapshot) { s.Stream = "s\xff" }), es.ErrInvalidStreamID},
			{"StreamIDTooLong", mod(func(s *es.Snapshot) { s.Stream = strings.Repeat("s", es.MaxStreamIDLen+1) }), es.ErrInvalidStreamID},
			{"VersionZero", mod(func(s *es.Snapshot) { s.Version = 0 }), es.ErrInvalidVersion},
			{"VersionNegative", mod(func(s *es.Snapshot) { s.Version = -1 }), es.ErrInvalidVersion},
			{"EmptyType", mod(func(s *es.Snapshot) { s.Type = "" }), es.ErrInvalidEventType},
			{"SchemaZero", mod(func(s *es.Snapshot) { s.Schema = 0 }), es.ErrInvalidData},
			{"StateEmpty", mod(func(s *es.Snapshot) { s.State = nil }), es.ErrInvalidData},
			{"StateNotJSON", mod(func(s *es.Snapshot) { s.State = json.RawMessage(`{"a":`) }), es.ErrInvalidData},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				st := newStore(t)
				checkErr(t, st.SaveSnapshot(t.Context(), c.snap), es.ErrInvalidInput, c.want)
				if err := es.ValidateStreamID(c.snap.Stream); err == nil {
					_, err := st.LoadSnapshot(t.Context(), c.snap.Stream, 0)
					checkErr(t, err, es.ErrNotFound)
				}
			})
		}
		t.Run("LoadEmptyStreamID", func(t *testing.T) {
			_, err := newStore(t).LoadSnapshot(t.Context(), "", 0)
			checkErr(t, err, es.ErrInvalidInput, es.ErrInvalidStreamID)
		})
		t.Run("LoadNegativeVersion", func(t *testing.T) {
			_, err := newStore(t).LoadSnapshot(t.Context(), "s", -1)
			checkErr(t, err, es.ErrInvalidInput, es.ErrInvalidVersion)
		})
	})

	t.Run("CancelledContext", func(t *testing.T) {
		st := newStore(t)
		save(t, st, snapshot("s", 1, "x"))
		dead := canceled(t.Context())
		if err := st.SaveSnapshot(dead, snapshot("s", 2, "y")); !errors.Is(err, context.Canceled) {
			t.Fatalf("SaveSnapshot with a cancelled context: %v, want context.Canceled", err)
		}
		if _, err := st.LoadSnapshot(dead, "s", 0); !errors.Is(err, context.Canceled) {
			t.Fatalf("LoadSnapshot with a cancelled context: %v, want context.Canceled", err)
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		// Racing saves and loads: every load sees a whole snapshot, and
		// the latest is the highest version saved.
		st := newStore(t)
		var wg sync.WaitGroup
		const writers, per = 4, 10
		errs := make(chan error, writers*2)
		for w := range writers {
			wg.Go(func() {
				for i := range per {
					v := int64(i*writers + w + 1)
					if err := st.SaveSnapshot(t.Context(), snapshot("s", v, fmt.Sprint(v))); err != nil {
						errs <- err
						return
					}
				}
			})
			wg.Go(func() {
				for range per {
					got, err := st.LoadSnapshot(t.Context(), "s", 0)
					if errors.Is(err, es.ErrNotFound) {
						continue
					}
					if err != nil {
						errs <- err
						return
					}
					if d := diffSnapshot(got, snapshot("s", got.Version, fmt.Sprint(got.Version))); d != "" {
						errs <- fmt.Errorf("concurrent load: %s", d)
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		got, err := st.LoadSnapshot(t.Context(), "s", 0)
		if err != nil || got.Version != writers*per {
			t.Fatalf("latest = v%d, %v; want v%d", got.Version, err, writers*per)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		if cfg.Reopen == nil {
			t.Skip("store declares it keeps nothing across a reopen (SnapshotConfig.Reopen is nil)")
		}
		st := newStore(t)
		saved := []es.Snapshot{snapshot("a/b", 10, "a"), snapshot("a/b", 20, "b"), snapshot("a_b", 5, "c")}
		for _, s := range saved {
			save(t, st, s)
		}
		st = cfg.Reopen(t, st)
		for _, c := range []struct {
			stream string
			max    int64
			want   es.Snapshot
		}{{"a/b", 0, saved[1]}, {"a/b", 15, saved[0]}, {"a_b", 0, saved[2]}} {
			got, err := st.LoadSnapshot(t.Context(), c.stream, c.max)
			if err != nil {
				t.Fatalf("LoadSnapshot(%q, %d) after reopen: %v", c.stream, c.max, err)
			}
			checkSnapshot(t, "after reopen", got, c.want)
		}
	})
}

func snapshot(stream string, version int64, note string) es.Snapshot {
	state, _ := json.Marshal(map[string]any{"note": note, "version": version})
	return es.Snapshot{
		Stream: stream, Version: version, Type: "Agg", Schema: 1, State: state,
		Time: time.Date(2026, 1, 2, 3, 4, 5, 6000, time.UTC).Add(time.Duration(version) * time.Second),
	}
}

func save(t testing.TB, st es.SnapshotStore, s es.Snapshot) {
	t.Helper()
	if err := st.SaveSnapshot(t.Context(), s); err != nil {
		t.Fatalf("SaveSnapshot(%q v%d): %v", s.Stream, s.Version, err)
	}
}

func checkSnapshot(t testing.TB, what string, got, want es.Snapshot) {
	t.Helper()
	if d := diffSnapshot(got, want); d != "" {
		t.Fatalf("%s: %s", what, d)
	}
}

func diffSnapshot(got, want es.Snapshot) string {
	switch {
	case got.Stream != want.Stream:
		return fmt.Sprintf("stream %q, want %q", got.Stream, want.Stream)
	case got.Version != want.Version:
		return fmt.Sprintf("version %d, want %d", got.Version, want.Version)
	case got.Type != want.Type:
		return fmt.Sprintf("type %q, want %q", got.Type, want.Type)
	case got.Schema != want.Schema:
		return fmt.Sprintf("schema %d, want %d", got.Schema, want.Schema)
	case !got.Time.Equal(want.Time) || got.Time.Location() != time.UTC:
		return fmt.Sprintf("time %s, want %s in UTC", got.Time.Format(time.RFC3339Nano), want.Time.Format(time.RFC3339Nano))
	case !sameJSON(got.State, want.State):
		return fmt.Sprintf("state %s, want %s", got.State, want.State)
	}
	return ""
}

package es_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

// Added and Renamed are the events of tally, the test aggregate.
type Added struct {
	N int `json:"n"`
}

type Renamed struct {
	Name string `json:"name"`
}

// tally keeps a running total and the history of its events, so that any
// event applied twice, missed or out of order shows in its state.
type tally struct {
	es.Root
	Name  string `json:"name"`
	Total int    `json:"total"`
	Trail string `json:"trail"`
}

func (t *tally) Apply(e es.Envelope) {
	switch d := e.Data.(type) {
	case Added:
		t.Total += d.N
		t.Trail += fmt.Sprintf("+%d", d.N)
	case Renamed:
		t.Name = d.Name
		t.Trail += "r"
	}
}

func (t *tally) MarshalSnapshot() ([]byte, error) { return json.Marshal(t) }
func (t *tally) UnmarshalSnapshot(b []byte) error { return json.Unmarshal(b, t) }
func (t *tally) state() string {
	return fmt.Sprintf("%s/%d/%s@%d", t.Name, t.Total, t.Trail, t.Version())
}
func newTally() *tally            { return &tally{} }
func tallyRegistry() *es.Registry { r := es.NewRegistry(); registerTally(r); return r }
func registerTally(r *es.Registry) {
	es.Register[Added](r, "added", 1)
	es.Register[Renamed](r, "renamed", 1)
}
func (t *tally) add(n int) { es.Raise(t, Added{N: n}) }
func seedTally(t *testing.T, repo *es.Repository[*tally], id string, n int) *tally {
	t.Helper()
	ctx := context.Background()
	a := repo.New(id)
	for i := 1; i <= n; i++ {
		if i%7 == 0 {
			es.Raise(a, Renamed{Name: fmt.Sprintf("n%d", i)})
		} else {
			a.add(i)
		}
		// Save in uneven batches so snapshots fall at varied places.
		if i%3 == 0 || i == n {
			if _, err := repo.Save(ctx, a); err != nil {
				t.Fatalf("save at %d: %v", i, err)
			}
		}
	}
	return a
}

// countingStore records the first version each ReadStream asks for, so tests
// can tell a snapshot load from a full replay.
type countingStore struct {
	es.EventStore
	mu    sync.Mutex
	froms []int64
}

func (c *countingStore) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	c.mu.Lock()
	c.froms = append(c.froms, from)
	c.mu.Unlock()
	return c.EventStore.ReadStream(ctx, stream, from, to)
}

// lastFrom returns the first version the last read asked for, 0 if there
// was no read since the last call.
func (c *countingStore) lastFrom() int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.froms) == 0 {
		return 0
	}
	from := c.froms[len(c.froms)-1]
	c.froms = nil
	return from
}

func TestRepositorySnapshotsGiveSameState(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		strategy es.Strategy
		events   int
	}{
		{"never", es.Never, 40},
		{"every 1", es.EveryN(1), 40},
		{"every 5", es.EveryN(5), 41},
		{"every 50, fewer events", es.EveryN(50), 30},
		{"any of 10 or 1h", es.AnyOf(es.EveryN(10), es.Every(time.Hour)), 45},
		{"all of 4 and 0s", es.AllOf(es.EveryN(4), es.Every(0)), 45},
	} {
		t.Run(tc.name, func(t *testing.T) {
			store := memstore.New()
			reg := tallyRegistry()
			plain := es.NewRepository(store, reg, "tally", newTally)
			snapped := es.NewRepository(store, reg, "tally", newTally, es.WithSnapshots(store, tc.strategy),
				es.WithSnapshotErrors(func(s string, err error) { t.Errorf("snapshot %s: %v", s, err) }))
			want := seedTally(t, snapped, "a", tc.events).state()
			for v := int64(1); v <= int64(tc.events); v++ {
				full, err := plain.LoadAt(ctx, "a", v)
				if err != nil {
					t.Fatal(err)
				}
				fast, err := snapped.LoadAt(ctx, "a", v)
				if err != nil {
					t.Fatal(err)
				}
				if full.state() != fast.state() {
					t.Fatalf("at version %d: replay %s, with snapshots %s", v, full.state(), fast.state())
				}
				if !full.CreatedAt().Equal(fast.CreatedAt()) || !full.UpdatedAt().Equal(fast.UpdatedAt()) {
					t.Fatalf("at version %d: times differ: %v %v vs %v %v", v, full.CreatedAt(), full.UpdatedAt(), fast.CreatedAt(), fast.UpdatedAt())
				}
			}
			got, err := snapped.Load(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if got.state() != want {
				t.Fatalf("load: got %s, want %s", got.state(), want)
			}
		})
	}
}

func TestRepositoryUsesNearestSnapshot(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	store := &countingStore{EventStore: mem}
	reg := tallyRegistry()
	repo := es.NewRepository(store, reg, "tally", newTally, es.WithSnapshots(mem, es.EveryN(10)))
	// Saves after every third event and the last: snapshots at 12, 24, 35.
	seedTally(t, repo, "a", 35)
	store.lastFrom()
	// wantFrom 0: the snapshot is exactly the version asked for, no read.
	for _, tc := range []struct{ at, wantFrom int64 }{{35, 0}, {34, 25}, {33, 25}, {24, 0}, {23, 13}, {12, 0}, {11, 1}} {
		if _, err := repo.LoadAt(ctx, "a", tc.at); err != nil {
			t.Fatal(err)
		}
		if got := store.lastFrom(); got != tc.wantFrom {
			t.Errorf("LoadAt(%d) read events from %d, want %d", tc.at, got, tc.wantFrom)
		}
	}
	if _, err := repo.Load(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	if got := store.lastFrom(); got != 36 {
		t.Errorf("Load read events from %d, want 36", got)
	}
}

func TestRepositoryIgnoresUnusableSnapshots(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name     string
		snapshot es.Snapshot
		upcast   bool // register an upcaster from schema 1 to 2
		wantFrom int64
	}{
		{"current schema is used", es.Snapshot{Type: "tally", Schema: 2}, false, 4},
		{"old schema is ignored", es.Snapshot{Type: "tally", Schema: 1}, false, 1},
		{"old schema with upcaster is used", es.Snapshot{Type: "tally", Schema: 1}, true, 4},
		{"newer schema is ignored", es.Snapshot{Type: "tally", Schema: 3}, false, 1},
		{"other aggregate type is ignored", es.Snapshot{Type: "other", Schema: 2}, false, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mem := memstore.New()
			store := &countingStore{EventStore: mem}
			reg := tallyRegistry()
			reg.RegisterSnapshot("tally", 2)
			if tc.upcast {
				reg.RegisterSnapshotUpcaster("tally", 1, func(b json.RawMessage) (json.RawMessage, error) { return b, nil })
			}
			repo := es.NewRepository(store, reg, "tally", newTally, es.WithSnapshots(mem, es.Never))
			want := seedTally(t, repo, "a", 5).state()
			// The snapshot claims a state that replay would never give, so
			// using it shows in the result.
			s := tc.snapshot
			s.Stream, s.Version, s.Time = repo.Stream("a"), 3, es.Now()
			s.State = json.RawMessage(`{"created":"2026-01-01T00:00:00Z","state":{"name":"bogus","total":1000,"trail":"x"}}`)
			if err := mem.SaveSnapshot(ctx, s); err != nil {
				t.Fatal(err)
			}
			store.lastFrom()
			got, err := repo.Load(ctx, "a")
			if err != nil {
				t.Fatal(err)
			}
			if from := store.lastFrom(); from != tc.wantFrom {
				t.Fatalf("read events from %d, want %d", from, tc.wantFrom)
			}
			used := got.Name == "bogus" || got.Total > 1000
			if used != (tc.wantFrom > 1) {
				t.Fatalf("state %s: snapshot used = %v, want %v (full replay gives %s)", got.state(), used, tc.wantFrom > 1, want)
			}
			if !used && got.state() != want {
				t.Fatalf("replay gave %s, want %s", got.state(), want)
			}
		})
	}
}

func TestRepositoryCorruptSnapshotFallsBackToReplay(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	reg := tallyRegistry()
	var reported []error
	repo := es.NewRepository(mem, reg, "tally", newTally, es.WithSnapshots(mem, es.Never),
		es.WithSnapshotErrors(func(_ string, err error) { reported = append(reported, err) }))
	want := seedTally(t, repo, "a", 6).state()
	err := mem.SaveSnapshot(ctx, es.Snapshot{Stream: repo.Stream("a"), Version: 3, Type: "tally", Schema: 1,
		State: json.RawMessage(`{"created":"2026-01-01T00:00:00Z","state":{"total":"not a number"}}`), Time: es.Now()})
	if err != nil {
		t.Fatal(err)
	}
	got, err := repo.Load(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if got.state() != want {
		t.Fatalf("got %s, want %s", got.state(), want)
	}
	if len(reported) != 1 {
		t.Fatalf("reported %d snapshot errors, want 1: %v", len(reported), reported)
	}
}

// failingSnapshots fails every save.
type failingSnapshots struct{ es.SnapshotStore }

func (failingSnapshots) SaveSnapshot(context.Context, es.Snapshot) error {
	return errors.New("disk full")
}

func TestRepositorySnapshotFailureNeverFailsSave(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	var reported int
	repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally,
		es.WithSnapshots(failingSnapshots{mem}, es.EveryN(1)),
		es.WithSnapshotErrors(func(string, error) { reported++ }))
	a := repo.New("a")
	a.add(1)
	recs, err := repo.Save(ctx, a)
	if err != nil || len(recs) != 1 {
		t.Fatalf("save: %v, %d records", err, len(recs))
	}
	if reported != 1 {
		t.Fatalf("reported %d failures, want 1", reported)
	}
	if v, _ := mem.StreamVersion(ctx, repo.Stream("a")); v != 1 {
		t.Fatalf("stream version %d, want 1", v)
	}
}

func TestRepositoryTemporalLoads(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	reg := tallyRegistry()
	base := time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)
	// Events one hour apart, appended with explicit times.
	var events []es.Event
	for i := 1; i <= 10; i++ {
		ev, err := reg.Encode(Added{N: i})
		if err != nil {
			t.Fatal(err)
		}
		ev.Time = base.Add(time.Duration(i-1) * time.Hour)
		events = append(events, ev)
	}
	if _, err := mem.Append(ctx, "tally-a", es.NoStream, events); err != nil {
		t.Fatal(err)
	}
	for _, snaps := range []bool{false, true} {
		var opts []es.RepositoryOption
		if snaps {
			opts = append(opts, es.WithSnapshots(mem, es.Never))
		}
		repo := es.NewRepository(mem, reg, "tally", newTally, opts...)
		if snaps {
			// Snapshots at 3 and 7, written by loading and saving one.
			for _, v := range []int64{3, 7} {
				a, err := repo.LoadAt(ctx, "a", v)
				if err != nil {
					t.Fatal(err)
				}
				st, _ := json.Marshal(map[string]any{"created": a.CreatedAt(), "state": a})
				if err := mem.SaveSnapshot(ctx, es.Snapshot{Stream: "tally-a", Version: v, Type: "tally", Schema: 1, State: st, Time: a.UpdatedAt()}); err != nil {
					t.Fatal(err)
				}
			}
		}
		sum := func(n int) int { return n * (n + 1) / 2 }
		for _, tc := range []struct {
			name    string
			asOf    time.Time
			version int64 // 0: want ErrNotFound
		}{
			{"before the first event", base.Add(-time.Second), 0},
			{"at the first event", base, 1},
			{"between two events", base.Add(90 * time.Minute), 2},
			{"exactly at the third", base.Add(2 * time.Hour), 3},
			{"a microsecond before the fourth", base.Add(3*time.Hour - time.Microsecond), 3},
			{"just after the seventh", base.Add(6*time.Hour + time.Minute), 7},
			{"after the last", base.Add(48 * time.Hour), 10},
		} {
			t.Run(fmt.Sprintf("snapshots=%v/%s", snaps, tc.name), func(t *testing.T) {
				a, err := repo.LoadAsOf(ctx, "a", tc.asOf)
				if tc.version == 0 {
					if !errors.Is(err, es.ErrNotFound) {
						t.Fatalf("got %v, want ErrNotFound", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if a.Version() != tc.version || a.Total != sum(int(tc.version)) {
					t.Fatalf("got version %d total %d, want %d and %d", a.Version(), a.Total, tc.version, sum(int(tc.version)))
				}
				if !a.CreatedAt().Equal(base) {
					t.Fatalf("created %v, want %v", a.CreatedAt(), base)
				}
			})
		}
		for v := int64(1); v <= 10; v++ {
			a, err := repo.LoadAt(ctx, "a", v)
			if err != nil || a.Version() != v || a.Total != sum(int(v)) {
				t.Fatalf("LoadAt(%d): %v, version %d total %d", v, err, a.Version(), a.Total)
			}
		}
		if _, err := repo.LoadAt(ctx, "a", 11); !errors.Is(err, es.ErrNotFound) {
			t.Fatalf("LoadAt beyond the end: %v, want ErrNotFound", err)
		}
		if _, err := repo.LoadAt(ctx, "a", 0); !errors.Is(err, es.ErrInvalidVersion) {
			t.Fatalf("LoadAt(0): %v, want ErrInvalidVersion", err)
		}
	}
}

func TestRepositoryLoadMissing(t *testing.T) {
	repo := es.NewRepository(memstore.New(), tallyRegistry(), "tally", newTally)
	if _, err := repo.Load(context.Background(), "nope"); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("got %v, want ErrNotFound", err)
	}
}

func TestRepositorySaveConflictAndMetadata(t *testing.T) {
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "alice", CorrelationID: "c1"})
	mem := memstore.New()
	repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally)
	a := repo.New("a")
	a.add(1)
	recs, err := repo.Save(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	if recs[0].Metadata.Actor != "alice" || recs[0].Metadata.CorrelationID != "c1" || recs[0].Type != "added" {
		t.Fatalf("record %+v", recs[0])
	}
	// Two aggregates created with the same ID: the second finds the stream.
	b := repo.New("a")
	b.add(2)
	if _, err := repo.Save(ctx, b); !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("got %v, want ErrConcurrency", err)
	}
	if len(b.Pending()) != 1 {
		t.Fatalf("a failed save dropped pending events")
	}
	if recs, err := repo.Save(ctx, a); err != nil || recs != nil {
		t.Fatalf("saving nothing: %v %v", recs, err)
	}
}

func TestRepositoryUpdateRetriesUnderContention(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally, es.WithRetries(1000),
		es.WithSnapshots(mem, es.EveryN(5)))
	seedTally(t, repo, "a", 1)
	const writers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for range writers {
		wg.Go(func() {
			for range each {
				if _, err := repo.Update(ctx, "a", func(a *tally) error { a.add(1); return nil }); err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	a, err := repo.Load(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.Total != 1+writers*each || a.Version() != 1+writers*each {
		t.Fatalf("total %d version %d, want %d", a.Total, a.Version(), 1+writers*each)
	}
}

func TestRepositoryUpdateStopsOnCommandError(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally)
	seedTally(t, repo, "a", 2)
	boom := errors.New("rule broken")
	_, err := repo.Update(ctx, "a", func(a *tally) error { a.add(5); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v", err)
	}
	if v, _ := mem.StreamVersion(ctx, "tally-a"); v != 2 {
		t.Fatalf("version %d after a failed command, want 2", v)
	}
}

func TestRepositoryTimeStrategyReadsItsClock(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	var now time.Time
	repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally,
		es.WithSnapshots(mem, es.Every(time.Hour)), es.WithClock(func() time.Time { return now }))
	a := repo.New("a")
	a.add(1)
	now = es.Now().Add(30 * time.Minute) // the clock the strategy reads, not the wall clock
	if _, err := repo.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.LoadSnapshot(ctx, repo.Stream("a"), 0); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("snapshot taken 30 minutes in: %v", err)
	}
	a.add(2)
	now = a.UpdatedAt().Add(2 * time.Hour)
	if _, err := repo.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	if s, err := mem.LoadSnapshot(ctx, repo.Stream("a"), 0); err != nil || s.Version != 2 {
		t.Fatalf("after two hours: snapshot %+v, %v; want version 2", s, err)
	}
}

func TestRepositoryStreamPrefixAndRetryLimit(t *testing.T) {
	ctx := context.Background()
	mem := memstore.New()
	for _, tc := range []struct {
		retries int
		wantErr error
	}{{0, es.ErrConcurrency}, {1, nil}} {
		repo := es.NewRepository(mem, tallyRegistry(), "tally", newTally,
			es.WithStreamPrefix("t/"), es.WithRetries(tc.retries))
		id := fmt.Sprintf("r%d", tc.retries)
		seedTally(t, repo, id, 1)
		if got := repo.Stream(id); got != "t/"+id {
			t.Fatalf("stream %q, want %q", got, "t/"+id)
		}
		calls := 0
		_, err := repo.Update(ctx, id, func(a *tally) error {
			calls++
			if calls == 1 {
				// Another writer gets in between this load and its save.
				other, err := repo.Load(ctx, id)
				if err != nil {
					return err
				}
				other.add(100)
				if _, err := repo.Save(ctx, other); err != nil {
					return err
				}
			}
			a.add(1)
			return nil
		})
		if !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Fatalf("retries %d: got %v, want %v", tc.retries, err, tc.wantErr)
		}
		if want := min(tc.retries, 1) + 1; calls != want {
			t.Fatalf("retries %d: command ran %d times, want %d", tc.retries, calls, want)
		}
		if v, _ := mem.StreamVersion(ctx, "t/"+id); v != int64(2+min(tc.retries, 1)) {
			t.Fatalf("retries %d: stream at version %d", tc.retries, v)
		}
	}
}

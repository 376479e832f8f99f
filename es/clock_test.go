package es_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

// TestLoadAsOfSameWithAndWithoutSnapshots stores a first event whose time is
// ahead of this machine's clock (written by an agent whose clock runs fast,
// or before the clock was stepped back), then saves a second event through
// the repository. A load as of a time between the two clocks must give the
// same answer whether or not a snapshot exists: snapshots are only an
// optimisation. Raise used to give the second event the current time, older
// than the first event's: the snapshot then claimed version 2 existed at a
// time when replay says nothing did.
func TestLoadAsOfSameWithAndWithoutSnapshots(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	reg := tallyRegistry()
	ahead := es.Now().Add(time.Hour)
	data, _ := json.Marshal(Added{N: 1})
	if _, err := store.Append(ctx, "tally-a", es.NoStream, []es.Event{{Type: "added", Data: data, Time: ahead}}); err != nil {
		t.Fatal(err)
	}
	snapped := es.NewRepository(store, reg, "tally", newTally, es.WithSnapshots(store, es.EveryN(1)))
	plain := es.NewRepository(store, reg, "tally", newTally)
	if _, err := snapped.Update(ctx, "a", func(a *tally) error { a.add(2); return nil }); err != nil {
		t.Fatal(err)
	}
	if _, err := store.LoadSnapshot(ctx, "tally-a", 0); err != nil {
		t.Fatalf("no snapshot taken: %v", err)
	}
	asOf := es.Now().Add(time.Minute)
	describe := func(a *tally, err error) string {
		if errors.Is(err, es.ErrNotFound) {
			return "not found"
		}
		if err != nil {
			return err.Error()
		}
		return a.state()
	}
	want := describe(plain.LoadAsOf(ctx, "a", asOf))
	if got := describe(snapped.LoadAsOf(ctx, "a", asOf)); got != want {
		t.Fatalf("as of %s: with snapshots %s, by replay %s", asOf, got, want)
	}
	a, err := plain.Load(ctx, "a")
	if err != nil {
		t.Fatal(err)
	}
	if a.UpdatedAt().Before(a.CreatedAt()) {
		t.Fatalf("updated at %s, before created at %s", a.UpdatedAt(), a.CreatedAt())
	}
}

// TestLoadAsOfZeroTime loads an aggregate as of the zero time, before any
// event could have been recorded. The zero time also meant "no time limit"
// inside the repository, so it returned the current state.
func TestLoadAsOfZeroTime(t *testing.T) {
	ctx := context.Background()
	store := memstore.New()
	repo := es.NewRepository(store, tallyRegistry(), "tally", newTally, es.WithSnapshots(store, es.EveryN(1)))
	seedTally(t, repo, "a", 3)
	for _, at := range []time.Time{{}, time.Time{}.Add(time.Nanosecond), time.Date(-5, 1, 1, 0, 0, 0, 0, time.UTC)} {
		if a, err := repo.LoadAsOf(ctx, "a", at); !errors.Is(err, es.ErrNotFound) {
			got := "<nil>"
			if err == nil {
				got = a.state()
			}
			t.Errorf("LoadAsOf(%s) = %s, %v; want ErrNotFound", at, got, err)
		}
	}
}

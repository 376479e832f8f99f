package es_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
)

// A repository saving under WithDerivedIDs gives the events the IDs derived
// from the key, in the order stored; a failed save uses none up; the same
// request run again derives the same IDs.
func TestDerivedIDs(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	repo := es.NewRepository(st, tallyRegistry(), "tally", newTally)
	key := []byte("alice\x00key-1")
	dctx := es.WithDerivedIDs(ctx, key)

	c := repo.New("c1")
	c.add(1)
	c.add(2)
	if _, err := repo.Save(dctx, c); err != nil {
		t.Fatal(err)
	}
	// A save that conflicts stores nothing and takes no number.
	stale := repo.New("c1")
	stale.add(5)
	if _, err := repo.Save(dctx, stale); !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("stale save: %v, want a conflict", err)
	}
	c.add(3)
	if _, err := repo.Save(dctx, c); err != nil {
		t.Fatal(err)
	}
	recs, err := es.Collect(st.ReadStream(ctx, repo.Stream("c1"), 1, 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != 3 {
		t.Fatalf("%d records, want 3", len(recs))
	}
	for i, r := range recs {
		if want := es.DerivedID(key, i); r.ID != want {
			t.Errorf("event %d: ID %s, want %s", i, r.ID, want)
		}
	}
	if es.DerivedID(key, 0) == es.DerivedID([]byte("bob\x00key-1"), 0) {
		t.Error("two keys derive the same ID")
	}
	if v := es.DerivedID(key, 0).Version(); v != 8 {
		t.Errorf("version %d, want 8", v)
	}
	// Without the key, IDs are new ones.
	c.add(4)
	if recs, err := repo.Save(ctx, c); err != nil || recs[0].ID == es.DerivedID(key, 3) {
		t.Fatalf("save without key: %v %v", recs, err)
	}
}

// With WithTurns, updates of one aggregate through one repository take
// turns: 16 goroutines updating it at once never conflict, even with no
// retries.
func TestUpdateTakesTurns(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	repo := es.NewRepository(st, tallyRegistry(), "tally", newTally, es.WithRetries(0), es.WithTurns())
	seedTally(t, repo, "hot", 1)
	errs := make(chan error, 16*20)
	done := make(chan struct{})
	for g := range 16 {
		go func() {
			defer func() { done <- struct{}{} }()
			for range 20 {
				if _, err := repo.Update(ctx, "hot", func(a *tally) error { a.add(g); return nil }); err != nil {
					errs <- err
				}
			}
		}()
	}
	for range 16 {
		<-done
	}
	close(errs)
	for err := range errs {
		t.Fatalf("update: %v", err)
	}
	if v, _ := st.StreamVersion(ctx, repo.Stream("hot")); v != 1+16*20 {
		t.Fatalf("version %d, want %d", v, 1+16*20)
	}
	// A cancelled context stops the wait for a turn.
	unlockCtx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := repo.Update(unlockCtx, "hot", func(a *tally) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled update: %v", err)
	}
	// A context that ends while the update waits for its turn ends the
	// wait, and the turn is still given on once its holder is done.
	held, release, finished := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		_, err := repo.Update(ctx, "hot", func(a *tally) error { close(held); <-release; return nil })
		finished <- err
	}()
	<-held
	waitCtx, cancelWait := context.WithTimeout(ctx, 20*time.Millisecond)
	defer cancelWait()
	if _, err := repo.Update(waitCtx, "hot", func(a *tally) error { return nil }); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("update waiting for a held turn: %v, want the context's deadline", err)
	}
	close(release)
	if err := <-finished; err != nil {
		t.Fatalf("holder: %v", err)
	}
	if _, err := repo.Update(ctx, "hot", func(a *tally) error { a.add(1); return nil }); err != nil {
		t.Fatalf("update after the turn was given up: %v", err)
	}
}

package app_test

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"path/filepath"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// cycle returns a cycle in graph (item -> its blockers), or nil.
func cycle(graph map[string][]string) []string {
	const (
		unseen = iota
		onPath
		done
	)
	state := map[string]int{}
	var path []string
	var visit func(id string) []string
	visit = func(id string) []string {
		switch state[id] {
		case onPath:
			i := slices.Index(path, id)
			return append(slices.Clone(path[i:]), id)
		case done:
			return nil
		}
		state[id] = onPath
		path = append(path, id)
		for _, b := range graph[id] {
			if c := visit(b); c != nil {
				return c
			}
		}
		path = path[:len(path)-1]
		state[id] = done
		return nil
	}
	for _, id := range slices.Sorted(maps.Keys(graph)) {
		if c := visit(id); c != nil {
			return c
		}
	}
	return nil
}

// graphs returns the graph of blockers as the read model has it and as
// loading each item has it.
func graphs(t *testing.T, s *app.Service) (model, loaded map[string][]string) {
	t.Helper()
	ctx := context.Background()
	items, err := s.List(ctx, app.Filter{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	model, loaded = map[string][]string{}, map[string][]string{}
	for _, it := range items {
		model[it.ID] = it.Item.Blockers
		w, err := s.Item(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		loaded[it.ID] = w.Blockers
	}
	return model, loaded
}

// Many agents, each with a service of its own over one store (half of them
// sharing one read model file), race to add edges that together close
// cycles: a ring, where each adds one edge, and pairs A -> B, B -> A. Every
// cycle must be refused, with tracker.ErrCycle, and nothing else.
func TestBlockRaceRefusesCycles(t *testing.T) {
	const ring, pairs, rounds = 12, 6, 3
	for round := range rounds {
		st := memstore.New()
		shared := filepath.Join(t.TempDir(), "board.db")
		service := func(i int) *app.Service {
			var s *app.Service
			if i%2 == 0 {
				s = app.New(st, st, st)
			} else {
				s = app.New(st, st, st, app.WithBoard(shared))
			}
			t.Cleanup(func() { s.Close() })
			return s
		}
		s := service(0)
		var ringIDs []string
		for i := range ring {
			ringIDs = append(ringIDs, create(t, s, fmt.Sprint("ring ", i)).ID)
		}
		type edge struct{ item, blocker string }
		var edges []edge
		for i, id := range ringIDs {
			edges = append(edges, edge{id, ringIDs[(i+1)%ring]})
		}
		for i := range pairs {
			a, b := create(t, s, fmt.Sprint("pair a ", i)).ID, create(t, s, fmt.Sprint("pair b ", i)).ID
			edges = append(edges, edge{a, b}, edge{b, a})
		}
		errs := make([]error, len(edges))
		var start, wg sync.WaitGroup
		start.Add(1)
		for i, e := range edges {
			wg.Go(func() {
				s := service(i)
				ctx := as(fmt.Sprint("agent-", i))
				start.Wait()
				_, errs[i] = s.Block(ctx, e.item, e.blocker, es.Any)
			})
		}
		start.Done()
		wg.Wait()

		ok := 0
		for i, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, tracker.ErrCycle):
				t.Errorf("round %d: block %s on %s: %v, want a cycle refusal or success", round, edges[i].item, edges[i].blocker, err)
			}
		}
		// A ring of n edges less any one is acyclic; each pair keeps one.
		if want := ring - 1 + pairs; ok != want {
			t.Errorf("round %d: %d blocks succeeded, want %d", round, ok, want)
		}
		model, loaded := graphs(t, service(1))
		if c := cycle(model); c != nil {
			t.Fatalf("round %d: the read model holds the cycle %v", round, c)
		}
		if c := cycle(loaded); c != nil {
			t.Fatalf("round %d: the items hold the cycle %v", round, c)
		}
		if !maps.EqualFunc(model, loaded, slices.Equal) {
			t.Fatalf("round %d: read model %v, items %v", round, model, loaded)
		}
		edgesIn := 0
		for _, bs := range loaded {
			edgesIn += len(bs)
		}
		if edgesIn != ok {
			t.Fatalf("round %d: %d edges in the graph after %d successful blocks", round, edgesIn, ok)
		}
	}
}

// A store written before the dependency graph stream holds blockers only
// in the items' streams: block still sees them.
func TestBlockReadsOldStores(t *testing.T) {
	s, st := newService(t)
	ctx := as("ann")
	a, b, c := create(t, s, "a"), create(t, s, "b"), create(t, s, "c")
	ev, err := s.Registry().Encode(tracker.BlockerAdded{Blocker: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, tracker.WorkItemType+"-"+a.ID, es.Exact(a.Version), []es.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Block(ctx, b.ID, a.ID, es.Any); !errors.Is(err, tracker.ErrCycle) {
		t.Fatalf("closing a cycle with an old edge: %v", err)
	}
	if _, err := s.Block(ctx, b.ID, c.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if v, err := st.StreamVersion(ctx, app.DependencyStream); err != nil || v != 1 {
		t.Fatalf("graph stream at %d, %v; want 1", v, err)
	}
}

// A block that crashed between its reservation and its item's write left
// an edge that counts until the item is written again.
func TestBlockAfterCrashedReservation(t *testing.T) {
	s, st := newService(t)
	ctx := as("ann")
	a, b := create(t, s, "a"), create(t, s, "b")
	ev, err := s.Registry().Encode(tracker.DependencyReserved{Item: a.ID, Blocker: b.ID, ItemVersion: a.Version})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Append(ctx, app.DependencyStream, es.NoStream, []es.Event{ev}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Block(ctx, b.ID, a.ID, es.Any); !errors.Is(err, tracker.ErrCycle) {
		t.Fatalf("closing a cycle with a reserved edge: %v", err)
	}
	// Any write to a settles the reservation: the edge was never written.
	if _, err := s.Comment(ctx, a.ID, "moving on", es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Block(ctx, b.ID, a.ID, es.Any); err != nil {
		t.Fatalf("after the reservation settled: %v", err)
	}
	if it, _ := s.Item(ctx, a.ID); len(it.Blockers) != 0 {
		t.Fatalf("a's blockers %v", it.Blockers)
	}
}

// BlockedBrief finds what Blocked finds, for the same reasons, with the
// brief fields of each item.
func TestBlockedBriefAgrees(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	a := create(t, s, "blocker")
	b := create(t, s, "waits", tracker.NewItem{Labels: []string{"ui"}, Description: "long"})
	c := create(t, s, "by hand")
	create(t, s, "free")
	if _, err := s.Block(ctx, b.ID, a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeStatus(ctx, c.ID, tracker.Blocked, "vendor", es.Any); err != nil {
		t.Fatal(err)
	}
	full, err := s.Blocked(ctx)
	if err != nil {
		t.Fatal(err)
	}
	brief, err := s.BlockedBrief(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(full) != 2 || len(brief) != len(full) {
		t.Fatalf("Blocked found %d, BlockedBrief %d; want 2", len(full), len(brief))
	}
	for i, f := range full {
		g := brief[i]
		it := f.Item
		cut := tracker.Item{ID: it.ID, Title: it.Title, Type: it.Type, Status: it.Status, Priority: it.Priority, Assignee: it.Assignee,
			CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt, Blockers: it.Blockers, Claim: it.Claim, StatusReason: it.StatusReason}
		if !reflect.DeepEqual(g.Item, cut) || !reflect.DeepEqual(g.Why, f.Why) || !reflect.DeepEqual(g.Claim, f.Claim) {
			t.Fatalf("stuck %d:\nbrief %+v\n full %+v", i, g, f)
		}
	}
	if full[0].Item.Description != "long" || len(full[0].Why.Blockers) != 1 || full[1].Why.Reason != "vendor" {
		t.Fatalf("Blocked found %+v", full)
	}
}

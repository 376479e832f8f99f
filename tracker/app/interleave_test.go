package app_test

// Tests that run one agent's command between two steps of another's, or
// stop a command between its writes, to check that the two still agree.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// hookStore is a memstore whose next append to stream first runs hook:
// hook can fail the append (a process that dies between two writes) or
// run another agent's command in between.
type hookStore struct {
	*memstore.Store
	stream string
	hook   func() error
}

func (h *hookStore) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	if h.hook != nil && stream == h.stream {
		hook := h.hook
		h.hook = nil
		if err := hook(); err != nil {
			return nil, err
		}
	}
	return h.Store.Append(ctx, stream, expected, events)
}

// membership returns initiative init's members and item's initiative, from
// the aggregates and from the read model.
func membership(t *testing.T, s *app.Service, init, item string) (members []string, itemInit string, listed []string) {
	t.Helper()
	ctx := as("ann")
	in, err := s.Initiative(ctx, init)
	if err != nil {
		t.Fatal(err)
	}
	it, err := s.Item(ctx, item)
	if err != nil {
		t.Fatal(err)
	}
	l, err := s.List(ctx, app.Filter{Initiative: init}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	return in.Members, it.Initiative, cardIDs(l)
}

// agree fails unless initiative init and item agree on whether item is a
// member, and says which.
func agree(t *testing.T, s *app.Service, init, item string) bool {
	t.Helper()
	members, itemInit, listed := membership(t, s, init, item)
	in := slices.Contains(members, item)
	if in != (itemInit == init) || in != slices.Contains(listed, item) {
		t.Fatalf("%s's members %v, but %s says it is in %q, and list --initiative %s gives %v", init, members, item, itemInit, init, listed)
	}
	return in
}

func TestRemoveFromInitiativeAfterCrash(t *testing.T) {
	st := &hookStore{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	if _, err := s.CreateInitiative(ctx, "Login", ""); err != nil {
		t.Fatal(err)
	}
	a := create(t, s, "a", tracker.NewItem{Initiative: "I-1"})
	// The process dies after the initiative's write, before the item's.
	crash := errors.New("killed")
	st.stream, st.hook = "workitem-"+a.ID, func() error { return crash }
	if _, err := s.RemoveFromInitiative(ctx, "I-1", a.ID, es.Any); !errors.Is(err, crash) {
		t.Fatalf("remove: %v", err)
	}
	// Running the command again finishes the job.
	if _, err := s.RemoveFromInitiative(ctx, "I-1", a.ID, es.Any); err != nil {
		t.Fatalf("remove again: %v", err)
	}
	if agree(t, s, "I-1", a.ID) {
		t.Fatal("still a member")
	}
	if _, err := s.RemoveFromInitiative(ctx, "I-1", a.ID, es.Any); !errors.Is(err, tracker.ErrNotMember) {
		t.Fatalf("remove a third time: %v", err)
	}
}

func TestAddRacesRemove(t *testing.T) {
	st := &hookStore{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	if _, err := s.CreateInitiative(ctx, "Login", ""); err != nil {
		t.Fatal(err)
	}
	a := create(t, s, "a")
	// Between add's two writes, another agent removes the item again.
	st.stream, st.hook = "workitem-"+a.ID, func() error {
		_, err := s.RemoveFromInitiative(as("bob"), "I-1", a.ID, es.Any)
		return err
	}
	s.AddToInitiative(ctx, "I-1", a.ID, es.Any)
	agree(t, s, "I-1", a.ID)
}

// hookReads is a memstore whose next read of stream first runs hook.
type hookReads struct {
	*memstore.Store
	stream string
	hook   func()
}

func (h *hookReads) ReadStream(ctx context.Context, stream string, from, to int64) iter.Seq2[es.Record, error] {
	if h.hook != nil && stream == h.stream {
		hook := h.hook
		h.hook = nil
		hook()
	}
	return h.Store.ReadStream(ctx, stream, from, to)
}

// An item blocked after ready --claim read the read model, but before it
// loaded the item, is not ready any more: it is not claimed.
func TestClaimReadySkipsItemBlockedMeanwhile(t *testing.T) {
	st := &hookReads{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	a := create(t, s, "a", tracker.NewItem{Priority: tracker.Critical})
	b := create(t, s, "b", tracker.NewItem{Priority: tracker.Low})
	if _, err := s.ChangeStatus(ctx, b.ID, tracker.InProgress, "", es.Any); err != nil {
		t.Fatal(err)
	}
	c := create(t, s, "c", tracker.NewItem{Priority: tracker.Low})
	st.stream, st.hook = "workitem-"+a.ID, func() {
		if _, err := s.Block(as("bob"), a.ID, b.ID, es.Any); err != nil {
			t.Error(err)
		}
	}
	r, err := s.ClaimReady(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	if r.State.ID != c.ID {
		t.Fatalf("claimed %s (blockers %v), want %s: %s is blocked by %s, in progress", r.State.ID, r.State.Blockers, c.ID, a.ID, b.ID)
	}
}

// create --initiative writes the item (naming the initiative), then the
// initiative. A remove that runs between the two finds the item naming an
// initiative that does not hold it, as after a remove cut short, and
// finishes it; the create's write to the initiative must not then make it
// a member of an initiative the item no longer names.
func TestCreateInInitiativeRacesRemove(t *testing.T) {
	st := &hookStore{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	if _, err := s.CreateInitiative(ctx, "Login", ""); err != nil {
		t.Fatal(err)
	}
	st.stream, st.hook = "initiative-I-1", func() error {
		_, err := s.RemoveFromInitiative(as("bob"), "I-1", "J-1", es.Any)
		return err
	}
	s.Create(ctx, tracker.NewItem{Title: "a", Initiative: "I-1"})
	agree(t, s, "I-1", "J-1")
}

// Moving an item from I-1 to I-3 ends by taking it out of I-1. If another
// agent moved it back to I-1 meanwhile, I-1 must keep it.
func TestMoveRacesMoveBack(t *testing.T) {
	st := &hookReads{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	for range 3 {
		if _, err := s.CreateInitiative(ctx, "i", ""); err != nil {
			t.Fatal(err)
		}
	}
	a := create(t, s, "a", tracker.NewItem{Initiative: "I-1"})
	st.stream, st.hook = "initiative-I-1", func() {
		if _, err := s.AddToInitiative(as("bob"), "I-1", a.ID, es.Any); err != nil {
			t.Error(err)
		}
	}
	if _, err := s.AddToInitiative(ctx, "I-3", a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"I-1", "I-3"} {
		agree(t, s, in, a.ID)
	}
}

// Agents adding and removing items to and from initiatives, and creating
// items in them, at random and at once, leave every initiative and item agreeing.
func TestMembershipRandomRaces(t *testing.T) {
	for seed := range 10 {
		s, _ := newService(t)
		ctx := as("ann")
		for range 3 {
			if _, err := s.CreateInitiative(ctx, "i", ""); err != nil {
				t.Fatal(err)
			}
		}
		for range 3 {
			create(t, s, "x")
		}
		var wg sync.WaitGroup
		for g := range 8 {
			wg.Go(func() {
				r := rand.New(rand.NewPCG(uint64(seed), uint64(g)))
				for range 15 {
					init, item := fmt.Sprintf("I-%d", r.IntN(3)+1), fmt.Sprintf("J-%d", r.IntN(3)+1)
					var err error
					switch r.IntN(5) {
					case 0:
						_, err = s.RemoveFromInitiative(as("a"), init, item, es.Any)
					case 1:
						_, err = s.Create(as("a"), tracker.NewItem{Title: "new", Initiative: init})
					default:
						_, err = s.AddToInitiative(as("a"), init, item, es.Any)
					}
					if err != nil && !errors.Is(err, tracker.ErrNotMember) {
						t.Error(err)
					}
				}
			})
		}
		wg.Wait()
		all, err := s.List(ctx, app.Filter{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range all {
			for k := 1; k <= 3; k++ {
				agree(t, s, fmt.Sprintf("I-%d", k), it.ID)
			}
		}
	}
}

// As TestMoveRacesMoveBack, but the move back runs after the clean-up read
// the item and before it saved I-1's side.
func TestMoveBackDuringCleanUp(t *testing.T) {
	st := &hookStore{Store: memstore.New()}
	s := newApp(t, st, st, st)
	ctx := as("ann")
	for range 3 {
		if _, err := s.CreateInitiative(ctx, "i", ""); err != nil {
			t.Fatal(err)
		}
	}
	a := create(t, s, "a", tracker.NewItem{Initiative: "I-1"})
	st.stream, st.hook = "initiative-I-1", func() error {
		_, err := s.AddToInitiative(as("bob"), "I-1", a.ID, es.Any)
		return err
	}
	if _, err := s.AddToInitiative(ctx, "I-3", a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	for _, in := range []string{"I-1", "I-3"} {
		agree(t, s, in, a.ID)
	}
}

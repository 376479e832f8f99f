package app_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// dying is an event store that stores the first left appends and fails
// every later one, as a process killed between two writes.
type dying struct {
	*memstore.Store
	left int
}

var errDied = errors.New("the process died here")

func (d *dying) Append(ctx context.Context, stream string, expected es.ExpectedVersion, events []es.Event) ([]es.Record, error) {
	if d.left == 0 {
		return nil, errDied
	}
	d.left--
	return d.Store.Append(ctx, stream, expected, events)
}

// Every membership command, stopped after each of its writes but the last:
// initiative show and initiative list agree with the items, whatever was
// left half-written; verify lists the split, and mending it leaves none.
func TestMembershipCutShort(t *testing.T) {
	commands := map[string]func(s *app.Service) error{
		"add": func(s *app.Service) error {
			_, err := s.AddToInitiative(as("ann"), "I-1", "J-1", es.Any)
			return err
		},
		"move": func(s *app.Service) error {
			_, err := s.AddToInitiative(as("ann"), "I-2", "J-2", es.Any)
			return err
		},
		"remove": func(s *app.Service) error {
			_, err := s.RemoveFromInitiative(as("ann"), "I-1", "J-2", es.Any)
			return err
		},
		"create": func(s *app.Service) error {
			_, err := s.Create(as("ann"), tracker.NewItem{Title: "new", Initiative: "I-1"})
			return err
		},
	}
	for name, cmd := range commands {
		splits := 0
		for writes := 0; ; writes++ {
			st := memstore.New()
			s := newApp(t, st, st, st)
			t.Cleanup(func() { s.Close() })
			ctx := as("ann")
			for _, title := range []string{"one", "two"} {
				if _, err := s.CreateInitiative(ctx, title, ""); err != nil {
					t.Fatal(err)
				}
			}
			create(t, s, "first")
			create(t, s, "second", tracker.NewItem{Initiative: "I-1"})
			before, _ := st.LastPosition(ctx)

			cut := newApp(t, &dying{Store: st, left: writes}, st, st)
			err := cmd(cut)
			cut.Close()
			if err == nil {
				break // it finished in fewer writes
			}
			if !errors.Is(err, errDied) {
				t.Fatalf("%s after %d writes: %v", name, writes, err)
			}
			if after, _ := st.LastPosition(ctx); after == before && writes > 0 {
				t.Fatalf("%s after %d writes: nothing written", name, writes)
			}
			checkMembers(t, s, name, writes)
			rep, err := s.Verify(ctx, nil)
			if err != nil || !rep.OK() {
				t.Fatalf("%s after %d writes: verify %+v, %v", name, writes, rep, err)
			}
			splits += len(rep.Splits)
			if _, err := s.MendSplits(ctx, rep.Splits); err != nil {
				t.Fatal(err)
			}
			checkMembers(t, s, name, writes)
			if rep, _ := s.Verify(ctx, nil); len(rep.Splits) > 0 {
				t.Errorf("%s after %d writes: mended, verify still lists %v", name, writes, rep.Splits)
			}
		}
		if splits == 0 {
			t.Errorf("%s: no stop between its writes left a split", name)
		}
	}
}

// checkMembers compares each initiative's members, as Initiative and
// Initiatives give them, with the items that name it.
func checkMembers(t *testing.T, s *app.Service, name string, writes int) {
	t.Helper()
	ctx := context.Background()
	cards, err := s.List(ctx, app.Filter{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	named := map[string][]string{}
	for _, c := range cards {
		if c.Initiative != "" {
			named[c.Initiative] = append(named[c.Initiative], c.ID)
		}
	}
	all, err := s.Initiatives(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, in := range all {
		one, err := s.Initiative(ctx, in.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := slices.Sorted(slices.Values(named[in.ID]))
		for face, got := range map[string][]string{"Initiatives": in.Members, "Initiative": one.Members} {
			if got = slices.Sorted(slices.Values(got)); !slices.Equal(got, want) {
				t.Errorf("%s after %d writes: %s says %s holds %v; the items naming it: %v", name, writes, face, in.ID, got, want)
			}
		}
	}
}

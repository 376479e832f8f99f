package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/es/projection"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// withModel returns a service over st that keeps its read model in ms, and
// the notes it makes.
func withModel(t testing.TB, st *memstore.Store, ms es.ModelStore) (*app.Service, *[]string) {
	var notes []string
	return newApp(t, st, st, st, app.WithReadModel(ms, func(m string) { notes = append(notes, m) })), &notes
}

// state renders what list, ready and initiative list show.
func state(t *testing.T, s *app.Service) string {
	t.Helper()
	ctx := context.Background()
	items, err := s.List(ctx, app.Filter{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	ready, err := s.Ready(ctx, 0)
	if err != nil {
		t.Fatal(err)
	}
	inits, err := s.Initiatives(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// JSON, not fmt: items hold pointers (their claims).
	b, err := json.Marshal([]any{items, ready, inits})
	if err != nil {
		panic(err)
	}
	return string(b)
}

// folded is the state by a fold of the whole log, without a read model.
func folded(t *testing.T, st *memstore.Store) string {
	return state(t, newApp(t, st, st, st))
}

// models wraps an es.ModelStore: it counts saves, and can fail the next
// load.
type models struct {
	es.ModelStore
	saves   int
	loadErr error
}

func newModels() *models { return &models{ModelStore: memstore.NewModels()} }

func (m *models) SaveModel(ctx context.Context, name string, pos int64, state []byte) (bool, error) {
	m.saves++
	return m.ModelStore.SaveModel(ctx, name, pos, state)
}

func (m *models) LoadModel(ctx context.Context, name string) ([]byte, int64, error) {
	if err := m.loadErr; err != nil {
		m.loadErr = nil
		return nil, 0, err
	}
	return m.ModelStore.LoadModel(ctx, name)
}

// saved returns the saved model of jerry.
func (m *models) saved(t *testing.T) ([]byte, int64) {
	t.Helper()
	b, pos, err := m.ModelStore.LoadModel(context.Background(), app.ModelName)
	if err != nil {
		t.Fatal(err)
	}
	return b, pos
}

func TestReadModelCatchesUp(t *testing.T) {
	st := memstore.New()
	mf := newModels()
	s, notes := withModel(t, st, mf)
	if err := s.Seed(as("seed"), 20, 200, 1, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := state(t, s), folded(t, st); got != want {
		t.Fatalf("first list:\n%s\nwant\n%s", got, want)
	}
	b1, _ := mf.saved(t)
	// Another writer (here another service on the same store) changes
	// things: the next list sees them.
	other := newApp(t, st, st, st)
	if _, err := other.ChangeStatus(as("bob"), "J-3", tracker.Done, "", es.Any); err != nil {
		t.Fatal(err)
	}
	create(t, other, "late")
	if got, want := state(t, s), folded(t, st); got != want {
		t.Fatalf("after other writes:\n%s\nwant\n%s", got, want)
	}
	b2, _ := mf.saved(t)
	if string(b1) == string(b2) {
		t.Fatal("the model was not saved after catching up")
	}
	// Nothing new: nothing saved.
	saves := mf.saves
	state(t, s)
	if mf.saves != saves {
		t.Fatal("the model was saved though nothing was applied")
	}
	if len(*notes) != 0 {
		t.Fatalf("notes: %q", *notes)
	}
}

func TestReadModelDamagedIsRebuilt(t *testing.T) {
	st := memstore.New()
	mf := newModels()
	s, notes := withModel(t, st, mf)
	if err := s.Seed(as("seed"), 20, 200, 1, nil); err != nil {
		t.Fatal(err)
	}
	want := folded(t, st)
	state(t, s)
	for i, damage := range []func([]byte) []byte{
		func(b []byte) []byte { b[len(b)/2] ^= 1; return b },   // a flipped bit
		func(b []byte) []byte { return b[:len(b)-10] },         // cut short
		func(b []byte) []byte { b[8] = 99; return b },          // another format version
		func(b []byte) []byte { return []byte("not a model") }, // something else
		nil, // the store reports damage (a file's header)
	} {
		b, pos := mf.saved(t)
		if damage == nil {
			mf.loadErr = &es.CorruptError{Path: "jerry.model", Err: errors.New("bad header")}
		} else if _, err := mf.ModelStore.SaveModel(context.Background(), app.ModelName, pos, damage(b)); err != nil {
			t.Fatal(err)
		}
		*notes = nil
		if got := state(t, s); got != want {
			t.Fatalf("damage %d: list is wrong:\n%s\nwant\n%s", i, got, want)
		}
		if len(*notes) != 1 || !strings.Contains((*notes)[0], "rebuilding") {
			t.Fatalf("damage %d: notes %q", i, *notes)
		}
		// Rebuilt and saved: the next command says nothing.
		*notes = nil
		state(t, s)
		if len(*notes) != 0 {
			t.Fatalf("damage %d: still noted after the rebuild: %q", i, *notes)
		}
	}
}

// A model built from another store (same positions, other events) is not
// trusted.
func TestReadModelOfAnotherStore(t *testing.T) {
	shared := memstore.NewModels()
	a := memstore.New()
	sa, _ := withModel(t, a, shared)
	create(t, sa, "in a")
	create(t, sa, "in a too")
	state(t, sa)

	b := memstore.New()
	sb, notes := withModel(t, b, shared)
	create(t, sb, "in b")
	create(t, sb, "in b too")
	if got, want := state(t, sb), folded(t, b); got != want {
		t.Fatalf("list of b:\n%s\nwant\n%s", got, want)
	}
	if len(*notes) != 1 || !strings.Contains((*notes)[0], "another store") {
		t.Fatalf("notes %q", *notes)
	}
}

// failingModels loads like an empty store and fails every save.
type failingModels struct{ err error }

func (f failingModels) LoadModel(context.Context, string) ([]byte, int64, error) {
	return nil, 0, es.ErrNotFound
}
func (f failingModels) SaveModel(context.Context, string, int64, []byte) (bool, error) {
	return false, f.err
}

// A store whose model cannot be saved still answers, from a model caught
// up in memory; a read-only store (es.ErrReadOnly) is expected and not
// noted, other failures are.
func TestReadModelUnsaved(t *testing.T) {
	st := memstore.New()
	create(t, newApp(t, st, st, st), "one")
	for _, c := range []struct {
		err   error
		notes int
	}{{fmt.Errorf("%w: no permission", es.ErrReadOnly), 0}, {errors.New("disk full"), 1}} {
		s, notes := withModel(t, st, failingModels{c.err})
		if got, want := state(t, s), folded(t, st); got != want {
			t.Fatalf("%v: %s, want %s", c.err, got, want)
		}
		if len(*notes) != 3*c.notes { // state runs three commands
			t.Fatalf("%v: notes %q", c.err, *notes)
		}
	}
}

func TestRebuild(t *testing.T) {
	st := memstore.New()
	mf := newModels()
	s, _ := withModel(t, st, mf)
	if err := s.Seed(as("seed"), 30, 300, 1, nil); err != nil {
		t.Fatal(err)
	}
	var reports []projection.Progress
	p, last, err := s.Rebuild(context.Background(), func(pr projection.Progress) { reports = append(reports, pr) })
	if err != nil {
		t.Fatal(err)
	}
	if p.Position() != 300 || !last.Done || last.Handled != 300 || len(reports) == 0 || !reports[len(reports)-1].Done {
		t.Fatalf("rebuild: position %d, last report %+v, %d reports", p.Position(), last, len(reports))
	}
	if items, _ := p.Counts(); items != 30 {
		t.Fatalf("rebuilt %d items", items)
	}
	if b, pos := mf.saved(t); b == nil || pos != 300 {
		t.Fatalf("rebuild saved %d bytes at %d", len(b), pos)
	}
	if got, want := state(t, s), folded(t, st); got != want {
		t.Fatalf("after rebuild:\n%s\nwant\n%s", got, want)
	}
	// A rebuild must save: a failure to is its error.
	sf, _ := withModel(t, st, failingModels{errors.New("disk full")})
	if _, _, err := sf.Rebuild(context.Background(), nil); err == nil {
		t.Fatal("a rebuild that could not save succeeded")
	}
}

// An event the fold cannot decode stops a rebuild and a catch-up with an
// error naming it; nothing past it is saved.
func TestReadModelFoldError(t *testing.T) {
	st := memstore.New()
	mf := newModels()
	s, _ := withModel(t, st, mf)
	if err := s.Seed(as("seed"), 10, 5000, 1, nil); err != nil { // several batches
		t.Fatal(err)
	}
	recs, err := st.Append(context.Background(), "workitem-J-3", es.Any,
		[]es.Event{{Type: tracker.EvStatusChanged, Data: []byte(`{"to":5}`)}})
	if err != nil {
		t.Fatal(err)
	}
	create(t, newApp(t, st, st, st), "after the bad event")
	bad := recs[0].Position
	_, _, err = s.Rebuild(context.Background(), nil)
	var pe *projection.Error
	if !errors.As(err, &pe) || pe.Position != bad {
		t.Fatalf("rebuild: %v, want a *projection.Error at %d", err, bad)
	}
	if _, _, err := mf.LoadModel(context.Background(), app.ModelName); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("a failed rebuild saved a model: %v", err)
	}
	if _, err := s.Current(context.Background()); !errors.As(err, &pe) || pe.Position != bad {
		t.Fatalf("catch-up: %v, want a *projection.Error at %d", err, bad)
	}
}

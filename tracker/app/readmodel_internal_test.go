package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
)

var tester = es.WithMetadata(context.Background(), es.Metadata{Actor: "tester"})

// seeded returns a service over a memstore filled with items and events by
// the domain's own commands, plus an initiative with members.
func seeded(t testing.TB, items, events int, opts ...Option) (*Service, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	s := New(st, st, st, opts...)
	t.Cleanup(func() { s.Close() })
	if err := s.Seed(tester, items, events, 3, nil); err != nil {
		t.Fatal(err)
	}
	in, err := s.CreateInitiative(tester, "Q4", "the quarter")
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"J-1", "J-2"} {
		if _, err := s.AddToInitiative(tester, in.State.ID, id, es.Any); err != nil {
			t.Fatal(err)
		}
	}
	// The dependency graph stream: a settled reservation, and one left
	// unsettled as by a crash between it and the item's write.
	if items >= 6 {
		x, err := s.Create(tester, tracker.NewItem{Title: "waits"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := s.Block(tester, x.State.ID, "J-4", es.Any); err != nil {
			t.Fatal(err)
		}
		reserveCrashed(t, s, "J-5", "J-6")
	}
	return s, st
}

// reserveCrashed appends a reservation for item waiting on blocker, at the
// item's version now, and does not write the item: what a block that
// crashed between its two writes leaves.
func reserveCrashed(t testing.TB, s *Service, item, blocker string) {
	t.Helper()
	w, err := s.items.Load(tester, item)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := s.reg.Encode(tracker.DependencyReserved{Item: item, Blocker: blocker, ItemVersion: w.Version()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.events.Append(tester, DependencyStream, es.Any, []es.Event{ev}); err != nil {
		t.Fatal(err)
	}
}

// dump renders everything a projection holds, internal entries included, in
// a form that compares equal exactly when the states do (nil and empty
// lists alike, as encoding/json writes them).
func dump(t testing.TB, p *Overview) string {
	t.Helper()
	type state struct {
		Pos    int64
		LastID string
		Items  map[string]tracker.Item
		Inits  map[string]*tracker.InitiativeState
		Graph  int64
		Held   map[string][]string
	}
	s := state{Pos: p.pos, LastID: p.lastID.String(), Items: map[string]tracker.Item{}, Inits: p.inits,
		Graph: p.graphVersion, Held: map[string][]string{}}
	for id, rs := range p.pending {
		for _, r := range rs {
			s.Held[id] = append(s.Held[id], fmt.Sprintf("%s@%d", r.blocker, r.itemVersion))
		}
	}
	for k, e := range p.items {
		s.Items[k] = e.item(false)
	}
	if len(p.order) != len(p.items) {
		t.Fatalf("order holds %d items, map %d", len(p.order), len(p.items))
	}
	b, err := json.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func listings(p *Overview) string {
	// JSON, not fmt: items hold pointers (their claims).
	b, err := json.Marshal([]any{p.Items(Filter{}), p.Ready(time.Now()), p.Initiatives()})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func TestModelRoundTrip(t *testing.T) {
	s, _ := seeded(t, 40, 400)
	p, err := s.ReadModel(tester, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if p.graphVersion != 2 || len(p.pending) != 1 {
		t.Fatalf("graph stream at %d with %d unsettled reservations, want 2 and 1", p.graphVersion, len(p.pending))
	}
	b := encodeModel(p)
	q, err := decodeModel(append([]byte(nil), b...), s.reg)
	if err != nil {
		t.Fatal(err)
	}
	if listings(p) != listings(q) {
		t.Fatal("listings differ after a round trip")
	}
	if dump(t, p) != dump(t, q) {
		t.Fatalf("decoded model differs:\n%s\n%s", dump(t, p), dump(t, q))
	}
	// Encoding what was decoded, with its comments still encoded, gives the
	// same bytes: keeping them encoded loses nothing.
	q2, _ := decodeModel(append([]byte(nil), b...), s.reg)
	if string(encodeModel(q2)) != string(b) {
		t.Fatal("re-encoding a decoded model changed it")
	}
	// The empty model too.
	e, err := decodeModel(encodeModel(NewOverview(s.reg)), s.reg)
	if err != nil || len(e.items) != 0 || e.pos != 0 {
		t.Fatalf("empty model: %v, %+v", err, e)
	}
}

// A decoded model keeps folding events exactly as the fold it was saved
// from: comments appended after encoded ones, new items kept in order.
func TestModelResumes(t *testing.T) {
	s, st := seeded(t, 30, 300)
	p, err := s.ReadModel(tester, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	q, err := decodeModel(encodeModel(p), s.reg)
	if err != nil {
		t.Fatal(err)
	}
	from := p.pos
	for i := range 20 {
		id := "J-" + strconv.Itoa(1+i%7)
		if _, err := s.Comment(tester, id, "more "+strconv.Itoa(i), es.Any); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 3 {
		if _, err := s.Create(tester, tracker.NewItem{Title: "new " + strconv.Itoa(i)}); err != nil {
			t.Fatal(err)
		}
	}
	for rec, err := range st.ReadLog(tester, from+1) {
		if err != nil {
			t.Fatal(err)
		}
		if err := p.Apply(rec); err != nil {
			t.Fatal(err)
		}
		if err := q.Apply(rec); err != nil {
			t.Fatal(err)
		}
	}
	if dump(t, p) != dump(t, q) || listings(p) != listings(q) {
		t.Fatal("a decoded model folds differently")
	}
	if !q.sorted {
		t.Fatal("items created in ID order left the order unsorted")
	}
}

// Every damaged model, whichever byte is changed or wherever it is cut, is
// refused as errModel: never trusted, never a panic.
func TestModelDamageRefused(t *testing.T) {
	s, _ := seeded(t, 20, 200)
	p, err := s.ReadModel(tester, time.Time{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	good := encodeModel(p)
	rnd := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		b := append([]byte(nil), good...)
		at := i
		if at >= len(b) {
			at = rnd.IntN(len(b))
		}
		b[at] ^= byte(1 + rnd.IntN(255))
		if _, err := decodeModel(b, s.reg); !errors.Is(err, errModel) {
			t.Fatalf("byte %d flipped: %v", at, err)
		}
	}
	for _, n := range []int{0, 1, modelHeaderSize, len(good) / 2, len(good) - 1} {
		if _, err := decodeModel(append([]byte(nil), good[:n]...), s.reg); !errors.Is(err, errModel) {
			t.Fatalf("cut at %d: %v", n, err)
		}
	}
	other := append([]byte(nil), good...)
	other[8] = modelVersion + 1
	if _, err := decodeModel(other, s.reg); !errors.Is(err, errModel) {
		t.Fatalf("another version: %v", err)
	}
}

// FuzzDecodeModel checks that the decoder never panics and that whatever
// it accepts encodes back to the same bytes.
func FuzzDecodeModel(f *testing.F) {
	reg := es.NewRegistry()
	tracker.Register(reg)
	s, _ := seeded(f, 4, 40)
	p, err := s.ReadModel(tester, time.Time{}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(encodeModel(p))
	f.Add(encodeModel(NewOverview(reg)))
	f.Fuzz(func(t *testing.T, b []byte) {
		in := append([]byte(nil), b...)
		q, err := decodeModel(in, reg)
		if err != nil {
			if !errors.Is(err, errModel) {
				t.Fatalf("error not matching errModel: %v", err)
			}
			return
		}
		listings(q) // comments decode without a panic
		if q.sorted {
			if out := encodeModel(q); string(out) != string(b) {
				t.Fatalf("accepted model re-encodes differently")
			}
		}
	})
}

package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
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
func dump(t testing.TB, p *Projection) string {
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

func listings(p *Projection) string {
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
	e, err := decodeModel(encodeModel(NewProjection(s.reg)), s.reg)
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
	f.Add(encodeModel(NewProjection(reg)))
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

func TestModelFile(t *testing.T) {
	ctx := context.Background()
	f := NewModelFile(filepath.Join(t.TempDir(), "models", "m"))
	if b, err := f.LoadModel(ctx); b != nil || err != nil {
		t.Fatalf("no file: %q, %v", b, err)
	}
	for _, c := range []struct {
		pos   int64
		data  string
		saved bool
		want  string
	}{
		{5, "five", true, "five"},
		{5, "five again", true, "five again"},
		{9, "nine", true, "nine"},
		{7, "seven", false, "nine"}, // never back to an older model
		{0, "zero", false, "nine"},
	} {
		saved, err := f.SaveModel(ctx, c.pos, []byte(c.data))
		if err != nil || saved != c.saved {
			t.Fatalf("save %d: saved %v, %v; want saved %v", c.pos, saved, err, c.saved)
		}
		if b, err := f.LoadModel(ctx); err != nil || string(b) != c.want {
			t.Fatalf("after save %d: %q, %v; want %q", c.pos, b, err, c.want)
		}
	}
	// A damaged header is reported, and any model may replace it.
	raw, err := os.ReadFile(f.Path())
	if err != nil {
		t.Fatal(err)
	}
	raw[3] ^= 0x40
	if err := os.WriteFile(f.Path(), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := f.LoadModel(ctx); !errors.Is(err, es.ErrCorrupt) {
		t.Fatalf("damaged header: %v", err)
	}
	if saved, err := f.SaveModel(ctx, 2, []byte("two")); !saved || err != nil {
		t.Fatalf("save over a damaged file: %v, %v", saved, err)
	}
	if b, _ := f.LoadModel(ctx); string(b) != "two" {
		t.Fatalf("after repair: %q", b)
	}
	if _, err := f.SaveModel(ctx, -1, nil); !errors.Is(err, es.ErrInvalidInput) {
		t.Fatalf("negative position: %v", err)
	}
}

// Processes saving models at once: the file always holds a whole model,
// and ends at the highest position any of them saved.
func TestModelFileProcesses(t *testing.T) {
	const env = "JERRY_TEST_MODEL_SAVER"
	if spec := os.Getenv(env); spec != "" {
		path, seedStr, _ := strings.Cut(spec, "|")
		seed, _ := strconv.ParseUint(seedStr, 10, 64)
		f := NewModelFile(path)
		rnd := rand.New(rand.NewPCG(seed, 0))
		for range 40 {
			pos := int64(1 + rnd.IntN(1000))
			if _, err := f.SaveModel(context.Background(), pos, modelFor(pos)); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			b, err := f.LoadModel(context.Background())
			if err != nil || string(b[:8]) != string(modelFor(0)[:8]) {
				fmt.Fprintln(os.Stderr, "torn model read:", err)
				os.Exit(1)
			}
		}
		fmt.Fprintln(os.Stdout, rnd.Int64()) // done
		os.Exit(0)
	}
	path := filepath.Join(t.TempDir(), "m")
	// First, savers killed (kill -9) in the middle of their saves: the file
	// is still a whole model afterwards.
	for round := range 3 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestModelFileProcesses$")
		cmd.Env = append(os.Environ(), env+"="+path+"|"+strconv.Itoa(100+round))
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it while it saves: once its first model is there, after a
		// few more saves.
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			if _, err := os.Stat(path); err == nil {
				break
			}
		}
		time.Sleep(time.Duration(1+3*round) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()
		b, err := NewModelFile(path).LoadModel(context.Background())
		if err != nil || !strings.HasPrefix(string(b), "position ") || len(b) != len(modelFor(0)) {
			t.Fatalf("after kill -9: %v, %d bytes", err, len(b))
		}
	}
	os.Remove(path) // the race below starts from no model
	var cmds []*exec.Cmd
	for i := range 4 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestModelFileProcesses$")
		cmd.Env = append(os.Environ(), env+"="+path+"|"+strconv.Itoa(i+1))
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
	}
	for _, c := range cmds {
		if err := c.Wait(); err != nil {
			t.Fatal(err)
		}
	}
	// The highest position any child drew.
	var best int64
	for i := range 4 {
		rnd := rand.New(rand.NewPCG(uint64(i+1), 0))
		for range 40 {
			best = max(best, int64(1+rnd.IntN(1000)))
		}
	}
	b, err := NewModelFile(path).LoadModel(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if string(b) != string(modelFor(best)) {
		t.Fatalf("model file holds %q, want the model at %d", b[:min(len(b), 40)], best)
	}
}

// modelFor is a stand-in model of about 100 kB that names its position.
func modelFor(pos int64) []byte {
	b := fmt.Appendf(nil, "position %08d ", pos)
	for len(b) < 100<<10 {
		b = append(b, b[:16]...)
	}
	return b
}

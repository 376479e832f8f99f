package estest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// ModelConfig describes a read model store adapter to [TestModelStore].
type ModelConfig struct {
	// New returns a new, empty model store. Required.
	New func(t testing.TB) es.ModelStore

	// Reopen, if set, returns a new handle on the same storage as store,
	// as another process would open it.
	Reopen func(t testing.TB, store es.ModelStore) es.ModelStore
}

// TestModelStore runs the conformance suite for es.ModelStore.
func TestModelStore(t *testing.T, cfg ModelConfig) {
	if cfg.New == nil {
		t.Fatal("estest: ModelConfig.New is required")
	}
	m := &modelSuite{cfg: cfg}
	t.Run("NotFound", m.testNotFound)
	t.Run("OnlyForward", m.testOnlyForward)
	t.Run("Names", m.testNames)
	t.Run("BadInput", m.testBadInput)
	t.Run("Ownership", m.testOwnership)
	t.Run("Sizes", m.testSizes)
	t.Run("ConcurrentSaves", m.testConcurrentSaves)
	t.Run("CancelledContext", m.testCancelled)
	if cfg.Reopen != nil {
		t.Run("Reopen", m.testReopen)
	}
}

type modelSuite struct{ cfg ModelConfig }

func (m *modelSuite) newStore(t *testing.T) es.ModelStore {
	st := m.cfg.New(t)
	if st == nil {
		t.Fatal("estest: ModelConfig.New returned nil")
	}
	return st
}

// wantModel fails the test unless name holds state at position.
func wantModel(t *testing.T, st es.ModelStore, name string, position int64, state string) {
	t.Helper()
	got, pos, err := st.LoadModel(context.Background(), name)
	if err != nil || pos != position || string(got) != state {
		t.Fatalf("LoadModel(%q) = %.40q at %d, %v; want %.40q at %d", name, got, pos, err, state, position)
	}
}

func (m *modelSuite) testNotFound(t *testing.T) {
	st := m.newStore(t)
	if b, pos, err := st.LoadModel(context.Background(), "none"); !errors.Is(err, es.ErrNotFound) || b != nil || pos != 0 {
		t.Fatalf("LoadModel of a model never saved: %q, %d, %v; want an error matching es.ErrNotFound", b, pos, err)
	}
}

func (m *modelSuite) testOnlyForward(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	for _, c := range []struct {
		pos   int64
		state string
		saved bool
		want  string
		at    int64
	}{
		{5, "five", true, "five", 5},
		{5, "five again", true, "five again", 5}, // the same position replaces
		{9, "nine", true, "nine", 9},
		{7, "seven", false, "nine", 9}, // never back to an older model
		{0, "zero", false, "nine", 9},
	} {
		saved, err := st.SaveModel(ctx, "m", c.pos, []byte(c.state))
		if err != nil || saved != c.saved {
			t.Fatalf("SaveModel at %d: saved %v, %v; want saved %v", c.pos, saved, err, c.saved)
		}
		wantModel(t, st, "m", c.at, c.want)
	}
}

func (m *modelSuite) testNames(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	// Names a file adapter could confuse: separators, case, dots, escapes.
	names := []string{"jerry", "a/b", "a_b", "a%2Fb", "A", "a", "..", ".", "名前", "a b", strings.Repeat("x", es.MaxModelNameLen)}
	for i, n := range names {
		if _, err := st.SaveModel(ctx, n, int64(i+1), []byte("model "+n)); err != nil {
			t.Fatalf("SaveModel(%q): %v", n, err)
		}
	}
	for i, n := range names {
		wantModel(t, st, n, int64(i+1), "model "+n)
	}
}

func (m *modelSuite) testBadInput(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	for _, n := range []string{"", strings.Repeat("x", es.MaxModelNameLen+1), "a\x00b", "a\nb", "\xff"} {
		if _, err := st.SaveModel(ctx, n, 1, []byte("x")); !errors.Is(err, es.ErrInvalidModelName) || !errors.Is(err, es.ErrInvalidInput) {
			t.Errorf("SaveModel(%q): %v, want es.ErrInvalidModelName", n, err)
		}
		if _, _, err := st.LoadModel(ctx, n); !errors.Is(err, es.ErrInvalidModelName) {
			t.Errorf("LoadModel(%q): %v, want es.ErrInvalidModelName", n, err)
		}
	}
	if _, err := st.SaveModel(ctx, "m", -1, []byte("x")); !errors.Is(err, es.ErrInvalidVersion) {
		t.Errorf("SaveModel at -1: %v, want es.ErrInvalidVersion", err)
	}
	if _, _, err := st.LoadModel(ctx, "m"); !errors.Is(err, es.ErrNotFound) {
		t.Errorf("refused saves stored something: %v", err)
	}
}

func (m *modelSuite) testOwnership(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	in := []byte("original")
	if _, err := st.SaveModel(ctx, "m", 1, in); err != nil {
		t.Fatal(err)
	}
	copy(in, "CHANGED!")
	got, _, err := st.LoadModel(ctx, "m")
	if err != nil || string(got) != "original" {
		t.Fatalf("after the caller reused its slice: %q, %v", got, err)
	}
	copy(got, "CHANGED!")
	wantModel(t, st, "m", 1, "original")
}

func (m *modelSuite) testSizes(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	if _, err := st.SaveModel(ctx, "empty", 3, []byte{}); err != nil {
		t.Fatal(err)
	}
	got, pos, err := st.LoadModel(ctx, "empty")
	if err != nil || pos != 3 || len(got) != 0 {
		t.Fatalf("empty state: %q at %d, %v", got, pos, err)
	}
	big := bytes.Repeat([]byte("0123456789abcdef\x00\xff"), 64<<10) // about 1 MiB, any bytes
	if _, err := st.SaveModel(ctx, "big", 7, big); err != nil {
		t.Fatal(err)
	}
	got, pos, err = st.LoadModel(ctx, "big")
	if err != nil || pos != 7 || !bytes.Equal(got, big) {
		t.Fatalf("1 MiB state: %d bytes at %d, %v", len(got), pos, err)
	}
}

// stateAt is a model that names its position, so that a load can check
// that state and position come from one save.
func stateAt(pos int64) []byte { return fmt.Appendf(nil, "state at %d", pos) }

func (m *modelSuite) testConcurrentSaves(t *testing.T) {
	st := m.newStore(t)
	ctx := context.Background()
	const savers, saves = 8, 20
	var wg sync.WaitGroup
	var mu sync.Mutex
	var best int64
	for i := range savers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rnd := rand.New(rand.NewPCG(uint64(i), 7))
			for range saves {
				pos := 1 + rnd.Int64N(1000)
				mu.Lock()
				best = max(best, pos)
				mu.Unlock()
				if _, err := st.SaveModel(ctx, "m", pos, stateAt(pos)); err != nil {
					t.Error(err)
					return
				}
				got, at, err := st.LoadModel(ctx, "m")
				if err != nil || string(got) != string(stateAt(at)) || at < pos {
					t.Errorf("load after saving %d: %q at %d, %v", pos, got, at, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	wantModel(t, st, "m", best, string(stateAt(best)))
}

func (m *modelSuite) testCancelled(t *testing.T) {
	st := m.newStore(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.SaveModel(ctx, "m", 1, []byte("x")); !errors.Is(err, context.Canceled) {
		t.Errorf("SaveModel with a cancelled context: %v", err)
	}
	if _, _, err := st.LoadModel(ctx, "m"); !errors.Is(err, context.Canceled) {
		t.Errorf("LoadModel with a cancelled context: %v", err)
	}
}

func (m *modelSuite) testReopen(t *testing.T) {
	st := m.newStore(t)
	if _, err := st.SaveModel(context.Background(), "m", 4, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	other := m.cfg.Reopen(t, st)
	wantModel(t, other, "m", 4, "kept")
	if saved, err := other.SaveModel(context.Background(), "m", 3, []byte("older")); saved || err != nil {
		t.Fatalf("an older save through another handle: saved %v, %v", saved, err)
	}
	wantModel(t, st, "m", 4, "kept")
}

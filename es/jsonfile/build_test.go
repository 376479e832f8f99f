package jsonfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

func appendOne(ctx context.Context, s *jsonfile.Store) error {
	_, err := s.Append(ctx, "s", es.Any, []es.Event{{Type: "E", Data: []byte(`{}`)}})
	return err
}

// Build puts a whole store in place or leaves the target as it was: a fill
// that fails leaves no store (or the empty one) and nothing beside it; a
// store with events is refused; a fill that succeeds is there, durable and
// whole, with nothing left beside it.
func TestBuild(t *testing.T) {
	ctx := context.Background()
	parent := t.TempDir()
	dir := filepath.Join(parent, "store")
	beside := func() []string {
		ents, _ := os.ReadDir(parent)
		var names []string
		for _, e := range ents {
			if e.Name() != "store" {
				names = append(names, e.Name())
			}
		}
		return names
	}
	boom := errors.New("boom")
	err := jsonfile.Build(ctx, dir, func(s *jsonfile.Store) error {
		if err := appendOne(ctx, s); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("failed fill: %v", err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) || len(beside()) > 0 {
		t.Fatalf("a failed build left %v, %v", err, beside())
	}

	// An empty store is replaced, keeping a file that is not the store's;
	// a killed build's leftovers are removed.
	s := open(t, dir)
	s.Close()
	if err := os.WriteFile(filepath.Join(dir, "config"), []byte("lease = 1h\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll(dir+".build/streams", 0o755)
	if err := jsonfile.Build(ctx, dir, func(s *jsonfile.Store) error { return appendOne(ctx, s) }); err != nil {
		t.Fatal(err)
	}
	if l := beside(); len(l) > 0 {
		t.Fatalf("left %v beside the store", l)
	}
	s = open(t, dir)
	if v, err := s.StreamVersion(ctx, "s"); err != nil || v != 1 {
		t.Fatalf("built store: version %d, %v", v, err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "config")); err != nil || string(b) != "lease = 1h\n" {
		t.Fatalf("the config beside the empty store: %q, %v", b, err)
	}
	if _, err := s.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	if err := jsonfile.Build(ctx, dir, func(*jsonfile.Store) error { return nil }); !errors.Is(err, jsonfile.ErrNotEmpty) {
		t.Fatalf("build over a store with events: %v", err)
	}

	// One build at a time.
	other := filepath.Join(parent, "other")
	err = jsonfile.Build(ctx, other, func(*jsonfile.Store) error {
		return jsonfile.Build(ctx, other, func(*jsonfile.Store) error { return nil })
	})
	if err == nil {
		t.Fatal("two builds of one store ran at once")
	}
}

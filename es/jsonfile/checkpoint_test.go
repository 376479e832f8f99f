package jsonfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/es/projection/projectiontest"
)

type dirCheckpoints struct {
	*jsonfile.Checkpoints
	dir string
}

func newCheckpoints(t testing.TB, dir string) *dirCheckpoints {
	t.Helper()
	cp, err := jsonfile.NewCheckpoints(dir)
	if err != nil {
		t.Fatal(err)
	}
	return &dirCheckpoints{cp, dir}
}

func TestCheckpoints(t *testing.T) {
	projectiontest.TestCheckpointStore(t, projectiontest.CheckpointConfig{
		New: func(t testing.TB) es.CheckpointStore { return newCheckpoints(t, t.TempDir()) },
		Reopen: func(t testing.TB, cp es.CheckpointStore) es.CheckpointStore {
			return newCheckpoints(t, cp.(*dirCheckpoints).dir)
		},
	})
}

// TestCheckpointDamage flips every bit of a saved checkpoint file in turn and
// truncates it at every length: each damaged file is reported as corrupt
// (or, rarely, still reads as the saved value), never read as another
// position, and never panics.
func TestCheckpointDamage(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cp := newCheckpoints(t, dir)
	if err := cp.SaveCheckpoint(ctx, "list", 123456); err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join(dir, "*.checkpoint"))
	if err != nil || len(files) != 1 {
		t.Fatalf("checkpoint files: %v, %v", files, err)
	}
	path := files[0]
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	check := func(what string, damaged []byte) {
		t.Helper()
		if err := os.WriteFile(path, damaged, 0o644); err != nil {
			t.Fatal(err)
		}
		pos, err := cp.LoadCheckpoint(ctx, "list")
		switch {
		case err == nil && pos != 123456:
			t.Fatalf("%s: loaded position %d, want an error or 123456", what, pos)
		case err != nil && !errors.Is(err, es.ErrCorrupt):
			t.Fatalf("%s: error %v does not match ErrCorrupt", what, err)
		case err != nil:
			var ce *es.CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("%s: error %v does not name %s", what, err, path)
			}
		}
	}
	for i := range len(orig) * 8 {
		b := append([]byte(nil), orig...)
		b[i/8] ^= 1 << (i % 8)
		check("bit flip", b)
	}
	for n := range len(orig) {
		check("truncation", orig[:n])
	}
}

// TestCheckpointFileNames checks that names become files inside the
// directory and nowhere else, and that no temporary file is left behind.
func TestCheckpointFileNames(t *testing.T) {
	dir := t.TempDir()
	cp := newCheckpoints(t, filepath.Join(dir, "cp"))
	for _, n := range []string{"../escape", "/abs", "a/b", "..", "CON"} {
		if err := cp.SaveCheckpoint(context.Background(), n, 1); err != nil {
			t.Fatal(err)
		}
	}
	outside, _ := os.ReadDir(dir)
	if len(outside) != 1 {
		t.Errorf("files outside the checkpoint directory: %v", outside)
	}
	inside, _ := os.ReadDir(filepath.Join(dir, "cp"))
	for _, e := range inside {
		if filepath.Ext(e.Name()) != ".checkpoint" || e.IsDir() {
			t.Errorf("unexpected file %q in the checkpoint directory", e.Name())
		}
	}
	if len(inside) != 5 {
		t.Errorf("%d files for 5 names", len(inside))
	}
}

func TestProjectionRunner(t *testing.T) {
	projectiontest.TestRunner(t, projectiontest.Config{
		New: func(t testing.TB) projectiontest.Store { return open(t, "") },
		Checkpoints: func(t testing.TB, st projectiontest.Store) es.CheckpointStore {
			return newCheckpoints(t, filepath.Join(st.(*jsonfile.Store).Dir(), "checkpoints"))
		},
		// Every append syncs to disk: fewer events still race the handover.
		Scale: 0.3,
	})
}

// A checkpoint of a store is tied to it: copied into another store, or
// left in one emptied and refilled, it loads as 0 (start over), never as a
// position of events the projection never saw. Checkpoints tied to no
// store load what they saved.
func TestCheckpointFromAnotherStore(t *testing.T) {
	ctx := context.Background()
	fill := func(s *jsonfile.Store, n int) {
		for i := range n {
			if _, err := s.Append(ctx, "s", es.Any, []es.Event{{Type: "E", Data: []byte(`{}`)}}); err != nil {
				t.Fatal(i, err)
			}
		}
	}
	a, b := open(t, ""), open(t, "")
	fill(a, 5)
	fill(b, 5)
	ca, err := a.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	if err := ca.SaveCheckpoint(ctx, "model", 4); err != nil {
		t.Fatal(err)
	}
	if pos, err := ca.LoadCheckpoint(ctx, "model"); err != nil || pos != 4 {
		t.Fatalf("own checkpoint: %d, %v", pos, err)
	}
	if err := ca.SaveCheckpoint(ctx, "past", 6); err == nil {
		t.Fatal("saved a checkpoint past the end of the log")
	}
	name := "model.checkpoint"
	raw, err := os.ReadFile(filepath.Join(a.Dir(), jsonfile.CheckpointsDir, name))
	if err != nil {
		t.Fatal(err)
	}
	cb, err := b.Checkpoints()
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(b.Dir(), jsonfile.CheckpointsDir, name), raw, 0o644); err != nil {
		t.Fatal(err)
	}
	if pos, err := cb.LoadCheckpoint(ctx, "model"); err != nil || pos != 0 {
		t.Fatalf("another store's checkpoint: %d, %v; want 0", pos, err)
	}
	loose := newCheckpoints(t, filepath.Join(b.Dir(), jsonfile.CheckpointsDir))
	if pos, err := loose.LoadCheckpoint(ctx, "model"); err != nil || pos != 4 {
		t.Fatalf("untied checkpoints: %d, %v", pos, err)
	}
}

// Package projectiontest holds the tests every checkpoint store and every
// event store adapter runs for subscriptions, checkpoints and the projection
// runner, so that all adapters are held to the same contract:
//
//	func TestCheckpoints(t *testing.T) {
//		projectiontest.TestCheckpointStore(t, projectiontest.CheckpointConfig{
//			New: func(t testing.TB) es.CheckpointStore { return memstore.NewCheckpoints() },
//		})
//	}
//
//	func TestProjection(t *testing.T) {
//		projectiontest.TestRunner(t, projectiontest.Config{
//			New: func(t testing.TB) projectiontest.Store { return memstore.New() },
//		})
//	}
//
// The tests assert outcomes, never timings; waits that would hang on a broken
// adapter fail after a generous timeout.
package projectiontest

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// CheckpointConfig describes a checkpoint store to [TestCheckpointStore].
type CheckpointConfig struct {
	// New returns a new, empty checkpoint store. Required.
	New func(t testing.TB) es.CheckpointStore

	// Reopen, if set, returns a new store over the same storage as cp, for
	// the subtest that checks saved checkpoints survive a reopen.
	Reopen func(t testing.TB, cp es.CheckpointStore) es.CheckpointStore
}

// TestCheckpointStore runs the conformance tests of es.CheckpointStore.
func TestCheckpointStore(t *testing.T, cfg CheckpointConfig) {
	if cfg.New == nil {
		t.Fatal("projectiontest: CheckpointConfig.New is required")
	}
	t.Run("MissingIsZero", func(t *testing.T) {
		cp := cfg.New(t)
		pos, err := cp.LoadCheckpoint(t.Context(), "never-saved")
		if err != nil || pos != 0 {
			t.Fatalf("LoadCheckpoint of an unsaved name = %d, %v; want 0, nil", pos, err)
		}
	})
	t.Run("SaveLoadOverwrite", func(t *testing.T) {
		cp := cfg.New(t)
		ctx := t.Context()
		for _, pos := range []int64{1, 42, 1 << 40, 7, 0, 3} {
			if err := cp.SaveCheckpoint(ctx, "list", pos); err != nil {
				t.Fatalf("SaveCheckpoint(list, %d): %v", pos, err)
			}
			got, err := cp.LoadCheckpoint(ctx, "list")
			if err != nil || got != pos {
				t.Fatalf("LoadCheckpoint after saving %d = %d, %v", pos, got, err)
			}
		}
	})
	t.Run("NamesAreDistinct", func(t *testing.T) {
		// Names that a careless file or key encoding would merge.
		names := []string{"a/b", "a_b", "a%2Fb", "A", "a", "..", ".", "a b", "ä", "a\\b", "x.checkpoint",
			strings.Repeat("z", es.MaxCheckpointNameLen), strings.Repeat("\U0001F600", es.MaxCheckpointNameLen/4)}
		cp := cfg.New(t)
		ctx := t.Context()
		for i, n := range names {
			if err := cp.SaveCheckpoint(ctx, n, int64(i+1)); err != nil {
				t.Fatalf("SaveCheckpoint(%q): %v", n, err)
			}
		}
		for i, n := range names {
			got, err := cp.LoadCheckpoint(ctx, n)
			if err != nil || got != int64(i+1) {
				t.Errorf("LoadCheckpoint(%q) = %d, %v; want %d", n, got, err, i+1)
			}
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		cp := cfg.New(t)
		ctx := t.Context()
		bad := []string{"", strings.Repeat("x", es.MaxCheckpointNameLen+1), "a\nb", "a\x00b", "\xff"}
		for _, n := range bad {
			if err := cp.SaveCheckpoint(ctx, n, 1); !errors.Is(err, es.ErrInvalidCheckpointName) || !errors.Is(err, es.ErrInvalidInput) {
				t.Errorf("SaveCheckpoint(%q) = %v; want ErrInvalidCheckpointName", n, err)
			}
			if _, err := cp.LoadCheckpoint(ctx, n); !errors.Is(err, es.ErrInvalidCheckpointName) {
				t.Errorf("LoadCheckpoint(%q) = %v; want ErrInvalidCheckpointName", n, err)
			}
		}
		if err := cp.SaveCheckpoint(ctx, "ok", 5); err != nil {
			t.Fatal(err)
		}
		if err := cp.SaveCheckpoint(ctx, "ok", -1); !errors.Is(err, es.ErrInvalidVersion) {
			t.Errorf("SaveCheckpoint(ok, -1) = %v; want ErrInvalidVersion", err)
		}
		if got, err := cp.LoadCheckpoint(ctx, "ok"); err != nil || got != 5 {
			t.Errorf("after a rejected save, LoadCheckpoint = %d, %v; want the earlier 5", got, err)
		}
	})
	t.Run("CancelledContext", func(t *testing.T) {
		cp := cfg.New(t)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := cp.SaveCheckpoint(ctx, "c", 1); err == nil {
			t.Error("SaveCheckpoint with a cancelled context succeeded")
		}
		if _, err := cp.LoadCheckpoint(ctx, "c"); err == nil {
			t.Error("LoadCheckpoint with a cancelled context succeeded")
		}
	})
	t.Run("ConcurrentNames", func(t *testing.T) {
		cp := cfg.New(t)
		ctx := t.Context()
		var wg sync.WaitGroup
		errs := make(chan error, 8)
		for g := range 8 {
			wg.Go(func() {
				name := "worker-" + string(rune('a'+g))
				for i := int64(1); i <= 20; i++ {
					if err := cp.SaveCheckpoint(ctx, name, i*int64(g+1)); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		for g := range 8 {
			name := "worker-" + string(rune('a'+g))
			if got, err := cp.LoadCheckpoint(ctx, name); err != nil || got != 20*int64(g+1) {
				t.Errorf("LoadCheckpoint(%s) = %d, %v; want %d", name, got, err, 20*(g+1))
			}
		}
	})
	t.Run("Reopen", func(t *testing.T) {
		if cfg.Reopen == nil {
			t.Skip("store keeps nothing across a reopen (CheckpointConfig.Reopen is nil)")
		}
		cp := cfg.New(t)
		if err := cp.SaveCheckpoint(t.Context(), "durable", 99); err != nil {
			t.Fatal(err)
		}
		cp = cfg.Reopen(t, cp)
		if got, err := cp.LoadCheckpoint(t.Context(), "durable"); err != nil || got != 99 {
			t.Fatalf("after reopen LoadCheckpoint = %d, %v; want 99", got, err)
		}
	})
}

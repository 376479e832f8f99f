//go:build unix

package jsonfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
	"github.com/jerry-es/jerry/internal/flock"
)

// holdLock takes the store's directory lock through a file of its own, as
// another process would, and returns a function that releases it.
func holdLock(t *testing.T, dir string) func() {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := flock.Lock(f, flock.Exclusive, 0, nil); err != nil {
		t.Fatal(err)
	}
	flock.RecordHolder(f)
	var released bool
	release := func() {
		if !released {
			released = true
			flock.Unlock(f)
			f.Close()
		}
	}
	t.Cleanup(release)
	return release
}

// TestCancelledAppendReturns queues appends behind a commit that waits for
// the directory lock (held by "another process") and cancels them: each
// must return promptly with its context's error, the one that leads the
// commit included, and those that were never written must not appear once
// the lock is free.
func TestCancelledAppendReturns(t *testing.T) {
	dir := t.TempDir()
	s := open(t, dir, jsonfile.NoSync())
	release := holdLock(t, dir)
	ev := []es.Event{{Type: "A", Data: []byte(`{}`)}}
	ctx, cancel := context.WithCancel(context.Background())
	results := make(chan error, 3)
	for _, stream := range []string{"lead", "queued-1", "queued-2"} {
		go func() {
			_, err := s.Append(ctx, stream, es.Any, ev)
			results <- err
		}()
		time.Sleep(20 * time.Millisecond) // let it queue behind the first
	}
	cancel()
	// Liveness, not speed: the bound only keeps a regression from hanging
	// the test run.
	deadline := time.After(20 * time.Second)
	for range 3 {
		select {
		case err := <-results:
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("cancelled append returned %v, want context.Canceled", err)
			}
		case <-deadline:
			t.Fatal("a cancelled append is still waiting for the lock")
		}
	}
	release()
	// The store still works, and no queued append was written.
	if _, err := s.Append(context.Background(), "after", es.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	for _, stream := range []string{"queued-1", "queued-2"} {
		if v, err := s.StreamVersion(context.Background(), stream); err != nil || v != 0 {
			t.Fatalf("%s: version %d, %v; a cancelled append that never left the queue was stored", stream, v, err)
		}
	}
}

package jsonfile_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/internal/flock"
)

// A store opened while another process holds the lock trusts the head; if
// that process then dies having written an append to the log but not its
// indexes, Verify (which waits for the lock) indexes that tail, as an open
// would, instead of reporting damage: nothing acknowledged is missing.
func TestVerifyAfterWriterDiedHoldingLock(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir)
	for range 3 {
		if err := appendOne(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	// The log of the same store one append later, over a store whose
	// derived files end before it: what a writer killed between its log
	// write and its index writes leaves.
	later := copyDir(t, dir)
	s2 := open(t, later)
	if err := appendOne(ctx, s2); err != nil {
		t.Fatal(err)
	}
	s2.Close()
	log, err := os.ReadFile(filepath.Join(later, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}

	lock, err := os.OpenFile(filepath.Join(dir, "LOCK"), os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := flock.Lock(lock, flock.Exclusive, time.Minute, nil); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "events.jsonl"), log, 0o644); err != nil {
		t.Fatal(err)
	}
	s = open(t, dir) // the lock is held: the head is trusted
	died := make(chan struct{})
	go func() {
		defer close(died)
		time.Sleep(100 * time.Millisecond)
		flock.Unlock(lock) // the writer dies
	}()
	rep, err := s.Verify(ctx)
	<-died
	if err != nil {
		t.Fatalf("verify: %v\n%v", err, rep)
	}
	if v, err := s.StreamVersion(ctx, "s"); err != nil || v != 4 {
		t.Fatalf("stream version %d, %v; want 4", v, err)
	}
	if len(s.Recovered()) != 1 {
		t.Fatalf("repairs reported: %v", s.Recovered())
	}
	if _, err := es.Collect(s.ReadLog(ctx, 1)); err != nil {
		t.Fatal(err)
	}
}

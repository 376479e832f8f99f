//go:build unix

package jsonfile_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// TestReindexKilled kills -9 a process in the middle of Reindex, at a random
// moment, four times. Reindex rewrites the derived files in place, while
// the head still says they are current: a Reindex cut short used to leave a
// positions index truncated or half rewritten (the global log then failed
// with "no entry for position") or a stream index emptied (its next append
// would reuse versions), and nothing made the next Open rebuild them.
func TestReindexKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a store of 10,000 events")
	}
	ctx := context.Background()
	dir := t.TempDir()
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		t.Fatal(err)
	}
	const streams, events = 100, 10000
	pad := strings.Repeat("x", 400)
	for i := 0; i < events; i += 100 {
		batch := make([]es.Event, 100)
		for j := range batch {
			batch[j] = es.Event{Type: "E", Data: []byte(fmt.Sprintf(`{"pad":%q}`, pad))}
		}
		if _, err := s.Append(ctx, fmt.Sprintf("s-%d", (i/100)%streams), es.Any, batch); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	for round := range 4 {
		cmd, out := child(t, "reindex", dir)
		for {
			line, err := out.ReadString('\n')
			if err != nil {
				t.Fatalf("child ended: %v", err)
			}
			if line == "reindexing\n" {
				break
			}
		}
		time.Sleep(time.Duration(rand.IntN(40)) * time.Millisecond)
		cmd.Process.Kill()
		cmd.Wait()

		s, err := jsonfile.Open(dir)
		if err != nil {
			t.Fatalf("round %d: open: %v", round, err)
		}
		n := 0
		for _, err := range s.ReadLog(ctx, 1) {
			if err != nil {
				t.Fatalf("round %d: read log after %d records: %v", round, n, err)
			}
			n++
		}
		if n != events {
			t.Fatalf("round %d: read %d records, want %d", round, n, events)
		}
		for i := range streams {
			if v, err := s.StreamVersion(ctx, fmt.Sprintf("s-%d", i)); err != nil || v != events/streams {
				t.Fatalf("round %d: stream s-%d at version %d, %v; want %d", round, i, v, err, events/streams)
			}
		}
		if rep, err := s.Verify(ctx); err != nil {
			t.Fatalf("round %d: verify: %v\n%s", round, err, rep)
		}
		s.Close()
	}
}

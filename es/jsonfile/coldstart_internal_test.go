//go:build linux

package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// coldStore makes a durable store of n appends of 10 events over streams
// streams with a small checkpoint interval, and returns its directory and
// records.
func coldStore(t *testing.T, n, streams int) (string, []es.Record) {
	t.Helper()
	defer func(b int64) { checkpointBytes = b }(checkpointBytes)
	checkpointBytes = 16 << 10
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var all []es.Record
	evs := make([]es.Event, 10)
	for i := range evs {
		evs[i] = es.Event{Type: "T", Data: []byte(fmt.Sprintf(`{"i":%d,"pad":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"}`, i))}
	}
	for i := range n {
		recs, err := s.Append(context.Background(), fmt.Sprintf("s-%d", i%streams), es.Any, evs)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, recs...)
	}
	if s.Stats().Checkpoints == 0 {
		t.Fatal("no checkpoint was made")
	}
	return dir, all
}

// TestColdStartIndexesOnlyTheTail opens a store as after a reboot (another
// boot ID): the derived files up to the last checkpoint were synced, so only
// the log past it is read again, not the whole log (issue 15, defect 8), and
// the store reads back whole and verifies.
func TestColdStartIndexesOnlyTheTail(t *testing.T) {
	dir, all := coldStore(t, 300, 40)
	s, err := Open(dir, WithBootID("another-boot"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	replayed := s.Stats().Replayed
	t.Logf("first open after a reboot read %d of %d records", replayed, len(all))
	if replayed >= int64(len(all))/4 {
		t.Fatalf("read %d of %d records: more than the tail past the last checkpoint", replayed, len(all))
	}
	if len(s.Recovered()) != 0 {
		t.Fatalf("a routine reboot reported repairs: %v", s.Recovered())
	}
	got, err := es.Collect(s.ReadLog(context.Background(), 1))
	if err != nil || len(got) != len(all) {
		t.Fatalf("read %d records, %v", len(got), err)
	}
	for i := range 40 {
		v, err := s.StreamVersion(context.Background(), fmt.Sprintf("s-%d", i))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := s.Append(context.Background(), fmt.Sprintf("s-%d", i), es.Exact(v), []es.Event{{Type: "T", Data: []byte(`{}`)}})
		if err != nil || recs[0].Position <= int64(len(all)) {
			t.Fatalf("append after the reboot: %+v, %v", recs, err)
		}
	}
	if rep, err := s.Verify(context.Background()); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
}

// TestColdStartKeepsAcknowledgedTail damages a line past the durable mark
// but within what the head says was committed, then reboots: the tail is
// acknowledged data, so the open fails naming the log rather than cut it.
func TestColdStartKeepsAcknowledgedTail(t *testing.T) {
	dir, _ := coldStore(t, 100, 10)
	logPath := dir + "/" + logName
	b, err := os.ReadFile(logPath)
	if err != nil {
		t.Fatal(err)
	}
	b[len(b)-30] ^= 0x04
	os.WriteFile(logPath, b, 0o644)
	for range 2 {
		_, err := Open(dir, WithBootID("another-boot"))
		var ce *es.CorruptError
		if !errors.As(err, &ce) || ce.Path != logPath {
			t.Fatalf("open after a reboot: %v, want a corruption error naming the log", err)
		}
	}
	if fi, _ := os.Stat(logPath); fi.Size() != int64(len(b)) {
		t.Fatal("the log was cut")
	}
}

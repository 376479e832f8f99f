package jsonfile

import (
	"context"
	"errors"
	"os"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// TestFailedWriteRefusesWrites makes the log write fail and checks that the
// store refuses further appends until reopened, and that nothing of the
// failed append is stored.
func TestFailedWriteRefusesWrites(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ev := []es.Event{{Type: "A", Data: []byte(`{}`)}}
	if _, err := s.Append(ctx, "x", es.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	// Swap the log for a read-only handle on the same file: the next
	// write fails as a full or failing disk would make it.
	ro, err := os.Open(s.path(logName))
	if err != nil {
		t.Fatal(err)
	}
	rw := s.log
	s.log = ro
	if _, err := s.Append(ctx, "x", es.Exact(1), ev); err == nil {
		t.Fatal("append with a failing log succeeded")
	}
	s.log = rw
	ro.Close()
	_, err = s.Append(ctx, "x", es.Exact(1), ev)
	if err == nil {
		t.Fatal("append after a failed write succeeded; want refusal until reopened")
	}
	if errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("got %v, want a refusal", err)
	}
	s.Close()
	s, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.Append(ctx, "x", es.Exact(1), ev); err != nil {
		t.Fatalf("append after reopen: %v", err)
	}
	if rep, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
}

package app

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
)

// A request whose runner died between its write and its stored reply is
// never run twice: while it may still run, a repeat waits and then gives
// up; once it is stale, a repeat finds the write by its derived event ID
// (an *InterruptedError), or, if nothing was written, takes the key over
// and runs.
func TestInterruptedRequests(t *testing.T) {
	st := memstore.New()
	s := New(st, st, st)
	defer s.Close()
	ctx := es.WithMetadata(context.Background(), es.Metadata{Actor: "agent"})
	if _, err := s.Create(ctx, tracker.NewItem{Title: "Target"}); err != nil {
		t.Fatal(err)
	}
	comments := func() int {
		it, err := s.Item(ctx, "J-1")
		if err != nil {
			t.Fatal(err)
		}
		return len(it.Comments)
	}

	// The first run writes, then dies before FinishRequest.
	rctx, _, replay, err := s.BeginRequest(ctx, "k1", "comment J-1")
	if err != nil || replay != nil {
		t.Fatalf("begin: %v %v", replay, err)
	}
	r, err := s.Comment(rctx, "J-1", "once", es.Any)
	if err != nil {
		t.Fatal(err)
	}
	h, _ := s.History(ctx, "J-1")
	written := h[len(h)-1].Record
	if written.ID != es.DerivedID(RequestKey("agent", "k1"), 0) {
		t.Fatalf("the write's event ID %s is not derived from the key", written.ID)
	}

	s.requestWait = 50 * time.Millisecond
	var inProgress *InProgressError
	if _, _, _, err := s.BeginRequest(ctx, "k1", "comment J-1"); !errors.As(err, &inProgress) || !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("repeat while the first may run: %v, want an *InProgressError", err)
	}
	s.requestStale = 0 // the runner is now surely gone
	var interrupted *InterruptedError
	if _, _, _, err := s.BeginRequest(ctx, "k1", "comment J-1"); !errors.As(err, &interrupted) || interrupted.Position != written.Position {
		t.Fatalf("repeat of a request that wrote: %v, want an *InterruptedError at %d", err, written.Position)
	}
	if n := comments(); n != 1 || r.State.Version != 2 {
		t.Fatalf("%d comments, want 1", n)
	}
	if _, _, _, err := s.BeginRequest(ctx, "k1", "another request"); !errors.Is(err, ErrKeyReused) {
		t.Fatalf("key with another fingerprint: %v", err)
	}

	// A run that died before writing: a repeat takes the key over.
	if _, _, _, err := s.BeginRequest(ctx, "k2", "comment J-1"); err != nil {
		t.Fatal(err)
	}
	rctx, ticket, replay, err := s.BeginRequest(ctx, "k2", "comment J-1")
	if err != nil || replay != nil || ticket == nil {
		t.Fatalf("takeover: %v %v", replay, err)
	}
	if _, err := s.Comment(rctx, "J-1", "after takeover", es.Any); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishRequest(ctx, ticket, Reply{Code: 200, Body: []byte(`{"ok":true}`)}); err != nil {
		t.Fatal(err)
	}
	_, _, replay, err = s.BeginRequest(ctx, "k2", "comment J-1")
	if err != nil || replay == nil || replay.Code != 200 || string(replay.Body) != `{"ok":true}` {
		t.Fatalf("repeat after the reply: %v %v", replay, err)
	}
	if n := comments(); n != 2 {
		t.Fatalf("%d comments, want 2", n)
	}
}

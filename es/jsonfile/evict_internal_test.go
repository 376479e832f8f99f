package jsonfile

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// TestBatchAcrossIndexCacheEviction commits one group of appends to new
// streams while the cache of open index files is full. Opening the second
// stream's index evicts the cache, which used to close the first stream's
// index file while the batch still held it: the batch's index write then
// failed and the store refused every later append until reopened.
func TestBatchAcrossIndexCacheEviction(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), NoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := []es.Event{{Type: "A", Data: []byte(`{}`)}}
	for i := 0; len(s.idx) < 255; i++ {
		if _, err := s.Append(ctx, fmt.Sprintf("fill-%d", i), es.NoStream, ev); err != nil {
			t.Fatal(err)
		}
	}
	var batch []*request
	for _, stream := range []string{"new-a", "new-b", "new-a"} {
		recs, err := es.Prepare(stream, es.Any, ev)
		if err != nil {
			t.Fatal(err)
		}
		batch = append(batch, &request{stream: stream, expected: es.Any, recs: recs, done: make(chan struct{})})
	}
	s.commit(batch)
	for i, r := range batch {
		if r.err != nil {
			t.Fatalf("request %d: %v", i, r.err)
		}
	}
	if _, err := s.Append(ctx, "new-a", es.Exact(2), ev); err != nil {
		t.Fatalf("append after the batch: %v", err)
	}
	if rep, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
}

// TestQueuedAppendRefusedAfterFailedCommit commits a batch that was queued
// while the commit before it failed, as the next leader of a group commit
// does. The store refuses writes after a failure, because its view of the
// files is no longer trustworthy (after a failed index write, a stream's
// count on disk lags the log, and an append built on it would reuse
// versions); appends already queued used to be written all the same.
func TestQueuedAppendRefusedAfterFailedCommit(t *testing.T) {
	ctx := context.Background()
	s, err := Open(t.TempDir(), NoSync())
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ev := []es.Event{{Type: "A", Data: []byte(`{}`)}}
	if _, err := s.Append(ctx, "x", es.NoStream, ev); err != nil {
		t.Fatal(err)
	}
	s.failWrites(errors.New("injected write failure"))
	recs, err := es.Prepare("x", es.Any, ev)
	if err != nil {
		t.Fatal(err)
	}
	req := &request{stream: "x", expected: es.Any, recs: recs, done: make(chan struct{})}
	s.commit([]*request{req})
	if req.err == nil {
		t.Fatalf("append queued before a failed commit was written after it: %+v", req.out)
	}
	if last, err := s.LastPosition(ctx); err != nil || last != 1 {
		t.Fatalf("last position %d, %v; want 1", last, err)
	}
}

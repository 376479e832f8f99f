package jsonfile_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// TestConcurrentAppendsToManyStreams has 16 goroutines append to far more
// streams than the store keeps index files open for, so that group commits
// keep spanning evictions of that cache; every append must succeed and the
// store must verify.
func TestConcurrentAppendsToManyStreams(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := open(t, dir, jsonfile.NoSync())
	const workers, perWorker = 16, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWorker {
				stream := fmt.Sprintf("s-%d-%d", w, i%40)
				if _, err := s.Append(ctx, stream, es.Any, []es.Event{{Type: "A", Data: []byte(`{}`)}}); err != nil {
					errs <- fmt.Errorf("worker %d append %d: %w", w, i, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	if rep, err := s.Verify(ctx); err != nil {
		t.Fatalf("verify: %v\n%s", err, rep)
	}
	if last, err := s.LastPosition(ctx); err != nil || last != workers*perWorker {
		t.Fatalf("last position %d, %v; want %d", last, err, workers*perWorker)
	}
}

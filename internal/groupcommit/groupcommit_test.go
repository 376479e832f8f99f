package groupcommit_test

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jerry-es/jerry/internal/groupcommit"
)

// req is a test request: its ID, and how many times a commit saw it.
type req struct {
	id        int
	committed atomic.Int32
	batch     int // size of the batch that committed it
}

// recorder is a commit function that records every batch, fails the test
// if two commits overlap, and can be held at its start.
type recorder struct {
	t       *testing.T
	mu      sync.Mutex
	batches [][]int
	running atomic.Bool
	hold    chan struct{} // if not nil, each commit waits to receive from it
	entered chan struct{} // if not nil, each commit sends to it on entry
}

func (r *recorder) commit(batch []*req) {
	if !r.running.CompareAndSwap(false, true) {
		r.t.Error("two commits at once")
	}
	defer r.running.Store(false)
	if r.entered != nil {
		r.entered <- struct{}{}
	}
	if r.hold != nil {
		<-r.hold
	}
	ids := make([]int, len(batch))
	for i, q := range batch {
		ids[i] = q.id
		q.committed.Add(1)
		q.batch = len(batch)
	}
	r.mu.Lock()
	r.batches = append(r.batches, ids)
	r.mu.Unlock()
}

// waitQueued waits until n requests are queued in g.
func waitQueued(t *testing.T, g *groupcommit.Group[*req], n int) {
	t.Helper()
	for i := 0; g.Len() < n; i++ {
		if i == 10000 {
			t.Fatalf("%d requests queued after 10s, want %d", g.Len(), n)
		}
		time.Sleep(time.Millisecond)
	}
}

func TestAloneCommitsAtOnce(t *testing.T) {
	r := &recorder{t: t}
	g := groupcommit.New(r.commit, groupcommit.Options{})
	q := &req{id: 1}
	if err := g.Do(context.Background(), q); err != nil {
		t.Fatal(err)
	}
	if q.committed.Load() != 1 || len(r.batches) != 1 || len(r.batches[0]) != 1 {
		t.Fatalf("committed %d times in batches %v", q.committed.Load(), r.batches)
	}
}

// TestQueuedShareABatch holds a first commit while others queue: they are
// committed together, in the order they queued, bounded by MaxBatch.
func TestQueuedShareABatch(t *testing.T) {
	r := &recorder{t: t, hold: make(chan struct{}), entered: make(chan struct{})}
	g := groupcommit.New(r.commit, groupcommit.Options{MaxBatch: 3})
	ctx := context.Background()
	var wg sync.WaitGroup
	reqs := make([]*req, 6)
	for i := range reqs {
		reqs[i] = &req{id: i}
	}
	wg.Go(func() { g.Do(ctx, reqs[0]) })
	<-r.entered // reqs[0] commits alone and is held
	for i := 1; i < len(reqs); i++ {
		wg.Go(func() { g.Do(ctx, reqs[i]) })
		waitQueued(t, g, i) // queue in order
	}
	go func() {
		for range r.entered {
		}
	}()
	close(r.hold)
	wg.Wait()
	close(r.entered)
	want := [][]int{{0}, {1, 2, 3}, {4, 5}}
	if len(r.batches) != len(want) {
		t.Fatalf("batches %v, want %v", r.batches, want)
	}
	for i := range want {
		for j := range want[i] {
			if r.batches[i][j] != want[i][j] {
				t.Fatalf("batches %v, want %v", r.batches, want)
			}
		}
	}
}

// TestQueuedCancelled: a request whose context ends while it is queued
// returns the context's error and is never committed; the others are.
func TestQueuedCancelled(t *testing.T) {
	r := &recorder{t: t, hold: make(chan struct{}), entered: make(chan struct{}, 10)}
	g := groupcommit.New(r.commit, groupcommit.Options{})
	ctx := context.Background()
	first, gone, last := &req{id: 1}, &req{id: 2}, &req{id: 3}
	errs := make(chan error, 3)
	go func() { errs <- g.Do(ctx, first) }()
	<-r.entered
	cctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- g.Do(cctx, gone) }()
	waitQueued(t, g, 1)
	go func() { errs <- g.Do(ctx, last) }()
	waitQueued(t, g, 2)
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled queued request: %v, want context.Canceled", err)
	}
	if g.Len() != 1 {
		t.Fatalf("%d queued after the cancellation, want 1", g.Len())
	}
	close(r.hold)
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if gone.committed.Load() != 0 || first.committed.Load() != 1 || last.committed.Load() != 1 {
		t.Fatalf("committed: first %d, cancelled %d, last %d; want 1, 0, 1",
			first.committed.Load(), gone.committed.Load(), last.committed.Load())
	}
}

// TestCancelledInBatchWaits: a request whose context ends while its batch
// commits waits for the batch, and reports it committed.
func TestCancelledInBatchWaits(t *testing.T) {
	r := &recorder{t: t, hold: make(chan struct{}), entered: make(chan struct{}, 10)}
	g := groupcommit.New(r.commit, groupcommit.Options{})
	ctx := context.Background()
	lead := &req{id: 1}
	errs := make(chan error, 1)
	go func() { errs <- g.Do(ctx, lead) }()
	<-r.entered
	cctx, cancel := context.WithCancel(ctx)
	q := &req{id: 2}
	done := make(chan error, 1)
	go func() { done <- g.Do(cctx, q) }()
	waitQueued(t, g, 1)
	r.hold <- struct{}{} // the first batch ends; q's batch starts
	<-r.entered
	cancel()
	select {
	case err := <-done:
		t.Fatalf("Do returned %v while its batch was committing", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(r.hold)
	if err := <-done; err != nil || q.committed.Load() != 1 {
		t.Fatalf("Do: %v, committed %d times; want nil, 1", err, q.committed.Load())
	}
	if err := <-errs; err != nil {
		t.Fatal(err)
	}
}

// TestStress runs many callers, some of which cancel at random moments:
// every Do returns, a request Do reports committed was committed exactly
// once, one that returned an error never was, and commits never overlap.
func TestStress(t *testing.T) {
	r := &recorder{t: t}
	g := groupcommit.New(r.commit, groupcommit.Options{MaxBatch: 5, Settle: 2})
	var wg sync.WaitGroup
	var ok, cancelled atomic.Int64
	for w := range 16 {
		wg.Go(func() {
			for i := range 300 {
				q := &req{id: w*1000 + i}
				ctx, cancel := context.WithCancel(context.Background())
				if rand.IntN(3) == 0 {
					go func() {
						time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
						cancel()
					}()
				}
				err := g.Do(ctx, q)
				cancel()
				switch {
				case err == nil && q.committed.Load() == 1:
					ok.Add(1)
				case errors.Is(err, context.Canceled) && q.committed.Load() == 0:
					cancelled.Add(1)
				default:
					t.Errorf("request %d: Do %v, committed %d times", q.id, err, q.committed.Load())
					return
				}
			}
		})
	}
	wg.Wait()
	if g.Len() != 0 {
		t.Errorf("%d requests left queued", g.Len())
	}
	big := 0
	for _, b := range r.batches {
		if len(b) > 5 {
			t.Fatalf("batch of %d, MaxBatch 5", len(b))
		}
		if len(b) > 1 {
			big++
		}
	}
	t.Logf("%d committed, %d cancelled while queued, %d batches (%d of more than one)", ok.Load(), cancelled.Load(), len(r.batches), big)
}

// TestClose: Close waits for the batch under way; later calls fail with
// ErrClosed.
func TestClose(t *testing.T) {
	r := &recorder{t: t, hold: make(chan struct{}), entered: make(chan struct{}, 1)}
	g := groupcommit.New(r.commit, groupcommit.Options{})
	q := &req{id: 1}
	errs := make(chan error, 1)
	go func() { errs <- g.Do(context.Background(), q) }()
	<-r.entered
	closed := make(chan struct{})
	go func() { g.Close(); close(closed) }()
	select {
	case <-closed:
		t.Fatal("Close returned while a batch was committing")
	case <-time.After(50 * time.Millisecond):
	}
	close(r.hold)
	<-closed
	if err := <-errs; err != nil || q.committed.Load() != 1 {
		t.Fatalf("request in flight at Close: %v, committed %d times", err, q.committed.Load())
	}
	if err := g.Do(context.Background(), &req{id: 2}); !errors.Is(err, groupcommit.ErrClosed) {
		t.Fatalf("Do after Close: %v, want ErrClosed", err)
	}
	g.Close()
}

// TestTwoLeaders: with Leaders 2, a second batch commits while the first
// is held, a third request waits for one of them, and no more than two
// commits ever run at once.
func TestTwoLeaders(t *testing.T) {
	var running, most atomic.Int32
	entered := make(chan int, 10)
	hold := make(chan struct{})
	g := groupcommit.New(func(batch []*req) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		entered <- batch[0].id
		<-hold
		for _, q := range batch {
			q.committed.Add(1)
		}
	}, groupcommit.Options{Leaders: 2})
	ctx := context.Background()
	reqs := []*req{{id: 1}, {id: 2}, {id: 3}, {id: 4}}
	errs := make(chan error, len(reqs))
	for _, q := range reqs[:2] {
		go func() { errs <- g.Do(ctx, q) }()
	}
	<-entered
	<-entered // both commit at once
	for _, q := range reqs[2:] {
		go func() { errs <- g.Do(ctx, q) }()
	}
	waitQueued(t, g, 2)
	close(hold)
	for range reqs {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for _, q := range reqs {
		if q.committed.Load() != 1 {
			t.Errorf("request %d committed %d times", q.id, q.committed.Load())
		}
	}
	if most.Load() != 2 {
		t.Errorf("at most %d commits at once, want 2", most.Load())
	}
	g.Close()
}

// TestStressTwoLeaders is TestStress with two leaders.
func TestStressTwoLeaders(t *testing.T) {
	var running atomic.Int32
	g := groupcommit.New(func(batch []*req) {
		if running.Add(1) > 2 {
			t.Error("more than two commits at once")
		}
		defer running.Add(-1)
		for _, q := range batch {
			q.committed.Add(1)
		}
	}, groupcommit.Options{MaxBatch: 4, Settle: 1, Leaders: 2})
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := range 300 {
				q := &req{id: w*1000 + i}
				ctx, cancel := context.WithCancel(context.Background())
				if rand.IntN(3) == 0 {
					go func() {
						time.Sleep(time.Duration(rand.IntN(50)) * time.Microsecond)
						cancel()
					}()
				}
				err := g.Do(ctx, q)
				cancel()
				if !(err == nil && q.committed.Load() == 1 || errors.Is(err, context.Canceled) && q.committed.Load() == 0) {
					t.Errorf("request %d: Do %v, committed %d times", q.id, err, q.committed.Load())
					return
				}
			}
		})
	}
	wg.Wait()
	g.Close()
	if g.Len() != 0 {
		t.Errorf("%d requests left queued", g.Len())
	}
}

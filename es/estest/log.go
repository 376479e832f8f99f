package estest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
)

func (s *suite) testLog(t *testing.T) {
	t.Run("CommitOrder", func(t *testing.T) {
		st := s.store(t)
		lr := s.logOf(t, st)
		if p := lastPosition(t, lr); p != 0 {
			t.Fatalf("LastPosition of an empty store = %d, want 0", p)
		}
		if got := collect(t, lr.ReadLog(t.Context(), 1)); len(got) != 0 {
			t.Fatalf("ReadLog of an empty store yielded %d records", len(got))
		}
		var all []es.Record
		for i, stream := range []string{"b", "a", "b", "c", "a", "b"} {
			recs := mustAppend(t, st, stream, es.Any, events("E", i, 1+i%3)...)
			all = append(all, recs...)
		}
		for i, r := range all {
			if r.Position != int64(i+1) {
				t.Fatalf("append %d got position %d, want %d", i, r.Position, i+1)
			}
		}
		checkRecords(t, "ReadLog(1)", collect(t, lr.ReadLog(t.Context(), 1)), all)
		if p := lastPosition(t, lr); p != int64(len(all)) {
			t.Fatalf("LastPosition = %d, want %d", p, len(all))
		}
	})

	t.Run("FromPosition", func(t *testing.T) {
		st := s.store(t)
		lr := s.logOf(t, st)
		var all []es.Record
		for i := range 6 {
			all = append(all, mustAppend(t, st, fmt.Sprintf("s%d", i%2), es.Any, events("E", i, 2)...)...)
		}
		n := int64(len(all))
		for _, from := range []int64{1, 2, 7, n, n + 1, n + 100} {
			want := all[min(from-1, n):]
			checkRecords(t, fmt.Sprintf("ReadLog(%d)", from), collect(t, lr.ReadLog(t.Context(), from)), want)
		}
	})

	t.Run("ConcurrentWritersAndReader", func(t *testing.T) {
		// Writers append to many streams while a reader follows the log
		// by re-reading from the position after the last one it saw. The
		// reader must see positions 1, 2, 3, ... with no gap and nothing
		// at or below a position already read: an event committed later
		// at a lower position would be lost to every subscriber.
		st := s.store(t)
		lr := s.logOf(t, st)
		const writers = 8
		per := s.cfg.n(25)
		var (
			wg      sync.WaitGroup
			stopped atomic.Bool
			mu      sync.Mutex
			acked   = map[uuid.UUID]es.Record{}
			errs    []error
		)
		fail := func(err error) {
			mu.Lock()
			errs = append(errs, err)
			mu.Unlock()
		}
		for w := range writers {
			wg.Go(func() {
				var version int64
				for i := range per {
					// Half the writers share one hot stream.
					stream, exp := fmt.Sprintf("w%d", w), es.Exact(version)
					if w%2 == 1 {
						stream, exp = "shared", es.Any
					}
					recs, err := st.Append(t.Context(), stream, exp, events("E", i, 1+i%3))
					if err != nil {
						fail(err)
						return
					}
					version = recs[len(recs)-1].Version
					mu.Lock()
					for _, r := range recs {
						acked[r.ID] = r
					}
					mu.Unlock()
				}
			})
		}
		var read []es.Record
		done := make(chan struct{})
		go func() {
			defer close(done)
			next := int64(1)
			versions := map[string]int64{}
			for {
				// Read the stopped flag before the pass: if the writers
				// had all finished, this pass sees everything.
				final := stopped.Load()
				n := 0
				for r, err := range lr.ReadLog(t.Context(), next) {
					if err != nil {
						fail(err)
						return
					}
					if r.Position != next {
						fail(fmt.Errorf("ReadLog(%d) yielded position %d after reading up to %d", next, r.Position, next-1))
						return
					}
					if r.Version != versions[r.Stream]+1 {
						fail(fmt.Errorf("log position %d holds %s v%d, after v%d of that stream", r.Position, r.Stream, r.Version, versions[r.Stream]))
						return
					}
					versions[r.Stream] = r.Version
					read = append(read, r)
					next++
					n++
				}
				if final {
					return
				}
				if n == 0 {
					runtime.Gosched()
				}
			}
		}()
		wg.Wait()
		stopped.Store(true)
		select {
		case <-done:
		case <-time.After(s.cfg.timeout()):
			t.Fatalf("log reader did not finish within %s", s.cfg.timeout())
		}
		for _, err := range errs {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		if len(read) != len(acked) {
			t.Fatalf("reader saw %d events, writers stored %d", len(read), len(acked))
		}
		for _, r := range read {
			want, ok := acked[r.ID]
			if !ok {
				t.Fatalf("log holds event %s that no append returned", r.ID)
			}
			if d := diffRecord(r, want); d != "" {
				t.Fatalf("log record at %d differs from the append's: %s", r.Position, d)
			}
		}
		if p := lastPosition(t, lr); p != int64(len(read)) {
			t.Fatalf("LastPosition = %d, want %d", p, len(read))
		}
	})
}

func (s *suite) testSubscribe(t *testing.T) {
	t.Run("CatchUpThenLive", func(t *testing.T) {
		// Events committed before, during and after the subscriber
		// catches up each arrive exactly once, in position order.
		st := s.store(t)
		sub := s.subOf(t, st)
		lr := s.logOf(t, st)
		before := s.cfg.n(100)
		for i := range before {
			mustAppend(t, st, fmt.Sprintf("pre-%d", i%7), es.Any, event("Pre", i))
		}
		const writers = 4
		per := s.cfg.n(50)
		total := int64(before + writers*per)
		ctx, cancel := context.WithTimeout(t.Context(), s.cfg.timeout())
		defer cancel()
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		start := make(chan struct{})
		release := sync.OnceFunc(func() { close(start) })
		defer release() // writers never wait forever, even if the test fails
		for w := range writers {
			wg.Go(func() {
				<-start
				for i := range per {
					if _, err := st.Append(t.Context(), fmt.Sprintf("live-%d", w), es.Any, []es.Event{event("Live", i)}); err != nil {
						errs <- err
						return
					}
				}
			})
		}
		var got []es.Record
		next := int64(1)
		for r, err := range sub.Subscribe(ctx, 1) {
			if err != nil {
				t.Fatalf("subscription failed after %d events: %v", len(got), err)
			}
			if r.Position != next {
				t.Fatalf("subscription yielded position %d, want %d", r.Position, next)
			}
			if next == 1 {
				release() // writers race with the catch-up
			}
			next++
			got = append(got, r)
			if next > total {
				break
			}
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if int64(len(got)) != total {
			t.Fatalf("subscription ended after %d of %d events (ctx: %v)", len(got), total, ctx.Err())
		}
		checkRecords(t, "subscription against ReadLog", got, collect(t, lr.ReadLog(t.Context(), 1)))
	})

	t.Run("FromPosition", func(t *testing.T) {
		// A consumer resumes after its checkpoint: the first event it gets
		// is the one at the position it asks for.
		st := s.store(t)
		sub := s.subOf(t, st)
		recs := mustAppend(t, st, "s", es.NoStream, events("E", 1, 10)...)
		ctx, cancel := context.WithTimeout(t.Context(), s.cfg.timeout())
		defer cancel()
		var got []es.Record
		for r, err := range sub.Subscribe(ctx, 6) {
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, r)
			if len(got) == 5 {
				recs = append(recs, mustAppend(t, st, "t", es.NoStream, event("Later", 11))...)
			}
			if len(got) == 6 {
				break
			}
		}
		checkRecords(t, "Subscribe(6)", got, recs[5:])
	})

	t.Run("CancelEndsCleanly", func(t *testing.T) {
		st := s.store(t)
		sub := s.subOf(t, st)
		mustAppend(t, st, "s", es.NoStream, events("E", 1, 2)...)
		// Count goroutines once the store has started whatever it runs in
		// the background, so that only the subscription's own count.
		base := runtime.NumGoroutine()
		for _, live := range []bool{false, true} {
			ctx, cancel := context.WithCancel(t.Context())
			n := 0
			within(t, s.cfg.timeout(), "a cancelled subscription", func() {
				for _, err := range sub.Subscribe(ctx, 1) {
					if err != nil {
						t.Errorf("subscription ended with %v, want no error on cancel", err)
						return
					}
					if n++; n == 2 {
						if live {
							// Cancel while it waits for new events.
							time.AfterFunc(10*time.Millisecond, cancel)
						} else {
							cancel()
						}
					}
				}
			})
			cancel()
			if n != 2 {
				t.Fatalf("subscription yielded %d events, want 2", n)
			}
		}
		// Already cancelled before it starts: ends at once, no error.
		within(t, s.cfg.timeout(), "a subscription with a cancelled context", func() {
			for _, err := range sub.Subscribe(canceled(t.Context()), 1) {
				if err != nil {
					t.Errorf("subscription with a cancelled context yielded %v, want it to end", err)
				}
			}
		})
		deadline := time.Now().Add(s.cfg.timeout())
		for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if n := runtime.NumGoroutine(); n > base {
			t.Fatalf("%d goroutines left behind by cancelled subscriptions", n-base)
		}
	})

	t.Run("SlowConsumer", func(t *testing.T) {
		// A consumer that stalls inside its loop body does not hold up
		// writers; when it goes on, it gets every event in order.
		st := s.store(t)
		sub := s.subOf(t, st)
		mustAppend(t, st, "s", es.NoStream, event("E", 0))
		n := s.cfg.n(300)
		ctx, cancel := context.WithTimeout(t.Context(), s.cfg.timeout())
		defer cancel()
		next := int64(1)
		for r, err := range sub.Subscribe(ctx, 1) {
			if err != nil {
				t.Fatal(err)
			}
			if r.Position != next {
				t.Fatalf("subscription yielded position %d, want %d", r.Position, next)
			}
			if next == 1 {
				within(t, s.cfg.timeout(), "appends while a subscriber stalls", func() {
					var wg sync.WaitGroup
					for w := range 2 {
						wg.Go(func() {
							for i := range n / 2 {
								if _, err := st.Append(t.Context(), fmt.Sprintf("w%d", w), es.Any, []es.Event{event("E", i)}); err != nil {
									t.Error(err)
									return
								}
							}
						})
					}
					wg.Wait()
				})
			}
			if next++; next > int64(1+n/2*2) {
				break
			}
		}
		if next <= int64(1+n/2*2) {
			t.Fatalf("subscription ended at position %d of %d (ctx: %v)", next-1, 1+n/2*2, ctx.Err())
		}
	})

	t.Run("BreakLeavesStoreUsable", func(t *testing.T) {
		// Breaking out of a subscription leaves the store usable.
		st := s.store(t)
		sub := s.subOf(t, st)
		mustAppend(t, st, "s", es.NoStream, events("E", 1, 3)...)
		within(t, s.cfg.timeout(), "breaking out of a subscription", func() {
			for range 3 {
				for _, err := range sub.Subscribe(t.Context(), 1) {
					if err != nil && !errors.Is(err, context.Canceled) {
						t.Error(err)
					}
					break
				}
			}
		})
		mustAppend(t, st, "s", es.Exact(3), event("E", 4))
	})
}

func (s *suite) testReopen(t *testing.T) {
	if s.cfg.Reopen == nil {
		t.Skip("store declares it keeps nothing across a reopen (Config.Reopen is nil)")
	}
	st := s.store(t)
	lr := s.maybeLog(t, st)
	var all []es.Record
	streams := []string{"a/b", "a_b", "Ä/β 1", ".."}
	for i := range 12 {
		e := event("E", i)
		e.Metadata = es.Metadata{Actor: "me", Extra: map[string]string{"i": fmt.Sprint(i)}}
		all = append(all, mustAppend(t, st, streams[i%len(streams)], es.Any, e, event("F", i))...)
	}
	retry := all[len(all)-2:]
	st = s.cfg.Reopen(t, st)
	lr = s.maybeLog(t, st)
	for _, id := range streams {
		var want []es.Record
		for _, r := range all {
			if r.Stream == id {
				want = append(want, r)
			}
		}
		checkRecords(t, fmt.Sprintf("stream %q after reopen", id), readStream(t, st, id, 1, 0), want)
		if v := streamVersion(t, st, id); v != int64(len(want)) {
			t.Fatalf("StreamVersion(%q) after reopen = %d, want %d", id, v, len(want))
		}
	}
	if lr != nil {
		checkRecords(t, "log after reopen", collect(t, lr.ReadLog(t.Context(), 1)), all)
	}
	// A retry of the last append is still recognised after the reopen.
	evs := make([]es.Event, len(retry))
	for i, r := range retry {
		evs[i] = es.Event{ID: r.ID, Type: r.Type, Schema: r.Schema, Data: r.Data, Metadata: r.Metadata, Time: r.Time}
	}
	again, err := st.Append(t.Context(), retry[0].Stream, es.Exact(retry[0].Version-1), evs)
	if err != nil {
		t.Fatalf("retry after reopen: %v", err)
	}
	checkRecords(t, "retry after reopen", again, retry)
	// New appends go on from where the store was.
	next := mustAppend(t, st, "a/b", es.Exact(6), event("G", 0))
	if next[0].Version != 7 || next[0].Position != int64(len(all)+1) {
		t.Fatalf("append after reopen got version %d, position %d; want 7, %d", next[0].Version, next[0].Position, len(all)+1)
	}
	st = s.cfg.Reopen(t, st)
	if v := streamVersion(t, st, "a/b"); v != 7 {
		t.Fatalf("StreamVersion after a second reopen = %d, want 7", v)
	}
}

package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/postgres"
)

// TestConcurrentWritersFollower runs 16 writers, appending to streams of
// their own and racing on a shared one, while a subscriber and a polling log
// reader follow the global log. Each follower must see every committed event
// exactly once, in position order, positions running 1, 2, 3... with no gap
// and never at or below one already read, each with the position Append
// returned for it.
func TestConcurrentWritersFollower(t *testing.T) {
	const writers, appends = 16, 30
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s := newStore(t)

	var (
		mu        sync.Mutex
		committed = map[uuid.UUID]int64{} // event ID -> position Append returned
		wg        sync.WaitGroup
		errs      = make(chan error, writers)
	)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := fmt.Sprintf("writer-%d", w)
			var version int64
			for i := range appends {
				n := 1 + (w+i)%4
				evs := make([]es.Event, n)
				for k := range evs {
					evs[k] = ev("e", fmt.Sprintf(`{"w":%d,"i":%d,"k":%d}`, w, i, k))
				}
				var recs []es.Record
				var err error
				if i%3 == 0 {
					recs, err = s.Append(ctx, "shared", es.Any, evs)
				} else {
					recs, err = s.Append(ctx, own, es.Exact(version), evs)
					version += int64(n)
				}
				if err != nil {
					errs <- fmt.Errorf("writer %d append %d: %w", w, i, err)
					return
				}
				mu.Lock()
				for _, r := range recs {
					committed[r.ID] = r.Position
				}
				mu.Unlock()
			}
		}()
	}

	type seen struct {
		ids  map[uuid.UUID]int64
		last int64
		err  error
	}
	// Every writer's batch sizes are fixed, so the total is known.
	total := int64(0)
	for w := range writers {
		for i := range appends {
			total += int64(1 + (w+i)%4)
		}
	}
	// follow checks records as they arrive until it has read total events.
	follow := func(name string, next func(from int64) ([]es.Record, error)) *seen {
		out := &seen{ids: map[uuid.UUID]int64{}}
		for out.last < total {
			recs, err := next(out.last + 1)
			if err != nil {
				out.err = fmt.Errorf("%s: %w", name, err)
				return out
			}
			for _, r := range recs {
				if r.Position != out.last+1 {
					out.err = fmt.Errorf("%s: read position %d after %d", name, r.Position, out.last)
					return out
				}
				if _, dup := out.ids[r.ID]; dup {
					out.err = fmt.Errorf("%s: event %s read twice", name, r.ID)
					return out
				}
				out.ids[r.ID] = r.Position
				out.last = r.Position
			}
		}
		return out
	}

	// The subscriber hands records over one at a time through a channel.
	subRecs := make(chan es.Record)
	subErr := make(chan error, 1)
	go func() {
		for r, err := range s.Subscribe(ctx, 1) {
			if err != nil {
				subErr <- err
				return
			}
			select {
			case subRecs <- r:
			case <-ctx.Done():
				return
			}
		}
	}()
	results := make(chan *seen, 2)
	go func() {
		results <- follow("subscriber", func(int64) ([]es.Record, error) {
			select {
			case r := <-subRecs:
				return []es.Record{r}, nil
			case err := <-subErr:
				return nil, err
			}
		})
	}()
	go func() {
		results <- follow("poller", func(from int64) ([]es.Record, error) {
			return es.Collect(s.ReadLog(ctx, from))
		})
	}()

	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	last, err := s.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(committed)) != last {
		t.Fatalf("%d events committed, last position %d", len(committed), last)
	}
	if last != total {
		t.Fatalf("last position %d, want %d", last, total)
	}
	for range 2 {
		got := <-results
		if got.err != nil {
			t.Fatal(got.err)
		}
		if len(got.ids) != len(committed) {
			t.Fatalf("follower saw %d events, %d committed", len(got.ids), len(committed))
		}
		for id, pos := range committed {
			if got.ids[id] != pos {
				t.Fatalf("event %s: follower saw position %d, Append returned %d", id, got.ids[id], pos)
			}
		}
	}
	t.Logf("%d events from %d writers, followed gap-free by a subscriber and a poller", last, writers)
}

// TestConcurrentRetries has many goroutines append the very same events (same
// IDs) at once, as clients retrying after a timeout would. Combined into one
// transaction they collide on the unique event ID, which fails the group and
// makes each append run alone: every call must succeed and return the same
// records, stored once. Others racing on one stream with exact versions must
// find exactly one winner per version.
func TestConcurrentRetries(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	evs := []es.Event{
		{ID: es.NewEventID(), Type: "e", Data: []byte(`1`)},
		{ID: es.NewEventID(), Type: "e", Data: []byte(`2`)},
	}
	const n = 12
	var wg sync.WaitGroup
	results := make([][]es.Record, n)
	errs := make([]error, n)
	wins := make([]bool, n)
	var winErrs [n]error
	for i := range n {
		wg.Add(2)
		go func() {
			defer wg.Done()
			results[i], errs[i] = s.Append(ctx, "retried", es.Any, evs)
		}()
		go func() {
			defer wg.Done()
			// All race for version 1 of "contended".
			_, err := s.Append(ctx, "contended", es.NoStream, []es.Event{ev("e", fmt.Sprint(i))})
			wins[i] = err == nil
			if err != nil && !errors.Is(err, es.ErrConcurrency) {
				winErrs[i] = err
			}
		}()
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatalf("retry %d: %v", i, errs[i])
		}
		if len(results[i]) != 2 || results[i][0].ID != evs[0].ID || results[i][1].Version != 2 ||
			results[i][0].Position != results[0][0].Position {
			t.Fatalf("retry %d returned %+v, want the stored records", i, results[i])
		}
		if winErrs[i] != nil {
			t.Fatalf("contender %d: %v", i, winErrs[i])
		}
	}
	if v, _ := s.StreamVersion(ctx, "retried"); v != 2 {
		t.Fatalf("retried stream at version %d, want 2", v)
	}
	winners := 0
	for _, w := range wins {
		if w {
			winners++
		}
	}
	if v, _ := s.StreamVersion(ctx, "contended"); winners != 1 || v != 1 {
		t.Fatalf("%d winners, contended stream at version %d; want 1 and 1", winners, v)
	}
	log, err := es.Collect(s.ReadLog(ctx, 1))
	if err != nil || len(log) != 3 || log[2].Position != 3 {
		t.Fatalf("log: %v, %d records", err, len(log))
	}
	g, a := postgres.GroupStats()
	t.Logf("%d combined transactions so far in this process, %d appends in them", g, a)
}

// TestStoresRacing has appenders on separate Stores (as separate processes
// would be: no combining) race for the same versions, with single events and
// with appends too large to combine. Whether a loser's check saw the winner
// or hit the unique constraint on (stream, version), it must get a
// *es.ConcurrencyError with the stream's true version, and exactly one
// appender must win each round.
func TestStoresRacing(t *testing.T) {
	ctx := context.Background()
	first := newStore(t)
	stores := []*postgres.Store{first}
	for range 5 {
		s, err := postgres.Open(ctx, testDSN(t), postgres.WithSchema(first.Schema()))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		stores = append(stores, s)
	}
	var version int64
	for round := range 20 {
		size := 1
		if round%2 == 1 {
			size = 20
		}
		var wg sync.WaitGroup
		errs := make([]error, len(stores))
		for i, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				evs := make([]es.Event, size)
				for k := range evs {
					evs[k] = ev("e", fmt.Sprint(k))
				}
				_, errs[i] = s.Append(ctx, "race", es.Exact(version), evs)
			}()
		}
		wg.Wait()
		wins := 0
		for _, err := range errs {
			var ce *es.ConcurrencyError
			switch {
			case err == nil:
				wins++
			case errors.As(err, &ce):
				if ce.Actual != version+int64(size) {
					t.Fatalf("round %d: conflict reports version %d, want %d", round, ce.Actual, version+int64(size))
				}
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if wins != 1 {
			t.Fatalf("round %d: %d winners", round, wins)
		}
		version += int64(size)
	}
	if v, _ := first.StreamVersion(ctx, "race"); v != version {
		t.Fatalf("stream at version %d, want %d", v, version)
	}
}

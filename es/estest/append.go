package estest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jerry-es/jerry/es"
)

func (s *suite) testExpectedVersion(t *testing.T) {
	cases := []struct {
		name     string
		existing int // events in the stream before the append
		expected es.ExpectedVersion
		ok       bool
	}{
		{"ExactZeroOnMissing", 0, es.Exact(0), true},
		{"ExactZeroOnExisting", 2, es.Exact(0), false},
		{"ExactMatch", 2, es.Exact(2), true},
		{"ExactBehind", 2, es.Exact(1), false},
		{"ExactAhead", 2, es.Exact(3), false},
		{"ExactOnMissing", 0, es.Exact(1), false},
		{"NoStreamOnMissing", 0, es.NoStream, true},
		{"NoStreamOnExisting", 2, es.NoStream, false},
		{"StreamExistsOnMissing", 0, es.StreamExists, false},
		{"StreamExistsOnExisting", 2, es.StreamExists, true},
		{"AnyOnMissing", 0, es.Any, true},
		{"AnyOnExisting", 2, es.Any, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.store(t)
			lr := s.maybeLog(t, st)
			const stream = "order-1"
			// Another stream first, so versions and positions differ.
			mustAppend(t, st, "other", es.NoStream, event("Other", 0))
			var before []es.Record
			if c.existing > 0 {
				before = mustAppend(t, st, stream, es.NoStream, events("Seeded", 1, c.existing)...)
			}
			evs := events("Added", 10, 2)
			recs, err := st.Append(t.Context(), stream, c.expected, evs)
			if c.ok {
				if err != nil {
					t.Fatalf("Append(%s) on a stream at version %d: %v", c.expected, c.existing, err)
				}
				for i, r := range recs {
					if r.Version != int64(c.existing+i+1) || r.Position != int64(c.existing+i+2) || r.ID != evs[i].ID {
						t.Fatalf("record %d: version %d, position %d, ID %s; want %d, %d, %s",
							i, r.Version, r.Position, r.ID, c.existing+i+1, c.existing+i+2, evs[i].ID)
					}
				}
				checkRecords(t, "stream after append", readStream(t, st, stream, 1, 0), append(before, recs...))
				return
			}
			checkConflict(t, err, stream, c.expected, int64(c.existing))
			if len(recs) != 0 {
				t.Fatalf("a failed append returned %d records", len(recs))
			}
			checkRecords(t, "stream after conflict", readStream(t, st, stream, 1, 0), before)
			if v := streamVersion(t, st, stream); v != int64(c.existing) {
				t.Fatalf("StreamVersion after conflict = %d, want %d", v, c.existing)
			}
			if lr != nil {
				if p := lastPosition(t, lr); p != int64(c.existing+1) {
					t.Fatalf("LastPosition after conflict = %d, want %d", p, c.existing+1)
				}
			}
		})
	}
}

func (s *suite) testAppend(t *testing.T) {
	t.Run("VersionsAndPositions", func(t *testing.T) {
		st := s.store(t)
		a1 := mustAppend(t, st, "a", es.NoStream, events("E", 1, 3)...)
		b1 := mustAppend(t, st, "b", es.NoStream, events("E", 1, 1)...)
		a2 := mustAppend(t, st, "a", es.Exact(3), events("E", 4, 2)...)
		var got []int64
		for _, r := range slices.Concat(a1, b1, a2) {
			got = append(got, r.Version, r.Position)
		}
		want := []int64{1, 1, 2, 2, 3, 3, 1, 4, 4, 5, 5, 6}
		if !slices.Equal(got, want) {
			t.Fatalf("(version, position) pairs = %v, want %v", got, want)
		}
		if v := streamVersion(t, st, "a"); v != 5 {
			t.Fatalf("StreamVersion(a) = %d, want 5", v)
		}
		if v := streamVersion(t, st, "missing"); v != 0 {
			t.Fatalf("StreamVersion(missing) = %d, want 0", v)
		}
		checkRecords(t, "stream a", readStream(t, st, "a", 1, 0), slices.Concat(a1, a2))
	})

	t.Run("AtomicMultiEvent", func(t *testing.T) {
		st := s.store(t)
		recs := mustAppend(t, st, "s", es.NoStream, events("E", 1, 5)...)
		checkRecords(t, "stream", readStream(t, st, "s", 1, 0), recs)
		// A conflicting batch stores none of its events.
		_, err := st.Append(t.Context(), "s", es.Exact(2), events("F", 1, 5))
		checkConflict(t, err, "s", es.Exact(2), 5)
		// A batch with one bad event stores none of its events.
		bad := events("G", 1, 5)
		bad[3].Data = []byte(`{"unterminated":`)
		_, err = st.Append(t.Context(), "s", es.Exact(5), bad)
		checkErr(t, err, es.ErrInvalidInput, es.ErrInvalidData)
		checkRecords(t, "stream after failed batches", readStream(t, st, "s", 1, 0), recs)
	})

	t.Run("AtomicUnderConcurrentReads", func(t *testing.T) {
		// Readers racing with batch appends never see part of a batch.
		st := s.store(t)
		lr := s.maybeLog(t, st)
		const batch = 5
		batches := s.cfg.n(40)
		var wg sync.WaitGroup
		done := make(chan struct{})
		errs := make(chan error, 3)
		wg.Go(func() {
			defer close(done)
			for i := range batches {
				if _, err := st.Append(t.Context(), "s", es.Exact(int64(i*batch)), events("E", i*batch, batch)); err != nil {
					errs <- err
					return
				}
			}
		})
		check := func(what string, read func() (int, error)) {
			for {
				select {
				case <-done:
					return
				default:
				}
				n, err := read()
				if err != nil {
					errs <- err
					return
				}
				if n%batch != 0 {
					errs <- fmt.Errorf("%s saw %d events, not a whole number of %d-event batches", what, n, batch)
					return
				}
			}
		}
		wg.Go(func() {
			check("ReadStream", func() (int, error) {
				recs, err := es.Collect(st.ReadStream(t.Context(), "s", 1, 0))
				return len(recs), err
			})
		})
		wg.Go(func() {
			check("StreamVersion", func() (int, error) {
				v, err := st.StreamVersion(t.Context(), "s")
				return int(v), err
			})
		})
		if lr != nil {
			wg.Go(func() {
				check("ReadLog", func() (int, error) {
					recs, err := es.Collect(lr.ReadLog(t.Context(), 1))
					return len(recs), err
				})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		if v := streamVersion(t, st, "s"); v != int64(batches*batch) {
			t.Fatalf("StreamVersion = %d, want %d", v, batches*batch)
		}
	})

	t.Run("CopiesInput", func(t *testing.T) {
		// The store must not keep the caller's buffers: records are
		// immutable once stored.
		st := s.store(t)
		e := event("E", 1)
		e.Metadata.Extra = map[string]string{"k": "v"}
		recs := mustAppend(t, st, "s", es.NoStream, e)
		want := recs[0]
		want.Data = slices.Clone(want.Data)
		want.Metadata.Extra = map[string]string{"k": "v"}
		for i := range e.Data {
			e.Data[i] = ' '
		}
		e.Metadata.Extra["k"] = "changed"
		checkRecords(t, "stream after the caller changed its buffers", readStream(t, st, "s", 1, 0), []es.Record{want})
	})

	t.Run("IdempotentRetry", s.testIdempotent)
	t.Run("PartialOverlap", s.testPartialOverlap)
}

func (s *suite) testIdempotent(t *testing.T) {
	modes := []struct {
		name  string
		first es.ExpectedVersion // for an append to a stream with one event
		retry es.ExpectedVersion
	}{
		{"Exact", es.Exact(1), es.Exact(1)},
		{"Any", es.Any, es.Any},
		{"StreamExists", es.StreamExists, es.StreamExists},
		{"ExactThenAny", es.Exact(1), es.Any},
	}
	for _, m := range modes {
		t.Run(m.name, func(t *testing.T) {
			st := s.store(t)
			lr := s.maybeLog(t, st)
			mustAppend(t, st, "s", es.NoStream, event("E", 0))
			evs := events("E", 1, 3)
			first := mustAppend(t, st, "s", m.first, evs...)
			// The client timed out and sends the same events again.
			again, err := st.Append(t.Context(), "s", m.retry, evs)
			if err != nil {
				t.Fatalf("retry of a stored append: %v", err)
			}
			checkRecords(t, "records returned by the retry", again, first)
			checkRecords(t, "stream after retry", readStream(t, st, "s", 2, 0), first)
			if v := streamVersion(t, st, "s"); v != 4 {
				t.Fatalf("StreamVersion after retry = %d, want 4", v)
			}
			if lr != nil {
				if p := lastPosition(t, lr); p != 4 {
					t.Fatalf("LastPosition after retry = %d, want 4", p)
				}
			}
		})
	}
	t.Run("NoStream", func(t *testing.T) {
		st := s.store(t)
		evs := events("E", 1, 2)
		first := mustAppend(t, st, "s", es.NoStream, evs...)
		again, err := st.Append(t.Context(), "s", es.NoStream, evs)
		if err != nil {
			t.Fatalf("retry of a stored append: %v", err)
		}
		checkRecords(t, "records returned by the retry", again, first)
		checkRecords(t, "stream after retry", readStream(t, st, "s", 1, 0), first)
	})
	t.Run("ExactAfterLaterAppends", func(t *testing.T) {
		// The retry arrives after other writers appended more events: it
		// still finds its events at the versions it expected.
		st := s.store(t)
		evs := events("E", 1, 2)
		first := mustAppend(t, st, "s", es.NoStream, evs...)
		later := mustAppend(t, st, "s", es.Exact(2), events("L", 3, 2)...)
		again, err := st.Append(t.Context(), "s", es.Exact(0), evs)
		if err != nil {
			t.Fatalf("late retry of a stored append: %v", err)
		}
		checkRecords(t, "records returned by the retry", again, first)
		checkRecords(t, "stream after retry", readStream(t, st, "s", 1, 0), slices.Concat(first, later))
	})
	t.Run("NewEventsAfterRetryConflict", func(t *testing.T) {
		// Different events at the same expected version are a conflict,
		// not a retry.
		st := s.store(t)
		mustAppend(t, st, "s", es.NoStream, events("E", 1, 2)...)
		_, err := st.Append(t.Context(), "s", es.Exact(0), events("E", 1, 2))
		checkConflict(t, err, "s", es.Exact(0), 2)
	})
}

func (s *suite) testPartialOverlap(t *testing.T) {
	cases := []struct {
		name  string
		retry func(stored []es.Event) (es.ExpectedVersion, []es.Event)
	}{
		{"ExactPrefixThenNew", func(ev []es.Event) (es.ExpectedVersion, []es.Event) {
			return es.Exact(0), []es.Event{ev[0], ev[1], event("New", 9)}
		}},
		{"ExactOneChanged", func(ev []es.Event) (es.ExpectedVersion, []es.Event) {
			return es.Exact(0), []es.Event{ev[0], event("New", 9), ev[2]}
		}},
		{"ExactShifted", func(ev []es.Event) (es.ExpectedVersion, []es.Event) {
			return es.Exact(1), []es.Event{ev[1], ev[2], event("New", 9)}
		}},
		{"AnyOverlappingTail", func(ev []es.Event) (es.ExpectedVersion, []es.Event) {
			return es.Any, []es.Event{ev[2], event("New", 9)}
		}},
		{"StreamExistsOverlappingTail", func(ev []es.Event) (es.ExpectedVersion, []es.Event) {
			return es.StreamExists, []es.Event{ev[1], ev[2], event("New", 9)}
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			st := s.store(t)
			lr := s.maybeLog(t, st)
			evs := events("E", 1, 3)
			stored := mustAppend(t, st, "s", es.NoStream, evs...)
			exp, retry := c.retry(evs)
			recs, err := st.Append(t.Context(), "s", exp, retry)
			checkErr(t, err, es.ErrPartialDuplicate)
			if len(recs) != 0 {
				t.Fatalf("a failed append returned %d records", len(recs))
			}
			checkRecords(t, "stream after partial overlap", readStream(t, st, "s", 1, 0), stored)
			if lr != nil {
				if p := lastPosition(t, lr); p != 3 {
					t.Fatalf("LastPosition = %d, want 3", p)
				}
			}
		})
	}
}

func (s *suite) testConcurrency(t *testing.T) {
	t.Run("Racing16Exact", func(t *testing.T) {
		// 16 writers append to one stream, each expecting the version it
		// last read and retrying on conflict. Exactly one wins each
		// version; every event is stored once; versions are contiguous.
		st := s.store(t)
		lr := s.maybeLog(t, st)
		const writers = 16
		per := s.cfg.n(15)
		var (
			mu       sync.Mutex
			won      = map[int64]uuid.UUID{}
			sent     = map[uuid.UUID]bool{}
			failures []error
		)
		var wg sync.WaitGroup
		for w := range writers {
			wg.Go(func() {
				for i := range per {
					e := event(fmt.Sprintf("W%d", w), i)
					for {
						v, err := st.StreamVersion(t.Context(), "race")
						if err == nil {
							var recs []es.Record
							recs, err = st.Append(t.Context(), "race", es.Exact(v), []es.Event{e})
							if err == nil {
								mu.Lock()
								if prev, dup := won[recs[0].Version]; dup {
									failures = append(failures, fmt.Errorf("version %d won by %s and %s", recs[0].Version, prev, e.ID))
								}
								won[recs[0].Version] = e.ID
								sent[e.ID] = true
								mu.Unlock()
								break
							}
						}
						if !errors.Is(err, es.ErrConcurrency) {
							mu.Lock()
							failures = append(failures, err)
							mu.Unlock()
							return
						}
					}
				}
			})
		}
		wg.Wait()
		for _, err := range failures {
			t.Error(err)
		}
		if t.Failed() {
			t.FailNow()
		}
		total := writers * per
		recs := readStream(t, st, "race", 1, 0)
		if len(recs) != total {
			t.Fatalf("stream holds %d events, want %d", len(recs), total)
		}
		seen := map[uuid.UUID]bool{}
		for i, r := range recs {
			if r.Version != int64(i+1) {
				t.Fatalf("record %d has version %d", i, r.Version)
			}
			if won[r.Version] != r.ID {
				t.Fatalf("version %d holds %s, but the append that won it stored %s", r.Version, r.ID, won[r.Version])
			}
			if seen[r.ID] || !sent[r.ID] {
				t.Fatalf("event %s at version %d stored twice or never acknowledged", r.ID, r.Version)
			}
			seen[r.ID] = true
		}
		if lr != nil {
			log := collect(t, lr.ReadLog(t.Context(), 1))
			for i, r := range log {
				if r.Position != int64(i+1) {
					t.Fatalf("log record %d has position %d", i, r.Position)
				}
			}
			checkRecords(t, "log", log, recs)
		}
	})

	t.Run("Racing16NoStream", func(t *testing.T) {
		// 16 writers try to create the same stream: exactly one wins.
		st := s.store(t)
		const writers = 16
		var (
			wg        sync.WaitGroup
			mu        sync.Mutex
			wins      int
			conflicts int
			others    []error
		)
		for w := range writers {
			wg.Go(func() {
				_, err := st.Append(t.Context(), "created-once", es.NoStream, events(fmt.Sprintf("W%d", w), 0, 2))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					wins++
				case errors.Is(err, es.ErrConcurrency):
					conflicts++
				default:
					others = append(others, err)
				}
			})
		}
		wg.Wait()
		for _, err := range others {
			t.Error(err)
		}
		if wins != 1 || conflicts != writers-1 {
			t.Fatalf("%d wins and %d conflicts, want 1 and %d", wins, conflicts, writers-1)
		}
		if v := streamVersion(t, st, "created-once"); v != 2 {
			t.Fatalf("StreamVersion = %d, want 2", v)
		}
	})
}

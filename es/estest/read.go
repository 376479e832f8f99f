package estest

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/jerry-es/jerry/es"
)

func (s *suite) testRead(t *testing.T) {
	t.Run("Ranges", func(t *testing.T) {
		st := s.store(t)
		mustAppend(t, st, "before", es.NoStream, event("E", 0))
		recs := mustAppend(t, st, "s", es.NoStream, events("E", 1, 10)...)
		mustAppend(t, st, "after", es.NoStream, event("E", 0))
		cases := []struct {
			from, to   int64
			first, end int // want recs[first:end]
		}{
			{1, 0, 0, 10},
			{1, 10, 0, 10},
			{3, 5, 2, 5},
			{5, 5, 4, 5},
			{10, 0, 9, 10},
			{8, 20, 7, 10},
			{11, 0, 0, 0},
			{20, 30, 0, 0},
			{5, 3, 0, 0},
		}
		for _, c := range cases {
			t.Run(fmt.Sprintf("From%dTo%d", c.from, c.to), func(t *testing.T) {
				checkRecords(t, fmt.Sprintf("ReadStream(%d, %d)", c.from, c.to),
					readStream(t, st, "s", c.from, c.to), recs[c.first:c.end])
			})
		}
	})

	t.Run("MissingStream", func(t *testing.T) {
		st := s.store(t)
		mustAppend(t, st, "exists", es.NoStream, event("E", 1))
		if got := readStream(t, st, "missing", 1, 0); len(got) != 0 {
			t.Fatalf("a missing stream yielded %d records", len(got))
		}
		if got := readStream(t, st, "exist", 1, 0); len(got) != 0 {
			t.Fatalf("a missing stream whose name prefixes another yielded %d records", len(got))
		}
	})

	t.Run("EarlyBreak", func(t *testing.T) {
		st := s.store(t)
		lr := s.maybeLog(t, st)
		mustAppend(t, st, "s", es.NoStream, events("E", 1, 10)...)
		within(t, s.cfg.timeout(), "breaking out of reads", func() {
			for i := range 3 {
				n := 0
				for _, err := range st.ReadStream(t.Context(), "s", 1, 0) {
					if err != nil {
						t.Error(err)
						return
					}
					if n++; n == 2 {
						break
					}
				}
				if lr != nil {
					n = 0
					for _, err := range lr.ReadLog(t.Context(), 1) {
						if err != nil {
							t.Error(err)
							return
						}
						if n++; n == 2 {
							break
						}
					}
				}
				// The store is still fully usable after the breaks.
				if _, err := st.Append(t.Context(), "s", es.Exact(int64(10+i)), []es.Event{event("E", 11+i)}); err != nil {
					t.Error(err)
					return
				}
			}
		})
		if got := readStream(t, st, "s", 1, 0); len(got) != 13 {
			t.Fatalf("stream holds %d events, want 13", len(got))
		}
	})

	t.Run("AppendWhileIterating", func(t *testing.T) {
		// A caller that appends from inside a loop over a read must not
		// deadlock: stores never hold a lock while yielding.
		st := s.store(t)
		lr := s.maybeLog(t, st)
		recs := mustAppend(t, st, "s", es.NoStream, events("E", 1, 5)...)
		within(t, s.cfg.timeout(), "appending inside a ReadStream loop", func() {
			n := 0
			for r, err := range st.ReadStream(t.Context(), "s", 1, 5) {
				if err != nil {
					t.Error(err)
					return
				}
				if r.ID != recs[n].ID {
					t.Errorf("record %d: ID %s, want %s", n, r.ID, recs[n].ID)
				}
				n++
				if _, err := st.Append(t.Context(), "s", es.Any, []es.Event{event("Inner", n)}); err != nil {
					t.Error(err)
					return
				}
				if _, err := st.Append(t.Context(), fmt.Sprintf("other-%d", n), es.NoStream, []es.Event{event("Inner", n)}); err != nil {
					t.Error(err)
					return
				}
			}
			if n != 5 {
				t.Errorf("ReadStream(1, 5) yielded %d records, want 5", n)
			}
		})
		if lr != nil {
			within(t, s.cfg.timeout(), "appending inside a ReadLog loop", func() {
				n := 0
				for _, err := range lr.ReadLog(t.Context(), 1) {
					if err != nil {
						t.Error(err)
						return
					}
					// Append on the first few records only, so that a
					// store whose read sees new events still ends.
					if n++; n <= 3 {
						if _, err := st.Append(t.Context(), "s", es.Any, []es.Event{event("Inner", n)}); err != nil {
							t.Error(err)
							return
						}
					}
				}
			})
		}
		if t.Failed() {
			t.FailNow()
		}
		want := int64(10)
		if lr != nil {
			want = 13
		}
		if v := streamVersion(t, st, "s"); v != want {
			t.Fatalf("StreamVersion = %d, want %d", v, want)
		}
	})
}

func (s *suite) testCancelled(t *testing.T) {
	st := s.store(t)
	lr := s.maybeLog(t, st)
	mustAppend(t, st, "s", es.NoStream, events("E", 1, 10)...)
	dead := canceled(t.Context())

	t.Run("Append", func(t *testing.T) {
		_, err := st.Append(dead, "s", es.Any, events("E", 11, 1))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Append with a cancelled context: %v, want context.Canceled", err)
		}
		_, err = st.Append(dead, "new", es.NoStream, events("E", 11, 1))
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("Append with a cancelled context: %v, want context.Canceled", err)
		}
		if v := streamVersion(t, st, "s"); v != 10 {
			t.Fatalf("StreamVersion after a cancelled append = %d, want 10", v)
		}
		if v := streamVersion(t, st, "new"); v != 0 {
			t.Fatalf("StreamVersion after a cancelled append = %d, want 0", v)
		}
	})
	t.Run("ReadStream", func(t *testing.T) {
		n, err := firstErr(st.ReadStream(dead, "s", 1, 0))
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Fatalf("ReadStream with a cancelled context: %d records then %v, want none then context.Canceled", n, err)
		}
	})
	t.Run("StreamVersion", func(t *testing.T) {
		if _, err := st.StreamVersion(dead, "s"); !errors.Is(err, context.Canceled) {
			t.Fatalf("StreamVersion with a cancelled context: %v, want context.Canceled", err)
		}
	})
	t.Run("CancelDuringReadStream", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s.checkCancelDuring(t, st.ReadStream(ctx, "s", 1, 0), cancel)
	})
	t.Run("ReadLog", func(t *testing.T) {
		if lr == nil {
			t.Skip("store declares no global log (Config.NoLog)")
		}
		n, err := firstErr(lr.ReadLog(dead, 1))
		if !errors.Is(err, context.Canceled) || n != 0 {
			t.Fatalf("ReadLog with a cancelled context: %d records then %v, want none then context.Canceled", n, err)
		}
		if _, err := lr.LastPosition(dead); !errors.Is(err, context.Canceled) {
			t.Fatalf("LastPosition with a cancelled context: %v, want context.Canceled", err)
		}
		ctx, cancel := context.WithCancel(t.Context())
		defer cancel()
		s.checkCancelDuring(t, lr.ReadLog(ctx, 1), cancel)
	})
}

// checkCancelDuring reads seq, cancels after the third record, and checks
// that the next thing the sequence yields is the context's error.
func (s *suite) checkCancelDuring(t *testing.T, seq func(func(es.Record, error) bool), cancel func()) {
	t.Helper()
	n := 0
	var last error
	for _, err := range seq {
		if err != nil {
			last = err
			break
		}
		if n++; n == 3 {
			cancel()
		} else if n > 3 {
			t.Fatalf("read yielded record %d after its context was cancelled", n)
		}
	}
	if n != 3 || !errors.Is(last, context.Canceled) {
		t.Fatalf("read cancelled after 3 records: %d records then %v, want 3 then context.Canceled", n, last)
	}
}

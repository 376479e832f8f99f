package estest

import (
	"errors"
	"testing"

	"github.com/jerry-es/jerry/es"
)

// FuzzStreamID fuzzes the stream IDs a store accepts: for any two IDs, each
// is either rejected with an error matching es.ErrInvalidStreamID, storing
// nothing, or names a stream of its own, distinct from the other unless the
// IDs are equal. It catches encodings of IDs into file names or keys that
// are not injective or escape their directory. Call it from a Fuzz
// function:
//
//	func FuzzStreamID(f *testing.F) { estest.FuzzStreamID(f, cfg) }
func FuzzStreamID(f *testing.F, cfg Config) {
	seeds := [][2]string{
		{"a/b", "a_b"}, {"a/b", "A/B"}, {"..", "."}, {"../x", "x"}, {"a%2Fb", "a/b"},
		{"Ä/β 1", "Ä_β 1"}, {"a\\b", "a/b"}, {"", "a"}, {"a\x00", "a"}, {"a\xff", "a"},
		{"CON", "con"}, {"e\u0301", "\u00e9"}, {"a ", "a"}, {"a.", "a"},
	}
	for _, s := range seeds {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		st := cfg.New(t)
		ctx := t.Context()
		stored := map[string][]es.Record{}
		for _, id := range []string{a, b} {
			recs, err := st.Append(ctx, id, es.Any, []es.Event{event("E", len(stored[id]))})
			if es.ValidateStreamID(id) != nil {
				if !errors.Is(err, es.ErrInvalidStreamID) || !errors.Is(err, es.ErrInvalidInput) {
					t.Fatalf("Append to invalid stream ID %q: %v, want es.ErrInvalidStreamID", id, err)
				}
				continue
			}
			if err != nil {
				t.Fatalf("Append to valid stream ID %q: %v", id, err)
			}
			stored[id] = append(stored[id], recs...)
		}
		for id, want := range stored {
			checkRecords(t, "stream "+id, readStream(t, st, id, 1, 0), want)
		}
		if lr, ok := st.(es.LogReader); ok && !cfg.NoLog {
			n := 0
			for _, recs := range stored {
				n += len(recs)
			}
			if p := lastPosition(t, lr); p != int64(n) {
				t.Fatalf("LastPosition = %d, want %d", p, n)
			}
		}
	})
}

package jsonfile_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// ackStore makes a store with acknowledged history in two streams and
// returns its directory, closed.
func ackStore(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	s, err := jsonfile.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for i := range 8 {
		for _, stream := range []string{"jerry-ids-workitem", "item/1"} {
			if _, err := s.Append(ctx, stream, es.Exact(int64(i)), []es.Event{{Type: "T", Data: []byte(`{"i":1}`)}}); err != nil {
				t.Fatal(err)
			}
		}
	}
	s.Close()
	return dir
}

func wantCorrupt(t *testing.T, what string, err error, path string) {
	t.Helper()
	var ce *es.CorruptError
	if !errors.As(err, &ce) || ce.Path != path {
		t.Fatalf("%s: %v, want a corruption error naming %s", what, err, path)
	}
}

// TestAcknowledgedTailIsNeverCut reproduces issue 15's first defect: a log
// that lost its final newline, or whose last synced line has a flipped bit
// and whose head is gone, was cut as if torn, and the store went on handing
// out the lost positions. Now Open fails naming the log, every time, cutting
// nothing, until Repair cuts it and records that it did.
func TestAcknowledgedTailIsNeverCut(t *testing.T) {
	cases := map[string]func(t *testing.T, dir string){
		"final newline removed": func(t *testing.T, dir string) {
			log := filepath.Join(dir, "events.jsonl")
			fi, _ := os.Stat(log)
			os.Truncate(log, fi.Size()-1)
		},
		"bit flipped in the last line, head removed": func(t *testing.T, dir string) {
			log := filepath.Join(dir, "events.jsonl")
			b, _ := os.ReadFile(log)
			b[len(b)-40] ^= 0x01
			os.WriteFile(log, b, 0o644)
			os.Remove(filepath.Join(dir, "head"))
		},
		"bit flipped in the last line": func(t *testing.T, dir string) {
			log := filepath.Join(dir, "events.jsonl")
			b, _ := os.ReadFile(log)
			b[len(b)-40] ^= 0x01
			os.WriteFile(log, b, 0o644)
		},
	}
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := ackStore(t)
			damage(t, dir)
			log := filepath.Join(dir, "events.jsonl")
			before, _ := os.ReadFile(log)
			for range 3 {
				_, err := jsonfile.Open(dir)
				wantCorrupt(t, "open", err, log)
			}
			if after, _ := os.ReadFile(log); !slices.Equal(before, after) {
				t.Fatal("the log was changed by a failed open")
			}
			fixed, err := jsonfile.Repair(context.Background(), dir)
			if err != nil {
				t.Fatal(err)
			}
			if len(fixed) == 0 || !slices.ContainsFunc(fixed, func(r jsonfile.Recovery) bool { return r.Lost }) {
				t.Fatalf("repair does not say acknowledged data was lost: %v", fixed)
			}
			s := open(t, dir)
			rep, err := s.Verify(context.Background())
			if err != nil || len(rep.Repairs) != len(fixed) {
				t.Fatalf("verify after repair: %v\n%s", err, rep)
			}
			// The last acknowledged position (16) is gone. Repair
			// rebuilds from what the log holds, so the next append takes
			// position 16 again: the durable record of the loss, which
			// Verify lists, is what tells readers that saw it.
			recs, err := s.Append(context.Background(), "new", es.NoStream, []es.Event{{Type: "T", Data: []byte(`{}`)}})
			if err != nil || recs[0].Position != 16 {
				t.Fatalf("append after repair: %+v, %v", recs, err)
			}
		})
	}
}

// TestDamagedStreamIndexIsNotEmpty reproduces issue 15's second and third
// defects: with a stream's index missing, emptied, cut short or copied from
// another stream, writers wrote versions that exist and readers answered
// as if the stream were new or shorter. Now readers fail naming the index,
// and a writer rebuilds it from the log and appends after the real last
// version.
func TestDamagedStreamIndexIsNotEmpty(t *testing.T) {
	const stream = "jerry-ids-workitem"
	cases := map[string]func(idx, other string){
		"removed":       func(idx, _ string) { os.Remove(idx) },
		"zeroed":        func(idx, _ string) { b, _ := os.ReadFile(idx); os.WriteFile(idx, make([]byte, len(b)), 0o644) },
		"emptied":       func(idx, _ string) { os.Truncate(idx, 0) },
		"cut to half":   func(idx, _ string) { os.Truncate(idx, 4*16) },
		"other's index": func(idx, other string) { b, _ := os.ReadFile(other); os.WriteFile(idx, b, 0o644) },
		"and head gone": func(idx, _ string) { os.Remove(idx); os.Remove(filepath.Join(filepath.Dir(filepath.Dir(idx)), "head")) },
		"table gone too": func(idx, _ string) {
			os.Remove(idx)
			os.Remove(filepath.Join(filepath.Dir(filepath.Dir(idx)), "streams.tab"))
		},
	}
	ctx := context.Background()
	for name, damage := range cases {
		t.Run(name, func(t *testing.T) {
			dir := ackStore(t)
			idx := filepath.Join(dir, "streams", "jerry-ids-workitem.idx")
			damage(idx, filepath.Join(dir, "streams", "item_2f1.idx"))
			s := open(t, dir)
			got, err := es.Collect(s.ReadStream(ctx, stream, 1, 0))
			if err != nil {
				wantCorrupt(t, "read", err, idx)
			} else if len(got) != 8 {
				t.Fatalf("read %d records of 8, no error", len(got))
			}
			if v, err := s.StreamVersion(ctx, stream); err != nil {
				wantCorrupt(t, "version", err, idx)
			} else if v != 8 {
				t.Fatalf("version %d, want 8", v)
			}
			recs, err := s.Append(ctx, stream, es.Any, []es.Event{{Type: "T", Data: []byte(`{}`)}})
			if err != nil || recs[0].Version != 9 || recs[0].Position != 17 {
				t.Fatalf("append: %+v, %v; want version 9 at position 17", recs, err)
			}
			if rep, err := s.Verify(ctx); err != nil {
				t.Fatalf("verify: %v\n%s", err, rep)
			}
			if got, err := es.Collect(s.ReadStream(ctx, stream, 1, 0)); err != nil || len(got) != 9 {
				t.Fatalf("read after the append: %d records, %v", len(got), err)
			}
		})
	}
}

package jsonfile_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/jsonfile"
)

// pristine builds a small store with single and multi-event appends,
// metadata and snapshots, closes it, and returns its directory.
func pristine(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	s, err := jsonfile.Open(dir, jsonfile.NoSync())
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 150 {
		stream := fmt.Sprintf("Stream/%d", rng.IntN(12))
		evs := make([]es.Event, 1+rng.IntN(3))
		for j := range evs {
			evs[j] = es.Event{Type: "Happened", Data: []byte(fmt.Sprintf(`{"i":%d,"j":%d,"s":"%s"}`, i, j, strings.Repeat("y", rng.IntN(80)))),
				Metadata: es.Metadata{Actor: "agent-" + fmt.Sprint(i%3)}}
		}
		recs, err := s.Append(ctx, stream, es.Any, evs)
		if err != nil {
			t.Fatal(err)
		}
		if i%25 == 0 {
			last := recs[len(recs)-1]
			err := s.SaveSnapshot(ctx, es.Snapshot{Stream: stream, Version: last.Version, Type: "Agg", Schema: 1,
				State: []byte(`{"n":` + fmt.Sprint(last.Version) + `}`), Time: last.Time})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	if rep, err := s.Verify(ctx); err != nil {
		t.Fatalf("pristine store does not verify: %v\n%s", err, rep)
	}
	s.Close()
	return dir
}

func copyDir(t *testing.T, src string) string {
	t.Helper()
	dst := t.TempDir()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, path)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return dst
}

// files lists the regular non-empty files of dir by kind.
func files(t *testing.T, dir string) map[string][]string {
	t.Helper()
	out := make(map[string][]string)
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if fi, _ := d.Info(); fi.Size() == 0 {
			return nil
		}
		kind := filepath.Base(path)
		switch {
		case strings.Contains(path, "/streams/"):
			kind = "stream index"
		case strings.Contains(path, "/snapshots/"):
			kind = "snapshot"
		}
		out[kind] = append(out[kind], path)
		return nil
	})
	return out
}

// readAll reads the whole log, every stream and the latest snapshot of every
// stream, and returns the first error.
func readAll(s *jsonfile.Store) error {
	ctx := context.Background()
	log, err := es.Collect(s.ReadLog(ctx, 1))
	if err != nil {
		return err
	}
	streams := make(map[string]bool)
	for _, r := range log {
		streams[r.Stream] = true
	}
	for stream := range streams {
		if _, err := es.Collect(s.ReadStream(ctx, stream, 1, 0)); err != nil {
			return err
		}
		if _, err := s.LoadSnapshot(ctx, stream, 0); err != nil && !errors.Is(err, es.ErrNotFound) {
			return err
		}
	}
	return nil
}

// TestBitFlips flips one random bit of one random file of a store, many
// times, and checks that each flip is reported: Open fails with a
// corruption error, or repairs and says so, or Verify reports the damaged
// file, and reads that reach the damage fail with a corruption error. None
// may panic or go unreported.
func TestBitFlips(t *testing.T) {
	src := pristine(t)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 3))
	kinds := []string{"events.jsonl", "events.jsonl", "events.jsonl", "positions.idx", "stream index", "head", "snapshot"}
	trials := 60
	if testing.Short() {
		trials = 15
	}
	for i := range trials {
		dir := copyDir(t, src)
		kind := kinds[rng.IntN(len(kinds))]
		paths := files(t, dir)[kind]
		path := paths[rng.IntN(len(paths))]
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		off := rng.IntN(len(b))
		bit := rng.IntN(8)
		b[off] ^= 1 << bit
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		what := fmt.Sprintf("trial %d (seed %d): bit %d of byte %d of %s", i, seed, bit, off, path)
		// A flip in a used part of the log or of a stream index must make
		// a read of everything fail; index files also hold zeroed space
		// past their entries, which only Verify looks at.
		used := kind == "events.jsonl"
		if kind == "stream index" {
			orig := bytes.Clone(b)
			orig[off] ^= 1 << bit
			e := off &^ 15
			used = !bytes.Equal(orig[e:e+16], make([]byte, 16)) || e > 0 && !bytes.Equal(orig[e-16:e], make([]byte, 16))
		}
		checkDamageReported(t, what, dir, path, int64(off), used)
	}
}

func checkDamageReported(t *testing.T, what, dir, path string, off int64, used bool) {
	t.Helper()
	s, err := jsonfile.Open(dir)
	if err != nil {
		var ce *es.CorruptError
		if !errors.As(err, &ce) || ce.Path != path {
			t.Fatalf("%s: open failed with %v, want a corruption error naming the file", what, err)
		}
		return
	}
	defer s.Close()
	if rec := s.Recovered(); len(rec) > 0 {
		// Repaired on open (a damaged head makes the indexes be rebuilt):
		// the store must now be sound.
		if rep, err := s.Verify(context.Background()); err != nil {
			t.Fatalf("%s: repaired (%v) but verify fails: %v\n%s", what, rec, err, rep)
		}
		return
	}
	rep, verr := s.Verify(context.Background())
	if verr == nil {
		t.Fatalf("%s: not reported by open or verify", what)
	}
	if !errors.Is(verr, es.ErrCorrupt) {
		t.Fatalf("%s: verify failed with %v, want a corruption error", what, verr)
	}
	found := false
	for _, p := range rep.Problems {
		var ce *es.CorruptError
		if errors.As(p, &ce) && ce.Path == path && (!strings.HasSuffix(path, ".jsonl") || ce.Offset <= off && off-ce.Offset < 4096) {
			found = true
		}
	}
	if !found {
		t.Fatalf("%s: verify does not name the damage:\n%s", what, rep)
	}
	rerr := readAll(s)
	if used {
		// Every read of these files checks what it reads: reading
		// everything must hit the damage.
		if !errors.Is(rerr, es.ErrCorrupt) {
			t.Fatalf("%s: reading everything gave %v, want a corruption error", what, rerr)
		}
	} else if rerr != nil && !errors.Is(rerr, es.ErrCorrupt) {
		t.Fatalf("%s: read failed with %v, want a corruption error or none", what, rerr)
	}
}

// lines returns the log's lines (with newlines) of dir.
func logLines(t *testing.T, dir string) [][]byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "events.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.SplitAfter(b, []byte("\n"))
}

// TestTruncation cuts the log at random offsets, as a person or a failing
// disk might: every byte cut was committed (the head says so), so Open must
// fail naming the log and the offset, cutting nothing, every time; Repair
// then keeps every append that lies whole before the cut, records the loss,
// and leaves a store that verifies and lists the repair.
func TestTruncation(t *testing.T) {
	src := pristine(t)
	orig := logLines(t, src)
	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 4))
	size := 0
	for _, l := range orig {
		size += len(l)
	}
	ctx := context.Background()
	for i := range 20 {
		dir := copyDir(t, src)
		cut := int64(rng.IntN(size))
		logPath := filepath.Join(dir, "events.jsonl")
		if err := os.Truncate(logPath, cut); err != nil {
			t.Fatal(err)
		}
		// The records that must survive: every append whose last line
		// ends at or before the cut.
		want, end := 0, int64(0)
		n := 0
		for _, l := range orig {
			end += int64(len(l))
			if end > cut {
				break
			}
			n++
			if bytes.Contains(l, []byte(`"last":true`)) {
				want = n
			}
		}
		for range 2 {
			_, err := jsonfile.Open(dir)
			var ce *es.CorruptError
			if !errors.As(err, &ce) || ce.Path != logPath {
				t.Fatalf("trial %d (seed %d), cut at %d: open gave %v, want a corruption error naming the log", i, seed, cut, err)
			}
		}
		fixed, err := jsonfile.Repair(ctx, dir)
		if err != nil || len(fixed) == 0 || !fixed[0].Lost {
			t.Fatalf("trial %d, cut at %d: repair: %v, %v", i, cut, fixed, err)
		}
		s, err := jsonfile.Open(dir)
		if err != nil {
			t.Fatalf("trial %d, cut at %d: open after repair: %v", i, cut, err)
		}
		rep, err := s.Verify(ctx)
		if err != nil {
			t.Fatalf("trial %d, cut at %d: verify after repair: %v\n%s", i, cut, err, rep)
		}
		if len(rep.Repairs) < len(fixed) || !strings.Contains(rep.String(), "acknowledged data lost") {
			t.Fatalf("trial %d: verify does not list the repair:\n%s", i, rep)
		}
		got, err := es.Collect(s.ReadLog(ctx, 1))
		if err != nil || len(got) != want {
			t.Fatalf("trial %d, cut at %d: %d records (%v), want %d", i, cut, len(got), err, want)
		}
		s.Close()
	}
}

// TestDerivedFileTruncation cuts index files: the store notices on open (the
// positions index, checked against the log's end) or on the first append to
// the stream (its index, checked against the stream table), rebuilds them
// from the log, reports it, and verifies after.
func TestDerivedFileTruncation(t *testing.T) {
	src := pristine(t)
	ctx := context.Background()
	for _, kind := range []string{"positions.idx", "stream index"} {
		dir := copyDir(t, src)
		path := files(t, dir)[kind][0]
		b, _ := os.ReadFile(path)
		used := len(bytes.TrimRight(b, "\x00"))
		if err := os.Truncate(path, int64(used-8)); err != nil {
			t.Fatal(err)
		}
		s := open(t, dir)
		if err := readAll(s); err != nil {
			var ce *es.CorruptError
			if !errors.As(err, &ce) || ce.Path != path {
				t.Fatalf("%s cut: read gave %v, want right answers or an error naming %s", kind, err, path)
			}
		}
		for _, stream := range []string{"Stream/0", "Stream/1", "Stream/2", "Stream/3"} {
			if _, err := s.Append(ctx, stream, es.Any, []es.Event{{Type: "T", Data: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
		}
		if !strings.Contains(fmt.Sprint(s.Recovered()), path) {
			t.Fatalf("%s cut: not reported: %v", kind, s.Recovered())
		}
		if rep, err := s.Verify(ctx); err != nil {
			t.Fatalf("after the rebuild: %v\n%s", err, rep)
		}
	}
}

// TestTornTail appends what a writer killed mid-append leaves: a partial
// line, or whole lines of an append whose last record is missing. Open cuts
// it and reports it; complete appends a dead writer left are kept.
func TestTornTail(t *testing.T) {
	src := pristine(t)
	ctx := context.Background()
	// A continuation of the store: one 3-event append, then one single.
	cont := copyDir(t, src)
	s := open(t, cont)
	before, _ := s.LastPosition(ctx)
	if _, err := s.Append(ctx, "torn", es.NoStream, []es.Event{{Type: "A", Data: []byte(`1`)}, {Type: "A", Data: []byte(`2`)}, {Type: "A", Data: []byte(`3`)}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Append(ctx, "torn", es.Exact(3), []es.Event{{Type: "A", Data: []byte(`4`)}}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	all := logLines(t, cont)
	tail := all[before : before+4]
	cases := []struct {
		name string
		add  []byte
		keep int64 // events of the tail kept
	}{
		{"half a line", tail[0][:len(tail[0])/2], 0},
		{"line without newline", tail[0][:len(tail[0])-1], 0},
		{"garbage", []byte("\x00\x00\x00\x00"), 0},
		{"two of three lines", bytes.Join(tail[:2], nil), 0},
		{"whole append then half", append(bytes.Join(tail[:3], nil), tail[3][:10]...), 3},
		{"whole appends", bytes.Join(tail, nil), 4},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := copyDir(t, src)
			f, err := os.OpenFile(filepath.Join(dir, "events.jsonl"), os.O_WRONLY|os.O_APPEND, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.Write(c.add)
			f.Close()
			s := open(t, dir)
			if len(s.Recovered()) == 0 {
				t.Fatal("repair not reported")
			}
			t.Log(s.Recovered())
			if rep, err := s.Verify(ctx); err != nil {
				t.Fatalf("verify: %v\n%s", err, rep)
			}
			if last, _ := s.LastPosition(ctx); last != before+c.keep {
				t.Fatalf("last position %d, want %d", last, before+c.keep)
			}
			// The store takes appends again where the repair left it.
			v, _ := s.StreamVersion(ctx, "torn")
			if _, err := s.Append(ctx, "torn", es.Exact(v), []es.Event{{Type: "B", Data: []byte(`{}`)}}); err != nil {
				t.Fatal(err)
			}
			if rep, err := s.Verify(ctx); err != nil {
				t.Fatalf("verify: %v\n%s", err, rep)
			}
		})
	}
}

// TestMiddleDamageFailsRebuild damages a committed line and removes the head,
// so that Open must rebuild from the log: it fails with an error naming the
// log and the damaged line's offset, rather than cutting or skipping.
func TestMiddleDamageFailsRebuild(t *testing.T) {
	dir := copyDir(t, pristine(t))
	lines := logLines(t, dir)
	off := 0
	for _, l := range lines[:40] {
		off += len(l)
	}
	path := filepath.Join(dir, "events.jsonl")
	b, _ := os.ReadFile(path)
	b[off+5] ^= 0x20
	os.WriteFile(path, b, 0o644)
	os.Remove(filepath.Join(dir, "head"))
	_, err := jsonfile.Open(dir)
	var ce *es.CorruptError
	if !errors.As(err, &ce) || ce.Path != path || ce.Offset != int64(off) {
		t.Fatalf("open: %v, want a corruption error at %s offset %d", err, path, off)
	}
}

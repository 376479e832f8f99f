package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// The stores under testdata/compat were written by earlier releases (see its
// README). Every build must open them and give the same answers: a later
// build may add fields to a JSON answer, and may turn a reference by ID into
// an object carrying that ID, but must keep every value the release gave.

// compatRelease copies one release's store into a temporary directory (the
// test data stays untouched) and returns an env on it and the folder.
func compatRelease(t *testing.T, release string) (*env, string) {
	t.Helper()
	src := filepath.Join("testdata", "compat", release)
	e := newEnv(t)
	dst := filepath.Join(e.dir, "store")
	err := filepath.WalkDir(filepath.Join(src, "store"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(filepath.Join(src, "store"), p)
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dst, rel), b, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	return e, src
}

func TestCompatV1Answers(t *testing.T) {
	e, src := compatRelease(t, "v1")
	golden := func(name string) []byte {
		b, err := os.ReadFile(filepath.Join(src, "golden", name))
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, c := range []struct {
		golden string
		args   []string
	}{
		{"show-J-1.json", []string{"show", "J-1"}},
		{"show-J-2.json", []string{"show", "J-2"}},
		{"show-J-3.json", []string{"show", "J-3"}},
		{"show-J-1-at-3.json", []string{"show", "J-1", "--at", "3"}},
		{"history-J-1.json", []string{"history", "J-1"}},
		{"history-J-2.json", []string{"history", "J-2"}},
		{"history-J-3.json", []string{"history", "J-3"}},
		{"list.json", []string{"list", "--all"}},
		{"initiative-I-1.json", []string{"initiative", "show", "I-1"}},
	} {
		t.Run(strings.Join(c.args, " "), func(t *testing.T) {
			e.t = t
			args := append(c.args, "--json")
			r := e.run(args...)
			if r.code == 2 && c.golden == "list.json" {
				// A build without list --all: every item is listed anyway.
				r = e.run("list", "--json")
			}
			if r.code != 0 {
				t.Fatalf("exit %d: %s", r.code, r.stderr)
			}
			var want, got any
			if err := json.Unmarshal(golden(c.golden), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
				t.Fatalf("%v\n%s", err, r.stdout)
			}
			if err := keeps(want, got, "$"); err != nil {
				t.Fatalf("the answer changed: %v\ngot:  %s\nwant: %s", err, r.stdout, golden(c.golden))
			}
		})
	}
	t.Run("log", func(t *testing.T) {
		e.t = t
		// Later builds hide bookkeeping streams unless --all.
		r := e.run("log", "--all", "--json")
		if r.code == 2 {
			r = e.run("log", "--json")
		}
		if r.code != 0 {
			t.Fatalf("exit %d: %s", r.code, r.stderr)
		}
		want := bytes.Split(bytes.TrimSpace(golden("log.jsonl")), []byte("\n"))
		got := bytes.Split(bytes.TrimSpace([]byte(r.stdout)), []byte("\n"))
		if len(got) != len(want) {
			t.Fatalf("log has %d records, want %d", len(got), len(want))
		}
		for i := range want {
			var w, g any
			if err := json.Unmarshal(want[i], &w); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(got[i], &g); err != nil {
				t.Fatal(err)
			}
			if err := keeps(w, g, fmt.Sprintf("line %d", i+1)); err != nil {
				t.Fatal(err)
			}
		}
	})
	t.Run("export", func(t *testing.T) {
		e.t = t
		if got := e.ok("export"); got != string(golden("../export.jsonl")) {
			t.Fatalf("export differs from the release's own export:\n%s", got)
		}
	})
	t.Run("verify", func(t *testing.T) { e.t = t; e.ok("verify") })
	t.Run("writes", func(t *testing.T) {
		e.t = t
		// The old store takes new writes, and the new events are readable.
		e.ok("comment", "J-3", "still here after the upgrade")
		id := e.create("A new item after the upgrade")
		if id != "J-4" {
			t.Fatalf("new item %s, want J-4", id)
		}
		e.ok("verify")
	})
}

// keeps reports how got fails to keep every value of want: objects may gain
// keys, a string may become an object whose "id" is that string, everything
// else must be equal.
func keeps(want, got any, path string) error {
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want an object", path, got)
		}
		for k, wv := range w {
			gv, ok := g[k]
			if !ok {
				if isEmpty(wv) {
					continue // an empty value may be left out
				}
				return fmt.Errorf("%s.%s: missing", path, k)
			}
			if err := keeps(wv, gv, path+"."+k); err != nil {
				return err
			}
		}
		return nil
	case []any:
		g, ok := got.([]any)
		if !ok {
			return fmt.Errorf("%s: got %T, want an array", path, got)
		}
		if len(g) != len(w) {
			return fmt.Errorf("%s: %d elements, want %d", path, len(g), len(w))
		}
		for i := range w {
			if err := keeps(w[i], g[i], fmt.Sprintf("%s[%d]", path, i)); err != nil {
				return err
			}
		}
		return nil
	case string:
		if g, ok := got.(map[string]any); ok {
			if g["id"] == w {
				return nil
			}
		}
	}
	if !reflect.DeepEqual(want, got) {
		return fmt.Errorf("%s: got %v, want %v", path, got, want)
	}
	return nil
}

func isEmpty(v any) bool {
	switch v := v.(type) {
	case nil:
		return true
	case string:
		return v == ""
	case []any:
		return len(v) == 0
	case map[string]any:
		return len(v) == 0
	}
	return false
}

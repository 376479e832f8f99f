package main

import (
	"strings"
	"testing"
)

// TestExportFileImportPostgres moves a history from the JSON file store to
// PostgreSQL and back with export and import: every event keeps its ID,
// stream, version, position, time, type, data and metadata, so each export is
// byte-identical, and the items read the same on both stores.
func TestExportFileImportPostgres(t *testing.T) {
	file := newEnv(t)
	pg := newPostgresEnv(t)
	file.create("Write the store", "--type", "story", "--priority", "high")
	file.create("Review it", "--description", "ünïcode ✓ \"quoted\"")
	file.ok("block", "J-2", "J-1")
	file.ok("claim", "J-1", "--actor", "alice")
	file.ok("status", "J-1", "in_progress", "--reason", "picked up", "--actor", "alice")
	file.ok("comment", "J-1", "half done")
	file.ok("status", "J-1", "done", "--actor", "alice")
	file.ok("initiative", "create", "Launch")
	file.ok("initiative", "add", "I-1", "J-2")
	export := file.ok("export")
	if n := strings.Count(export, "\n"); n < 10 {
		t.Fatalf("export has %d lines:\n%s", n, export)
	}

	if r := pg.runIn([]byte(export), "import"); r.code != 0 {
		t.Fatalf("import into PostgreSQL: exit %d: %s", r.code, r.stderr)
	}
	fromPG := pg.ok("export")
	if fromPG != export {
		t.Fatalf("PostgreSQL export differs from the file store's:\n%s\nwant\n%s", fromPG, export)
	}
	for _, args := range [][]string{
		{"show", "J-1", "--json"}, {"show", "J-2", "--json"}, {"history", "J-1", "--json"},
		{"show", "J-1", "--at", "2", "--json"}, {"initiative", "show", "I-1", "--json"},
		{"log", "--json"}, {"list", "--json"}, {"ready", "--json"},
	} {
		if got, want := pg.ok(args...), file.ok(args...); got != want {
			t.Errorf("jerry %s: PostgreSQL gives\n%s\nthe file store\n%s", strings.Join(args, " "), got, want)
		}
	}

	// And back: a fresh file store imported from PostgreSQL's export.
	back := newEnv(t)
	if r := back.runIn([]byte(fromPG), "import"); r.code != 0 {
		t.Fatalf("import back into a file store: exit %d: %s", r.code, r.stderr)
	}
	if got := back.ok("export"); got != export {
		t.Fatalf("round trip changed the history:\n%s\nwant\n%s", got, export)
	}
	// Both stores go on from the imported versions.
	pg.ok("comment", "J-2", "after import")
	file.ok("comment", "J-2", "after import")
	var a, b item
	pg.okJSON(&a, "show", "J-2")
	file.okJSON(&b, "show", "J-2")
	if a.Version != b.Version || len(a.Comments) != 1 {
		t.Fatalf("after import: PostgreSQL %+v, file %+v", a, b)
	}
}

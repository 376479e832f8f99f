package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/internal/pgtest"
)

// These tests build the jerry binary once and run it as a user would, each
// test on its own store in a temporary directory.

var jerryBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "jerry-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	jerryBin = filepath.Join(dir, "jerry")
	build := exec.Command("go", "build", "-o", jerryBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build jerry:", err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	code           int
	stdout, stderr string
}

// env is one store and the environment jerry runs with.
type env struct {
	t     *testing.T
	dir   string
	store string
}

func newEnv(t *testing.T) *env {
	dir := t.TempDir()
	return &env{t: t, dir: dir, store: "file:" + filepath.Join(dir, "store")}
}

// newPostgresEnv returns an env whose store is a fresh schema on the server
// JERRY_TEST_POSTGRES names, dropped when the test ends; it skips the test
// if the variable is unset.
func newPostgresEnv(t *testing.T) *env {
	return &env{t: t, dir: t.TempDir(), store: pgtest.URL(t, pgtest.Schema(t))}
}

// eachStore runs fn on a fresh JSON file store and, if one is configured,
// a fresh PostgreSQL schema.
func eachStore(t *testing.T, fn func(t *testing.T, e *env)) {
	t.Run("file", func(t *testing.T) { fn(t, newEnv(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, newPostgresEnv(t)) })
}

// run runs jerry with args against the env's store, as actor "tester"
// unless args say otherwise.
func (e *env) run(args ...string) result {
	return e.runIn(nil, args...)
}

func (e *env) runIn(stdin []byte, args ...string) result {
	e.t.Helper()
	cmd := exec.Command(jerryBin, args...)
	cmd.Dir = e.dir
	cmd.Env = append(os.Environ(), "JERRY_STORE="+e.store, "JERRY_ACTOR=tester", "TZ=UTC")
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		e.t.Fatalf("run jerry %v: %v", args, err)
	}
	return result{code, out.String(), errb.String()}
}

// ok runs jerry and fails the test unless it exits 0; it returns stdout.
func (e *env) ok(args ...string) string {
	e.t.Helper()
	r := e.run(args...)
	if r.code != 0 {
		e.t.Fatalf("jerry %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// okJSON runs jerry with --json and decodes its output.
func (e *env) okJSON(v any, args ...string) {
	e.t.Helper()
	out := e.ok(append(args, "--json")...)
	if err := json.Unmarshal([]byte(out), v); err != nil {
		e.t.Fatalf("jerry %s --json: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (e *env) create(title string, args ...string) string {
	e.t.Helper()
	return strings.TrimSpace(e.ok(append([]string{"create", title}, args...)...))
}

type item struct {
	ID       string `json:"id"`
	Status   string `json:"status"`
	Assignee string `json:"assignee"`
	Version  int64  `json:"version"`
	// UpdatedAt is the time of the item's last event.
	UpdatedAt time.Time `json:"updated_at"`
	Comments  []struct {
		Author, Text string
	} `json:"comments"`
}

type entry struct {
	Version int64  `json:"version"`
	Type    string `json:"type"`
	Actor   string `json:"actor"`
}

func TestShowAsOfAndAt(t *testing.T) { eachStore(t, testShowAsOfAndAt) }

func testShowAsOfAndAt(t *testing.T, e *env) {
	id := e.create("Time travel")
	time.Sleep(20 * time.Millisecond)
	mid := time.Now().UTC().Format(time.RFC3339Nano)
	time.Sleep(20 * time.Millisecond)
	e.ok("status", id, "in_progress", "--reason", "picked up")
	e.ok("comment", id, "half way")

	var then item
	e.okJSON(&then, "show", id, "--as-of", mid)
	if then.Status != "backlog" || then.Version != 1 {
		t.Fatalf("as of %s: %+v, want backlog at version 1", mid, then)
	}
	var at1, at2, now item
	e.okJSON(&at1, "show", id, "--at", "1")
	e.okJSON(&at2, "show", "--at", "2", id) // flags before positionals too
	e.okJSON(&now, "show", id)
	if at1.Status != "backlog" || at1.Version != 1 || at2.Status != "in_progress" || at2.Version != 2 {
		t.Fatalf("--at 1: %+v; --at 2: %+v", at1, at2)
	}
	if now.Version != 3 || len(now.Comments) != 1 || now.Comments[0].Author != "tester" {
		t.Fatalf("now: %+v", now)
	}
	if r := e.run("show", id, "--as-of", "2001-01-01"); r.code != exitNotFound {
		t.Fatalf("as of before creation: exit %d, %s", r.code, r.stderr)
	}
	// The human history says what changed.
	if h := e.ok("history", id); !strings.Contains(h, "status backlog -> in_progress (picked up)") {
		t.Fatalf("history:\n%s", h)
	}
}

// parallel runs n copies of fn at once and waits for them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { fn(i) })
	}
	wg.Wait()
}

func TestConcurrentClaimProcesses(t *testing.T) { eachStore(t, testConcurrentClaimProcesses) }

func testConcurrentClaimProcesses(t *testing.T, e *env) {
	id := e.create("Contested")
	codes := make([]int, 8)
	parallel(8, func(i int) {
		codes[i] = e.run("claim", id, "--actor", fmt.Sprint("agent-", i)).code
	})
	slices.Sort(codes)
	if want := []int{0, 3, 3, 3, 3, 3, 3, 3}; !slices.Equal(codes, want) {
		t.Fatalf("exit codes %v, want %v", codes, want)
	}
	var h []entry
	e.okJSON(&h, "history", id)
	claims := 0
	for _, en := range h {
		if en.Type == "workitem.claimed" {
			claims++
		}
	}
	if claims != 1 {
		t.Fatalf("history holds %d claims, want 1: %+v", claims, h)
	}
}

func TestConcurrentCommentProcesses(t *testing.T) { eachStore(t, testConcurrentCommentProcesses) }

func testConcurrentCommentProcesses(t *testing.T, e *env) {
	id := e.create("Busy")
	parallel(8, func(i int) {
		for j := range 25 {
			if r := e.run("comment", id, fmt.Sprintf("agent %d note %d", i, j), "--actor", fmt.Sprint("agent-", i)); r.code != 0 {
				t.Errorf("comment: exit %d: %s", r.code, r.stderr)
			}
		}
	})
	var it item
	e.okJSON(&it, "show", id)
	texts := map[string]bool{}
	for _, c := range it.Comments {
		texts[c.Text] = true
	}
	if len(it.Comments) != 200 || len(texts) != 200 {
		t.Fatalf("%d comments, %d distinct; want 200", len(it.Comments), len(texts))
	}
	var h []entry
	e.okJSON(&h, "history", id)
	for i, en := range h {
		if en.Version != int64(i+1) {
			t.Fatalf("history entry %d has version %d: versions not contiguous", i, en.Version)
		}
	}
	if len(h) != 201 {
		t.Fatalf("history has %d entries, want 201", len(h))
	}
}

func TestConcurrentCreateProcesses(t *testing.T) { eachStore(t, testConcurrentCreateProcesses) }

func testConcurrentCreateProcesses(t *testing.T, e *env) {
	var mu sync.Mutex
	ids := map[string]int{}
	parallel(8, func(i int) {
		for j := range 25 {
			r := e.run("create", fmt.Sprintf("item %d/%d", i, j))
			if r.code != 0 {
				t.Errorf("create: exit %d: %s", r.code, r.stderr)
				continue
			}
			mu.Lock()
			ids[strings.TrimSpace(r.stdout)]++
			mu.Unlock()
		}
	})
	if len(ids) != 200 {
		t.Fatalf("%d distinct IDs from 200 creates", len(ids))
	}
	var list []item
	e.okJSON(&list, "list")
	if len(list) != 200 {
		t.Fatalf("list shows %d items", len(list))
	}
}

func TestReadyClaimProcesses(t *testing.T) { eachStore(t, testReadyClaimProcesses) }

func testReadyClaimProcesses(t *testing.T, e *env) {
	for i := range 10 {
		e.create(fmt.Sprint("task ", i))
	}
	got := make([]string, 8)
	parallel(8, func(i int) {
		r := e.run("ready", "--claim", "--json", "--actor", fmt.Sprint("agent-", i))
		var it item
		if r.code != 0 || json.Unmarshal([]byte(r.stdout), &it) != nil {
			t.Errorf("ready --claim: exit %d: %s %s", r.code, r.stdout, r.stderr)
			return
		}
		if it.Assignee != fmt.Sprint("agent-", i) {
			t.Errorf("agent-%d got %s assigned to %s", i, it.ID, it.Assignee)
		}
		got[i] = it.ID
	})
	seen := map[string]bool{}
	for _, id := range got {
		if id == "" || seen[id] {
			t.Fatalf("claimed items %v: want 8 different", got)
		}
		seen[id] = true
	}
	var ready []item
	e.okJSON(&ready, "ready")
	if len(ready) != 2 {
		t.Fatalf("%d items still ready, want 2", len(ready))
	}
}

// keys returns the sorted keys of a JSON object.
func keys(t *testing.T, raw json.RawMessage) []string {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("not a JSON object: %s", raw)
	}
	return slices.Sorted(maps.Keys(m))
}

var (
	// itemFields are an item's fields; "claim" joins them while it has
	// an assignee.
	itemFields       = []string{"assignee", "blockers", "blocks", "comments", "created_at", "description", "id", "initiative", "labels", "priority", "status", "title", "type", "updated_at", "version"}
	historyFields    = []string{"actor", "data", "forced", "position", "time", "type", "version"}
	logFields        = []string{"data", "id", "metadata", "position", "stream", "time", "type", "version"}
	initiativeFields = []string{"created_at", "description", "id", "members", "status", "title", "updated_at", "version"}
	// initiativeDetailFields are what initiative show gives.
	initiativeDetailFields = []string{"created_at", "description", "id", "member_states", "members", "progress", "status", "title", "updated_at", "version"}
)

func TestJSONOutputs(t *testing.T) {
	e := newEnv(t)
	check := func(want []string, args ...string) {
		t.Helper()
		out := e.ok(append(args, "--json")...)
		var raw json.RawMessage
		if err := json.Unmarshal([]byte(out), &raw); err != nil {
			t.Fatalf("jerry %v --json: not one JSON document: %v\n%s", args, err, out)
		}
		if raw[0] == '[' {
			var list []json.RawMessage
			json.Unmarshal(raw, &list)
			if len(list) == 0 {
				t.Fatalf("jerry %v --json: empty list", args)
			}
			raw = list[0]
		}
		got := keys(t, raw)
		if slices.Equal(want, itemFields) {
			got = slices.DeleteFunc(got, func(k string) bool { return k == "claim" })
		}
		if !slices.Equal(got, want) {
			t.Errorf("jerry %v --json: fields %v, want %v", args, got, want)
		}
	}
	check([]string{"config", "created", "store"}, "init")
	check(itemFields, "create", "First", "--type", "bug", "--priority", "high", "--description", "d")
	check(itemFields, "create", "Second", "--expect-version", "0")
	check(initiativeFields, "initiative", "create", "Launch", "--description", "d")
	check(itemFields, "status", "J-1", "ready", "--reason", "triaged")
	check(itemFields, "edit", "J-1", "--title", "First!", "--priority", "critical")
	check(itemFields, "assign", "J-1", "bob")
	check(itemFields, "release", "J-1", "--force")
	check(itemFields, "claim", "J-1")
	check(itemFields, "comment", "J-1", "on it")
	check(itemFields, "block", "J-2", "J-1")
	check(itemFields, "unblock", "J-2", "J-1")
	check(itemFields, "status", "J-1", "done")
	check(itemFields, "reopen", "J-1", "--reason", "regressed")
	check(itemFields, "show", "J-1")
	check(itemFields, "show", "J-1", "--at", "1")
	check(itemFields, "show", "J-1", "--as-of", "now")
	check(historyFields, "history", "J-1")
	check(itemFields, "list")
	check(itemFields, "list", "--status", "backlog", "--as-of", "now")
	check(itemFields, "list", "--status", "backlog", "--type", "task")
	check(itemFields, "ready", "--limit", "1")
	check(initiativeFields, "initiative", "add", "I-1", "J-1")
	check(initiativeFields, "initiative", "remove", "I-1", "J-1")
	check(initiativeDetailFields, "initiative", "show", "I-1")
	check(initiativeDetailFields, "initiative", "show", "I-1", "--as-of", "now")
	check(initiativeFields, "initiative", "list")
	check(initiativeFields, "initiative", "complete", "I-1", "--force")
	check(historyFields, "initiative", "history", "I-1")
	check(itemFields, "ready", "--claim")
	check([]string{"events", "membership_splits", "ok", "problems", "repairs", "store_checked", "streams"}, "verify")
	check([]string{"events", "events_per_second", "initiatives", "items", "seconds"}, "rebuild")
	export := filepath.Join(e.dir, "export.jsonl")
	check([]string{"events", "file"}, "export", export)

	// log --json: one record per line.
	out := e.ok("log", "--json", "--limit", "3")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 {
		t.Fatalf("log --limit 3 gave %d lines", len(lines))
	}
	for _, l := range lines {
		if got := keys(t, json.RawMessage(l)); !slices.Equal(got, logFields) {
			t.Errorf("log --json: fields %v, want %v", got, logFields)
		}
	}
	if out := e.ok("log", "--json", "--all", "--from", "3", "--limit", "1"); !strings.Contains(out, `"position":3,`) {
		t.Errorf("log --from 3: %s", out)
	}

	// import --json into a fresh store.
	e2 := newEnv(t)
	data, err := os.ReadFile(export)
	if err != nil {
		t.Fatal(err)
	}
	r := e2.runIn(data, "import", "--json")
	if r.code != 0 || !slices.Equal(keys(t, json.RawMessage(r.stdout)), []string{"events"}) {
		t.Fatalf("import --json: exit %d: %s %s", r.code, r.stdout, r.stderr)
	}
}

func TestExportImportRoundTrip(t *testing.T) {
	e := newEnv(t)
	e.create("One", "--type", "spike")
	e.ok("comment", "J-1", "a note")
	e.ok("initiative", "create", "Launch")
	e.ok("initiative", "add", "I-1", "J-1")
	export := e.ok("export")

	e2 := newEnv(t)
	if r := e2.runIn([]byte(export), "import"); r.code != 0 {
		t.Fatalf("import: exit %d: %s", r.code, r.stderr)
	}
	if again := e2.ok("export"); again != export {
		t.Fatalf("export after import differs:\n%s\nwant\n%s", again, export)
	}
	// A second import finds the store not empty and writes nothing.
	if r := e2.runIn([]byte(export), "import"); r.code != exitFailure || !strings.Contains(r.stderr, "not empty") {
		t.Fatalf("import into non-empty store: exit %d: %s", r.code, r.stderr)
	}
	if again := e2.ok("export"); again != export {
		t.Fatal("a refused import changed the store")
	}
	// Invalid input writes nothing.
	e3 := newEnv(t)
	bad := strings.Replace(export, `"version":2`, `"version":7`, 1)
	if r := e3.runIn([]byte(bad), "import"); r.code != exitUsage {
		t.Fatalf("import of invalid input: exit %d: %s", r.code, r.stderr)
	}
	if out := e3.ok("export"); out != "" {
		t.Fatalf("a refused import wrote:\n%s", out)
	}
}

func TestBadInput(t *testing.T) {
	e := newEnv(t)
	e.create("A")
	e.create("B")
	e.ok("block", "J-2", "J-1")
	e.create("C")
	e.ok("claim", "J-3", "--actor", "alice")
	before := e.ok("export")
	tests := []struct {
		name string
		args []string
		code int
	}{
		{"unknown item", []string{"status", "J-99", "done"}, exitNotFound},
		{"unknown item show", []string{"show", "J-99"}, exitNotFound},
		{"unknown item claim", []string{"claim", "J-99"}, exitNotFound},
		{"unknown initiative", []string{"initiative", "add", "I-9", "J-1"}, exitNotFound},
		{"unknown blocker", []string{"block", "J-1", "J-99"}, exitNotFound},
		{"unknown status", []string{"status", "J-1", "doing"}, exitUsage},
		{"unknown type", []string{"create", "C", "--type", "epic"}, exitUsage},
		{"unknown priority", []string{"create", "C", "--priority", "urgent"}, exitUsage},
		{"empty title", []string{"create", " "}, exitUsage},
		{"invalid time", []string{"show", "J-1", "--as-of", "soonish"}, exitUsage},
		{"invalid time in list", []string{"list", "--as-of", "2026-02-30"}, exitUsage},
		{"unknown flag", []string{"create", "C", "--colour", "red"}, exitUsage},
		{"unknown command", []string{"frobnicate"}, exitUsage},
		{"invalid store URL", []string{"--store", "bogus://x", "create", "C"}, exitUsage},
		{"store URL without scheme", []string{"--store", "/tmp/x", "create", "C"}, exitUsage},
		{"missing argument", []string{"status", "J-1"}, exitUsage},
		{"missing title", []string{"create"}, exitUsage},
		{"too many arguments", []string{"claim", "J-1", "J-2"}, exitUsage},
		{"blocker cycle", []string{"block", "J-1", "J-2"}, exitUsage},
		{"self block", []string{"block", "J-1", "J-1"}, exitUsage},
		{"both --at and --as-of", []string{"show", "J-1", "--at", "1", "--as-of", "now"}, exitUsage},
		{"bad --at", []string{"show", "J-1", "--at", "x"}, exitUsage},
		{"stale --expect-version", []string{"comment", "J-1", "late", "--expect-version", "0"}, exitConflict},
		{"expect-version on status", []string{"status", "J-2", "ready", "--expect-version", "5"}, exitConflict},
		{"create with --expect-version 3", []string{"create", "C", "--expect-version", "3"}, exitConflict},
		{"blocked start", []string{"status", "J-2", "in_progress"}, exitUsage},
		{"done with an open blocker", []string{"status", "J-2", "done"}, exitUsage},
		{"heartbeat without a claim", []string{"heartbeat", "J-1"}, exitUsage},
		{"status of an item another holds", []string{"status", "J-3", "done"}, exitConflict},
		{"edit of an item another holds", []string{"edit", "J-3", "--title", "mine"}, exitConflict},
		{"assign of an item another holds", []string{"assign", "J-3", "bob"}, exitConflict},
		{"release of an item another holds", []string{"release", "J-3"}, exitConflict},
		{"claim of an item another holds", []string{"claim", "J-3"}, exitConflict},
		{"negative lease", []string{"claim", "J-1", "--lease", "-1s"}, exitUsage},
		{"bad lease", []string{"claim", "J-1", "--lease", "soon"}, exitUsage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, js := range []bool{false, true} {
				args := tt.args
				if js {
					args = append(slices.Clone(args), "--json")
				}
				r := e.run(args...)
				if r.code != tt.code {
					t.Fatalf("jerry %v: exit %d, want %d; stderr: %s", args, r.code, tt.code, r.stderr)
				}
				if r.stdout != "" {
					t.Errorf("jerry %v: stdout %q, want nothing", args, r.stdout)
				}
				msg := strings.TrimSuffix(r.stderr, "\n")
				if msg == "" || strings.Contains(msg, "\n") {
					t.Errorf("jerry %v: stderr %q, want one line", args, r.stderr)
				}
				if js {
					var doc struct {
						Error struct{ Code, Message string }
					}
					if err := json.Unmarshal([]byte(r.stderr), &doc); err != nil || doc.Error.Code == "" || doc.Error.Message == "" {
						t.Errorf("jerry %v: stderr %q is not {\"error\":{\"code\",\"message\"}}", args, r.stderr)
					}
				} else if !strings.HasPrefix(msg, "jerry: ") {
					t.Errorf("jerry %v: stderr %q", args, msg)
				}
			}
		})
	}
	if after := e.ok("export"); after != before {
		t.Fatalf("bad input wrote events:\n%s", strings.TrimPrefix(after, before))
	}
}

func TestStoreDiscovery(t *testing.T) {
	dir := t.TempDir()
	sub := filepath.Join(dir, "a", "b")
	os.MkdirAll(sub, 0o755)
	run := func(cwd string, args ...string) result {
		cmd := exec.Command(jerryBin, args...)
		cmd.Dir = cwd
		cmd.Env = append(os.Environ(), "JERRY_STORE=", "JERRY_ACTOR=")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		}
		return result{code, out.String(), errb.String()}
	}
	if r := run(dir, "init"); r.code != 0 {
		t.Fatalf("init: %d %s", r.code, r.stderr)
	}
	// From a subdirectory, jerry finds the parent's .jerry.
	if r := run(sub, "create", "found it", "--actor", "ann"); r.code != 0 || strings.TrimSpace(r.stdout) != "J-1" {
		t.Fatalf("create in subdir: %d %q %s", r.code, r.stdout, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(sub, ".jerry")); err == nil {
		t.Fatal("jerry made a new store instead of finding the parent's")
	}
	r := run(dir, "history", "J-1", "--json")
	var h []entry
	if json.Unmarshal([]byte(r.stdout), &h) != nil || len(h) != 1 || h[0].Actor != "ann" {
		t.Fatalf("history: %s %s", r.stdout, r.stderr)
	}
}

func TestVerifyReportsDamage(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.create(fmt.Sprint("item ", i))
	}
	if out := e.ok("verify"); !strings.HasPrefix(out, "ok: 6 events in 4 streams") {
		t.Fatalf("verify of a sound store: %s", out)
	}
	// Flip one byte inside the second item's title.
	path := filepath.Join(strings.TrimPrefix(e.store, "file:"), "events.jsonl")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte("item 1"))
	b[i] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	r := e.run("verify")
	if r.code != exitFailure || !strings.Contains(r.stdout, "events.jsonl at offset") || !strings.Contains(r.stdout, "checksum") {
		t.Fatalf("verify of a damaged store: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

// show of a past state gives its blockers' statuses at that time too, not
// today's.
func TestShowPastBlockerStatus(t *testing.T) {
	e := newEnv(t)
	blocker := e.create("Blocker")
	id := e.create("Waits")
	e.ok("block", id, blocker)
	var then item
	e.okJSON(&then, "show", id)
	e.ok("status", blocker, "done")
	for _, args := range [][]string{
		{"show", id, "--as-of", then.UpdatedAt.Format(time.RFC3339Nano)},
		{"show", id, "--at", fmt.Sprint(then.Version)},
	} {
		out := e.ok(args...)
		if !strings.Contains(out, blocker+" (backlog)") {
			t.Errorf("jerry %s: want %s (backlog), as it was then:\n%s", strings.Join(args, " "), blocker, out)
		}
	}
	if out := e.ok("show", id); !strings.Contains(out, blocker+" (done)") {
		t.Errorf("jerry show %s: want %s (done):\n%s", id, blocker, out)
	}
}

// An acknowledged tail cut short (the last newline removed) is damage, not a
// torn write: every command refuses naming the log, and verify --repair cuts
// back to the last whole append and says that data was lost. Lost derived
// files are rebuilt by repair, and answers stay right.
func TestVerifyRepair(t *testing.T) {
	e := newEnv(t)
	for i := range 3 {
		e.create(fmt.Sprint("item ", i))
	}
	dir := strings.TrimPrefix(e.store, "file:")
	// A derived file lost: rebuilt or refused, never a wrong answer.
	os.Remove(filepath.Join(dir, "streams", "workitem-_4a-2.idx"))
	if r := e.run("show", "J-2"); r.code != 0 && !strings.Contains(r.stderr, "workitem-_4a-2.idx") {
		t.Fatalf("show with its index gone: exit %d: %s", r.code, r.stderr)
	}
	log := filepath.Join(dir, "events.jsonl")
	fi, err := os.Stat(log)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(log, fi.Size()-1); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"show", "J-1"}, {"create", "more"}, {"verify"}} {
		r := e.run(args...)
		if r.code != exitFailure || !strings.Contains(r.stderr+r.stdout, "events.jsonl") {
			t.Fatalf("jerry %v on a cut log: exit %d\n%s%s", args, r.code, r.stdout, r.stderr)
		}
	}
	r := e.run("verify", "--repair")
	if r.code != 0 || !strings.Contains(r.stderr, "repaired") {
		t.Fatalf("verify --repair: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := e.run("show", "J-3"); r.code != exitNotFound {
		t.Fatalf("the cut append's item: exit %d", r.code)
	}
	e.ok("show", "J-2")
	e.ok("verify")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
	"github.com/jerry-es/jerry/tracker/board"
	"github.com/jerry-es/jerry/tracker/board/boardtest"
)

// boardItem is an item as list, ready and search print it in JSON.
type boardItem struct {
	ID         string    `json:"id"`
	Title      string    `json:"title"`
	Status     string    `json:"status"`
	Priority   string    `json:"priority"`
	Type       string    `json:"type"`
	Assignee   string    `json:"assignee"`
	Initiative string    `json:"initiative"`
	Labels     []string  `json:"labels"`
	Version    int64     `json:"version"`
	CreatedAt  time.Time `json:"created_at"`
	UpdatedAt  time.Time `json:"updated_at"`
}

func (e *env) ids(args ...string) []string {
	e.t.Helper()
	var items []boardItem
	e.okJSON(&items, args...)
	out := []string{}
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestLabelsFiltersAndSort(t *testing.T) { eachStore(t, testLabelsFiltersAndSort) }

func testLabelsFiltersAndSort(t *testing.T, e *env) {
	in := strings.TrimSpace(e.ok("initiative", "create", "Q4"))
	a := e.create("Fix the login timeout", "--type", "bug", "--priority", "high", "--label", "UI,backend")
	b := e.create("Write the guide", "--type", "chore", "--initiative", in)
	c := e.create("Speed up export", "--priority", "critical", "--label", "backend", "--label", "perf")
	d := e.create("Old idea", "--priority", "low")
	e.ok("label", b, "add", "docs", "ui")
	e.ok("label", a, "remove", "ui")
	if out := e.ok("label", a, "add", "backend"); !strings.Contains(out, a) {
		t.Fatalf("label add of a present label: %q", out)
	}
	e.ok("claim", c, "--actor", "bob")
	e.ok("status", d, "cancelled")
	e.ok("status", b, "ready")
	if r := e.run("label", a, "add", "not ok"); r.code != 2 {
		t.Fatalf("a bad label: exit %d, %s", r.code, r.stderr)
	}
	var it boardItem
	e.okJSON(&it, "show", a)
	if !slices.Equal(it.Labels, []string{"backend"}) || it.Version != 3 {
		t.Fatalf("show %s: labels %v, version %d; want [backend], 3 (adding a present label records nothing)", a, it.Labels, it.Version)
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"list"}, []string{a, b, c}}, // cancelled hidden
		{[]string{"list", "--all"}, []string{a, b, c, d}},
		{[]string{"list", "--status", "cancelled"}, []string{d}},
		{[]string{"list", "--status", "ready,backlog"}, []string{a, b, c}},
		{[]string{"list", "--status", "ready", "--status", "backlog"}, []string{a, b, c}},
		{[]string{"list", "--status", "ready"}, []string{b}},
		{[]string{"list", "--label", "backend"}, []string{a, c}},
		{[]string{"list", "--label", "backend,perf"}, []string{c}},
		{[]string{"list", "--label", "UI", "--status", "ready"}, []string{b}},
		{[]string{"list", "--assignee", "none"}, []string{a, b}},
		{[]string{"list", "--assignee", "bob,none", "--type", "task"}, []string{c}},
		{[]string{"list", "--type", "bug,chore"}, []string{a, b}},
		{[]string{"list", "--priority", "0,high"}, []string{a, c}},
		{[]string{"list", "--initiative", in}, []string{b}},
		{[]string{"list", "--initiative", "none"}, []string{a, c}},
		{[]string{"list", "--sort", "priority"}, []string{c, a, b}},
		{[]string{"list", "--sort", "created", "--limit", "2"}, []string{c, b}},
		{[]string{"list", "--sort", "updated", "--all", "--limit", "1"}, []string{b}},
		{[]string{"list", "--sort", "id", "--limit", "1"}, []string{a}},
		{[]string{"ready"}, []string{a, b}},
		{[]string{"ready", "--label", "docs"}, []string{b}},
		{[]string{"ready", "--limit", "1"}, []string{a}},
	} {
		if got := e.ids(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("jerry %s = %v, want %v", strings.Join(c.args, " "), got, c.want)
		}
	}
	if r := e.run("list", "--sort", "size"); r.code != 2 {
		t.Errorf("list --sort size: exit %d", r.code)
	}
	if help := e.ok("list", "--help"); !strings.Contains(help, "done and cancelled") {
		t.Errorf("list --help does not say what is hidden:\n%s", help)
	}
}

func TestSearch(t *testing.T) { eachStore(t, testSearch) }

func testSearch(t *testing.T, e *env) {
	a := e.create("Speed up the login page", "--label", "ui")
	b := e.create("Export billing reports", "--description", "the login export")
	c := e.create("Retry uploads")
	e.ok("comment", c, "the login retry loops")
	e.ok("status", c, "done")
	// Title first, then description; comment matches of done items only
	// with --all.
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"search", "login"}, []string{a, b}},
		{[]string{"search", "login", "--all"}, []string{a, b, c}},
		{[]string{"search", "LOG", "--all", "--limit", "1"}, []string{a}},
		{[]string{"search", "login", "--label", "ui"}, []string{a}},
		{[]string{"search", "retry", "loops", "--status", "done"}, []string{c}},
		{[]string{"search", "zebra"}, []string{}},
	} {
		if got := e.ids(tc.args...); !slices.Equal(got, tc.want) {
			t.Errorf("jerry %s = %v, want %v", strings.Join(tc.args, " "), got, tc.want)
		}
	}
	if out := e.ok("search", "zebra"); !strings.Contains(out, "no match") {
		t.Errorf("search with no match printed %q", out)
	}
}

// TestListAsOfEqualsFold imports a randomized history of 2,000 events with
// times spread over weeks (and now and then going backwards), and checks
// list, ready and initiative list --as-of many times against a fold of the
// log up to each time.
func TestListAsOfEqualsFold(t *testing.T) {
	ctx := context.Background()
	src := memstore.New()
	w := boardtest.NewWriter(src, 42)
	if err := w.Fill(ctx, src, 2000); err != nil {
		t.Fatal(err)
	}
	var export bytes.Buffer
	if _, err := app.New(src, src, src).Export(ctx, &export); err != nil {
		t.Fatal(err)
	}
	e := newEnv(t)
	file := filepath.Join(e.dir, "history.jsonl")
	if err := os.WriteFile(file, export.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	e.ok("import", file)
	reg := app.New(src, src, src).Registry()
	span := w.Latest.Sub(boardtest.T0)
	for k := range 10 {
		at := boardtest.T0.Add(span * time.Duration(k) / 9).Add(-time.Duration(k) * time.Minute)
		f, err := boardtest.FoldLog(ctx, src, reg, 0, at)
		if err != nil {
			t.Fatal(err)
		}
		stamp := at.Format(time.RFC3339)
		for _, args := range [][]string{{"list", "--all"}, {"list", "--label", "ui"}, {"ready"}, {"list", "--assignee", "none", "--sort", "priority", "--limit", "30"}} {
			var got []boardItem
			e.okJSON(&got, append(args, "--as-of", stamp)...)
			q, ready := board.Query{All: len(args) > 1 && args[1] == "--all"}, args[0] == "ready"
			switch {
			case len(args) > 2 && args[1] == "--label":
				q.Labels = []string{"ui"}
			case len(args) > 2 && args[1] == "--assignee":
				q.Assignees, q.Sort, q.Limit = []string{""}, board.ByPriority, 30
			}
			want := f.Select(q, ready)
			if ready {
				// Ready is the pool: open, not set to blocked, unassigned
				// or with an expired claim, every blocker done.
				want = nil
				for _, it := range f.Select(board.Query{All: true, Sort: board.ByPriority}, false) {
					if it.Status.Closed() || it.Status == tracker.Blocked || !it.Available(at) ||
						it.Status == tracker.InProgress && it.Assignee == "" {
						continue
					}
					done := true
					for _, b := range it.Blockers {
						if bi := f.Items[b]; bi == nil || bi.Status != tracker.Done {
							done = false
						}
					}
					if done {
						want = append(want, it)
					}
				}
			}
			if len(got) != len(want) {
				t.Fatalf("jerry %v as of %s: %d items, the fold %d", args, stamp, len(got), len(want))
			}
			for i := range want {
				g, w := got[i], want[i]
				if g.ID != w.ID || g.Status != string(w.Status) || g.Title != w.Title || g.Assignee != w.Assignee ||
					g.Priority != string(w.Priority) || g.Initiative != w.Initiative || g.Version != w.Version ||
					!g.UpdatedAt.Equal(w.UpdatedAt) || !slices.Equal(g.Labels, append([]string{}, w.Labels...)) {
					t.Fatalf("jerry %v as of %s, item %d:\n got %+v\nwant %+v", args, stamp, i, g, w)
				}
			}
		}
		var inits []struct {
			ID      string   `json:"id"`
			Status  string   `json:"status"`
			Members []string `json:"members"`
		}
		e.okJSON(&inits, "initiative", "list", "--as-of", stamp)
		want := f.Initiatives()
		if len(inits) != len(want) {
			t.Fatalf("initiative list as of %s: %d, the fold %d", stamp, len(inits), len(want))
		}
		for i := range want {
			if inits[i].ID != want[i].ID || inits[i].Status != string(want[i].Status) || !slices.Equal(inits[i].Members, append([]string{}, want[i].Members...)) {
				t.Fatalf("initiative list as of %s: %+v, want %+v", stamp, inits[i], want[i])
			}
		}
	}
}

func TestLogFeed(t *testing.T) {
	e := newEnv(t)
	a := e.create("First")
	e.ok("comment", a, "one", "--actor", "bob")
	mid := time.Now()
	time.Sleep(20 * time.Millisecond)
	b := e.create("Second")
	e.ok("comment", b, "two", "--actor", "bob")
	e.ok("status", a, "done")
	type rec struct {
		Position int64  `json:"position"`
		Stream   string `json:"stream"`
		Type     string `json:"type"`
		Metadata struct {
			Actor string `json:"actor"`
		} `json:"metadata"`
	}
	feed := func(args ...string) []string {
		t.Helper()
		out := e.ok(append([]string{"log", "--json"}, args...)...)
		var got []string
		for _, l := range strings.Split(strings.TrimSpace(out), "\n") {
			if l == "" {
				continue
			}
			var r rec
			if err := json.Unmarshal([]byte(l), &r); err != nil {
				t.Fatal(err)
			}
			got = append(got, strings.TrimPrefix(r.Stream, "workitem-")+" "+r.Type+" "+r.Metadata.Actor)
		}
		return got
	}
	for _, c := range []struct {
		args []string
		want []string
	}{
		{nil, []string{"J-1 workitem.created tester", "J-1 workitem.commented bob", "J-2 workitem.created tester",
			"J-2 workitem.commented bob", "J-1 workitem.status_changed tester"}},
		{[]string{"--since", mid.Format(time.RFC3339Nano)}, []string{"J-2 workitem.created tester", "J-2 workitem.commented bob",
			"J-1 workitem.status_changed tester"}},
		{[]string{"--until", mid.Format(time.RFC3339Nano)}, []string{"J-1 workitem.created tester", "J-1 workitem.commented bob"}},
		{[]string{"--item", "1"}, []string{"J-1 workitem.created tester", "J-1 workitem.commented bob", "J-1 workitem.status_changed tester"}},
		{[]string{"--by", "bob"}, []string{"J-1 workitem.commented bob", "J-2 workitem.commented bob"}},
		{[]string{"--type", "workitem.commented", "--reverse"}, []string{"J-2 workitem.commented bob", "J-1 workitem.commented bob"}},
		{[]string{"--limit", "2", "--reverse"}, []string{"J-1 workitem.status_changed tester", "J-2 workitem.commented bob"}},
		{[]string{"--limit", "1"}, []string{"J-1 workitem.created tester"}},
		{[]string{"--all", "--type", "id.allocated"}, []string{"jerry-ids-workitem id.allocated tester", "jerry-ids-workitem id.allocated tester"}},
	} {
		if got := feed(c.args...); !slices.Equal(got, c.want) {
			t.Errorf("log %v:\n got %q\nwant %q", c.args, got, c.want)
		}
	}
	if out := e.ok("log", "--since", "1h ago"); strings.Contains(out, "jerry-ids") || strings.Count(out, "\n") != 5 {
		t.Errorf("log --since 1h ago:\n%s", out)
	}
}

var _ = tracker.Backlog

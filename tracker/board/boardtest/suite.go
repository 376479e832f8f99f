// Package boardtest is the shared test suite of Jerry's read model
// (package board): every event store backend runs it from its own tests,
// in the way es/estest tests the stores themselves.
//
//	func TestBoard(t *testing.T) {
//		boardtest.Run(t, boardtest.Config{New: ..., Open: ...})
//	}
//
// It checks the model against an oracle that folds the log with the
// aggregates' own folds ([FoldLog]): lists, filters, sorts, ready, search,
// initiatives and the feed, now and as of past times on a randomized
// history; catch-up in batches, exactly once per event; rebuilds; damaged,
// missing and foreign model files; and, for stores that other processes
// can open, catch-up after another process's writes, kill -9 in the middle
// of a catch-up, and two processes catching up at once.
package boardtest

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/board"
)

// Store is what the model reads: a store with a global log.
type Store interface {
	es.EventStore
	es.LogReader
}

// Config describes a backend to the suite.
type Config struct {
	// New returns a new, empty store, and a locator that Open takes in
	// another process to open the same store ("" if other processes
	// cannot). It registers its own cleanup with t. Required.
	New func(t testing.TB) (Store, string)
	// Open opens the store a locator names, in a child process, and
	// returns it with a function that closes it.
	Open func(locator string) (Store, func(), error)
	// Events is how many events the randomized history holds (and at
	// most how many the process tests write); 0 means 2,000.
	Events int64
}

// childEnv makes the test binary a child of the suite: see Main.
const childEnv = "BOARDTEST_CHILD"

// Main runs a child of the suite if this process is one, and returns
// otherwise. Call it first in TestMain.
func Main(cfg Config) {
	mode := os.Getenv(childEnv)
	if mode == "" {
		return
	}
	if err := runChild(cfg, mode, os.Getenv("BOARDTEST_STORE"), os.Getenv("BOARDTEST_MODEL")); err != nil {
		fmt.Fprintln(os.Stderr, "child:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func runChild(cfg Config, mode, locator, model string) error {
	ctx := context.Background()
	st, closeStore, err := cfg.Open(locator)
	if err != nil {
		return err
	}
	defer closeStore()
	switch mode {
	case "write":
		w := NewWriter(st, uint64(time.Now().UnixNano()))
		last, err := st.LastPosition(ctx)
		if err != nil {
			return err
		}
		// Go on from the items the store has.
		w.Clock = T0.Add(48 * time.Hour)
		if err := w.Resume(ctx, st); err != nil {
			return err
		}
		return w.Fill(ctx, st, last+200)
	case "list":
		// One list command, as jerry list runs it: its peak memory is
		// what the parent measures.
		b, err := board.Open(ctx, model, st, registry(), board.Options{})
		if err != nil {
			return err
		}
		defer b.Close()
		if _, err := b.CatchUp(ctx, nil); err != nil {
			return err
		}
		items, err := b.Items(ctx, board.Query{})
		fmt.Println(len(items))
		return err
	case "catchup":
		reg := es.NewRegistry()
		tracker.Register(reg)
		batch, _ := strconv.Atoi(os.Getenv("BOARDTEST_BATCH"))
		b, err := board.Open(ctx, model, st, reg, board.Options{BatchSize: batch})
		if err != nil {
			return err
		}
		defer b.Close()
		_, err = b.CatchUp(ctx, func(done, pos, last int64) { fmt.Printf("at %d\n", pos) })
		return err
	}
	return fmt.Errorf("unknown child mode %q", mode)
}

// Run runs the suite.
func Run(t *testing.T, cfg Config) {
	if cfg.Events == 0 {
		cfg.Events = 2000
	}
	if raceEnabled && cfg.Events < 2000 {
		// Only the 2,000-event history must stay whole.
		cfg.Events = min(cfg.Events, 200)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, cfg Config)
	}{
		{"NowAndAsOfEqualTheFold", testAsOf},
		{"CatchUpInBatches", testBatches},
		{"Rebuild", testRebuild},
		{"Search", testSearch},
		{"Feed", testFeed},
		{"DependencyPath", testDependencies},
		{"DamagedModel", testDamaged},
		{"ForeignModel", testForeign},
		{"OtherProcessWrites", testOtherProcess},
		{"KillDuringCatchUp", testKill},
		{"TwoProcessesCatchUp", testTwoProcesses},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { tt.fn(t, cfg) })
	}
}

// sz scales a history's size down under the race detector.
func sz(n int64) int64 {
	if raceEnabled {
		return n / 3
	}
	return n
}

func registry() *es.Registry {
	reg := es.NewRegistry()
	tracker.Register(reg)
	return reg
}

func open(t testing.TB, path string, st Store, opts board.Options) *board.Board {
	t.Helper()
	b, err := board.Open(context.Background(), path, st, registry(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func filled(t testing.TB, cfg Config, n int64, seed uint64) (Store, string, *Writer) {
	t.Helper()
	st, loc := cfg.New(t)
	w := NewWriter(st, seed)
	if err := w.Fill(context.Background(), st, n); err != nil {
		t.Fatal(err)
	}
	return st, loc, w
}

func catchUp(t testing.TB, b *board.Board) int64 {
	t.Helper()
	pos, err := b.CatchUp(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	return pos
}

// queries are the selections the suite compares with the oracle; under
// the race detector, every third of them.
func queries() []board.Query {
	qs := allQueries()
	if raceEnabled {
		var some []board.Query
		for i := 0; i < len(qs); i += 3 {
			some = append(some, qs[i])
		}
		return some
	}
	return qs
}

func allQueries() []board.Query {
	return []board.Query{
		{},
		{All: true},
		{All: true, Sort: board.ByPriority, Limit: 7},
		{Sort: board.ByCreated, Limit: 5},
		{Sort: board.ByUpdated, Limit: 9},
		{Statuses: []tracker.Status{tracker.Ready, tracker.InProgress}},
		{Statuses: []tracker.Status{tracker.Done}},
		{Assignees: []string{""}},
		{Assignees: []string{"alice", "bob"}, All: true},
		{Types: []tracker.ItemType{tracker.Bug}, Priorities: []tracker.Priority{tracker.Critical, tracker.High}},
		{Labels: []string{"ui"}},
		{Labels: []string{"ui", "db"}, All: true},
		{Labels: []string{"backend"}, Statuses: []tracker.Status{tracker.Ready}},
		{Initiatives: []string{"I-1"}, All: true},
		{Initiatives: []string{""}, Limit: 10},
	}
}

// check compares the model with the fold of the log up to its position.
func check(t testing.TB, b *board.Board, st Store, asOf time.Time) {
	t.Helper()
	ctx := context.Background()
	pos, err := b.Position(ctx)
	if err != nil {
		t.Fatal(err)
	}
	f, err := FoldLog(ctx, st, registry(), pos, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if asOf.IsZero() && int64(f.Events) != pos {
		t.Fatalf("fold read %d events up to position %d", f.Events, pos)
	}
	for _, q := range queries() {
		q.AsOf = asOf
		for _, ready := range []bool{false, true} {
			want := f.Select(q, ready)
			var got []tracker.Item
			if ready {
				got, err = b.Ready(ctx, q)
			} else {
				got, err = b.Items(ctx, q)
			}
			if err != nil {
				t.Fatalf("query %+v: %v", q, err)
			}
			if d := diff(got, want); d != "" {
				t.Fatalf("as of %v, position %d, ready %v, query %+v: %s", asOf, pos, ready, q, d)
			}
			if asOf.IsZero() {
				checkBrief(t, b, q, ready, want)
			}
		}
	}
	if asOf.IsZero() {
		checkStuck(t, b, f)
	}
	inits, err := b.Initiatives(ctx, asOf)
	if err != nil {
		t.Fatal(err)
	}
	if want := f.Initiatives(); !reflect.DeepEqual(inits, want) && !(len(inits) == 0 && len(want) == 0) {
		t.Fatalf("initiatives as of %v:\n got %+v\nwant %+v", asOf, inits, want)
	}
	if !asOf.IsZero() {
		return
	}
	// Now, with comments: every item in full.
	all, err := b.Items(ctx, board.Query{All: true, Comments: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != len(f.Items) {
		t.Fatalf("model has %d items, the log %d", len(all), len(f.Items))
	}
	for _, it := range all {
		if d := diff([]tracker.Item{it}, []tracker.Item{*f.Items[it.ID]}); d != "" {
			t.Fatalf("item %s: %s", it.ID, d)
		}
	}
	// The feed holds every event once.
	feed, err := b.Feed(ctx, board.FeedQuery{All: true})
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(feed)) != pos {
		t.Fatalf("feed holds %d events, the model is at %d", len(feed), pos)
	}
	for i, e := range feed {
		if e.Position != int64(i+1) {
			t.Fatalf("feed entry %d has position %d", i, e.Position)
		}
	}
	visible, err := b.Feed(ctx, board.FeedQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if len(visible) != f.Feed {
		t.Fatalf("feed shows %d events without bookkeeping, want %d", len(visible), f.Feed)
	}
}

// checkStuck checks that Stuck finds what the fold finds, in full and
// brief, now and at the median of the claims' expiries (some expired,
// some not).
func checkStuck(t testing.TB, b *board.Board, f *Fold) {
	t.Helper()
	var exp []time.Time
	for _, it := range f.Items {
		if it.Claim != nil {
			exp = append(exp, it.Claim.ExpiresAt())
		}
	}
	nows := []time.Time{time.Now()}
	if len(exp) > 0 {
		slices.SortFunc(exp, time.Time.Compare)
		nows = append(nows, exp[len(exp)/2])
	}
	for _, now := range nows {
		want := f.Stuck(now)
		got, err := b.Stuck(context.Background(), now, false)
		if err != nil {
			t.Fatal(err)
		}
		if d := diff(got, want); d != "" {
			t.Fatalf("stuck at %v: %s", now, d)
		}
		got, err = b.Stuck(context.Background(), now, true)
		if err != nil {
			t.Fatal(err)
		}
		briefs := make([]tracker.Item, len(want))
		for i, it := range want {
			briefs[i] = tracker.Item{ID: it.ID, Title: it.Title, Type: it.Type, Status: it.Status, Priority: it.Priority,
				Assignee: it.Assignee, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt,
				Blockers: it.Blockers, Claim: it.Claim, StatusReason: it.StatusReason}
		}
		if d := diff(got, briefs); d != "" {
			t.Fatalf("brief stuck at %v: %s", now, d)
		}
	}
}

// checkBrief checks that q with Brief selects the items want, in its
// order, with the fields a brief row holds.
func checkBrief(t testing.TB, b *board.Board, q board.Query, ready bool, want []tracker.Item) {
	t.Helper()
	ctx := context.Background()
	q.Brief = true
	var got []tracker.Item
	var err error
	if ready {
		got, err = b.Ready(ctx, q)
	} else {
		got, err = b.Items(ctx, q)
	}
	if err != nil {
		t.Fatalf("query %+v: %v", q, err)
	}
	briefs := make([]tracker.Item, len(want))
	for i, it := range want {
		briefs[i] = tracker.Item{ID: it.ID, Title: it.Title, Type: it.Type, Status: it.Status, Priority: it.Priority,
			Assignee: it.Assignee, CreatedAt: it.CreatedAt, UpdatedAt: it.UpdatedAt}
	}
	if d := diff(got, briefs); d != "" {
		t.Fatalf("ready %v, brief query %+v: %s", ready, q, d)
	}
}

// diff describes the first difference between two lists of items, with
// empty and nil slices taken as equal; "" if there is none.
func diff(got, want []tracker.Item) string {
	for i := range max(len(got), len(want)) {
		if i >= len(got) || i >= len(want) {
			return fmt.Sprintf("got %d items, want %d; first extra or missing at %d", len(got), len(want), i)
		}
		g, w := norm(got[i]), norm(want[i])
		if !reflect.DeepEqual(g, w) {
			return fmt.Sprintf("item %d of %d:\n got %+v\nwant %+v", i, len(want), g, w)
		}
	}
	return ""
}

func norm(it tracker.Item) tracker.Item {
	if len(it.Comments) == 0 {
		it.Comments = nil
	}
	if len(it.Labels) == 0 {
		it.Labels = nil
	}
	if len(it.Blockers) == 0 {
		it.Blockers = nil
	}
	return it
}

func testAsOf(t *testing.T, cfg Config) {
	st, _, w := filled(t, cfg, cfg.Events, 1)
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{})
	catchUp(t, b)
	check(t, b, st, time.Time{})
	// Times across the whole history, some on an event's exact time.
	rnd := rand.New(rand.NewPCG(7, 8))
	span := w.Latest.Sub(T0)
	times := []time.Time{T0.Add(-time.Hour), T0, w.Latest.Add(time.Hour)}
	n := 12
	if raceEnabled {
		n = 3
	}
	for range n {
		times = append(times, T0.Add(time.Duration(rnd.Int64N(int64(span)))).Truncate(time.Minute))
	}
	for _, at := range times {
		check(t, b, st, at)
	}
}

func testBatches(t *testing.T, cfg Config) {
	st, _, w := filled(t, cfg, sz(300), 2)
	path := filepath.Join(t.TempDir(), "board.db")
	b := open(t, path, st, board.Options{BatchSize: 7})
	var calls int
	pos, err := b.CatchUp(context.Background(), func(done, pos, last int64) { calls++ })
	if err != nil {
		t.Fatal(err)
	}
	if last, _ := st.LastPosition(context.Background()); pos != last {
		t.Fatalf("caught up to %d, log ends at %d", pos, last)
	}
	if int64(calls) < sz(300)/7 {
		t.Fatalf("%d transactions for %d events in batches of 7", calls, sz(300))
	}
	check(t, b, st, time.Time{})
	// More events, then a catch-up of only those, from a model reopened.
	if err := w.Fill(context.Background(), st, sz(450)); err != nil {
		t.Fatal(err)
	}
	b.Close()
	b = open(t, path, st, board.Options{BatchSize: 50})
	catchUp(t, b)
	check(t, b, st, time.Time{})
	check(t, b, st, w.Clock.Add(-10*time.Hour))
	// Nothing new: nothing applied.
	pos2 := catchUp(t, b)
	if pos2 < sz(450) {
		t.Fatalf("position %d after catching up %d events", pos2, sz(450))
	}
}

func testRebuild(t *testing.T, cfg Config) {
	st, _, _ := filled(t, cfg, sz(400), 3)
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{BatchSize: 25})
	catchUp(t, b)
	var last int64
	var reports int
	pos, err := b.Rebuild(context.Background(), func(done, pos, total int64) {
		reports++
		if done < last {
			t.Errorf("progress went back from %d to %d", last, done)
		}
		last = done
	})
	if err != nil {
		t.Fatal(err)
	}
	if last != pos || reports < 4 {
		t.Fatalf("rebuild reported %d events in %d reports, reached %d", last, reports, pos)
	}
	check(t, b, st, time.Time{})
}

func testSearch(t *testing.T, cfg Config) {
	ctx := context.Background()
	st, _ := cfg.New(t)
	w := NewWriter(st, 4)
	a, _ := w.CreateItem(ctx, "Speed up the login page", "ui")
	bID, _ := w.CreateItem(ctx, "Export billing reports")
	c, _ := w.CreateItem(ctx, "Retry uploads", "ui")
	wi, _ := w.load(ctx, c)
	wi.Comment("bob", "the login retry loops forever")
	wi.ChangeStatus(tracker.Done, "", tracker.Act{Actor: "bob", Now: w.Clock, Force: true}, nil)
	if err := w.save(ctx, wi); err != nil {
		t.Fatal(err)
	}
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{})
	catchUp(t, b)
	ids := func(q board.Query, text string) []string {
		t.Helper()
		hits, err := b.Search(ctx, text, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, h := range hits {
			out = append(out, h.ID)
		}
		return out
	}
	// A title match ranks above a comment match; done items only with All.
	if got := ids(board.Query{All: true}, "login"); !slices.Equal(got, []string{a, c}) {
		t.Fatalf("search login = %v, want [%s %s]", got, a, c)
	}
	if got := ids(board.Query{}, "LOGIN"); !slices.Equal(got, []string{a}) {
		t.Fatalf("search LOGIN (open items) = %v, want [%s]", got, a)
	}
	if got := ids(board.Query{All: true}, "bill"); !slices.Equal(got, []string{bID}) {
		t.Fatalf("search bill (a prefix) = %v, want [%s]", got, bID)
	}
	if got := ids(board.Query{All: true, Labels: []string{"ui"}}, "retry login"); !slices.Equal(got, []string{c}) {
		t.Fatalf("search 'retry login' with label ui = %v, want [%s]", got, c)
	}
	if got := ids(board.Query{All: true}, `"login" OR NEAR(x`); len(got) != 0 {
		t.Fatalf("search with FTS syntax = %v, want nothing (its words are all required)", got)
	}
	if _, err := b.Search(ctx, " -- ", board.Query{}); err == nil {
		t.Fatal("search for no words: no error")
	}
	// A new comment is found after the next catch-up.
	wi, _ = w.load(ctx, bID)
	wi.Comment("carol", "needs a zebra")
	w.save(ctx, wi)
	catchUp(t, b)
	if got := ids(board.Query{}, "zebra"); !slices.Equal(got, []string{bID}) {
		t.Fatalf("search zebra = %v, want [%s]", got, bID)
	}
}

func testFeed(t *testing.T, cfg Config) {
	ctx := context.Background()
	st, _, w := filled(t, cfg, sz(300), 5)
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{})
	catchUp(t, b)
	all, err := es.Collect(st.ReadLog(ctx, 1))
	if err != nil {
		t.Fatal(err)
	}
	since, until := T0.Add(w.Latest.Sub(T0)/3), T0.Add(2*w.Latest.Sub(T0)/3)
	feed := func(q board.FeedQuery) []int64 {
		t.Helper()
		es, err := b.Feed(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, e := range es {
			out = append(out, e.Position)
		}
		return out
	}
	want := func(keep func(r es.Record) bool, limit int, reverse bool) []int64 {
		var out []int64
		for _, r := range all {
			if keep(r) {
				out = append(out, r.Position)
			}
		}
		if reverse {
			slices.Reverse(out)
		}
		if limit > 0 && len(out) > limit {
			out = out[:limit]
		}
		return out
	}
	visible := func(r es.Record) bool {
		return strings.HasPrefix(r.Stream, "workitem-") || strings.HasPrefix(r.Stream, "initiative-")
	}
	cases := []struct {
		name string
		q    board.FeedQuery
		keep func(r es.Record) bool
	}{
		{"all", board.FeedQuery{All: true}, func(es.Record) bool { return true }},
		{"hides bookkeeping", board.FeedQuery{}, visible},
		{"since until", board.FeedQuery{Since: since, Until: until}, func(r es.Record) bool {
			return visible(r) && !r.Time.Before(since) && !r.Time.After(until)
		}},
		{"item", board.FeedQuery{Items: []string{"J-2"}}, func(r es.Record) bool { return r.Stream == "workitem-J-2" }},
		{"by", board.FeedQuery{Actors: []string{"bob"}}, func(r es.Record) bool { return visible(r) && r.Metadata.Actor == "bob" }},
		{"type", board.FeedQuery{Types: []string{tracker.EvCommented, "initiative"}}, func(r es.Record) bool {
			return r.Type == tracker.EvCommented || strings.HasPrefix(r.Type, "initiative.")
		}},
		{"bookkeeping type with all", board.FeedQuery{Types: []string{tracker.EvIDAllocated}, All: true}, func(r es.Record) bool {
			return r.Type == tracker.EvIDAllocated
		}},
	}
	for _, c := range cases {
		for _, shape := range []struct {
			limit   int
			reverse bool
		}{{0, false}, {20, false}, {20, true}, {0, true}} {
			q := c.q
			q.Limit, q.Reverse = shape.limit, shape.reverse
			if got, want := feed(q), want(c.keep, shape.limit, shape.reverse); !slices.Equal(got, want) {
				t.Fatalf("%s, limit %d, reverse %v:\n got %v\nwant %v", c.name, shape.limit, shape.reverse, got, want)
			}
		}
	}
	es, err := b.Feed(ctx, board.FeedQuery{Items: []string{"J-1"}, Limit: 1})
	if err != nil || len(es) != 1 || es[0].Item != "J-1" || es[0].Version != 1 || !strings.HasPrefix(es[0].Summary, "created ") {
		t.Fatalf("first entry of J-1 = %+v, %v", es, err)
	}
}

func testDamaged(t *testing.T, cfg Config) {
	st, _, _ := filled(t, cfg, sz(300), 6)
	damages := map[string]func(path string) error{
		"deleted": os.Remove,
		"truncated to half": func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.Truncate(p, fi.Size()/2)
		},
		"zero-filled": func(p string) error {
			fi, err := os.Stat(p)
			if err != nil {
				return err
			}
			return os.WriteFile(p, make([]byte, fi.Size()), 0o644)
		},
		"header garbled": func(p string) error {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				return err
			}
			defer f.Close()
			_, err = f.WriteAt([]byte("not a database at all, sorry"), 0)
			return err
		},
		"pages flipped": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			rnd := rand.New(rand.NewPCG(9, 9))
			for range 200 {
				i := 100 + rnd.IntN(len(b)-100)
				b[i] ^= 0xff
			}
			return os.WriteFile(p, b, 0o644)
		},
		"a text file": func(p string) error { return os.WriteFile(p, []byte("hello\n"), 0o644) },
		"tail pages flipped": func(p string) error {
			b, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			for i := len(b) / 2; i < len(b); i += 97 {
				b[i] ^= 0x5a
			}
			return os.WriteFile(p, b, 0o644)
		},
	}
	for name, damage := range damages {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "board.db")
			b := open(t, path, st, board.Options{})
			catchUp(t, b)
			b.Close()
			for _, s := range []string{"-wal", "-shm"} {
				os.Remove(path + s) // closed cleanly: checkpointed
			}
			if err := damage(path); err != nil {
				t.Fatal(err)
			}
			if name == "tail pages flipped" {
				// The full check finds damage a command may not meet.
				var opened []string
				ck, err := board.Open(context.Background(), path, st, registry(), board.Options{Notes: func(m string) { opened = append(opened, m) }})
				if err != nil {
					t.Fatal(err)
				}
				if err := ck.Check(context.Background()); len(opened) == 0 && !errorsIsDamaged(err) {
					t.Errorf("Check of a model with flipped pages = %v, want board.ErrDamaged", err)
				}
				ck.Close()
			}
			var notes []string
			b, err := board.Open(context.Background(), path, st, registry(), board.Options{Notes: func(m string) { notes = append(notes, m) }})
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			_, err = b.CatchUp(context.Background(), nil)
			if err == nil {
				// Damage SQLite meets only in a query is repaired on
				// the caller's demand.
				err = queryAll(b)
			}
			if err != nil {
				if !errorsIsDamaged(err) {
					t.Fatalf("damage reported as %v, want board.ErrDamaged", err)
				}
				if err := b.Repair(context.Background()); err != nil {
					t.Fatal(err)
				}
				catchUp(t, b)
			}
			check(t, b, st, time.Time{})
			t.Logf("notes: %q", notes)
		})
	}
}

func queryAll(b *board.Board) error {
	ctx := context.Background()
	if _, err := b.Items(ctx, board.Query{All: true, Comments: true}); err != nil {
		return err
	}
	if _, err := b.Feed(ctx, board.FeedQuery{All: true}); err != nil {
		return err
	}
	if _, err := b.Items(ctx, board.Query{AsOf: T0.Add(time.Hour)}); err != nil {
		return err
	}
	_, err := b.Search(ctx, "fix", board.Query{})
	return err
}

func testForeign(t *testing.T, cfg Config) {
	st1, _, _ := filled(t, cfg, sz(200), 10)
	st2, _, _ := filled(t, cfg, sz(250), 11)
	path := filepath.Join(t.TempDir(), "board.db")
	b := open(t, path, st1, board.Options{})
	catchUp(t, b)
	b.Close()
	var notes []string
	b = open(t, path, st2, board.Options{Notes: func(m string) { notes = append(notes, m) }})
	catchUp(t, b)
	if len(notes) != 1 || !strings.Contains(notes[0], "another store") {
		t.Fatalf("notes = %q, want one saying the model was built from another store", notes)
	}
	check(t, b, st2, time.Time{})
}

// Child returns a command that runs the test binary as a child of the
// suite: mode "list" lists every open item of the model at model, fed
// from the store locator names, and prints how many.
func Child(mode, locator, model string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "BOARDTEST_STORE="+locator, "BOARDTEST_MODEL="+model)
	cmd.Stderr = os.Stderr
	return cmd
}

// child starts the test binary as a child of the suite.
func child(t *testing.T, mode, locator, model string, env ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+mode, "BOARDTEST_STORE="+locator, "BOARDTEST_MODEL="+model)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stderr = os.Stderr
	return cmd
}

func needProcesses(t *testing.T, loc string, cfg Config) {
	if loc == "" || cfg.Open == nil {
		t.Skip("the store cannot be opened by another process")
	}
}

func testOtherProcess(t *testing.T, cfg Config) {
	st, loc, _ := filled(t, cfg, sz(200), 12)
	needProcesses(t, loc, cfg)
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{})
	catchUp(t, b)
	if out, err := child(t, "write", loc, "").Output(); err != nil {
		t.Fatalf("writer: %v\n%s", err, out)
	}
	pos := catchUp(t, b)
	if pos < sz(200)+200 {
		t.Fatalf("position %d after another process wrote 200 events more", pos)
	}
	check(t, b, st, time.Time{})
}

func testKill(t *testing.T, cfg Config) {
	st, loc, _ := filled(t, cfg, min(cfg.Events, 1500), 13)
	needProcesses(t, loc, cfg)
	path := filepath.Join(t.TempDir(), "board.db")
	rnd := rand.New(rand.NewPCG(14, 15))
	kills := 0
	rounds := 8
	if raceEnabled {
		rounds = 3
	}
	for round := 0; round < rounds; round++ {
		cmd := child(t, "catchup", loc, path, "BOARDTEST_BATCH=20")
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Kill it once it has committed a batch, a moment later.
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			time.Sleep(time.Duration(rnd.IntN(30)) * time.Millisecond)
			if cmd.Process.Signal(syscall.SIGKILL) == nil {
				kills++
			}
		}
		for sc.Scan() {
		}
		cmd.Wait()
		// Whatever it got to, the model agrees with its checkpoint.
		b := open(t, path, st, board.Options{})
		check(t, b, st, time.Time{})
		b.Close()
	}
	if kills == 0 {
		t.Fatal("no child was killed")
	}
	t.Logf("%d children killed in the middle of a catch-up", kills)
	b := open(t, path, st, board.Options{})
	pos := catchUp(t, b)
	if last, _ := st.LastPosition(context.Background()); pos != last {
		t.Fatalf("after the kills a catch-up reached %d, the log ends at %d", pos, last)
	}
	check(t, b, st, time.Time{})
}

func testTwoProcesses(t *testing.T, cfg Config) {
	st, loc, _ := filled(t, cfg, min(cfg.Events, 1000), 16)
	needProcesses(t, loc, cfg)
	path := filepath.Join(t.TempDir(), "board.db")
	var wg sync.WaitGroup
	errs := make([]error, 2)
	outs := make([][]byte, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			outs[i], errs[i] = child(t, "catchup", loc, path, "BOARDTEST_BATCH=25").Output()
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("child %d: %v", i, err)
		}
	}
	// Both committed batches, and no position was committed twice.
	seen := map[string]bool{}
	for _, o := range outs {
		for _, l := range strings.Fields(strings.ReplaceAll(string(o), "at ", "")) {
			if seen[l] {
				t.Errorf("position %s committed by both", l)
			}
			seen[l] = true
		}
	}
	b := open(t, path, st, board.Options{})
	check(t, b, st, time.Time{})
}

func errorsIsDamaged(err error) bool { return errorsIs(err, board.ErrDamaged) }

var errorsIs = errors.Is

func testDependencies(t *testing.T, cfg Config) {
	ctx := context.Background()
	st, _ := cfg.New(t)
	w := NewWriter(st, 17)
	for range 3 {
		if _, err := w.CreateItem(ctx, "Fix the cache"); err != nil {
			t.Fatal(err)
		}
	}
	j3, _ := w.load(ctx, "J-3")
	j3.AddBlocker("J-2")
	if err := w.save(ctx, j3); err != nil {
		t.Fatal(err)
	}
	reserve := func(item, blocker string, version int64, graph int64) {
		t.Helper()
		ev, _ := w.Reg.Encode(tracker.DependencyReserved{Item: item, Blocker: blocker, ItemVersion: version})
		if _, err := st.Append(ctx, "jerry-dependencies", es.Exact(graph), []es.Event{ev}); err != nil {
			t.Fatal(err)
		}
	}
	j2v, _ := st.StreamVersion(ctx, "workitem-J-2")
	reserve("J-2", "J-1", j2v, 0)   // J-2 is about to wait on J-1
	reserve("J-1", "J-3", j2v-1, 1) // settled already: J-1 is past that version
	b := open(t, filepath.Join(t.TempDir(), "board.db"), st, board.Options{})
	catchUp(t, b)
	path, gv, err := b.DependencyPath(ctx, "J-3", "J-1")
	if err != nil || gv != 2 || !slices.Equal(path, []string{"J-3", "J-2", "J-1"}) {
		t.Fatalf("path J-3 to J-1 = %v, graph version %d, %v; want [J-3 J-2 J-1], 2", path, gv, err)
	}
	if path, _, _ := b.DependencyPath(ctx, "J-1", "J-3"); path != nil {
		t.Fatalf("path J-1 to J-3 = %v: a settled reservation counted", path)
	}
	// Any write to J-2 settles its reservation.
	j2, _ := w.load(ctx, "J-2")
	j2.Comment("bob", "not blocked after all")
	if err := w.save(ctx, j2); err != nil {
		t.Fatal(err)
	}
	catchUp(t, b)
	if path, gv, _ := b.DependencyPath(ctx, "J-3", "J-1"); path != nil || gv != 2 {
		t.Fatalf("after J-2 moved on: path %v, graph version %d; want none, 2", path, gv)
	}
	// The same from a rebuilt model.
	if _, err := b.Rebuild(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if path, gv, _ := b.DependencyPath(ctx, "J-3", "J-2"); !slices.Equal(path, []string{"J-3", "J-2"}) || gv != 2 {
		t.Fatalf("rebuilt: path J-3 to J-2 = %v, graph version %d", path, gv)
	}
}

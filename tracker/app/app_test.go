package app_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/es/memstore"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

func newService(t *testing.T) (*app.Service, *memstore.Store) {
	t.Helper()
	st := memstore.New()
	return newApp(t, st, st, st, app.WithStrategy(es.EveryN(3))), st
}

func as(who string) context.Context {
	return es.WithMetadata(context.Background(), es.Metadata{Actor: who})
}

func create(t *testing.T, s *app.Service, title string, n ...tracker.NewItem) tracker.Item {
	t.Helper()
	var ni tracker.NewItem
	if len(n) > 0 {
		ni = n[0]
	}
	ni.Title = title
	r, err := s.Create(as("ann"), ni)
	if err != nil {
		t.Fatal(err)
	}
	return r.State
}

func TestCreateAndIDs(t *testing.T) {
	s, _ := newService(t)
	a := create(t, s, "first")
	b := create(t, s, "second", tracker.NewItem{Type: tracker.Bug, Priority: tracker.High})
	if a.ID != "J-1" || b.ID != "J-2" || b.Type != tracker.Bug || b.Status != tracker.Backlog || b.Version != 1 {
		t.Fatalf("created %+v and %+v", a, b)
	}
	// Bad input takes no ID.
	if _, err := s.Create(as("ann"), tracker.NewItem{Title: "x", Type: "epic"}); !errors.Is(err, tracker.ErrInvalidType) {
		t.Fatalf("bad type: %v", err)
	}
	if c := create(t, s, "third"); c.ID != "J-3" {
		t.Fatalf("third ID %s", c.ID)
	}
	for _, id := range []string{"j-2", "2", "J-2"} {
		if it, err := s.Item(context.Background(), id); err != nil || it.ID != "J-2" {
			t.Fatalf("Item(%q) = %v, %v", id, it.ID, err)
		}
	}
	var nf *app.NotFoundError
	if _, err := s.Item(context.Background(), "J-99"); !errors.Is(err, es.ErrNotFound) || !errors.As(err, &nf) {
		t.Fatalf("unknown item: %v", err)
	}
}

func TestConcurrentCreatesGetDistinctIDs(t *testing.T) {
	s, _ := newService(t)
	var mu sync.Mutex
	seen := map[string]bool{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				r, err := s.Create(as(fmt.Sprint("agent", g)), tracker.NewItem{Title: fmt.Sprint(g, i)})
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				if seen[r.State.ID] {
					t.Errorf("ID %s given twice", r.State.ID)
				}
				seen[r.State.ID] = true
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != 80 {
		t.Fatalf("%d distinct IDs, want 80", len(seen))
	}
}

func TestWritesAndExpectedVersion(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	it := create(t, s, "task")
	r, err := s.ChangeStatus(ctx, it.ID, tracker.InProgress, "picked up", es.Exact(1))
	if err != nil || r.State.Status != tracker.InProgress || len(r.Events) != 1 {
		t.Fatalf("status: %+v, %v", r, err)
	}
	// A stale expected version is a conflict and stores nothing.
	if _, err := s.Comment(ctx, it.ID, "hi", es.Exact(1)); !errors.Is(err, es.ErrConcurrency) {
		t.Fatalf("stale version: %v", err)
	}
	// The same status records nothing.
	r, err = s.ChangeStatus(ctx, it.ID, tracker.InProgress, "", es.Any)
	if err != nil || r.Changed() || r.State.Version != 2 {
		t.Fatalf("same status: %+v, %v", r, err)
	}
	if _, err := s.Comment(ctx, "J-9", "hi", es.Any); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("comment on unknown: %v", err)
	}
	h, err := s.History(ctx, it.ID)
	if err != nil || len(h) != 2 || h[1].Summary != "status backlog -> in_progress (picked up)" || h[1].Record.Metadata.Actor != "ann" {
		t.Fatalf("history: %+v, %v", h, err)
	}
}

func TestConcurrentClaims(t *testing.T) {
	s, _ := newService(t)
	it := create(t, s, "contested")
	var wins, conflicts int
	var mu sync.Mutex
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			_, err := s.Claim(as(fmt.Sprint("agent", g)), it.ID, app.ClaimOptions{}, es.Any)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				wins++
			case errors.Is(err, tracker.ErrClaimed):
				conflicts++
			default:
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if wins != 1 || conflicts != 7 {
		t.Fatalf("%d claims won, %d conflicts; want 1 and 7", wins, conflicts)
	}
}

func TestConcurrentCommentsAllKept(t *testing.T) {
	s, _ := newService(t)
	it := create(t, s, "busy")
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := range 10 {
				if _, err := s.Comment(as(fmt.Sprint("agent", g)), it.ID, fmt.Sprint(g, "/", i), es.Any); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	got, err := s.Item(context.Background(), it.ID)
	if err != nil || len(got.Comments) != 80 || got.Version != 81 {
		t.Fatalf("%d comments at version %d, %v", len(got.Comments), got.Version, err)
	}
}

func TestBlockers(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	a, b, c := create(t, s, "a"), create(t, s, "b"), create(t, s, "c")
	if _, err := s.Block(ctx, a.ID, b.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Block(ctx, b.ID, c.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	before, _ := s.Item(ctx, c.ID)
	// c -> a would close a -> b -> c -> a.
	if _, err := s.Block(ctx, c.ID, a.ID, es.Any); !errors.Is(err, tracker.ErrCycle) {
		t.Fatalf("cycle: %v", err)
	}
	if after, _ := s.Item(ctx, c.ID); after.Version != before.Version {
		t.Fatal("a refused block wrote an event")
	}
	if _, err := s.Block(ctx, a.ID, a.ID, es.Any); !errors.Is(err, tracker.ErrSelfBlock) {
		t.Fatalf("self block: %v", err)
	}
	if _, err := s.Block(ctx, a.ID, "J-99", es.Any); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("unknown blocker: %v", err)
	}
	if _, err := s.ChangeStatus(ctx, a.ID, tracker.InProgress, "", es.Any); !errors.Is(err, tracker.ErrBlocked) {
		t.Fatalf("start blocked: %v", err)
	}
	ready, _ := s.Ready(ctx, 0)
	if ids := cardIDs(ready); !slices.Equal(ids, []string{c.ID}) {
		t.Fatalf("ready = %v, want only %s", ids, c.ID)
	}
	// Done needs the blockers done too (issue 14), unless forced.
	if _, err := s.ChangeStatus(ctx, b.ID, tracker.Done, "", es.Any); !errors.Is(err, tracker.ErrBlocked) {
		t.Fatalf("done with an open blocker: %v", err)
	}
	if _, err := s.ChangeStatus(app.Force(ctx), b.ID, tracker.Done, "", es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ChangeStatus(ctx, a.ID, tracker.InProgress, "", es.Any); err != nil {
		t.Fatalf("start with blocker done: %v", err)
	}
	if _, err := s.Unblock(ctx, b.ID, c.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	// Unblocking again is already in effect: nothing is written.
	if r, err := s.Unblock(ctx, b.ID, c.ID, es.Any); err != nil || r.Changed() {
		t.Fatalf("unblock twice: %v, changed %v", err, r.Changed())
	}
}

func ids(items []tracker.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

func TestReadyOrderAndClaimRace(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	low := create(t, s, "low", tracker.NewItem{Priority: tracker.Low})
	old := create(t, s, "old high", tracker.NewItem{Priority: tracker.High})
	crit := create(t, s, "critical", tracker.NewItem{Priority: tracker.Critical})
	young := create(t, s, "young high", tracker.NewItem{Priority: tracker.High})
	taken := create(t, s, "taken")
	s.Claim(ctx, taken.ID, app.ClaimOptions{}, es.Any)
	done := create(t, s, "done")
	s.ChangeStatus(ctx, done.ID, tracker.Done, "", es.Any)
	r, err := s.Ready(ctx, 0)
	if want := []string{crit.ID, old.ID, young.ID, low.ID}; err != nil || !slices.Equal(cardIDs(r), want) {
		t.Fatalf("ready = %v, %v; want %v", cardIDs(r), err, want)
	}
	if r, _ := s.Ready(ctx, 2); len(r) != 2 {
		t.Fatalf("limit 2 gave %d", len(r))
	}
	for i := range 10 {
		create(t, s, fmt.Sprint("more ", i))
	}
	// 8 agents at once each get a different item.
	var mu sync.Mutex
	got := map[string]string{}
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			who := fmt.Sprint("agent", g)
			r, err := s.ClaimReady(as(who), 0)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if prev, dup := got[r.State.ID]; dup {
				t.Errorf("%s claimed by %s and %s", r.State.ID, prev, who)
			}
			got[r.State.ID] = who
		})
	}
	wg.Wait()
	if len(got) != 8 {
		t.Fatalf("%d distinct claims", len(got))
	}
	for id, who := range got {
		if it, _ := s.Item(ctx, id); it.Assignee != who {
			t.Fatalf("%s assigned to %q, claimed by %s", id, it.Assignee, who)
		}
	}
}

func TestClaimReadyWhenNothingReady(t *testing.T) {
	s, _ := newService(t)
	if _, err := s.ClaimReady(as("ann"), 0); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("nothing ready: %v", err)
	}
}

func TestInitiativeMembership(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	i1, err := s.CreateInitiative(ctx, "Login", "")
	if err != nil || i1.State.ID != "I-1" {
		t.Fatal(i1, err)
	}
	i2, _ := s.CreateInitiative(ctx, "Billing", "")
	a := create(t, s, "a", tracker.NewItem{Initiative: "i-1"})
	if a.Initiative != "I-1" {
		t.Fatalf("item initiative %q", a.Initiative)
	}
	if in, _ := s.Initiative(ctx, "I-1"); !slices.Equal(in.Members, []string{a.ID}) {
		t.Fatalf("members %v", in.Members)
	}
	// Moving the item keeps both initiatives and the item consistent.
	if _, err := s.AddToInitiative(ctx, i2.State.ID, a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	in1, _ := s.Initiative(ctx, "I-1")
	in2, _ := s.Initiative(ctx, "I-2")
	it, _ := s.Item(ctx, a.ID)
	if len(in1.Members) != 0 || !slices.Equal(in2.Members, []string{a.ID}) || it.Initiative != "I-2" {
		t.Fatalf("after move: I-1 %v, I-2 %v, item in %q", in1.Members, in2.Members, it.Initiative)
	}
	if _, err := s.RemoveFromInitiative(ctx, "I-2", a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if it, _ := s.Item(ctx, a.ID); it.Initiative != "" {
		t.Fatalf("removed item still in %q", it.Initiative)
	}
	if _, err := s.RemoveFromInitiative(ctx, "I-2", a.ID, es.Any); !errors.Is(err, tracker.ErrNotMember) {
		t.Fatalf("remove twice: %v", err)
	}
	if _, err := s.CompleteInitiative(ctx, "I-1", "", es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddToInitiative(ctx, "I-1", a.ID, es.Any); !errors.Is(err, tracker.ErrInvalidTransition) {
		t.Fatalf("add to completed: %v", err)
	}
	if _, err := s.Create(ctx, tracker.NewItem{Title: "x", Initiative: "I-1"}); !errors.Is(err, tracker.ErrInvalidTransition) {
		t.Fatalf("create in completed: %v", err)
	}
	if _, err := s.Create(ctx, tracker.NewItem{Title: "x", Initiative: "I-9"}); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("create in unknown: %v", err)
	}
	all, _ := s.Initiatives(ctx)
	if len(all) != 2 || all[0].Status != tracker.CompletedInitiative {
		t.Fatalf("initiatives %+v", all)
	}
}

func TestTemporalReads(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	it := create(t, s, "timed")
	time.Sleep(2 * time.Millisecond)
	mid := time.Now()
	time.Sleep(2 * time.Millisecond)
	for _, st := range []tracker.Status{tracker.Ready, tracker.InProgress, tracker.Blocked, tracker.InProgress} {
		if _, err := s.ChangeStatus(ctx, it.ID, st, "", es.Any); err != nil {
			t.Fatal(err)
		}
	}
	then, err := s.ItemAsOf(ctx, it.ID, mid)
	if err != nil || then.Status != tracker.Backlog || then.Version != 1 {
		t.Fatalf("as of mid: %+v, %v", then, err)
	}
	at, err := s.ItemAt(ctx, it.ID, 4)
	if err != nil || at.Status != tracker.Blocked {
		t.Fatalf("at 4: %+v, %v", at, err)
	}
	if _, err := s.ItemAt(ctx, it.ID, 9); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("at 9: %v", err)
	}
	if _, err := s.ItemAsOf(ctx, it.ID, mid.Add(-time.Hour)); !errors.Is(err, es.ErrNotFound) {
		t.Fatalf("before creation: %v", err)
	}
	list, err := s.List(ctx, app.Filter{}, mid)
	if err != nil || len(list) != 1 || list[0].Status != tracker.Backlog {
		t.Fatalf("list as of mid: %+v, %v", list, err)
	}
	list, _ = s.List(ctx, app.Filter{Status: tracker.InProgress}, time.Time{})
	if len(list) != 1 {
		t.Fatalf("list in_progress now: %d", len(list))
	}
}

func TestExportImport(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	a := create(t, s, "a")
	s.Comment(ctx, a.ID, "note", es.Any)
	s.CreateInitiative(ctx, "Init", "d")
	s.AddToInitiative(ctx, "I-1", a.ID, es.Any)
	var buf bytes.Buffer
	n, err := s.Export(ctx, &buf)
	if err != nil || n == 0 {
		t.Fatal(n, err)
	}
	export := buf.String()

	// Into an empty store: the same records.
	s2, _ := newService(t)
	if m, err := s2.Import(ctx, strings.NewReader(export)); err != nil || m != n {
		t.Fatalf("import: %d, %v", m, err)
	}
	var again bytes.Buffer
	s2.Export(ctx, &again)
	if again.String() != export {
		t.Fatalf("re-export differs:\n%s\nwant\n%s", again.String(), export)
	}
	// Not into a store that has events.
	if _, err := s2.Import(ctx, strings.NewReader(export)); !errors.Is(err, app.ErrNotEmpty) {
		t.Fatalf("import into non-empty: %v", err)
	}

	// Invalid input writes nothing.
	lines := strings.SplitAfter(strings.TrimSuffix(export, "\n"), "\n")
	bad := map[string]string{
		"garbage":       export + "not json\n",
		"gap":           strings.Join(append(lines[:1], lines[2:]...), ""),
		"unknown field": strings.Replace(export, `"schema":1`, `"schema":1,"x":1`, 1),
		"bad data":      strings.Replace(export, `"title":"a"`, `"title":7`, 1),
		"duplicate id":  export + strings.Replace(lines[len(lines)-1], fmt.Sprintf(`"position":%d`, n), fmt.Sprintf(`"position":%d`, n+1), 1),
		// An event this version cannot read would make every later fold
		// of the log (list, ready, show) fail.
		"unknown type": strings.Replace(export, `"type":"workitem.commented"`, `"type":"workitem.frobbed"`, 1),
		"huge line":    export + `{"data":"` + strings.Repeat("x", 4*es.MaxEventSize) + `"}` + "\n",
	}
	for name, in := range bad {
		s3, st3 := newService(t)
		if _, err := s3.Import(ctx, strings.NewReader(in)); !errors.Is(err, es.ErrInvalidInput) {
			t.Errorf("%s: %v", name, err)
		}
		if p, _ := st3.LastPosition(ctx); p != 0 {
			t.Errorf("%s: wrote %d events", name, p)
		}
	}
}

func TestVerify(t *testing.T) {
	s, _ := newService(t)
	create(t, s, "a")
	rep, err := s.Verify(context.Background(), nil)
	if err != nil || !rep.OK() || rep.Events != 2 || rep.Streams != 2 {
		t.Fatalf("verify: %+v, %v", rep, err)
	}
	broken := func(context.Context) ([]error, error) {
		return []error{&es.CorruptError{Path: "f", Offset: 9, Err: errors.New("bad checksum")}}, nil
	}
	rep, err = s.Verify(context.Background(), broken)
	if err != nil || rep.OK() || !rep.StoreChecked || !strings.Contains(rep.Problems[0], "offset 9") {
		t.Fatalf("verify broken: %+v, %v", rep, err)
	}
}

// The read model and the repository fold the same events the same way.
func TestSeedAndProjectionAgree(t *testing.T) {
	s, st := newService(t)
	ctx := context.Background()
	if err := s.Seed(ctx, 60, 600, 7, nil); err != nil {
		t.Fatal(err)
	}
	if last, _ := st.LastPosition(ctx); last != 600 {
		t.Fatalf("seeded %d events, want 600", last)
	}
	rep, err := s.Verify(ctx, nil)
	if err != nil || !rep.OK() {
		t.Fatalf("verify after seed: %+v, %v", rep, err)
	}
	cards, err := s.List(ctx, app.Filter{}, time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var items []tracker.Item
	for _, c := range cards {
		items = append(items, c.Item)
	}
	if len(items) != 60 {
		t.Fatalf("projection holds %d items", len(items))
	}
	statuses := map[tracker.Status]int{}
	for _, it := range items {
		loaded, err := s.Item(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(loaded, it) {
			t.Fatalf("%s: projection %+v\nrepository %+v", it.ID, it, loaded)
		}
		statuses[it.Status]++
	}
	if len(statuses) < 3 {
		t.Fatalf("seed made too uniform a store: %v", statuses)
	}
}

// list --as-of and show --as-of agree when times go back along a stream
// (as they may in an import, or a store written by other tools): both
// stop at the stream's first event after the time.
func TestListAsOfStopsAtFirstLaterEvent(t *testing.T) {
	s, _ := newService(t)
	ctx := as("ann")
	line := func(pos int64, stream string, v int64, typ, data, at string) string {
		return fmt.Sprintf(`{"position":%d,"stream":%q,"version":%d,"type":%q,"schema":1,"time":%q,"id":"01a21c35-81bf-7000-8000-%012d","data":%s,"metadata":{"actor":"a"}}`+"\n",
			pos, stream, v, typ, at, pos, data)
	}
	export := line(1, "jerry-ids-workitem", 1, "id.allocated", `{"kind":"workitem"}`, "2026-11-20T10:00:00Z") +
		line(2, "workitem-J-1", 1, "workitem.created", `{"title":"a","type":"task","priority":"medium"}`, "2026-11-20T10:00:00Z") +
		line(3, "workitem-J-1", 2, "workitem.status_changed", `{"from":"backlog","to":"ready"}`, "2026-11-20T10:05:00Z") +
		line(4, "workitem-J-1", 3, "workitem.status_changed", `{"from":"ready","to":"in_progress"}`, "2026-11-20T10:03:00Z")
	if _, err := s.Import(ctx, strings.NewReader(export)); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 11, 20, 10, 4, 0, 0, time.UTC)
	shown, err := s.ItemAsOf(ctx, "J-1", at)
	if err != nil {
		t.Fatal(err)
	}
	listed, err := s.List(ctx, app.Filter{}, at)
	if err != nil || len(listed) != 1 {
		t.Fatal(listed, err)
	}
	if listed[0].Status != shown.Status || listed[0].Version != shown.Version {
		t.Fatalf("as of %v: show says %s at version %d, list says %s at version %d",
			at, shown.Status, shown.Version, listed[0].Status, listed[0].Version)
	}
}

func cardIDs(cards []app.Card) []string {
	var out []string
	for _, c := range cards {
		out = append(out, c.ID)
	}
	return out
}

// A write by a claim's holder renews the claim in the state the repository
// keeps (and snapshots) exactly as a replay of the stored events does, for
// every command, those that take no actor included (block, membership).
func TestHolderWritesRenewAsReplayDoes(t *testing.T) {
	st := memstore.New()
	snapped := newApp(t, st, st, st, app.WithStrategy(es.EveryN(1)))
	replayed := newApp(t, st, nil, st)
	a := create(t, snapped, "A")
	b := create(t, snapped, "B")
	if _, err := snapped.Claim(as("ann"), a.ID, app.ClaimOptions{}, es.Any); err != nil {
		t.Fatal(err)
	}
	time.Sleep(2 * time.Millisecond)
	if _, err := snapped.Block(as("ann"), a.ID, b.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	fromSnapshot, err := snapped.Item(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	fromReplay, err := replayed.Item(context.Background(), a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if fromSnapshot.Claim == nil || fromReplay.Claim == nil || !fromSnapshot.Claim.Renewed.Equal(fromReplay.Claim.Renewed) {
		t.Fatalf("renewed at %+v from the snapshot, %+v by replay", fromSnapshot.Claim, fromReplay.Claim)
	}
	if !fromReplay.Claim.Renewed.After(fromReplay.Claim.Since) {
		t.Fatalf("the holder's block did not renew the claim: %+v", fromReplay.Claim)
	}
}

func TestCountMembers(t *testing.T) {
	members := []app.Member{
		{Item: tracker.Item{ID: "J-1", Status: tracker.Done}},
		{Item: tracker.Item{ID: "J-2", Status: tracker.Cancelled}},
		{Item: tracker.Item{ID: "J-3", Status: tracker.InProgress}},
		{Item: tracker.Item{ID: "J-4"}, Err: es.ErrNotFound},
	}
	if got, want := app.CountMembers(members), (app.MemberCounts{Total: 4, Done: 1, Cancelled: 1, Open: 2}); got != want {
		t.Fatalf("CountMembers = %+v, want %+v", got, want)
	}
}

// newApp returns app.New(events, snaps, log, opts...), closed when tb
// ends: a service without a read model path of its own answers from a
// temporary one, and only Close removes it.
func newApp(tb testing.TB, events es.EventStore, snaps es.SnapshotStore, log es.LogReader, opts ...app.Option) *app.Service {
	tb.Helper()
	s := app.New(events, snaps, log, opts...)
	tb.Cleanup(func() {
		if err := s.Close(); err != nil {
			tb.Errorf("close the service: %v", err)
		}
	})
	return s
}

// Follow, the feed every face streams, leaves out the token stream and
// nothing else.
func TestFollowLeavesOutTokens(t *testing.T) {
	ctx := context.Background()
	st := memstore.New()
	s := newApp(t, st, st, st)
	if _, _, err := s.CreateToken(ctx, "ci-agent", app.RoleWrite); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Create(ctx, tracker.NewItem{Title: "after the token"}); err != nil {
		t.Fatal(err)
	}
	last, err := st.LastPosition(ctx)
	if err != nil {
		t.Fatal(err)
	}
	fctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var streams []string
	for rec, err := range s.Follow(fctx, 1) {
		if err != nil {
			t.Fatal(err)
		}
		streams = append(streams, rec.Stream)
		if rec.Position == last {
			cancel()
		}
	}
	if slices.Contains(streams, app.TokenStream) || !slices.Contains(streams, "workitem-J-1") {
		t.Fatalf("Follow gave the streams %v; want the item's and not %s", streams, app.TokenStream)
	}
}

package tracker

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

var t0 = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

// givenItem returns work item J-1 after the given events.
func givenItem(events ...any) *WorkItem {
	w := NewWorkItem()
	w.SetID("J-1")
	for i, d := range events {
		w.Apply(es.Envelope{Version: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute), Data: d})
	}
	return w
}

// now is when the commands of the rule tables run: within the default
// lease of any claim given in them.
var now = t0.Add(30 * time.Minute)

func as(actor string) Act     { return Act{Actor: actor, Now: now} }
func forced(actor string) Act { return Act{Actor: actor, Now: now, Force: true} }

func pendingData(r *es.Root) []any {
	var out []any
	for _, e := range r.Pending() {
		out = append(out, e.Data)
	}
	return out
}

// checkCommand runs command on w and checks it raised then, or failed with
// want and raised nothing: the one assertion of every rule table.
func checkCommand(t *testing.T, w *WorkItem, command func(*WorkItem) error, then []any, want error) {
	t.Helper()
	err := command(w)
	if want != nil {
		if !errors.Is(err, want) {
			t.Fatalf("error = %v, want %v", err, want)
		}
		if n := len(w.Pending()); n != 0 {
			t.Fatalf("failed command raised %d events", n)
		}
		return
	}
	if err != nil {
		t.Fatalf("error = %v", err)
	}
	if got := pendingData(&w.Root); !reflect.DeepEqual(got, then) {
		t.Fatalf("events = %#v\nwant     %#v", got, then)
	}
}

var created = ItemCreated{Title: "Fix login", Type: Task, Priority: Medium}

func status(from, to Status) StatusChanged { return StatusChanged{From: from, To: to} }

func ptr[T any](v T) *T { return &v }

func TestWorkItemRules(t *testing.T) {
	blockerStatus := map[string]BlockerState{"J-2": {Status: Done}, "J-3": {Status: InProgress, Assignee: "bob"}}
	lookup := func(id string) (BlockerState, bool) { s, ok := blockerStatus[id]; return s, ok }
	dl := Duration(DefaultLease)

	tests := []struct {
		name    string
		given   []any
		command func(w *WorkItem) error
		then    []any
		err     error
	}{
		// Create.
		{"create with defaults", nil,
			func(w *WorkItem) error { return w.Create(NewItem{Title: " Fix login "}) },
			[]any{created}, nil},
		{"create with fields", nil,
			func(w *WorkItem) error {
				return w.Create(NewItem{Title: "Crash", Description: "d", Type: Bug, Priority: High, Initiative: "I-1"})
			},
			[]any{ItemCreated{Title: "Crash", Description: "d", Type: Bug, Priority: High, Initiative: "I-1"}}, nil},
		{"create empty title", nil,
			func(w *WorkItem) error { return w.Create(NewItem{Title: "  "}) }, nil, ErrEmptyTitle},
		{"create unknown type", nil,
			func(w *WorkItem) error { return w.Create(NewItem{Title: "x", Type: "epic"}) }, nil, ErrInvalidType},
		{"create unknown priority", nil,
			func(w *WorkItem) error { return w.Create(NewItem{Title: "x", Priority: "urgent"}) }, nil, ErrInvalidPriority},
		{"create twice", []any{created},
			func(w *WorkItem) error { return w.Create(NewItem{Title: "x"}) }, nil, ErrInvalidTransition},

		// Status.
		{"backlog to in_progress", []any{created},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "picked up", as("ann"), nil) },
			[]any{StatusChanged{From: Backlog, To: InProgress, Reason: "picked up"}}, nil},
		{"same status records nothing", []any{created},
			func(w *WorkItem) error { return w.ChangeStatus(Backlog, "", as("ann"), nil) }, nil, nil},
		{"same closed status records nothing", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", as("ann"), nil) }, nil, nil},
		{"unknown status", []any{created},
			func(w *WorkItem) error { return w.ChangeStatus("doing", "", as("ann"), nil) }, nil, ErrInvalidStatus},
		{"unknown status is invalid input", []any{created},
			func(w *WorkItem) error { return w.ChangeStatus("DONE", "", as("ann"), nil) }, nil, ErrInvalidInput},
		{"blocked to done", []any{created, status(Backlog, Blocked)},
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", as("ann"), nil) },
			[]any{status(Blocked, Done)}, nil},
		{"in_progress to cancelled", []any{created, status(Backlog, InProgress)},
			func(w *WorkItem) error { return w.ChangeStatus(Cancelled, "dup", as("ann"), nil) },
			[]any{StatusChanged{From: InProgress, To: Cancelled, Reason: "dup"}}, nil},
		{"done is left only by reopen", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "", as("ann"), nil) }, nil, ErrInvalidTransition},
		{"cancelled is left only by reopen", []any{created, status(Backlog, Cancelled)},
			func(w *WorkItem) error { return w.ChangeStatus(Ready, "", as("ann"), nil) }, nil, ErrInvalidTransition},
		{"start with blocker done", []any{created, BlockerAdded{"J-2"}},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "", as("ann"), lookup) },
			[]any{status(Backlog, InProgress)}, nil},
		{"start with blocker open", []any{created, BlockerAdded{"J-2"}, BlockerAdded{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "", as("ann"), lookup) }, nil, ErrBlocked},
		{"start with unknown blocker", []any{created, BlockerAdded{"J-9"}},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "", as("ann"), lookup) }, nil, ErrBlocked},
		{"blockers do not stop other moves", []any{created, BlockerAdded{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(Cancelled, "", as("ann"), lookup) },
			[]any{status(Backlog, Cancelled)}, nil},
		{"ready with blocker open", []any{created, BlockerAdded{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(Ready, "", as("ann"), lookup) }, nil, ErrBlocked},
		{"done with blocker open", []any{created, BlockerAdded{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", as("ann"), lookup) }, nil, ErrBlocked},
		{"forced past an open blocker", []any{created, BlockerAdded{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", forced("ann"), lookup) },
			[]any{status(Backlog, Done)}, nil},
		{"start after unblock", []any{created, BlockerAdded{"J-3"}, BlockerRemoved{"J-3"}},
			func(w *WorkItem) error { return w.ChangeStatus(InProgress, "", as("ann"), lookup) },
			[]any{status(Backlog, InProgress)}, nil},

		// Reopen.
		{"reopen done", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.Reopen("regressed", as("ann")) },
			[]any{Reopened{From: Done, Reason: "regressed"}}, nil},
		{"reopen cancelled", []any{created, status(Backlog, Cancelled)},
			func(w *WorkItem) error { return w.Reopen("", as("ann")) }, []any{Reopened{From: Cancelled}}, nil},
		{"reopen open item", []any{created, status(Backlog, InProgress)},
			func(w *WorkItem) error { return w.Reopen("", as("ann")) }, nil, nil},
		{"status after reopen", []any{created, status(Backlog, Done), Reopened{From: Done}},
			func(w *WorkItem) error { return w.ChangeStatus(Ready, "", as("ann"), nil) },
			[]any{status(Backlog, Ready)}, nil},

		// Edit.
		{"edit fields", []any{created},
			func(w *WorkItem) error {
				return w.Edit(Edit{Title: ptr("Fix logout"), Priority: ptr(Priority("0")), Type: ptr(Bug), Description: ptr("d")}, as("ann"))
			},
			[]any{ItemEdited{Changes: []FieldChange{
				{"title", "Fix login", "Fix logout"}, {"description", "", "d"},
				{"type", "task", "bug"}, {"priority", "medium", "critical"}}}}, nil},
		{"edit to same values records nothing", []any{created},
			func(w *WorkItem) error { return w.Edit(Edit{Title: ptr("Fix login"), Type: ptr(Task)}, as("ann")) }, nil, nil},
		{"edit nothing records nothing", []any{created},
			func(w *WorkItem) error { return w.Edit(Edit{}, as("ann")) }, nil, nil},
		{"edit empty title", []any{created},
			func(w *WorkItem) error { return w.Edit(Edit{Title: ptr(" ")}, as("ann")) }, nil, ErrEmptyTitle},
		{"edit bad type", []any{created},
			func(w *WorkItem) error { return w.Edit(Edit{Type: ptr(ItemType("epic"))}, as("ann")) }, nil, ErrInvalidType},
		{"edit bad priority", []any{created},
			func(w *WorkItem) error { return w.Edit(Edit{Priority: ptr(Priority("9"))}, as("ann")) }, nil, ErrInvalidPriority},

		// Comments.
		{"comment", []any{created},
			func(w *WorkItem) error { return w.Comment("ann", "looks good") },
			[]any{Commented{Author: "ann", Text: "looks good"}}, nil},
		{"comment on done item", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.Comment("ann", "late note") },
			[]any{Commented{Author: "ann", Text: "late note"}}, nil},
		{"empty comment", []any{created},
			func(w *WorkItem) error { return w.Comment("ann", " \n") }, nil, ErrEmptyComment},

		// Assign, claim, release.
		{"assign", []any{created},
			func(w *WorkItem) error { return w.Assign("bob", 0, as("ann")) }, []any{Assigned{Assignee: "bob", Lease: dl}}, nil},
		{"holder hands a claim on", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Assign("bob", 0, as("ann")) },
			[]any{Assigned{Assignee: "bob", Previous: "ann", Lease: dl}}, nil},
		{"assign to same agent records nothing", []any{created, Assigned{Assignee: "bob"}},
			func(w *WorkItem) error { return w.Assign("bob", 0, as("bob")) }, nil, nil},
		{"unassign", []any{created, Assigned{Assignee: "bob"}},
			func(w *WorkItem) error { return w.Assign("", 0, as("bob")) }, []any{Assigned{Previous: "bob"}}, nil},
		{"claim free item", []any{created},
			func(w *WorkItem) error { return w.Claim(as("ann"), 0) }, []any{Claimed{Assignee: "ann", Lease: dl}}, nil},
		{"claim own item records nothing", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Claim(as("ann"), 0) }, nil, nil},
		{"claim item another holds", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Claim(as("bob"), 0) }, nil, ErrClaimed},
		{"claim item assigned to another", []any{created, Assigned{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Claim(as("bob"), 0) }, nil, ErrClaimed},
		{"claim after release", []any{created, Claimed{Assignee: "ann"}, Released{Previous: "ann"}},
			func(w *WorkItem) error { return w.Claim(as("bob"), 0) }, []any{Claimed{Assignee: "bob", Lease: dl}}, nil},
		{"claim done item", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.Claim(as("bob"), 0) }, nil, ErrInvalidTransition},
		{"claim without actor", []any{created},
			func(w *WorkItem) error { return w.Claim(as(" "), 0) }, nil, ErrInvalidInput},
		{"release own claim", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Release("", as("ann")) }, []any{Released{Previous: "ann"}}, nil},
		{"release unassigned records nothing", []any{created},
			func(w *WorkItem) error { return w.Release("", as("ann")) }, nil, nil},
		{"release another's claim", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Release("", as("bob")) }, nil, ErrClaimed},
		{"force release another's claim", []any{created, Claimed{Assignee: "ann"}},
			func(w *WorkItem) error { return w.Release("done elsewhere", forced("bob")) },
			[]any{Released{Previous: "ann", Reason: "done elsewhere"}}, nil},

		// Initiative membership, item side.
		{"join initiative", []any{created},
			func(w *WorkItem) error { return w.SetInitiative("I-1") }, []any{InitiativeChanged{Initiative: "I-1"}}, nil},
		{"move initiative", []any{created, InitiativeChanged{Initiative: "I-1"}},
			func(w *WorkItem) error { return w.SetInitiative("I-2") },
			[]any{InitiativeChanged{Initiative: "I-2", Previous: "I-1"}}, nil},
		{"same initiative records nothing", []any{ItemCreated{Title: "x", Type: Task, Priority: Low, Initiative: "I-1"}},
			func(w *WorkItem) error { return w.SetInitiative("I-1") }, nil, nil},

		// Dependencies.
		{"add blocker", []any{created},
			func(w *WorkItem) error { return w.AddBlocker("J-2") }, []any{BlockerAdded{"J-2"}}, nil},
		{"add blocker twice records nothing", []any{created, BlockerAdded{"J-2"}},
			func(w *WorkItem) error { return w.AddBlocker("J-2") }, nil, nil},
		{"block self", []any{created},
			func(w *WorkItem) error { return w.AddBlocker("J-1") }, nil, ErrSelfBlock},
		{"remove blocker", []any{created, BlockerAdded{"J-2"}},
			func(w *WorkItem) error { return w.RemoveBlocker("J-2") }, []any{BlockerRemoved{"J-2"}}, nil},
		{"remove absent blocker", []any{created},
			func(w *WorkItem) error { return w.RemoveBlocker("J-2") }, nil, nil},

		// Labels.
		{"create with labels", nil,
			func(w *WorkItem) error {
				return w.Create(NewItem{Title: "Fix login", Labels: []string{"UI", " backend", "ui"}})
			},
			[]any{created, Labeled{Labels: []string{"backend", "ui"}}}, nil},
		{"create with a bad label", nil,
			func(w *WorkItem) error { return w.Create(NewItem{Title: "x", Labels: []string{"ok", "not ok"}}) }, nil, ErrInvalidLabel},
		{"label", []any{created},
			func(w *WorkItem) error { return w.Label("ui", "Area:Login") },
			[]any{Labeled{Labels: []string{"area:login", "ui"}}}, nil},
		{"label already present records nothing", []any{created, Labeled{Labels: []string{"ui"}}},
			func(w *WorkItem) error { return w.Label("UI") }, nil, nil},
		{"label records only the new ones", []any{created, Labeled{Labels: []string{"ui"}}},
			func(w *WorkItem) error { return w.Label("ui", "db") }, []any{Labeled{Labels: []string{"db"}}}, nil},
		{"label with a comma", []any{created},
			func(w *WorkItem) error { return w.Label("a,b") }, nil, ErrInvalidLabel},
		{"empty label", []any{created},
			func(w *WorkItem) error { return w.Label(" ") }, nil, ErrInvalidInput},
		{"label too long", []any{created},
			func(w *WorkItem) error { return w.Label(strings.Repeat("a", MaxLabelLen+1)) }, nil, ErrInvalidLabel},
		{"label of the longest length", []any{created},
			func(w *WorkItem) error { return w.Label(strings.Repeat("a", MaxLabelLen)) },
			[]any{Labeled{Labels: []string{strings.Repeat("a", MaxLabelLen)}}}, nil},
		{"label starting with a dash", []any{created},
			func(w *WorkItem) error { return w.Label("-x") }, nil, ErrInvalidLabel},
		{"one bad label records nothing", []any{created},
			func(w *WorkItem) error { return w.Label("good", "b\x1bad") }, nil, ErrInvalidLabel},
		{"label a done item", []any{created, status(Backlog, Done)},
			func(w *WorkItem) error { return w.Label("regression") }, []any{Labeled{Labels: []string{"regression"}}}, nil},
		{"unlabel", []any{created, Labeled{Labels: []string{"db", "ui"}}},
			func(w *WorkItem) error { return w.Unlabel("UI", "absent") }, []any{Unlabeled{Labels: []string{"ui"}}}, nil},
		{"unlabel absent records nothing", []any{created},
			func(w *WorkItem) error { return w.Unlabel("ui") }, nil, nil},
		{"unlabel a bad label", []any{created},
			func(w *WorkItem) error { return w.Unlabel("a b") }, nil, ErrInvalidLabel},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := givenItem(tt.given...)
			checkCommand(t, w, tt.command, tt.then, tt.err)
		})
	}
}

func TestItemFold(t *testing.T) {
	w := givenItem(created, Claimed{Assignee: "ann"}, status(Backlog, InProgress), Commented{"ann", "on it"},
		ItemEdited{Changes: []FieldChange{{"priority", "medium", "high"}}}, BlockerAdded{"J-5"},
		Released{Previous: "ann"}, InitiativeChanged{Initiative: "I-2"}, Labeled{Labels: []string{"ui", "db"}},
		Labeled{Labels: []string{"api"}}, Unlabeled{Labels: []string{"ui"}})
	it := w.item
	want := Item{Title: "Fix login", Type: Task, Status: InProgress, Priority: High, Initiative: "I-2",
		Comments: []Comment{{Author: "ann", Time: t0.Add(3 * time.Minute), Text: "on it"}},
		Blockers: []string{"J-5"}, Labels: []string{"api", "db"}, Version: 11, CreatedAt: t0, UpdatedAt: t0.Add(10 * time.Minute)}
	if !reflect.DeepEqual(it, want) {
		t.Fatalf("item = %+v\nwant   %+v", it, want)
	}
	// A snapshot restores the same state.
	b, err := w.MarshalSnapshot()
	if err != nil {
		t.Fatal(err)
	}
	w2 := NewWorkItem()
	if err := w2.UnmarshalSnapshot(b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(w2.item, it) {
		t.Fatalf("restored %+v\nwant     %+v", w2.item, it)
	}
}

func TestParse(t *testing.T) {
	for in, want := range map[string]Status{"backlog": Backlog, "In-Progress": InProgress, "canceled": Cancelled, "DONE": Done} {
		if got, err := ParseStatus(in); err != nil || got != want {
			t.Errorf("ParseStatus(%q) = %q, %v", in, got, err)
		}
	}
	if _, err := ParseStatus("doing"); !errors.Is(err, ErrInvalidStatus) || !errors.Is(err, ErrInvalidInput) {
		t.Errorf("ParseStatus(doing) error = %v", err)
	}
	for in, want := range map[string]Priority{"0": Critical, "p1": High, "Medium": Medium, "3": Low} {
		if got, err := ParsePriority(in); err != nil || got != want {
			t.Errorf("ParsePriority(%q) = %q, %v", in, got, err)
		}
	}
	for _, in := range []string{"4", "-1", "urgent", ""} {
		if _, err := ParsePriority(in); !errors.Is(err, ErrInvalidPriority) {
			t.Errorf("ParsePriority(%q) error = %v", in, err)
		}
	}
	if _, err := ParseType("Epic"); !errors.Is(err, ErrInvalidType) {
		t.Errorf("ParseType(Epic) error = %v", err)
	}
}

func TestDescribe(t *testing.T) {
	tests := map[string]any{
		`status backlog -> in_progress (picked up)`: StatusChanged{From: Backlog, To: InProgress, Reason: "picked up"},
		`created "Fix login" (task, medium)`:        created,
		`reopened done -> backlog`:                  Reopened{From: Done},
		`edited title "a" -> "b", priority "medium" -> "high"`: ItemEdited{Changes: []FieldChange{
			{"title", "a", "b"}, {"priority", "medium", "high"}}},
		`claimed by ann`:           Claimed{Assignee: "ann"},
		`assigned ann -> bob`:      Assigned{Assignee: "bob", Previous: "ann"},
		`blocked by J-2`:           BlockerAdded{"J-2"},
		`comment: "multi line"`:    Commented{Author: "a", Text: "multi\n  line"},
		`joined initiative I-1`:    InitiativeChanged{Initiative: "I-1"},
		`no longer blocked by J-2`: BlockerRemoved{"J-2"},
		`labeled db, ui`:           Labeled{Labels: []string{"db", "ui"}},
		`unlabeled ui`:             Unlabeled{Labels: []string{"ui"}},
	}
	for want, d := range tests {
		if got := Describe(d); got != want {
			t.Errorf("Describe(%#v) = %q, want %q", d, got, want)
		}
	}
}

func TestRegister(t *testing.T) {
	reg := es.NewRegistry()
	Register(reg)
	// Every event round-trips through the registry under its own name.
	for _, d := range []any{created, status(Backlog, Done), Reopened{From: Done}, ItemEdited{}, Assigned{},
		Claimed{}, Released{}, HeartbeatRecorded{Lease: Duration(time.Minute)}, InitiativeReopened{}, Commented{}, InitiativeChanged{}, BlockerAdded{}, BlockerRemoved{},
		InitiativeCreated{}, ItemAdded{}, ItemRemoved{}, InitiativeCompleted{}, InitiativeCancelled{}, IDAllocated{},
		Labeled{Labels: []string{"ui"}}, Unlabeled{Labels: []string{"ui"}}} {
		ev, err := reg.Encode(d)
		if err != nil {
			t.Fatal(err)
		}
		got, err := reg.Decode(es.Record{Type: ev.Type, Schema: ev.Schema, Data: ev.Data})
		if err != nil || !reflect.DeepEqual(got, d) {
			t.Errorf("%s: decoded %#v, %v; want %#v", ev.Type, got, err, d)
		}
	}
}

// Create accepts the forms ParseType and ParsePriority accept, and records
// the canonical names, as Edit does: "0" or "P1" as a priority, "BUG" as a
// type.
func TestCreateRecordsCanonicalNames(t *testing.T) {
	w := NewWorkItem()
	w.SetID("J-1")
	if err := w.Create(NewItem{Title: "x", Type: " BUG", Priority: "0"}); err != nil {
		t.Fatal(err)
	}
	want := ItemCreated{Title: "x", Type: Bug, Priority: Critical}
	if got := pendingData(&w.Root); !reflect.DeepEqual(got, []any{want}) {
		t.Fatalf("recorded %+v, want %+v", got, want)
	}
}

// A claim refused because another agent holds the item says who, in a
// field a caller reads with errors.As.
func TestClaimedErrorNamesTheHolder(t *testing.T) {
	w := NewWorkItem()
	w.SetID("J-1")
	if err := w.Create(NewItem{Title: "t"}); err != nil {
		t.Fatal(err)
	}
	if err := w.Claim(as("alice"), 0); err != nil {
		t.Fatal(err)
	}
	err := w.Claim(as("bob"), 0)
	var ce *ClaimedError
	if !errors.Is(err, ErrClaimed) || !errors.As(err, &ce) || ce.Holder != "alice" || ce.ID != "J-1" {
		t.Fatalf("got %v (%+v), want a *ClaimedError naming alice", err, ce)
	}
}

// The domain's bad input matches es.ErrInvalidInput, the one sentinel for
// bad input everywhere.
func TestInvalidInputIsTheStoresSentinel(t *testing.T) {
	_, err := ParseStatus("doing")
	if !errors.Is(err, es.ErrInvalidInput) || !errors.Is(err, ErrInvalidStatus) {
		t.Fatalf("got %v, want it to match es.ErrInvalidInput and ErrInvalidStatus", err)
	}
}

package tracker

import (
	"encoding/json"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

// by is one given event with the actor who recorded it and its time, as
// minutes after t0.
type by struct {
	actor string
	min   int
	data  any
}

// givenActs returns work item J-1 after the given events.
func givenActs(events ...by) *WorkItem {
	w := NewWorkItem()
	w.SetID("J-1")
	for i, e := range events {
		w.Apply(es.Envelope{Version: int64(i + 1), Time: at(e.min), Metadata: es.Metadata{Actor: e.actor}, Data: e.data})
	}
	return w
}

func at(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }

func actAt(actor string, min int) Act { return Act{Actor: actor, Now: at(min)} }

// An hour's lease, claimed by ann at minute 10.
var (
	hour        = Duration(time.Hour)
	claimedAt10 = []by{{"ann", 0, created}, {"ann", 10, Claimed{Assignee: "ann", Lease: hour}}}
)

func withEvents(base []by, more ...by) []by { return append(append([]by{}, base...), more...) }

func TestClaimLease(t *testing.T) {
	tests := []struct {
		name      string
		given     []by
		at        int
		holder    string // "" for none
		expiresAt int
	}{
		{"held within the lease", claimedAt10, 30, "ann", 70},
		{"held a moment before expiry", claimedAt10, 69, "ann", 70},
		{"expired at exactly the boundary", claimedAt10, 70, "", 70},
		{"a comment by the holder renews", withEvents(claimedAt10, by{"ann", 50, Commented{"ann", "on it"}}), 100, "ann", 110},
		{"a status change by the holder renews", withEvents(claimedAt10, by{"ann", 40, status(Backlog, InProgress)}), 90, "ann", 100},
		{"a heartbeat renews", withEvents(claimedAt10, by{"ann", 65, HeartbeatRecorded{}}), 120, "ann", 125},
		{"a heartbeat with a lease replaces it", withEvents(claimedAt10, by{"ann", 20, HeartbeatRecorded{Lease: Duration(3 * time.Hour)}}), 150, "ann", 200},
		{"a write by another agent does not renew", withEvents(claimedAt10, by{"bob", 50, Commented{"bob", "any news?"}}), 75, "", 70},
		{"a holder's write after expiry renews it again", withEvents(claimedAt10, by{"ann", 80, Commented{"ann", "back"}}), 100, "ann", 140},
		{"released", withEvents(claimedAt10, by{"ann", 20, Released{Previous: "ann"}}), 30, "", 0},
		{"done ends the hold", withEvents(claimedAt10, by{"ann", 20, status(Backlog, Done)}), 30, "", 80},
		{"an old claim without a lease holds for the default", []by{{"ann", 0, created}, {"ann", 10, Claimed{Assignee: "ann"}}}, 129, "ann", 130},
		{"an assignment is a claim for the assignee", []by{{"ann", 0, created}, {"lead", 10, Assigned{Assignee: "bob", Lease: hour}}}, 60, "bob", 70},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			it := givenActs(tt.given...).Item()
			holder, ok := it.Holder(at(tt.at))
			if holder != tt.holder || ok != (tt.holder != "") {
				t.Fatalf("Holder(minute %d) = %q, %v; want %q", tt.at, holder, ok, tt.holder)
			}
			if tt.expiresAt != 0 {
				if it.Claim == nil {
					t.Fatal("no claim")
				}
				if got := it.Claim.ExpiresAt(); !got.Equal(at(tt.expiresAt)) {
					t.Fatalf("expires at %s, want minute %d", got, tt.expiresAt)
				}
			}
		})
	}
}

func TestClaimRules(t *testing.T) {
	dl := Duration(DefaultLease)
	inProgress := withEvents(claimedAt10, by{"ann", 20, status(Backlog, InProgress)})
	open := map[string]BlockerState{"J-3": {Title: "Schema", Status: InProgress, Assignee: "bob"}, "J-4": {Status: Done}}
	lookup := func(id string) (BlockerState, bool) { b, ok := open[id]; return b, ok }

	tests := []struct {
		name    string
		given   []by
		command func(w *WorkItem) error
		then    []any
		err     error
	}{
		// Claims bind others.
		{"status by another while held", inProgress,
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", actAt("bob", 30), nil) }, nil, ErrClaimed},
		{"edit by another while held", inProgress,
			func(w *WorkItem) error { return w.Edit(Edit{Title: ptr("x")}, actAt("bob", 30)) }, nil, ErrClaimed},
		{"assign by another while held", inProgress,
			func(w *WorkItem) error { return w.Assign("carol", 0, actAt("bob", 30)) }, nil, ErrClaimed},
		{"release by another while held", inProgress,
			func(w *WorkItem) error { return w.Release("", actAt("bob", 30)) }, nil, ErrClaimed},
		{"heartbeat by another while held", inProgress,
			func(w *WorkItem) error { return w.Heartbeat(actAt("bob", 30), 0) }, nil, ErrClaimed},
		{"comment by another while held", inProgress,
			func(w *WorkItem) error { return w.Comment("bob", "hi") }, []any{Commented{"bob", "hi"}}, nil},
		{"block by another while held", inProgress,
			func(w *WorkItem) error { return w.AddBlocker("J-3") }, []any{BlockerAdded{"J-3"}}, nil},
		{"forced status by another", inProgress,
			func(w *WorkItem) error {
				return w.ChangeStatus(Done, "", Act{Actor: "bob", Now: at(30), Force: true}, nil)
			}, []any{status(InProgress, Done)}, nil},
		{"status by another after expiry", inProgress,
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", actAt("bob", 90), nil) },
			[]any{status(InProgress, Done)}, nil},
		{"status by the holder", inProgress,
			func(w *WorkItem) error { return w.ChangeStatus(Done, "", actAt("ann", 30), nil) },
			[]any{status(InProgress, Done)}, nil},

		// Claims and take-overs.
		{"claim held by another", inProgress,
			func(w *WorkItem) error { return w.Claim(actAt("bob", 69), 0) }, nil, ErrClaimed},
		{"take over an expired claim at the boundary", inProgress,
			func(w *WorkItem) error { return w.Claim(actAt("bob", 80), 0) },
			[]any{Claimed{Assignee: "bob", Lease: dl, Previous: "ann", PreviousSince: at(10)}}, nil},
		{"force a take-over", inProgress,
			func(w *WorkItem) error { return w.Claim(Act{Actor: "bob", Now: at(30), Force: true}, time.Minute) },
			[]any{Claimed{Assignee: "bob", Lease: Duration(time.Minute), Previous: "ann", PreviousSince: at(10)}}, nil},
		{"claim own claim with a new lease", inProgress,
			func(w *WorkItem) error { return w.Claim(actAt("ann", 30), 3*time.Hour) },
			[]any{HeartbeatRecorded{Lease: Duration(3 * time.Hour)}}, nil},
		{"claim own expired claim again", inProgress,
			func(w *WorkItem) error { return w.Claim(actAt("ann", 200), 0) },
			[]any{Claimed{Assignee: "ann", Lease: dl}}, nil},
		{"negative lease", []by{{"ann", 0, created}},
			func(w *WorkItem) error { return w.Claim(actAt("ann", 1), -time.Second) }, nil, ErrInvalidInput},

		// Heartbeats.
		{"heartbeat", inProgress,
			func(w *WorkItem) error { return w.Heartbeat(actAt("ann", 30), 0) }, []any{HeartbeatRecorded{}}, nil},
		{"heartbeat with a lease", inProgress,
			func(w *WorkItem) error { return w.Heartbeat(actAt("ann", 30), time.Hour) },
			[]any{HeartbeatRecorded{Lease: hour}}, nil},
		{"heartbeat without a claim", []by{{"ann", 0, created}},
			func(w *WorkItem) error { return w.Heartbeat(actAt("ann", 1), 0) }, nil, ErrInvalidTransition},

		// Picking up is one step.
		{"pick a free item", []by{{"ann", 0, created}},
			func(w *WorkItem) error { return w.Pick(actAt("bob", 5), 0, lookup) },
			[]any{Claimed{Assignee: "bob", Lease: dl}, StatusChanged{From: Backlog, To: InProgress, Reason: "picked up"}}, nil},
		{"pick an expired item in progress", inProgress,
			func(w *WorkItem) error { return w.Pick(actAt("bob", 90), 0, lookup) },
			[]any{Claimed{Assignee: "bob", Lease: dl, Previous: "ann", PreviousSince: at(10)}}, nil},
		{"pick a held item", inProgress,
			func(w *WorkItem) error { return w.Pick(actAt("bob", 30), 0, lookup) }, nil, ErrClaimed},
		{"pick an item with an open blocker", []by{{"ann", 0, created}, {"ann", 1, BlockerAdded{"J-3"}}},
			func(w *WorkItem) error { return w.Pick(actAt("bob", 5), 0, lookup) }, nil, ErrBlocked},
		{"pick an item whose blocker is done", []by{{"ann", 0, created}, {"ann", 1, BlockerAdded{"J-4"}}},
			func(w *WorkItem) error { return w.Pick(actAt("bob", 5), 0, lookup) },
			[]any{Claimed{Assignee: "bob", Lease: dl}, StatusChanged{From: Backlog, To: InProgress, Reason: "picked up"}}, nil},

		// Back to the pool.
		{"release in progress goes back to backlog", inProgress,
			func(w *WorkItem) error { return w.Release("stuck", actAt("ann", 30)) },
			[]any{Released{Previous: "ann", Reason: "stuck"}, StatusChanged{From: InProgress, To: Backlog, Reason: "released"}}, nil},
		{"reopen unassigns", withEvents(inProgress, by{"ann", 30, status(InProgress, Done)}),
			func(w *WorkItem) error { return w.Reopen("regressed", actAt("bob", 40)) },
			[]any{Reopened{From: Done, Reason: "regressed"}, Released{Previous: "ann", Reason: "reopened"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := givenActs(tt.given...)
			checkCommand(t, w, tt.command, tt.then, tt.err)
		})
	}
}

// The errors carry what an agent needs to act: the holder and the expiry,
// the open blockers with their states.
func TestClaimErrorsCarryFields(t *testing.T) {
	w := givenActs(withEvents(claimedAt10, by{"ann", 20, BlockerAdded{"J-3"}})...)
	var ce *ClaimedError
	if err := w.Edit(Edit{Title: ptr("x")}, actAt("bob", 30)); !errors.As(err, &ce) {
		t.Fatalf("error = %v, want a *ClaimedError", err)
	}
	if ce.Holder != "ann" || !ce.Since.Equal(at(10)) || !ce.ExpiresAt.Equal(at(80)) || ce.ID != "J-1" {
		t.Fatalf("claimed error = %+v", ce)
	}
	lookup := func(id string) (BlockerState, bool) {
		return BlockerState{Title: "Schema", Status: InProgress, Assignee: "bob"}, true
	}
	var be *BlockedError
	if err := w.ChangeStatus(Done, "", actAt("ann", 30), lookup); !errors.As(err, &be) {
		t.Fatalf("error = %v, want a *BlockedError", err)
	}
	want := []BlockerState{{ID: "J-3", Title: "Schema", Status: InProgress, Assignee: "bob"}}
	if be.To != Done || !reflect.DeepEqual(be.Blockers, want) {
		t.Fatalf("blocked error = %+v", be)
	}
}

func TestAvailable(t *testing.T) {
	inProgress := withEvents(claimedAt10, by{"ann", 20, status(Backlog, InProgress)})
	tests := []struct {
		name  string
		given []by
		at    int
		want  bool
	}{
		{"new item", []by{{"ann", 0, created}}, 1, true},
		{"ready item", []by{{"ann", 0, created}, {"ann", 1, status(Backlog, Ready)}}, 2, true},
		{"held", inProgress, 30, false},
		{"held, lease expired", inProgress, 80, true},
		{"held, a moment before expiry", inProgress, 79, false},
		{"blocked by hand", []by{{"ann", 0, created}, {"ann", 1, status(Backlog, Blocked)}}, 2, false},
		{"done", []by{{"ann", 0, created}, {"ann", 1, status(Backlog, Done)}}, 2, false},
		{"in progress without a claim", []by{{"ann", 0, created}, {"ann", 1, status(Backlog, InProgress)}}, 2, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := givenActs(tt.given...).Item().Available(at(tt.at)); got != tt.want {
				t.Fatalf("Available = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestInitiativeGuard(t *testing.T) {
	in := givenInitiative(InitiativeCreated{Title: "Q4 login"}, ItemAdded{"J-1"}, ItemAdded{"J-2"})
	var oe *OpenMembersError
	if err := in.Complete("", []string{"J-2"}, false); !errors.As(err, &oe) || !errors.Is(err, ErrInvalidTransition) ||
		!reflect.DeepEqual(oe.Open, []string{"J-2"}) || len(in.Pending()) != 0 {
		t.Fatalf("complete with an open member: %v, %d events", err, len(in.Pending()))
	}
	if err := in.Complete("anyway", []string{"J-2"}, true); err != nil {
		t.Fatal(err)
	}
	if err := in.Reopen("more to do"); err != nil {
		t.Fatal(err)
	}
	want := []any{InitiativeCompleted{Reason: "anyway"}, InitiativeReopened{From: CompletedInitiative, Reason: "more to do"}}
	if got := pendingData(&in.Root); !reflect.DeepEqual(got, want) {
		t.Fatalf("events = %#v", got)
	}
	if in.Status() != ActiveInitiative {
		t.Fatalf("status after reopen = %s", in.Status())
	}
	if err := in.Reopen(""); err != nil || len(in.Pending()) != 2 {
		t.Fatalf("reopening an active initiative: %v, %d events", err, len(in.Pending()))
	}
}

// A claim or assignment stored before leases (schema 1) is read as one of
// DefaultLease, on every read path that upcasts.
func TestClaimUpcast(t *testing.T) {
	reg := es.NewRegistry()
	Register(reg)
	for _, c := range []struct {
		typ  string
		data string
		want any
	}{
		{EvClaimed, `{"assignee":"ann"}`, Claimed{Assignee: "ann", Lease: Duration(DefaultLease)}},
		{EvAssigned, `{"assignee":"bob","previous":"ann"}`, Assigned{Assignee: "bob", Previous: "ann", Lease: Duration(DefaultLease)}},
		{EvAssigned, `{"assignee":"","previous":"ann"}`, Assigned{Previous: "ann"}},
	} {
		got, err := reg.Decode(es.Record{Type: c.typ, Schema: 1, Data: json.RawMessage(c.data)})
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s %s: %#v, %v; want %#v", c.typ, c.data, got, err, c.want)
		}
	}
}

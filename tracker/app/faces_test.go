package app_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
	"github.com/jerry-es/jerry/tracker"
	"github.com/jerry-es/jerry/tracker/app"
)

// anyValue stands for a field whose value a test does not fix (a time).
const anyValue = "<any>"

// Explain gives every face one code, class, message and set of fields for
// each error the use cases return.
func TestExplain(t *testing.T) {
	s, _ := newService(t)
	a := create(t, s, "A")
	b := create(t, s, "B")
	if _, err := s.Block(as("ann"), b.ID, a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Claim(as("ann"), a.ID, app.ClaimOptions{}, es.Any); err != nil {
		t.Fatal(err)
	}
	c := create(t, s, "C")
	if _, err := s.ChangeStatus(as("ann"), c.ID, tracker.Done, "", es.Any); err != nil {
		t.Fatal(err)
	}
	errOf := func(_ any, err error) error { return err }
	for _, tc := range []struct {
		name   string
		err    error
		code   string
		class  app.Class
		fields map[string]any
	}{
		{"usage", app.Usagef("--at %d: versions start at 1", 0), "usage", app.Invalid, nil},
		{"stale version", errOf(s.Comment(as("ann"), a.ID, "late", es.Exact(1))), "conflict", app.Conflict,
			map[string]any{"stream": "workitem-" + a.ID, "expected_version": int64(1), "actual_version": int64(2)}},
		{"claimed", errOf(s.Claim(as("bob"), a.ID, app.ClaimOptions{}, es.Any)), "claimed", app.Conflict,
			map[string]any{"id": a.ID, "holder": "ann", "since": anyValue, "expires_at": anyValue}},
		{"not found", errOf(s.Item(context.Background(), "J-99")), "not_found", app.NotFound, map[string]any{"id": "J-99"}},
		{"cycle", errOf(s.Block(as("ann"), a.ID, b.ID, es.Any)), "cycle", app.Invalid, nil},
		{"invalid input", errOf(tracker.ParseStatus("doing")), "invalid_input", app.Invalid, nil},
		{"store's invalid input", fmt.Errorf("wrapped: %w", es.ErrInvalidStreamID), "invalid_input", app.Invalid, nil},
		{"invalid transition", errOf(s.ChangeStatus(as("ann"), c.ID, tracker.InProgress, "", es.Any)), "invalid_transition", app.Invalid, nil},
		{"blocked", errOf(s.ChangeStatus(as("ann"), b.ID, tracker.InProgress, "", es.Any)), "blocked", app.Invalid,
			map[string]any{"id": b.ID, "blockers": []tracker.BlockerState{{ID: a.ID, Title: "A", Status: tracker.Backlog, Assignee: "ann"}}}},
		{"corrupt", &es.CorruptError{Path: "events.jsonl", Offset: 7, Err: errors.New("checksum")}, "corrupt", app.Failure,
			map[string]any{"path": "events.jsonl", "offset": int64(7)}},
		{"other", errors.New("disk on fire"), "error", app.Failure, nil},
	} {
		p := app.Explain(tc.err)
		got := p.Fields
		for k, v := range tc.fields {
			if _, ok := got[k]; ok && v == anyValue {
				got[k] = anyValue
			}
		}
		if p.Code != tc.code || p.Class != tc.class || p.Message == "" || fmt.Sprint(got) != fmt.Sprint(tc.fields) {
			t.Errorf("%s: Explain(%v) = %+v, want code %s, class %d, fields %v", tc.name, tc.err, p, tc.code, tc.class, tc.fields)
		}
	}
}

// A problem's JSON is one object: code, message, then its fields.
func TestProblemJSON(t *testing.T) {
	err := &es.ConcurrencyError{Stream: "workitem-J-1", Expected: es.Exact(1), Actual: 3}
	b, jerr := json.Marshal(app.Explain(err))
	want := `{"code":"conflict","message":"conflict: J-1 is at version 3, not 1","actual_version":3,"expected_version":1,"stream":"workitem-J-1"}`
	if jerr != nil || string(b) != want {
		t.Fatalf("got %s, %v\nwant %s", b, jerr, want)
	}
	if m := app.Explain(fmt.Errorf("open: %w", es.ErrClosed)).Message; m != "open: es: store closed" {
		t.Errorf("message %q", m)
	}
	if m := app.Explain(es.ErrClosed).Message; m != "store closed" {
		t.Errorf("message %q: want the es: prefix trimmed", m)
	}
}

func TestStreamLabel(t *testing.T) {
	for in, want := range map[string]string{
		"workitem-J-4":         "J-4",
		"initiative-I-2":       "I-2",
		"jerry-ids-workitem":   "ids:workitem",
		"jerry-ids-initiative": "ids:initiative",
		app.DependencyStream:   "dependencies",
		"other":                "other",
	} {
		if got := app.StreamLabel(in); got != want {
			t.Errorf("StreamLabel(%q) = %q, want %q", in, got, want)
		}
	}
}

// Follow yields what the log holds, then what commits later, and ends
// without an error when its context is cancelled.
func TestFollow(t *testing.T) {
	s, _ := newService(t)
	create(t, s, "before")
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	var seen []string
	go func() {
		for rec, err := range s.Follow(ctx, 1) {
			if err != nil {
				done <- err
				return
			}
			seen = append(seen, s.Describe(rec))
			if len(seen) == 4 { // two events per create
				cancel()
			}
		}
		done <- nil
	}()
	create(t, s, "after")
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Follow: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Follow did not see the later create")
	}
	if len(seen) != 4 || seen[3] != `created "after" (task, medium)` {
		t.Fatalf("saw %q", seen)
	}
}

// Members loads an initiative's items as of a time, keeping one that did
// not exist then with its error; Card gives blockers' statuses
// as they were then.
func TestMembersAndBlockerStatuses(t *testing.T) {
	s, _ := newService(t)
	r, err := s.CreateInitiative(as("ann"), "Q4", "")
	if err != nil {
		t.Fatal(err)
	}
	a := create(t, s, "A", tracker.NewItem{Initiative: r.State.ID})
	time.Sleep(5 * time.Millisecond)
	then := time.Now()
	time.Sleep(5 * time.Millisecond)
	b := create(t, s, "B", tracker.NewItem{Initiative: r.State.ID})
	in, err := s.Initiative(context.Background(), r.State.ID)
	if err != nil {
		t.Fatal(err)
	}
	ms := s.Members(context.Background(), in, then)
	if len(ms) != 2 || ms[0].Item.ID != a.ID || ms[0].Err != nil || ms[1].Item.ID != b.ID || !errors.Is(ms[1].Err, es.ErrNotFound) {
		t.Fatalf("members as of then: %+v", ms)
	}
	if _, err := s.Block(as("ann"), b.ID, a.ID, es.Any); err != nil {
		t.Fatal(err)
	}
	blocked, _ := s.Item(context.Background(), b.ID)
	if _, err := s.ChangeStatus(as("ann"), a.ID, tracker.Done, "", es.Any); err != nil {
		t.Fatal(err)
	}
	if got, err := s.Card(context.Background(), blocked, blocked.UpdatedAt); err != nil || got.Blockers[0].Status != "backlog" {
		t.Errorf("blocker status then: %+v, %v, want backlog", got.Blockers, err)
	}
	if got, err := s.Card(context.Background(), blocked, time.Time{}); err != nil || got.Blockers[0].Status != "done" {
		t.Errorf("blocker status now: %+v, %v, want done", got.Blockers, err)
	}
}

package tracker

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/jerry-es/jerry/es"
)

func givenInitiative(events ...any) *Initiative {
	in := NewInitiative()
	in.SetID("I-1")
	for i, d := range events {
		in.Apply(es.Envelope{Version: int64(i + 1), Time: t0.Add(time.Duration(i) * time.Minute), Data: d})
	}
	return in
}

func TestInitiativeRules(t *testing.T) {
	started := InitiativeCreated{Title: "Q4 login"}
	tests := []struct {
		name    string
		given   []any
		command func(in *Initiative) error
		then    []any
		err     error
	}{
		{"create", nil, func(in *Initiative) error { return in.Create(" Q4 login ", "") }, []any{started}, nil},
		{"create empty title", nil, func(in *Initiative) error { return in.Create("", "") }, nil, ErrEmptyTitle},
		{"create twice", []any{started}, func(in *Initiative) error { return in.Create("x", "") }, nil, ErrInvalidTransition},
		{"add item", []any{started}, func(in *Initiative) error { return in.AddItem("J-1") }, []any{ItemAdded{"J-1"}}, nil},
		{"add member again records nothing", []any{started, ItemAdded{"J-1"}},
			func(in *Initiative) error { return in.AddItem("J-1") }, nil, nil},
		{"add to completed", []any{started, InitiativeCompleted{}},
			func(in *Initiative) error { return in.AddItem("J-1") }, nil, ErrInvalidTransition},
		{"add to cancelled", []any{started, InitiativeCancelled{}},
			func(in *Initiative) error { return in.AddItem("J-1") }, nil, ErrInvalidTransition},
		{"remove item", []any{started, ItemAdded{"J-1"}},
			func(in *Initiative) error { return in.RemoveItem("J-1") }, []any{ItemRemoved{"J-1"}}, nil},
		{"remove non-member", []any{started},
			func(in *Initiative) error { return in.RemoveItem("J-1") }, nil, ErrNotMember},
		{"complete", []any{started}, func(in *Initiative) error { return in.Complete("shipped", nil, false) },
			[]any{InitiativeCompleted{Reason: "shipped"}}, nil},
		{"complete twice records nothing", []any{started, InitiativeCompleted{}},
			func(in *Initiative) error { return in.Complete("", nil, false) }, nil, nil},
		{"complete cancelled", []any{started, InitiativeCancelled{}},
			func(in *Initiative) error { return in.Complete("", nil, false) }, nil, ErrInvalidTransition},
		{"cancel", []any{started}, func(in *Initiative) error { return in.Cancel("") }, []any{InitiativeCancelled{}}, nil},
		{"cancel completed", []any{started, InitiativeCompleted{}},
			func(in *Initiative) error { return in.Cancel("") }, nil, ErrInvalidTransition},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := givenInitiative(tt.given...)
			err := tt.command(in)
			if tt.err != nil {
				if !errors.Is(err, tt.err) || len(in.Pending()) != 0 {
					t.Fatalf("error = %v with %d events, want %v and none", err, len(in.Pending()), tt.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("error = %v", err)
			}
			if got := pendingData(&in.Root); !reflect.DeepEqual(got, tt.then) {
				t.Fatalf("events = %#v\nwant     %#v", got, tt.then)
			}
		})
	}
}

func TestInitiativeFold(t *testing.T) {
	in := givenInitiative(InitiativeCreated{Title: "Q4"}, ItemAdded{"J-1"}, ItemAdded{"J-2"}, ItemRemoved{"J-1"}, InitiativeCompleted{})
	s := in.state
	want := InitiativeState{Title: "Q4", Status: CompletedInitiative, Members: []string{"J-2"}, Version: 5,
		CreatedAt: t0, UpdatedAt: t0.Add(4 * time.Minute)}
	if !reflect.DeepEqual(s, want) {
		t.Fatalf("state = %+v\nwant    %+v", s, want)
	}
}
